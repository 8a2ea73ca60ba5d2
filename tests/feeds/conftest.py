"""Sample shows and episodes for the feed tests (plain dataclasses, no app)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from feeds.check import NS
from feeds.model import (
    EpisodeItem,
    PersonCredit,
    ShowInfo,
    Soundbite,
    TranscriptLink,
)

BASE = "https://clinex.example.org"
START = datetime(2024, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))


def make_show(**changes) -> ShowInfo:
    show = ShowInfo(
        title="Clinical Exchange",
        description="Conference talks on cosmetic medicine, with a colleague's notes.",
        link=f"{BASE}/",
        feed_url=f"{BASE}/feed.xml",
        author="Clinical Exchange editors",
        owner_name="Erin Editor",
        owner_email="editors@clinex.example.org",
        image_url=f"{BASE}/static/cover.jpeg",
        people=(PersonCredit("Dr Ada Host", role="host"),),
        funding_url=f"{BASE}/support",
        funding_text="Support the society",
        updated_at=None,
    )
    return dataclasses.replace(show, **changes)


def make_item(n: int, **changes) -> EpisodeItem:
    guid = f"0b8e7a2c-0000-4000-8000-{n:012d}"
    item = EpisodeItem(
        guid=guid,
        title=f"Fillers, part {n}",
        link=f"{BASE}/episodes/{n}",
        summary_html=f"<p>Notes on <strong>part {n}</strong>.</p>",
        summary_text=f"Notes on part {n}.",
        enclosure_url=f"{BASE}/media/{guid}.mp3",
        enclosure_length=1_000_000 + n,
        enclosure_type="audio/mpeg",
        duration=1800.4 + n,
        published_at=START + timedelta(days=n),
        season=1,
        number=n + 1,
        transcripts=(
            TranscriptLink(f"{BASE}/media/{guid}.vtt", "text/vtt", rel="captions"),
            TranscriptLink(f"{BASE}/media/{guid}.srt", "application/x-subrip"),
            TranscriptLink(f"{BASE}/media/{guid}.json", "application/json"),
        ),
        chapters_url=f"{BASE}/media/{guid}.chapters.json",
        people=(PersonCredit("Dr Ada Host", role="host"), PersonCredit(f"Dr Guest {n}")),
        soundbites=(Soundbite(73.0, 42.25, "Why filler migrates"),),
        keywords=("fillers", "IPL"),
    )
    return dataclasses.replace(item, **changes)


def parse(body: bytes):
    """Parse feed bytes strictly (no recovery) and return the <channel>."""
    root = etree.fromstring(body, etree.XMLParser(recover=False, resolve_entities=False))
    return root.find("channel")


def xpath(node, path: str):
    return node.xpath(path, namespaces=NS)


@pytest.fixture
def show() -> ShowInfo:
    return make_show()


@pytest.fixture
def items() -> list[EpisodeItem]:
    return [make_item(n) for n in range(3)]
