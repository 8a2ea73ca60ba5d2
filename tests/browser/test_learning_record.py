"""The learning record in a real browser: a listener plays part of an episode in the sticky
player, finds it on the record page (reached from the account page), writes a reflection and
downloads the PDF learning log, which is opened and read."""

from __future__ import annotations

import io
import threading

import pytest

from tests.browser.test_journeys import CLIP, PASSWORD, SHOTS, browser, sign_in, wait_until  # noqa: F401
from tests.conftest import free_port

pytestmark = [pytest.mark.browser]


@pytest.fixture
def site(tmp_path):
    """The real app on a loopback port with a listener and one published episode of real speech."""
    from werkzeug.serving import make_server

    from pipeline.accounts import create_user
    from pipeline.migrate import upgrade_database
    from tests.webapp.factories import make_episode
    from webapp import create_app

    port = free_port()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": f"http://127.0.0.1:{port}",
                      "SECRET_KEY": "browser-test", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"})
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    with ctx.sessions.begin() as session:
        create_user(session, "listener@example.org", "Dr. Listener", "listener", PASSWORD)
    with ctx.sessions() as session:
        episode = make_episode(ctx, session, title="Melasma and picosecond lasers")
        media = episode.media_of("published")
        body = CLIP.read_bytes()
        ctx.storage.put_bytes(media.storage_key, body, content_type="audio/mpeg")
        media.size, media.duration, episode.duration = len(body), 8.3, 8.3
        session.commit()
        slug = episode.slug
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", ctx, slug
    server.shutdown()


def heard_seconds(ctx) -> float:
    from pipeline.models import Listen

    with ctx.sessions() as session:
        row = session.query(Listen).first()
        return row.heard_seconds if row else 0.0


def test_play_part_of_an_episode_then_find_it_in_the_record_and_its_pdf(site, browser):  # noqa: F811
    from pypdf import PdfReader

    base, ctx, slug = site
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = sign_in(browser, base, "listener")
    page.goto(f"{base}/episodes/{slug}")
    page.click("#dock-play")
    wait_until(page, "document.getElementById('player').currentTime > 3", timeout=30, every=0.2)
    page.click("#dock-play")  # pausing reports the place and the seconds heard
    played = page.evaluate("document.getElementById('player').currentTime")
    for _ in range(40):
        if heard_seconds(ctx) > 0:
            break
        page.wait_for_timeout(250)
    assert 2 < heard_seconds(ctx) <= played + 0.5

    page.goto(f"{base}/account")
    page.click("text=Your learning record")
    entry = page.locator(f"#ep-{slug}")
    assert entry.locator("h2").text_content().strip() == "Melasma and picosecond lasers"
    assert entry.locator(".minutes").text_content() == f"{round(heard_seconds(ctx) / 60, 1):.1f} min"
    assert entry.locator(".clock").text_content() == f"(0:0{int(heard_seconds(ctx))} heard in the player)"
    assert entry.locator(".partial").text_content() == "in progress"  # 3 of 8 seconds is not 90 %
    entry.locator("textarea").fill("Offer test patches before a full picosecond session.")
    entry.locator("button[type=submit]").click()
    page.wait_for_selector("text=Your reflection is saved.")
    page.screenshot(path=str(SHOTS / "learning-record.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#export-pdf")
    reader = PdfReader(io.BytesIO(download.value.path().read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    for expected in ("Learning log", "Dr. Listener <listener@example.org>", "Melasma and picosecond lasers",
                     "Event: Aesthetic Lasers Summit", "Speakers: Dr. Ana Ribeiro", "Completed: no",
                     "Reflection: Offer test patches before a full picosecond session.",
                     "self-reported learning record", "not accredited continuing education credit"):
        assert expected in text, expected
