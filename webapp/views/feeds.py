"""Feeds, chapters and transcripts, served the way podcast apps poll."""

from __future__ import annotations

import gzip
from datetime import timezone

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import func, select

from feeds.chapters import chapters_json
from feeds.model import ChapterInfo
from pipeline.models import Episode, EpisodeStatus, Event, Person, Tag
from pipeline.publish import site_cover
from pipeline.keys import transcript_key
from pipeline.transcription import TRANSCRIPT_TYPES

from feeds import feed_etag
from pipeline.private_feeds import live_feed_token, note_use

from ..db import ctx, db
from ..http_cache import http_date, not_modified, variant
from ..feed_data import (FeedCache, content_version, private_feed_body, published_episodes, render_feed,
                         render_private_feed)
from ..members import may_hear

bp = Blueprint("feeds", __name__)
FEED_MAX_AGE = 300
_cache = FeedCache()  # keyed by site and database too: one process may serve several (tests do)


def conditional(body: bytes, etag: str, content_type: str, *, last_modified=None, max_age=FEED_MAX_AGE,
                private: bool = False, gzipped=None) -> Response:
    """304 when the client has this version; gzip when it asks (``gzipped()`` gives the compressed
    bytes when the caller keeps them); always validators and caching (``private``: by the client
    alone, never by a shared cache). The gzipped body has its own ETag (``etag`` + ``-gzip``), and
    If-None-Match is compared weakly (see ``webapp.http_cache``)."""
    headers = {"Cache-Control": f"{'private' if private else 'public'}, max-age={max_age}",
               "Vary": "Accept-Encoding"}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    compress = _accepts_gzip() and len(body) > 1024
    headers["ETag"] = variant(etag, "gzip") if compress else etag
    if not_modified(request.headers, headers["ETag"], last_modified):
        return Response(status=304, headers=headers)
    if compress:
        body = gzipped() if gzipped else gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, content_type=content_type, headers=headers)


def _accepts_gzip() -> bool:
    """gzip is listed in Accept-Encoding and not refused with q=0."""
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip"):
            return params.replace(" ", "").lower() not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _serve_feed(scope: tuple, episodes_fn, **show_kwargs) -> Response:
    """A poll costs one query (the content version) when the feed is cached."""
    session, settings = db(), current_app.config["CLINEX"]
    version = content_version(session)
    feed = _cache.get_or_build((scope, version, settings.BASE_URL, settings.DATABASE_URL),
                               lambda: render_feed(session, settings, episodes_fn(), **show_kwargs),
                               last_modified=lambda: _last_published(session))
    return conditional(feed.body, feed.etag, "application/rss+xml; charset=utf-8",
                       last_modified=feed.last_modified, gzipped=feed.gzipped)


def _last_published(session):
    """Newest change among published episodes (a hint for If-Modified-Since; ETag is the real check)."""
    value = session.scalar(select(func.max(Episode.updated_at)).where(Episode.status == EpisodeStatus.published.value))
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


@bp.get("/feed.xml")
def main_feed():
    return _serve_feed(("main",), lambda: published_episodes(db()), path="/feed.xml")


@bp.get("/tags/<slug>/feed.xml")
def tag_feed(slug: str):
    tag = db().scalars(select(Tag).where(Tag.slug == slug)).first() or abort(404, "No such topic.")
    return _serve_feed(("tag", slug), lambda: published_episodes(db(), tag=tag), path=f"/tags/{slug}/feed.xml",
                       title_suffix=tag.name)


@bp.get("/events/<slug>/feed.xml")
def event_feed(slug: str):
    event = db().scalars(select(Event).where(Event.slug == slug)).first() or abort(404, "No such event.")
    return _serve_feed(("event", slug), lambda: published_episodes(db(), event_id=event.id),
                       path=f"/events/{slug}/feed.xml", title_suffix=event.name)


@bp.get("/speakers/<slug>/feed.xml")
def speaker_feed(slug: str):
    person = db().scalars(select(Person).where(Person.slug == slug)).first() or abort(404, "No such speaker.")
    return _serve_feed(("speaker", slug), lambda: published_episodes(db(), person_id=person.id),
                       path=f"/speakers/{slug}/feed.xml", title_suffix=person.name)


@bp.get("/feeds/private/<token>.xml")
def private_feed(token: str):
    """One subscriber's feed: every published episode, members-only ones with the token in their
    URLs. Built once per content version; only the token differs between subscribers."""
    session, settings = db(), current_app.config["CLINEX"]
    row = live_feed_token(session, token) or abort(404, "No such feed.")
    if note_use(row):
        session.commit()
    key = ("private", content_version(session), settings.BASE_URL, settings.DATABASE_URL)
    template = _cache.get_or_build(key, lambda: render_private_feed(session, settings),
                                   last_modified=lambda: _last_published(session))
    body = private_feed_body(template.body, token)
    # The body is the cached template with this token in it: its version and the token name it,
    # so a poll need not hash the whole feed again.
    etag = feed_etag(f"{template.etag}:{token}".encode())
    response = conditional(body, etag, "application/rss+xml; charset=utf-8",
                           last_modified=template.last_modified, private=True)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def published_or_404(slug: str) -> Episode:
    """A published episode the request may hear (members-only ones need a member or a token)."""
    episode = db().scalars(select(Episode).where(Episode.slug == slug)).first()
    if episode is None or episode.status != EpisodeStatus.published.value or not may_hear(episode):
        abort(404, "No such episode.")
    return episode


@bp.get("/episodes/<slug>/chapters.json")
def chapters(slug: str):
    episode = published_or_404(slug)
    body = chapters_json([ChapterInfo(start=c.start, title=c.title) for c in episode.chapters],
                         duration=episode.duration, title=episode.title)
    response = conditional(body, feed_etag(body), "application/json+chapters", private=episode.members_only)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/episodes/<slug>/transcript.<ext>")
def transcript(slug: str, ext: str):
    if ext not in TRANSCRIPT_TYPES:
        abort(404, "Transcripts come as .vtt, .srt, .json or .txt.")
    episode = published_or_404(slug)
    current = episode.transcript or abort(404, "This episode has no transcript yet.")
    body = ctx().storage.get_bytes(transcript_key(episode.uuid, current.id, ext))
    kind = TRANSCRIPT_TYPES[ext] + ("; charset=utf-8" if ext in ("vtt", "txt", "srt", "json") else "")
    response = conditional(body, feed_etag(body), kind, private=episode.members_only)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/cover.jpg")
def cover():
    body = site_cover(ctx())
    return conditional(body, feed_etag(body), "image/jpeg", max_age=86400)
