"""Download counts in the manner of the IAB podcast measurement guidelines.

A download is counted at most once per client per episode in any 24 hours. The client is a keyed
hash (HMAC-SHA256 with the site's secret) of IP address and User-Agent: the address is never
stored, and without the secret the hash cannot be matched back to an address by trying them all.
What is not a listen (HEAD, two-byte probes, known robots) is told apart by ``is_countable``,
which the media view asks first.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .models import Download, Episode, EpisodeStatus, utcnow

WINDOW = timedelta(hours=24)
_ROBOT = re.compile(r"bot\b|crawler|spider", re.I)


@dataclass(frozen=True)
class DownloadCount:
    """Counted downloads of one episode: in the last 7 and 30 days, and in all."""

    episode_id: int
    title: str
    last_7_days: int
    last_30_days: int
    total: int


def client_hash(secret: str, ip: str, user_agent: str) -> str:
    return hmac.new(secret.encode(), f"{ip}\n{user_agent}".encode(), hashlib.sha256).hexdigest()


def is_countable(method: str, span: tuple[int, int] | None, user_agent: str) -> bool:
    """GETs of more than two bytes by something other than a known robot.

    ``span`` is the inclusive byte range asked for (None for the whole file); Apple's players
    probe with ``Range: bytes=0-1`` before they play."""
    if method != "GET" or not user_agent or _ROBOT.search(user_agent):
        return False
    return span is None or span[1] - span[0] + 1 > 2


def count_download(session: Session, episode_id: int, client: str, now: datetime | None = None) -> bool:
    """Add a download unless this client has one for this episode in the last 24 hours.

    Returns whether one was added; the caller commits. Two requests racing in the same instant
    may both count (an accepted imprecision: a lock per request would cost more than it fixes)."""
    now = now or utcnow()
    seen = session.scalar(select(Download.id).where(Download.episode_id == episode_id, Download.client_hash == client,
                                                    Download.created_at > now - WINDOW).limit(1))
    if seen is not None:
        return False
    session.add(Download(episode_id=episode_id, client_hash=client, created_at=now))
    return True


def download_counts(session: Session, episode_id: int | None = None,
                    now: datetime | None = None) -> list[DownloadCount]:
    """Counts per episode, most downloaded first: every episode ever published (or ``episode_id``)."""
    now = now or utcnow()

    def since(days: int):
        return func.coalesce(func.sum(case((Download.created_at >= now - timedelta(days=days), 1), else_=0)), 0)

    query = (select(Episode.id, Episode.title, since(7), since(30), func.count(Download.id))
             .outerjoin(Download, Download.episode_id == Episode.id).group_by(Episode.id, Episode.title))
    if episode_id is not None:
        query = query.where(Episode.id == episode_id)
    else:
        query = query.where(Episode.published_at.is_not(None) | (Episode.status == EpisodeStatus.published.value))
    query = query.order_by(func.count(Download.id).desc(), Episode.id.desc())
    return [DownloadCount(*row) for row in session.execute(query)]
