"""The player that stays, in real Chromium against the real app on a loopback port: seeking
without moving the page, skips, speed and place remembered, resume across browsers when signed
in, Media Session metadata and comment marks on the timeline."""

from __future__ import annotations

import pytest

from .site import PASSWORD
from .test_journeys import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def phone(chromium):
    page = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    page.set_default_timeout(30_000)
    return page


def now(page) -> float:
    return page.evaluate("document.querySelector('#dock audio').currentTime")


def playing(page) -> None:
    wait_until(page, "!document.querySelector('#dock audio').paused && document.querySelector('#dock audio').currentTime > 0",
               timeout=20, every=0.2)


def test_the_player_stays_seeks_in_place_and_remembers_speed_and_place(site, chromium):
    page = phone(chromium)
    url = f"{site['base']}/episodes/{site['slug']}"
    page.goto(url)
    dock = page.locator("#dock")
    box = dock.bounding_box()
    assert box["y"] + box["height"] == pytest.approx(844, abs=1), "the player sits at the bottom of the screen"
    assert page.evaluate("document.querySelector('#dock audio').controls") is False
    page.click("#dock-play")
    playing(page)

    line = page.locator("#transcript li a.seek").nth(30)
    line.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # lines laid out lazily (content-visibility) settle first
    before = line.bounding_box()["y"]
    target = float(line.get_attribute("data-t"))
    line.click()
    wait_until(page, f"Math.abs(document.querySelector('#dock audio').currentTime - {target}) < 1.5", timeout=10)
    page.wait_for_timeout(300)
    # the line stays under the finger (the old page scrolled up to the player, ~2000 px away)
    assert line.bounding_box()["y"] == pytest.approx(before, abs=2), "tapping a transcript line must not move the page"
    assert dock.bounding_box()["y"] + box["height"] == pytest.approx(844, abs=1)

    page.keyboard.press("k")  # pause, so a slow machine cannot drift the skips below
    wait_until(page, "document.querySelector('#dock audio').paused", timeout=5)
    page.evaluate("document.querySelector('#dock audio').currentTime = 60")
    page.click("#dock-back")
    assert now(page) == pytest.approx(45, abs=0.1)
    page.click("#dock-fwd")
    assert now(page) == pytest.approx(75, abs=0.1)
    wait_until(page, "document.getElementById('dock-chapter').textContent === 'Melasma'", timeout=5)  # chapters: 0, 30 s
    page.locator("article.episode > h1").click()  # keys work from anywhere on the page except text fields
    page.keyboard.press("j")
    assert now(page) == pytest.approx(60, abs=0.1)
    page.keyboard.press("l")
    assert now(page) == pytest.approx(90, abs=0.1)
    page.keyboard.press("j")
    assert now(page) == pytest.approx(75, abs=0.1)
    page.keyboard.press(">")
    assert page.evaluate("document.querySelector('#dock audio').playbackRate") == 1.25
    page.locator("#tq").press("j")  # typing in the transcript search is typing, not a command
    assert now(page) == pytest.approx(75, abs=0.1)
    page.select_option("#dock-rate", "1.5")
    assert page.evaluate("document.querySelector('#dock audio').playbackRate") == 1.5

    page.locator("article.episode > h1").click()  # out of the search box again
    page.keyboard.press("k")
    playing(page)
    page.keyboard.press("k")
    wait_until(page, "document.querySelector('#dock audio').paused", timeout=5)
    paused_at = now(page)
    assert paused_at >= 75
    # the seek left #t= in the address; the place it holds follows the player, so a reload resumes there
    wait_until(page, f"location.hash === '#t={int(paused_at)}'", timeout=5)
    page.reload()
    wait_until(page, f"Math.abs(document.querySelector('#dock audio').currentTime - {paused_at}) < 1.5", timeout=15)
    assert page.evaluate("document.querySelector('#dock audio').playbackRate") == 1.5, "speed is remembered"

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
    first.evaluate("document.querySelector('#dock audio').currentTime = 100")
    first.click("#dock-play")
    playing(first)
    wait_until(first, "document.querySelector('#dock audio').currentTime > 103", timeout=15, every=0.2)
    first.click("#dock-play")  # pause: the place goes to the server
    wait_until(first, "document.querySelector('#dock audio').paused", timeout=5)
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
    wait_until(second, f"Math.abs(document.querySelector('#dock audio').currentTime - {paused_at}) < 1", timeout=15)


def sign_in(chromium, base: str):
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}/login")
    page.fill("#email", "listener@example.org")
    page.fill("#password", PASSWORD)
    page.click("form.stack button[type=submit]")
    page.wait_for_selector("a.who")
    return page


def test_share_from_here_copies_a_link_that_opens_at_that_moment(site, chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site["base"])
    page = context.new_page()
    page.goto(f"{site['base']}/episodes/{site['slug']}")
    wait_until(page, "document.querySelector('#dock audio').readyState >= 1", timeout=15, every=0.2)
    page.evaluate("document.querySelector('#dock audio').currentTime = 90")
    page.click("#share-moment")
    wait_until(page, "document.getElementById('share-status').textContent.includes('copied')", timeout=5, every=0.2)
    link = page.evaluate("navigator.clipboard.readText()")
    assert link == f"{site['base']}/episodes/{site['slug']}?t=90"
    other = chromium.new_context().new_page()  # a colleague opening the link: nothing saved there
    other.goto(link)
    wait_until(other, "Math.abs(document.querySelector('#dock audio').currentTime - 90) < 1", timeout=15)


def test_the_play_button_on_a_card_plays_in_the_bottom_player(site, chromium):
    page = phone(chromium)
    page.goto(site["base"] + "/")
    assert page.locator("#dock").is_hidden()  # nothing played in this browser yet
    page.click(".card-play")
    playing(page)
    assert page.locator("#dock-title").text_content() == site["title"]
    assert page.url == site["base"] + "/", "playing from a card stays on the page"
    title = page.evaluate("navigator.mediaSession.metadata.title")
    assert title == site["title"]
    page.click(".card-play")  # the same button pauses
    wait_until(page, "document.querySelector('#dock audio').paused", timeout=5)
