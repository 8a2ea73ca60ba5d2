"""The three people's journeys in a real browser (Debian's Chromium through Playwright) against
the real app on a loopback port, with the real pipeline running jobs in a background thread."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-output" / "screenshots"
CLIP = ROOT / "tests" / "fixtures" / "audio" / "good" / "speech.mp3"
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--autoplay-policy=no-user-gesture-required"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class ThreadDispatcher:
    """Runs each batch of jobs in a background thread, so pages can watch progress."""

    def __init__(self, ctx):
        from pipeline.jobs import InlineDispatcher

        self.inline = InlineDispatcher(ctx)

    def dispatch(self, job_ids):
        threading.Thread(target=self.inline.dispatch, args=(list(job_ids),), daemon=True).start()


@pytest.fixture
def live(tmp_path):
    from werkzeug.serving import make_server

    from pipeline.accounts import create_user
    from pipeline.migrate import upgrade_database
    from webapp import create_app

    port = free_port()
    values = {"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": f"http://127.0.0.1:{port}",
              "SECRET_KEY": "browser-test", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"}
    app = create_app(values)
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    with ctx.sessions.begin() as session:
        for role in ("summarizer", "editor", "listener"):
            create_user(session, f"{role}@example.org", f"Dr. {role.title()}", role, PASSWORD)
    app.extensions["clinex_dispatcher"] = ThreadDispatcher(ctx)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def wait_until(page, expression: str, timeout: float = 60.0, every: float = 0.5) -> None:
    """Poll ``expression`` with page.evaluate: wait_for_function evaluates strings, which our CSP
    (no 'unsafe-eval') forbids, and the test keeps the CSP on to prove the pages work under it."""
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except Error:  # the page reloaded itself (the studio does when processing ends)
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(every)


def sign_in(browser, base: str, role: str):
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{base}/login")
    page.fill("#email", f"{role}@example.org")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("a.who")
    return page


def anchor_first_heading(tmp_path, episode_id: int, start: float) -> None:
    """Pairing an 8-second clip may or may not place the heading confidently; make sure it is."""
    from sqlalchemy import delete

    from pipeline.db import session_factory
    from pipeline.models import Anchor, Summary

    with session_factory(f"sqlite:///{tmp_path / 'instance' / 'clinex.sqlite'}").begin() as session:
        version = max(s.version for s in session.query(Summary).filter_by(episode_id=episode_id))
        session.execute(delete(Anchor).where(Anchor.episode_id == episode_id))
        session.add(Anchor(episode_id=episode_id, summary_version=version, kind="section", position=0,
                           text="Melasma", start=start, confidence=0.9))


def test_upload_review_listen_and_discuss(live, browser, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    studio = sign_in(browser, live, "summarizer")
    studio.goto(f"{live}/studio/upload")
    studio.set_input_files("#audio", str(CLIP))
    studio.fill("#title", "Melasma and picosecond lasers")
    studio.fill("#speakers", "Dr. Ana Ribeiro")
    studio.fill("#tags", "Melasma")
    studio.fill("#notes", "# Melasma\n- treat gently\n")
    studio.click("#preview-button")
    studio.wait_for_selector("#preview h1")
    studio.click("#upload-form button[type=submit]")
    studio.wait_for_url(re.compile(r".*/studio/\d+$"), timeout=120_000)
    # the page polls the status endpoint and reloads itself when processing ends
    wait_until(studio, "document.getElementById('episode-state').textContent.trim() === 'in review'",
               timeout=600, every=2)
    episode_id = studio.url.rstrip("/").split("/")[-1]

    editor = sign_in(browser, live, "editor")
    editor.goto(f"{live}/review/{episode_id}")
    editor.screenshot(path=str(SHOTS / "review.png"), full_page=True)
    editor.click("text=Approve and publish")
    editor.wait_for_selector("text=Published")

    anchor_first_heading(tmp_path, int(episode_id), 4.0)
    listener = sign_in(browser, live, "listener")
    listener.goto(live)
    listener.screenshot(path=str(SHOTS / "home.png"), full_page=True)
    listener.click("ul.episodes h2 a")
    listener.wait_for_selector("#transcript li")
    listener.evaluate("document.getElementById('player').play()")
    wait_until(listener, "!document.getElementById('player').paused")
    line = listener.locator("#transcript li a.seek").last  # an 8-second clip may have one line only
    target = float(line.get_attribute("data-t"))
    listener.evaluate(f"document.getElementById('player').currentTime = {target + 5}")  # so the click must move it
    line.click()
    wait_until(listener, f"Math.abs(document.getElementById('player').currentTime - {target}) < 1.5")
    assert "#t=" in listener.url
    listen = listener.locator("#summary h1 a.listen-at")
    assert listen.text_content() == "listen at 0:04"
    listen.click()
    wait_until(listener, "Math.abs(document.getElementById('player').currentTime - 4) < 1")

    listener.fill("#body", "At this moment the **dose** matters.")
    listener.fill("#ts", "0:03")
    listener.click("#comment-form button[type=submit]")
    stamp = listener.locator("a.stamp").first
    stamp.wait_for()
    assert stamp.text_content() == "0:03"
    listener.evaluate("document.getElementById('player').currentTime = 7")
    stamp.click()
    wait_until(listener, "Math.abs(document.getElementById('player').currentTime - 3) < 1")
    listener.screenshot(path=str(SHOTS / "episode.png"), full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True).new_page()
    phone.goto(listener.url.split("#")[0])
    phone.screenshot(path=str(SHOTS / "episode-phone.png"), full_page=False)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
