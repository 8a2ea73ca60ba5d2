"""Podcast feeds: dataclasses in, bytes out.

``build_feed`` renders RSS 2.0 with the iTunes tags and our Podcasting 2.0
extension, ``chapters_json`` the chapters file, ``check_feed`` says what is
wrong with any feed. No Flask, no database: the web app fills the dataclasses.
"""

from feeds.chapters import chapters_json
from feeds.check import check_chapters, check_feed
from feeds.model import (
    ChapterInfo,
    EpisodeItem,
    PersonCredit,
    ShowInfo,
    Soundbite,
    TranscriptLink,
    podcast_guid_for,
)
from feeds.rss import build_feed, feed_etag

__all__ = [
    "ChapterInfo",
    "EpisodeItem",
    "PersonCredit",
    "ShowInfo",
    "Soundbite",
    "TranscriptLink",
    "build_feed",
    "chapters_json",
    "check_chapters",
    "check_feed",
    "feed_etag",
    "podcast_guid_for",
]
