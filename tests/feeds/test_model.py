"""The dataclasses: the podcast:guid rule, and values no feed could carry."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from feeds.model import ShowInfo, Soundbite, TranscriptLink, podcast_guid_for, split_category
from tests.feeds.conftest import make_item, make_show


@pytest.mark.parametrize("url", [
    "podnews.net/rss", "https://podnews.net/rss", "https://podnews.net/rss/", "http://podnews.net/rss//",
])
def test_podcast_guid_matches_the_spec_vector(url):
    assert podcast_guid_for(url) == "9b024349-ccf0-5f69-a609-6b82873eab3c"


def test_show_guid_prefers_the_stored_one():
    assert make_show().guid == podcast_guid_for("https://clinex.example.org/feed.xml")
    stored = "917393e3-1b1e-5cef-ace4-edaa54e1f810"
    assert make_show(podcast_guid=stored).guid == stored


@pytest.mark.parametrize("changes, message", [
    ({"enclosure_length": 0}, "enclosure length must be a positive"),
    ({"enclosure_length": None}, "enclosure length must be a positive"),
    ({"enclosure_length": True}, "enclosure length must be a positive"),
    ({"published_at": datetime(2024, 1, 1)}, "must carry a time zone"),
    ({"duration": -1.0}, "duration cannot be negative"),
    ({"episode_type": "teaser"}, "episode type must be one of"),
    ({"guid": "  "}, "non-empty GUID"),
])
def test_episode_rejects_values_no_feed_can_carry(changes, message):
    with pytest.raises(ValueError, match=message):
        make_item(0, **changes)


def test_show_rejects_unknown_category_and_naive_update():
    with pytest.raises(ValueError, match="not a category from Apple's list"):
        make_show(category="Health/Medicine")
    with pytest.raises(ValueError, match="not a category from Apple's list"):
        make_show(category="Health & Fitness/Surgery")
    with pytest.raises(ValueError, match="must carry a time zone"):
        make_show(updated_at=datetime(2024, 1, 1))


@pytest.mark.parametrize("changes, message", [
    ({"owner_email": "editors"}, "is not an address"),
    ({"image_url": ""}, r"needs cover art \(image_url\)"),
    ({"feed_url": " "}, "needs a feed URL"),
    ({"medium": "radio"}, "not a podcast:medium"),
])
def test_show_rejects_what_apple_or_the_spec_would(changes, message):
    with pytest.raises(ValueError, match=message):
        make_show(**changes)


def test_show_is_keyword_only_and_frozen():
    with pytest.raises(TypeError):
        ShowInfo("t", "d", "l", "f", "a", "o", "e", "i")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_show().title = "changed"  # type: ignore[misc]


def test_split_category():
    assert split_category("Health & Fitness/Medicine") == ("Health & Fitness", "Medicine")
    assert split_category("Technology") == ("Technology", None)


def test_transcript_and_soundbite_validation():
    with pytest.raises(ValueError, match="not one podcast apps read"):
        TranscriptLink("https://x/t.doc", "application/msword")
    with pytest.raises(ValueError, match="positive duration"):
        Soundbite(10.0, 0.0)
