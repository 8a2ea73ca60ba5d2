"""Listening positions: where a signed-in listener is in an episode, and how much they heard.

The browser reports its position and the seconds it actually played since its last report.
The server trusts neither blindly: heard time can never grow faster than the wall clock allows at
the fastest speed the player offers, and the position stays inside the episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import select

from .errors import ClinexError
from .models import Episode, Listen, utcnow

MAX_RATE = 2.0  # the player's fastest speed
SLACK_SECONDS = 5.0  # a report may arrive a little after the audio it describes
FIRST_REPORT_SECONDS = 60.0  # the most a first report may claim (players report every ~15 s)
COMPLETE_WITHIN = 30.0  # seconds from the end that count as having finished


class InvalidListen(ClinexError):
    """A listening report the server cannot use (not numbers, or outside the episode)."""


@dataclass(frozen=True)
class ListenReport:
    """What the player sends: where it is now and how much audio played since its last report."""

    position_seconds: float
    heard_delta: float


@dataclass(frozen=True)
class ListenInfo:
    """Where the account is in an episode, as stored."""

    position_seconds: float
    heard_seconds: float
    completed: bool
    updated_at: Optional[datetime]


def parse_report(data: object) -> ListenReport:
    """Read ``{"position": s, "heard": s}``; raises InvalidListen naming the field it cannot use."""
    if not isinstance(data, dict):
        raise InvalidListen('Send JSON like {"position": 12.5, "heard": 10}.')
    values = []
    for name in ("position", "heard"):
        value = data.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise InvalidListen(f"'{name}' must be a number of seconds, 0 or more.")
        values.append(float(value))
    return ListenReport(*values)


def listen_info(session, user_id: int, episode_id: int) -> ListenInfo:
    row = _row(session, user_id, episode_id)
    if row is None:
        return ListenInfo(0.0, 0.0, False, None)
    return ListenInfo(row.position_seconds, row.heard_seconds, row.completed_at is not None, row.updated_at)


def record_listen(session, user_id: int, episode: Episode, report: ListenReport,
                  now: datetime | None = None) -> ListenInfo:
    """Store a report (the caller commits). Raises InvalidListen when the position lies past the
    end of the episode; heard time beyond what the clock allows is cut, not refused, because a
    slow network can bunch honest reports together."""
    now = now or utcnow()
    if episode.duration and report.position_seconds > episode.duration + SLACK_SECONDS:
        raise InvalidListen(f"The position is past the end of the episode ({episode.duration:.0f} s).")
    row = _row(session, user_id, episode.id)
    if row is None:
        row = Listen(user_id=user_id, episode_id=episode.id, position_seconds=0.0, heard_seconds=0.0)
        session.add(row)
        allowed = FIRST_REPORT_SECONDS
    else:
        allowed = _elapsed(row.updated_at, now) * MAX_RATE + SLACK_SECONDS
    row.heard_seconds = (row.heard_seconds or 0.0) + min(report.heard_delta, allowed)
    row.position_seconds = report.position_seconds
    row.updated_at = now
    if row.completed_at is None and _finished(episode, report.position_seconds):
        row.completed_at = now
    session.flush()
    return ListenInfo(row.position_seconds, row.heard_seconds, row.completed_at is not None, row.updated_at)


def _row(session, user_id: int, episode_id: int) -> Listen | None:
    return session.scalars(select(Listen).where(Listen.user_id == user_id, Listen.episode_id == episode_id)).first()


def _elapsed(before: datetime, now: datetime) -> float:
    if before.tzinfo is None:  # SQLite hands back naive datetimes
        before = before.replace(tzinfo=timezone.utc)
    return max(0.0, (now - before).total_seconds())


def _finished(episode: Episode, position: float) -> bool:
    return bool(episode.duration) and position >= episode.duration - min(COMPLETE_WITHIN, episode.duration * 0.05)
