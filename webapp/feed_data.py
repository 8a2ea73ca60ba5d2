"""From database rows to the plain dataclasses ``feeds`` renders, and a cache of built feeds."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from feeds import build_feed, feed_etag
from feeds.model import EpisodeItem, PersonCredit, ShowInfo, Soundbite, TranscriptLink, podcast_guid_for
from pipeline.models import Episode, EpisodePerson, EpisodeStatus, EpisodeTag, SiteValue, Tag
from pipeline.settings import Settings
from pipeline.transcription import TRANSCRIPT_TYPES

from .audio_notes import citation, summarizer_credit
from .rendering import plain_text, render_markdown

#: The feed offers the timed transcripts only (``feeds.rss`` orders them for apps that keep one);
#: the plain text stays on the episode page and at transcript.txt for reading.
TRANSCRIPT_ORDER = ("vtt", "srt", "json")
#: Stands in for the token while the private feed is built once for every subscriber.
TOKEN_PLACEHOLDER = "__clinex_private_feed_token__"


def published_episodes(session: Session, *, tag: Tag | None = None, event_id: int | None = None,
                       person_id: int | None = None, include_members_only: bool = False) -> list[Episode]:
    """Published episodes, newest first; members-only ones only when asked for. What a feed item
    reads of each is loaded in a few batched queries, not a handful per episode."""
    query = (select(Episode).where(Episode.status == EpisodeStatus.published.value)
             .options(selectinload(Episode.media), selectinload(Episode.chapters),
                      selectinload(Episode.summaries), selectinload(Episode.transcripts)))
    if not include_members_only:
        query = query.where(Episode.members_only.is_(False))
    if tag is not None:
        query = query.join(EpisodeTag).where(EpisodeTag.tag_id == tag.id, EpisodeTag.accepted.is_(True))
    if event_id is not None:
        query = query.where(Episode.event_id == event_id)
    if person_id is not None:
        query = query.where(Episode.id.in_(select(EpisodePerson.episode_id).where(EpisodePerson.person_id == person_id)))
    return list(session.scalars(query.order_by(Episode.published_at.desc(), Episode.id.desc())))


def media_url(settings: Settings, key: str) -> str:
    return f"{settings.BASE_URL}/media/{key.removeprefix('published/')}"


def episode_item(settings: Settings, episode: Episode, token: str | None = None) -> EpisodeItem | None:
    """The feed item of a published episode (None without a published file). The URLs of a
    members-only episode's file, transcripts and chapters carry ``token``, as podcast apps fetch
    them without the feed's address."""
    media = episode.media_of("published")
    if media is None:
        return None
    base = settings.BASE_URL
    key = f"?token={token}" if token and episode.members_only else ""
    summary = episode.summary.markdown if episode.summary else ""
    transcript = episode.transcript
    links = tuple(TranscriptLink(url=f"{base}/episodes/{episode.slug}/transcript.{ext}{key}",
                                 type=TRANSCRIPT_TYPES[ext], language=episode.language)
                  for ext in TRANSCRIPT_ORDER) if transcript else ()
    cited = citation(episode)  # notes-only and source-citing episodes say what they summarize
    soundbites = ()
    if episode.soundbite_start is not None and episode.soundbite_duration:
        soundbites = (Soundbite(start=episode.soundbite_start, duration=episode.soundbite_duration),)
    return EpisodeItem(
        guid=episode.guid, title=episode.title, link=f"{base}/episodes/{episode.slug}",
        summary_html=(str(cited.html) if cited else "") + str(render_markdown(summary)),
        summary_text=" ".join(filter(None, [cited.text if cited else "", plain_text(summary)])) or episode.title,
        enclosure_url=media_url(settings, media.storage_key) + key, enclosure_length=media.size,
        enclosure_type=media.content_type, duration=media.duration or episode.duration or 0.0,
        published_at=_aware(episode.published_at), explicit=episode.explicit, season=episode.season,
        number=episode.number, episode_type=episode.episode_type, transcripts=links,
        chapters_url=f"{base}/episodes/{episode.slug}/chapters.json{key}" if episode.chapters else None,
        people=tuple(PersonCredit(name=p.person.name, role=_person_role(p.role)) for p in episode.people)
        + summarizer_credit(episode),
        soundbites=soundbites, keywords=tuple(t.name for t in episode.accepted_tags),
        image_url=f"{base}/episodes/{episode.slug}/cover.jpg{key}")


def _person_role(role: str) -> str:
    return {"speaker": "guest", "moderator": "host", "host": "host"}.get(role, "guest")


def _aware(value: datetime | None) -> datetime:
    value = value or datetime.now(timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def show_info(session: Session, settings: Settings, *, path: str, title_suffix: str = "",
              description: str | None = None, private: bool = False) -> ShowInfo:
    """The channel of a feed at ``path``. Its ``<link>`` is the page listing the same episodes
    (``/tags/x`` for ``/tags/x/feed.xml``; the home page for the main and private feeds). A private
    feed asks directories not to list it (itunes:block) and names no WebSub hub, which would learn
    its address."""
    feed_url = f"{settings.BASE_URL}{path}"
    return ShowInfo(
        title=settings.SHOW_TITLE + (f": {title_suffix}" if title_suffix else ""),
        description=description or settings.SHOW_DESCRIPTION, link=settings.BASE_URL + feed_page(path), feed_url=feed_url,
        language=settings.SHOW_LANGUAGE, author=settings.SHOW_AUTHOR, owner_name=settings.OWNER_NAME,
        owner_email=settings.OWNER_EMAIL, image_url=f"{settings.BASE_URL}/cover.jpg", category=settings.SHOW_CATEGORY,
        explicit=settings.SHOW_EXPLICIT, podcast_guid=stable_podcast_guid(session, feed_url),
        funding_url=settings.FUNDING_URL or None, hub_url=None if private else settings.WEBSUB_HUB or None,
        blocked=private)


def feed_page(path: str) -> str:
    """The page a feed at ``path`` belongs to: ``/tags/x/feed.xml`` -> ``/tags/x``; else ``/``."""
    page = path.removesuffix("/feed.xml")
    return page if page != path and page else "/"


def stable_podcast_guid(session: Session, feed_url: str) -> str:
    """podcast:guid is computed from the feed URL once, then kept even if the URL changes.

    Apps polling a new feed at the same moment all find no row; the first insert wins and the
    others read what it stored (their insert fails on the key, and only it is rolled back)."""
    key = "podcast_guid:" + feed_url.split("://", 1)[-1].split("/", 1)[-1]
    row = session.get(SiteValue, key)
    if row is not None:
        return row.value
    session.add(SiteValue(key=key, value=podcast_guid_for(feed_url)))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    return session.get(SiteValue, key).value


def content_version(session: Session) -> str:
    row = session.get(SiteValue, "content_version")
    return row.value if row else "0"


@dataclass
class CachedFeed:
    """One built feed: its bytes, their ETag, the Last-Modified to send, and (made on the first
    request that accepts it) the gzipped bytes, so a poll costs neither a render nor a compress."""

    body: bytes
    etag: str
    last_modified: datetime | None = None
    _gzipped: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, mtime=0)
        return self._gzipped


class FeedCache:
    """Built feeds by (scope, content version): built once per change, not per request."""

    def __init__(self, size: int = 256):
        self._items: dict[tuple, CachedFeed] = {}
        self._lock = threading.Lock()
        self.size = size

    def get_or_build(self, key: tuple, build, last_modified=None) -> CachedFeed:
        """The cached feed for ``key``, else ``build()``'s bytes, cached with ``last_modified()``."""
        with self._lock:
            hit = self._items.get(key)
        if hit:
            return hit
        body = build()
        value = CachedFeed(body, feed_etag(body), last_modified() if last_modified else None)
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = value
        return value


def render_feed(session: Session, settings: Settings, episodes: list[Episode], **show_kwargs) -> bytes:
    items = [item for ep in episodes if (item := episode_item(settings, ep)) is not None]
    return build_feed(show_info(session, settings, **show_kwargs), items)


def render_private_feed(session: Session, settings: Settings) -> bytes:
    """Every published episode, members-only ones included, with TOKEN_PLACEHOLDER where each
    subscriber's token goes (see ``private_feed_body``)."""
    episodes = published_episodes(session, include_members_only=True)
    items = [item for ep in episodes if (item := episode_item(settings, ep, TOKEN_PLACEHOLDER)) is not None]
    show = show_info(session, settings, path=private_feed_path(TOKEN_PLACEHOLDER), title_suffix="Members",
                     private=True)
    return build_feed(show, items)


def private_feed_path(token: str) -> str:
    return f"/feeds/private/{token}.xml"


def private_feed_body(template: bytes, token: str) -> bytes:
    return template.replace(TOKEN_PLACEHOLDER.encode(), token.encode())
