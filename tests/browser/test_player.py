"""The player that stays, in real Chromium against the real app on a loopback port: seeking
without moving the page, skips, speed and place remembered, resume across browsers when signed
in, Media Session metadata and comment marks on the timeline."""

from __future__ import annotations

import subprocess
import threading

import pytest

from tests.conftest import free_port

from .test_journeys import CHROMIUM_ARGS, PASSWORD, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SECONDS = 150  # long enough that skips and resumes are told apart from the start


def real_mp3(path, seconds: int) -> bytes:
    """A real MP3 (a quiet tone) made by ffmpeg, so Chromium can decode and seek it."""
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}",
                    "-ac", "1", "-b:a", "32k", str(path)], check=True)
    return path.read_bytes()


@pytest.fixture
def site(tmp_path):
    """The app on a free port with one published episode whose file is real audio, a timestamped
    visible comment, and a listener account."""
    from werkzeug.serving import make_server

    from pipeline.migrate import upgrade_database
    from pipeline.models import Comment, Episode, User
    from tests.webapp.factories import make_episode, make_user
    from webapp import create_app

    port = free_port()
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"), "BASE_URL": f"http://127.0.0.1:{port}",
                      "SECRET_KEY": "player-test", "BROKER_URL": f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"})
    ctx = app.extensions["clinex"]
    upgrade_database(ctx.settings.DATABASE_URL)
    body = real_mp3(tmp_path / "tone.mp3", SECONDS)
    with ctx.sessions() as session:
        listener = make_user(session, "listener", trusted=True)
        ep = make_episode(ctx, session, segments=40, seconds_per_segment=SECONDS / 40)
        media = ep.media_of("published")
        ctx.storage.put_bytes(media.storage_key, body, content_type="audio/mpeg")
        media.size, ep.duration = len(body), float(SECONDS)
        session.add(Comment(episode_id=ep.id, author_id=listener.id, body="Dose here", timestamp=90.0,
                            state="visible"))
        session.commit()
        info = {"slug": ep.slug, "title": ep.title, "id": ep.id}
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield {"base": f"http://127.0.0.1:{port}", "ctx": ctx, **info}
    server.shutdown()


@pytest.fixture
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def phone(chromium):
    page = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    page.set_default_timeout(30_000)
    return page


def now(page) -> float:
    return page.evaluate("document.getElementById('player').currentTime")


def playing(page) -> None:
    wait_until(page, "!document.getElementById('player').paused && document.getElementById('player').currentTime > 0",
               timeout=20, every=0.2)


def test_the_player_stays_seeks_in_place_and_remembers_speed_and_place(site, chromium):
    page = phone(chromium)
    url = f"{site['base']}/episodes/{site['slug']}"
    page.goto(url)
    dock = page.locator("#dock")
    box = dock.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(844, abs=1), "the player sits at the bottom of the screen"
    assert page.evaluate("document.getElementById('player').controls") is False
    page.click("#dock-play")
    playing(page)

    line = page.locator("#transcript li a.seek").nth(30)
    line.scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    target = float(line.get_attribute("data-t"))
    line.click()
    wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {target}) < 1.5", timeout=10)
    assert page.evaluate("window.scrollY") == before, "tapping a transcript line must not move the page"
    assert dock.bounding_box()["y"] + box["height"] == pytest.approx(844, abs=1)

    page.evaluate("document.getElementById('player').currentTime = 60")
    page.click("#dock-back")
    assert now(page) == pytest.approx(45, abs=1.5)
    page.click("#dock-fwd")
    assert now(page) == pytest.approx(75, abs=1.5)
    assert page.locator("#dock-chapter").text_content() == "Melasma"  # chapters start at 0 and 30 s
    page.select_option("#dock-rate", "1.5")
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5

    page.keyboard.press("k")
    wait_until(page, "document.getElementById('player').paused", timeout=5)
    paused_at = now(page)
    page.reload()
    wait_until(page, f"Math.abs(document.getElementById('player').currentTime - {paused_at}) < 1.5", timeout=15)
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5, "speed is remembered"

    metadata = page.evaluate("(() => { const m = navigator.mediaSession.metadata;"
                             " return {title: m.title, artist: m.artist, art: m.artwork.length}; })()")
    assert metadata == {"title": site["title"], "artist": "Clinical Exchange", "art": 1}
    assert page.locator(".dock-mark").count() == 1
    left = page.evaluate("document.querySelector('.dock-mark').style.left")
    assert float(left.rstrip("%")) == pytest.approx(60, abs=0.5)  # the comment at 90 s of 150 s

    page.goto(site["base"] + "/")  # another page of the site keeps the episode in the player
    assert page.locator("#dock").is_visible()
    assert page.locator("#dock-title").text_content() == site["title"]
    page.click("#dock-play")
    playing(page)
    assert now(page) >= paused_at - 1.5


def test_a_signed_in_listener_resumes_on_another_device_and_heard_time_is_honest(site, chromium):
    from pipeline.models import Listen

    first = sign_in(chromium, site["base"])
    first.goto(f"{site['base']}/episodes/{site['slug']}")
    first.evaluate("document.getElementById('player').currentTime = 100")
    first.click("#dock-play")
    playing(first)
    wait_until(first, "document.getElementById('player').currentTime > 103", timeout=15, every=0.2)
    first.click("#dock-play")  # pause: the place goes to the server
    wait_until(first, "document.getElementById('player').paused", timeout=5)
    paused_at = now(first)
    with site["ctx"].sessions() as session:
        for _ in range(50):
            row = session.query(Listen).one_or_none()
            if row is not None:
                break
            first.wait_for_timeout(100)
        assert row is not None, "pausing saved nothing on the server"
        assert row.position_seconds == pytest.approx(paused_at, abs=0.5)
        # about 3-4 s played; the jump to 100 s is not listening
        assert 2 <= row.heard_seconds <= 8, row.heard_seconds

    second = sign_in(chromium, site["base"])  # a separate context: no shared localStorage
    second.goto(f"{site['base']}/episodes/{site['slug']}")
    wait_until(second, f"Math.abs(document.getElementById('player').currentTime - {paused_at}) < 1", timeout=15)


def sign_in(chromium, base: str):
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}/login")
    page.fill("#email", "listener@example.org")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("a.who")
    return page
