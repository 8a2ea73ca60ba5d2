"""A notes-only episode in the real browser: the summarizer voices a summary from the studio,
the editor approves it, a listener plays it on its page and jumps to a chapter's "listen at"."""

from __future__ import annotations

import re

import pytest

from .test_journeys import SHOTS, browser, live, sign_in, wait_until  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTES = """---
source: {title: Managing filler complications, kind: guide, url: https://example.org/guide, authors: [Dr. K. Osei]}
---
# Hyaluronidase for filler nodules
Dissolve hyaluronic acid nodules with hyaluronidase.

## Dosing
- Start with a small test dose.
"""


def test_voice_a_summary_from_the_studio_and_play_it(live, browser):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    studio = sign_in(browser, live, "summarizer")
    studio.goto(f"{live}/studio/")
    studio.click("text=Voice a summary (no recording)")
    studio.fill("#notes", NOTES)
    studio.click("#notes-form button[type=submit]")
    studio.wait_for_url(re.compile(r".*/studio/\d+$"), timeout=120_000)
    wait_until(studio, "document.getElementById('episode-state').textContent.trim() === 'in review'",
               timeout=600, every=2)
    episode_id = studio.url.rstrip("/").split("/")[-1]

    editor = sign_in(browser, live, "editor")
    editor.goto(f"{live}/review/{episode_id}")
    assert "not the original guide" in editor.text_content("p.citation")
    editor.click("text=Approve and publish")
    editor.wait_for_selector("text=Published")

    listener = sign_in(browser, live, "listener")
    listener.goto(live)
    listener.click("ul.episodes h2 a")
    listener.wait_for_selector("#transcript li")
    assert "Managing filler complications" in listener.text_content("p.citation")
    listener.evaluate("document.getElementById('player').play()")
    wait_until(listener, "!document.getElementById('player').paused && document.getElementById('player').currentTime > 0.3")
    listen = listener.locator("#summary h2 a.listen-at").first
    target = listen.text_content().removeprefix("listen at ")
    minutes, seconds = target.split(":")
    at = int(minutes) * 60 + int(seconds)
    assert at > 5  # the opening comes first
    listen.click()
    wait_until(listener, f"Math.abs(document.getElementById('player').currentTime - {at}) < 1.5")
    listener.screenshot(path=str(SHOTS / "audio-notes-episode.png"), full_page=True)
