"""Validators the way RFC 9110 compares them: If-None-Match, If-Modified-Since, If-Range.

Plain functions of header values, so feeds and media answer conditional requests alike. A
header that cannot be parsed counts as "no match": the client gets the full answer, never a
wrong 304 or a range of a file it does not have.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime


def opaque(etag: str) -> str:
    """The quoted part of an entity tag, without a ``W/`` prefix (weak comparison)."""
    return etag.strip().removeprefix("W/")


def none_match(header: str, etag: str) -> bool:
    """True when ``If-None-Match`` names ``etag`` or is ``*``.

    Weak comparison (RFC 9110 section 13.1.2): ``W/"x"`` from a proxy that recompressed or
    re-validated the body matches our strong ``"x"``.
    """
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or opaque(etag) in {opaque(t) for t in tags if t}


def not_modified(headers, etag: str, last_modified: datetime | None) -> bool:
    """Whether a GET or HEAD with these request ``headers`` is answered 304.

    If-None-Match wins when present (section 13.2.2); If-Modified-Since is used only without
    it, and only when we know the resource's modification time. An unparsable date is ignored.
    """
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        return none_match(if_none_match, etag)
    since = _date(headers.get("If-Modified-Since"))
    return since is not None and last_modified is not None and last_modified.replace(microsecond=0) <= since


def range_applies(if_range: str | None, etag: str, last_modified: datetime | None) -> bool:
    """Whether ``Range`` may be honoured given ``If-Range`` (section 13.1.5).

    An entity tag must match strongly (a weak one never does); a date must equal Last-Modified
    exactly. Anything else means the client's copy is stale: it gets the whole file (200).
    """
    if if_range is None:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        return not if_range.startswith("W/") and not etag.startswith("W/") and if_range == etag
    date = _date(if_range)
    return date is not None and last_modified is not None and last_modified.replace(microsecond=0) == date


def variant(etag: str, coding: str) -> str:
    """The entity tag of ``etag``'s body in a content coding: ``"abc"`` -> ``"abc-gzip"``.

    Different bytes need different tags (section 8.8.3), or a cache could hand a client that
    cannot decompress the gzipped body on the strength of a matching tag.
    """
    return f'{etag[:-1]}-{coding}"'


def http_date(value: datetime) -> str:
    return format_datetime(value, usegmt=True)


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None
