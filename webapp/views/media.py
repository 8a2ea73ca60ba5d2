"""Published media with exact byte ranges (Apple rejects a 200 to a range request), download
counts, and members-only files behind a sign-in or a private feed token."""

from __future__ import annotations

import logging
import re
from pathlib import PurePosixPath
from datetime import datetime, timezone

from flask import Blueprint, Response, abort, current_app, redirect, request
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from pipeline.downloads import client_hash, count_download, is_countable
from pipeline.learning import note_feed_download
from pipeline.models import Episode, EpisodeStatus, MediaFile, MediaKind
from pipeline.storage import S3Storage

from ..db import ctx, db
from ..http_cache import http_date, not_modified, range_applies
from ..members import may_hear, request_token
from ..security import client_ip

bp = Blueprint("media", __name__)
log = logging.getLogger(__name__)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
PUBLIC_CACHE = "public, max-age=31536000, immutable"
PRIVATE_CACHE = "private, max-age=31536000, immutable"


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) inclusive for a single ``bytes=`` range; None when unsatisfiable.

    Multiple ranges are answered with the first one (clients that ask for several accept that).
    """
    match = _RANGE.match(header.split(",")[0].strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0:
            return None
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        return None
    return start, end


@bp.route("/media/<uuid>/<name>", methods=["GET", "HEAD"])
def published_media(uuid: str, name: str):
    key = f"published/{uuid}/{name}"
    media = db().scalars(select(MediaFile).where(MediaFile.storage_key == key)).first()
    if media is None or media.episode.status != EpisodeStatus.published.value or not may_hear(media.episode):
        abort(404, "No such episode file.")
    cache_control = PRIVATE_CACHE if media.episode.members_only else PUBLIC_CACHE
    etag, modified, unchanged = _revalidate(media, cache_control)
    if unchanged is not None:
        return unchanged
    cdn = current_app.config["CLINEX"].MEDIA_BASE_URL
    if cdn and request.method == "GET" and not media.episode.members_only:
        # Published keys are never rewritten (a changed file gets a new key), so the edge may
        # keep them for good; members-only files stay behind the token check below.
        return redirect(f"{cdn.rstrip('/')}/{key}", code=302)
    storage = ctx().storage
    if isinstance(storage, S3Storage) and request.method == "GET":
        return redirect(storage.url(key), code=302)
    return serve_range(key, media.size, media.content_type, etag=etag, cache_control=cache_control,
                       last_modified=modified)


@bp.route("/episodes/<slug>/recording-only", methods=["GET", "HEAD"])
def recording_only(slug: str):
    """A published recording's listening file without the voice's introduction and summary
    (``pipeline.extras`` keeps it as ``plain``), for those who want the talk alone."""
    episode = db().scalars(select(Episode).where(Episode.slug == slug)).first()
    media = episode.media_of(MediaKind.plain) if episode is not None else None
    if media is None or episode.status != EpisodeStatus.published.value or not may_hear(episode):
        abort(404, "This episode has no recording without spoken extras.")
    cache_control = "private, max-age=3600" if episode.members_only else "public, max-age=3600"
    etag, modified, unchanged = _revalidate(media, cache_control)
    if unchanged is not None:
        return unchanged
    url = ctx().storage.url(media.storage_key)
    if url and request.method == "GET":
        return redirect(url, code=302)
    response = serve_range(media.storage_key, media.size, media.content_type, etag=etag, cache_control=cache_control,
                           last_modified=modified)
    suffix = PurePosixPath(media.storage_key).suffix
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-recording-only{suffix}"'
    return response


def _revalidate(media: MediaFile, cache_control: str) -> tuple[str, datetime | None, Response | None]:
    """The file's validators, and a 304 when the client's copy is current (the app has this
    file: not a download); otherwise the request is counted as a download if it is one."""
    etag, modified = f'"{media.sha256[:32]}"', _utc(media.created_at)
    if not_modified(request.headers, etag, modified):
        return etag, modified, Response(status=304, headers=_validators(etag, modified, cache_control))
    record_download(media.episode_id, media.size)
    return etag, modified, None


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; the stored ones are UTC."""
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def record_download(episode_id: int, size: int) -> None:
    """Count this request as a download if it is one (see ``pipeline.downloads``).

    In its own short transaction, and a database error is logged, not raised: a listener's
    playback matters more than one count. Only the first countable request of a client in 24
    hours writes; the rest are one indexed read."""
    header = request.headers.get("Range")
    span = parse_range(header, size) if header else None
    user_agent = request.headers.get("User-Agent", "")
    if (header and span is None) or not is_countable(request.method, span, user_agent):
        return
    client = client_hash(current_app.config["SECRET_KEY"], client_ip(), user_agent)
    try:
        with ctx().sessions.begin() as session:
            count_download(session, episode_id, client)
    except SQLAlchemyError:
        log.warning("could not count a download of episode %s", episode_id, exc_info=True)
    record_feed_listen(episode_id)


def record_feed_listen(episode_id: int) -> None:
    """A countable fetch through a member's private feed token goes into their learning record.

    Apart from the count (which is per client, not per account) and in its own transaction, so
    neither can undo the other; a failure is logged like a failed count."""
    token = request_token()
    if token is None:
        return
    try:
        with ctx().sessions.begin() as session:
            note_feed_download(session, token.user_id, episode_id, token.id)
    except SQLAlchemyError:
        log.warning("could not note a private feed download of episode %s", episode_id, exc_info=True)


def serve_range(key: str, size: int, content_type: str, *, etag: str, cache_control: str = PUBLIC_CACHE,
                last_modified: datetime | None = None) -> Response:
    """The file, a byte range of it (206), 304 when the client's copy is current, 416 for a range
    outside it. A stale ``If-Range`` (another ETag or date) gets the whole file, as RFC 9110 asks:
    the client's partial copy belongs to a different version."""
    storage = ctx().storage
    headers = {"Accept-Ranges": "bytes", "Access-Control-Allow-Origin": "*",
               **_validators(etag, last_modified, cache_control)}
    if not_modified(request.headers, etag, last_modified):
        return Response(status=304, headers=headers)
    header = request.headers.get("Range")
    if header is not None and not range_applies(request.headers.get("If-Range"), etag, last_modified):
        header = None
    if header is None:
        # A lazy generator: nothing is read for HEAD, and Content-Length stays the real size.
        body = storage.open_range(key, 0, size - 1)
        return Response(body, 200, headers={**headers, "Content-Length": str(size)}, content_type=content_type,
                        direct_passthrough=True)
    span = parse_range(header, size)
    if span is None:
        # No audio in the body, so no audio type: an empty plain-text answer naming the size.
        return Response(b"", 416, content_type="text/plain; charset=utf-8",
                        headers={**headers, "Content-Range": f"bytes */{size}"})
    start, end = span
    body = storage.open_range(key, start, end)
    return Response(body, 206, content_type=content_type, direct_passthrough=True,
                    headers={**headers, "Content-Range": f"bytes {start}-{end}/{size}",
                             "Content-Length": str(end - start + 1)})


def _validators(etag: str, last_modified: datetime | None, cache_control: str) -> dict:
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    return headers
