"""The learning record: what a signed-in listener heard, finished and reflected on.

Built from three sources, each about one account only: the site player's ``Listen`` rows (only
audio that actually played counts), episodes fetched through the account's private feed
(``FeedDownload``: podcast apps report no progress, so a fetch counts as listened and is marked
as such), and the listener's own reflection notes. It is a self-reported record, not accredited
credit; the exports say so (see ``pipeline.learning_export``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import ClinexError, NotFound
from .models import Episode, EpisodeStatus, FeedDownload, Listen, Reflection, utcnow

COMPLETED_SHARE = 0.9  # heard at least this share of the episode's length: "completed"
MAX_REFLECTION = 2000
SELF_REPORTED = ("This is a self-reported learning record kept by the listener on Clinical Exchange. "
                 "It is not accredited continuing education credit.")
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!?][^>]*>|<\s*(script|style|svg|iframe)", re.I)
# Bidirectional overrides and isolates (they can make text read differently than it is stored),
# and control characters other than tab and newline.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class InvalidReflection(ClinexError):
    """A reflection note the record will not keep (too long, or written as HTML)."""


@dataclass(frozen=True)
class RecordEntry:
    """One episode in an account's record."""

    episode_id: int
    slug: str
    title: str
    event: str
    speakers: tuple[str, ...]
    last_heard: date
    duration_seconds: float
    heard_seconds: float  # site player only, at most the episode's length
    in_player: bool
    via_private_feed: bool
    reflection: Optional[str]
    published: bool

    @property
    def completed_in_player(self) -> bool:
        return self.duration_seconds > 0 and self.heard_seconds >= COMPLETED_SHARE * self.duration_seconds

    @property
    def completed(self) -> bool:
        return self.completed_in_player or self.via_private_feed

    @property
    def counted_by_download(self) -> bool:
        """Whether the minutes come from the episode's length (a podcast app download), not the player."""
        return self.via_private_feed and not self.completed_in_player

    @property
    def minutes(self) -> float:
        seconds = self.duration_seconds if self.counted_by_download else self.heard_seconds
        return round(seconds / 60.0, 1)

    @property
    def how(self) -> str:
        if self.counted_by_download:
            return "podcast app (private feed download; progress not reported)"
        return "site player"


@dataclass(frozen=True)
class LearningRecord:
    """An account's record, most recent first."""

    user_id: int
    entries: tuple[RecordEntry, ...]

    @property
    def minutes(self) -> float:
        return round(sum(e.minutes for e in self.entries), 1)

    @property
    def completed(self) -> int:
        return sum(1 for e in self.entries if e.completed)


def learning_record(session: Session, user_id: int) -> LearningRecord:
    """The record of ``user_id`` and of nobody else; empty when the account heard nothing."""
    listens = {r.episode_id: r for r in session.scalars(
        select(Listen).where(Listen.user_id == user_id, Listen.heard_seconds > 0))}
    fetched = {r.episode_id: r for r in session.scalars(select(FeedDownload).where(FeedDownload.user_id == user_id))}
    notes = {r.episode_id: r.text for r in session.scalars(select(Reflection).where(Reflection.user_id == user_id))}
    ids = set(listens) | set(fetched)
    episodes = session.scalars(select(Episode).where(Episode.id.in_(ids))).unique().all() if ids else []
    entries = [_entry(ep, listens.get(ep.id), fetched.get(ep.id), notes.get(ep.id)) for ep in episodes]
    entries.sort(key=lambda e: (e.last_heard, e.episode_id), reverse=True)
    return LearningRecord(user_id, tuple(entries))


def _entry(ep: Episode, listen: Listen | None, fetched: FeedDownload | None, note: str | None) -> RecordEntry:
    duration = ep.duration or 0.0
    heard = listen.heard_seconds if listen else 0.0
    when = max(_aware(t) for t in (listen.updated_at if listen else None, fetched.last_at if fetched else None) if t)
    return RecordEntry(
        episode_id=ep.id, slug=ep.slug, title=ep.title, event=ep.event.name if ep.event else "",
        speakers=tuple(p.person.name for p in ep.people), last_heard=when.date(), duration_seconds=duration,
        heard_seconds=min(heard, duration) if duration else heard, in_player=listen is not None,
        via_private_feed=fetched is not None, reflection=note, published=ep.status == EpisodeStatus.published.value)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite returns naive datetimes


def note_feed_download(session: Session, user_id: int, episode_id: int, feed_token_id: int | None,
                       now: datetime | None = None) -> None:
    """Mark ``episode_id`` as fetched by ``user_id`` through a private feed (the caller commits).

    Two fetches racing may both try to insert: the second fails the unique constraint with an
    IntegrityError, which the caller may ignore, since the first one said the same thing."""
    now = now or utcnow()
    row = session.scalars(select(FeedDownload).where(FeedDownload.user_id == user_id,
                                                     FeedDownload.episode_id == episode_id)).first()
    if row is None:
        session.add(FeedDownload(user_id=user_id, episode_id=episode_id, feed_token_id=feed_token_id,
                                 first_at=now, last_at=now))
    else:
        row.last_at, row.feed_token_id = now, feed_token_id
    session.flush()


def clean_reflection(text: str | None) -> str:
    """The note as it will be kept: NFC, without bidi or control characters, trimmed.

    Raises InvalidReflection when it is longer than MAX_REFLECTION or contains HTML tags."""
    text = _UNSAFE.sub("", unicodedata.normalize("NFC", (text or "").replace("\r\n", "\n"))).strip()
    if len(text) > MAX_REFLECTION:
        raise InvalidReflection(f"A reflection may be at most {MAX_REFLECTION} characters; this one has {len(text)}.")
    if _TAG.search(text):
        raise InvalidReflection("HTML tags are not allowed in a reflection; write plain text.")
    return text


def save_reflection(session: Session, user_id: int, slug: str, text: str | None) -> Optional[str]:
    """Keep (or, when empty, remove) the account's note on the episode ``slug``; the caller commits.

    Raises NotFound when the episode is not in this account's record (someone else's listening
    does not count), InvalidReflection for a note it will not keep (nothing is stored then)."""
    cleaned = clean_reflection(text)
    episode_id = _episode_in_record(session, user_id, slug)
    row = session.scalars(select(Reflection).where(Reflection.user_id == user_id,
                                                   Reflection.episode_id == episode_id)).first()
    if not cleaned:
        if row is not None:
            session.delete(row)
        return None
    if row is None:
        row = Reflection(user_id=user_id, episode_id=episode_id)
        session.add(row)
    row.text, row.updated_at = cleaned, utcnow()
    session.flush()
    return cleaned


def _episode_in_record(session: Session, user_id: int, slug: str) -> int:
    episode_id = session.scalar(select(Episode.id).where(Episode.slug == slug))
    heard = episode_id is not None and (
        session.scalar(select(Listen.id).where(Listen.user_id == user_id, Listen.episode_id == episode_id,
                                               Listen.heard_seconds > 0)) is not None
        or session.scalar(select(FeedDownload.id).where(FeedDownload.user_id == user_id,
                                                        FeedDownload.episode_id == episode_id)) is not None)
    if not heard:
        raise NotFound("That episode is not in your learning record.")
    return episode_id
