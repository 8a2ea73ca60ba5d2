"""Podcasting 2.0 JSON chapters (version 1.2.0), the file ``podcast:chapters`` points at."""

from __future__ import annotations

import json
from collections.abc import Sequence

from feeds.model import ChapterInfo
from feeds.rss import clean_text

CHAPTERS_VERSION = "1.2.0"
#: Content-Type the spec asks the file to be served with.
CHAPTERS_MEDIA_TYPE = "application/json+chapters"


def chapters_json(chapters: Sequence[ChapterInfo], *, duration: float | None = None,
                  title: str | None = None) -> bytes:
    """Render chapters as JSON chapters 1.2.0, UTF-8 bytes, deterministic.

    Chapters come out in ascending ``startTime``; the first one is moved to 0
    (apps show nothing for audio before the first mark); chapters starting at
    or past ``duration`` and duplicate start times are dropped, since apps
    cannot seek there. Untitled chapters get "Chapter N".
    """
    body: dict = {"version": CHAPTERS_VERSION}
    if clean_text(title):
        body["title"] = clean_text(title)
    body["chapters"] = [_chapter(c, n) for n, c in enumerate(_usable(chapters, duration), 1)]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _usable(chapters: Sequence[ChapterInfo], duration: float | None) -> list[ChapterInfo]:
    kept: list[ChapterInfo] = []
    for chapter in sorted(chapters, key=lambda c: c.start):
        start = 0.0 if not kept else _round(chapter.start)
        if duration is not None and start >= duration:
            break
        if kept and start <= kept[-1].start:
            continue
        kept.append(ChapterInfo(start, chapter.title, chapter.url, chapter.img))
    return kept


def _chapter(chapter: ChapterInfo, number: int) -> dict:
    entry: dict = {"startTime": _number(chapter.start),
                   "title": clean_text(chapter.title) or f"Chapter {number}"}
    if chapter.img:
        entry["img"] = chapter.img
    if chapter.url:
        entry["url"] = chapter.url
    return entry


def _round(seconds: float) -> float:
    # Millisecond precision is what players seek to; more only adds float noise.
    return round(float(seconds), 3)


def _number(seconds: float) -> int | float:
    return int(seconds) if float(seconds).is_integer() else seconds
