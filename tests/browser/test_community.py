"""The community's journeys in Debian's Chromium (Playwright) against the real app on a loopback
port, with mail going to a real SMTP server (aiosmtpd) on another: reply -> notification ->
email -> link back; helpful marks; follow -> new episode notice; claim a session -> notes linked."""

from __future__ import annotations

import re
import threading
import time
from datetime import date, timedelta

import pytest

from tests.browser.test_journeys import CLIP, PASSWORD, SHOTS, ThreadDispatcher, browser, sign_in  # noqa: F401
from tests.conftest import free_port

pytestmark = [pytest.mark.browser]


@pytest.fixture
def community(tmp_path, smtp_sink):
    """The app with accounts (the listener trusted, so comments show at once) and a published episode."""
    from werkzeug.serving import make_server

    from pipeline.accounts import create_user
    from pipeline.migrate import upgrade_database
    from pipeline.models import User
    from tests.webapp.factories import make_episode
    from webapp import create_app

    port = free_port()
    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": f"http://127.0.0.1:{port}",
              "SECRET_KEY": "browser-community", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}",
              **smtp_sink.settings()}
    app = create_app(values)
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    with ctx.sessions.begin() as session:
        for role in ("summarizer", "editor", "listener"):
            user, _ = create_user(session, f"{role}@example.org", f"Dr. {role.title()}", role, PASSWORD)
            user.trusted = True
    with ctx.sessions() as session:
        author = session.query(User).filter_by(email="summarizer@example.org").one()
        slug = make_episode(ctx, session, title="Picosecond lasers for melasma", author=author).slug
    app.extensions["clinex_dispatcher"] = ThreadDispatcher(ctx)
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{port}", "slug": slug, "ctx": ctx, "smtp": smtp_sink, "app": app}
    server.shutdown()


def wait_for_mail(sink, to: str, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in sink.messages if m["To"] == to]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} arrived")


def test_reply_notification_email_and_link_back(community, browser):
    base, slug = community["base"], community["slug"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    listener = sign_in(browser, base, "listener")
    listener.goto(f"{base}/episodes/{slug}")
    listener.fill("#body", "Which fluence do you start with for Fitzpatrick IV?")
    listener.click("#comment-form button[type=submit]")
    listener.wait_for_selector("li.comment")
    assert listener.locator("#unread-count").is_hidden()

    editor = sign_in(browser, base, "editor")
    editor.goto(f"{base}/episodes/{slug}")
    editor.click("li.comment details.reply summary")
    editor.fill("li.comment details.reply textarea", "Start low: 2 J/cm², test spot first.")
    editor.click("li.comment details.reply button[type=submit]")
    editor.wait_for_selector("ol.replies li.comment")
    reply_id = editor.locator("ol.replies li.comment").first.get_attribute("id")

    listener.goto(f"{base}/")
    assert listener.locator("#unread-count").text_content().strip() == "1"
    listener.click("#bell")
    assert "Dr. Editor replied to you" in listener.locator("#notices").text_content()

    mail = wait_for_mail(community["smtp"], "listener@example.org")
    assert "replied to you" in mail["Subject"]
    link = re.search(rf"{re.escape(base)}/notifications/\d+/open", mail.get_content()).group(0)
    assert mail["List-Unsubscribe"].startswith(f"<{base}/notifications/unsubscribe/")
    listener.goto(link)
    listener.wait_for_selector(f"#{reply_id}")
    assert listener.url.endswith(f"#{reply_id}")
    assert "Start low" in listener.locator(f"#{reply_id}").text_content()
    listener.goto(f"{base}/")
    assert listener.locator("#unread-count").is_hidden()  # opening it marked it read
    listener.screenshot(path=str(SHOTS / "community-reply.png"), full_page=True)


def test_helpful_marks_and_standing(community, browser):
    base, slug = community["base"], community["slug"]
    listener = sign_in(browser, base, "listener")
    listener.goto(f"{base}/episodes/{slug}")
    listener.fill("#body", "Tranexamic acid helped my melasma patients.")
    listener.click("#comment-form button[type=submit]")
    listener.wait_for_selector("li.comment")
    assert listener.locator("li.comment button.helpful").count() == 0  # not on one's own comment

    summarizer = sign_in(browser, base, "summarizer")
    summarizer.goto(f"{base}/episodes/{slug}")
    summarizer.click("li.comment button.helpful")
    summarizer.wait_for_selector("li.comment button.helpful.marked")
    assert summarizer.locator("li.comment .helpful-count").text_content().startswith("1 found")
    assert "standing 1" in summarizer.locator("li.comment p.meta").text_content()
    summarizer.click("li.comment a.member")
    summarizer.wait_for_selector("#standing")
    assert "1 helpful mark" in summarizer.locator("#standing").text_content()
    summarizer.goto(f"{base}/episodes/{slug}")
    summarizer.click("li.comment button.helpful.marked")  # take it back
    summarizer.wait_for_selector("li.comment button.helpful:not(.marked)")
    assert summarizer.locator("li.comment .helpful-count").text_content().startswith("0 found")


@pytest.mark.slow
def test_follow_a_topic_then_the_new_episode_notice(community, browser):
    from webapp import ops

    base = community["base"]
    listener = sign_in(browser, base, "listener")
    listener.goto(f"{base}/tags/melasma")
    listener.click("button.follow")
    listener.wait_for_selector("text=Following: new episodes")
    row = ops.ingest_file(CLIP, title="Tranexamic acid for melasma", tags=("Melasma",), event="Derm Days",
                          author_email="summarizer@example.org", wait=True, quiet=True,
                          settings=community["ctx"].settings)
    assert row["status"] == "in_review"

    editor = sign_in(browser, base, "editor")
    editor.goto(f"{base}/review/{row['id']}")
    editor.click("text=Approve and publish")
    editor.wait_for_selector("text=Published")

    listener.goto(f"{base}/")
    assert listener.locator("#unread-count").text_content().strip() == "1"
    listener.click("#bell")
    notice = listener.locator("#notices li a").first
    assert "New episode from Derm Days" in notice.text_content()
    notice.click()
    listener.wait_for_selector("article.episode h1")
    assert listener.locator("article.episode h1").text_content() == "Tranexamic acid for melasma"
    listener.goto(f"{base}/following")
    assert "Tranexamic acid for melasma" in listener.locator("#following-episodes").text_content()
    summarizer_mail = wait_for_mail(community["smtp"], "summarizer@example.org")
    assert "is published" in summarizer_mail["Subject"]


class Recorder:
    """Keeps the queued job ids: the journey needs the upload stored and linked, not processed."""

    def dispatch(self, job_ids):
        self.ids = list(job_ids)


def test_claim_a_session_then_notes_are_linked(community, browser):
    base = community["base"]
    community["app"].extensions["clinex_dispatcher"] = Recorder()
    day = (date.today() + timedelta(days=20)).isoformat()
    studio = sign_in(browser, base, "summarizer")
    studio.goto(f"{base}/calls/new")
    studio.fill("#name", "Aesthetic Lasers Summit")
    studio.fill("#place", "Lisbon")
    studio.fill("#starts_on", day)
    studio.fill("#ends_on", day)
    studio.fill("#sessions", f"{day} 09:00-10:30 Picosecond lasers for melasma\n{day} 11:00-12:00 Filler safety")
    studio.click("#meeting-form button[type=submit]")
    studio.wait_for_selector("#sessions")
    assert studio.locator("#sessions td.status").all_text_contents()[0].strip() == "needs a volunteer"
    studio.locator("#sessions button.claim").first.click()
    studio.wait_for_selector("text=It's yours")
    assert "claimed by" in studio.locator("#sessions tr").nth(1).text_content()
    studio.click("text=Upload notes")
    studio.wait_for_selector("#call_session")
    assert "Picosecond lasers for melasma" in studio.locator("#call_session option:checked").text_content()
    studio.set_input_files("#audio", str(CLIP))
    studio.fill("#title", "Picosecond lasers for melasma")
    studio.fill("#notes", "# Melasma\n- treat gently\n")
    studio.click("#upload-form button[type=submit]")
    studio.wait_for_url(re.compile(r".*/studio/\d+$"), timeout=120_000)

    visitor = browser.new_context().new_page()
    visitor.goto(f"{base}/calls/")
    visitor.click("text=Aesthetic Lasers Summit")
    statuses = [s.strip() for s in visitor.locator("#sessions td.status").all_text_contents()]
    assert statuses[0].startswith("notes submitted by") and statuses[1] == "needs a volunteer"
    calendar = visitor.request.get(f"{base}/calls/meetings.ics")
    assert calendar.ok and b"BEGIN:VEVENT" in calendar.body()
