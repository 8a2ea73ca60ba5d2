"""Security headers (a strict CSP: scripts and styles only from our own files) and rate limits.

The limits are counted in the database (``rate_limit_hits``) so they hold across web server
processes; a counted action in one process is seen by every other.
"""

from __future__ import annotations

import math
from datetime import timedelta, timezone
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from werkzeug.exceptions import TooManyRequests
from sqlalchemy import delete, func, select

from pipeline.errors import ConfigError
from pipeline.models import RateLimitHit, utcnow
from pipeline.sign_in import parse_delay_policy

# name -> (how many, per how many seconds); CLINEX_RATE_LIMITS, then app.config["RATE_LIMITS"] override them
# "login" counts failed sign-ins per address: high enough that a clinic behind one NAT address
# is not stopped by its staff's typos; guessing one account is slowed per account instead.
DEFAULT_LIMITS = {"login": (100, 900), "signup": (5, 3600), "comment": (6, 60), "reset": (5, 3600),
                  "upload": (30, 3600), "helpful": (30, 3600), "report": (10, 3600), "follow": (30, 3600)}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(settings) -> str:
    """Our pages load scripts and styles from this site only; media may come from the store."""
    media = {"'self'", _origin(settings.BASE_URL)}
    if settings.STORAGE_URL.startswith("s3://"):
        media.add(_origin(settings.S3_ENDPOINT_URL) or "https://*.amazonaws.com")
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"media-src {' '.join(sorted(m for m in media if m))}; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def parse_limits(text: str) -> dict[str, tuple[int, int]]:
    """``"comment=60/60, upload=100/3600"`` to ``{"comment": (60, 60), ...}``. Raises ConfigError
    naming the part it cannot use: an unknown limit, or not a count and a number of seconds."""
    limits = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = (x.strip() for x in part.partition("="))
        count, _, seconds = (x.strip() for x in value.partition("/"))
        if name not in DEFAULT_LIMITS:
            raise ConfigError(f"CLINEX_RATE_LIMITS: no limit is called {name!r}; "
                              f"the limits are {', '.join(DEFAULT_LIMITS)}.")
        if not (count.isdigit() and seconds.isdigit() and int(seconds) > 0):
            raise ConfigError(f"CLINEX_RATE_LIMITS: write {name}=count/seconds, like comment=6/60, not {part!r}.")
        limits[name] = (int(count), int(seconds))
    return limits


def init_app(app: Flask) -> None:
    app.config["RATE_LIMITS"] = {**parse_limits(app.config["CLINEX"].RATE_LIMITS), **app.config.get("RATE_LIMITS", {})}
    app.config.setdefault("SIGNIN_DELAY", parse_delay_policy(app.config["CLINEX"].SIGNIN_DELAY))
    csp = content_security_policy(app.config["CLINEX"])

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not response.headers["X-Frame-Options"]:  # a page meant for frames (the embed) set it empty
            del response.headers["X-Frame-Options"]
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure or app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if response.mimetype == "text/html":
            # pages differ by who is signed in; never cache them in shared caches
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


def _limit(name: str) -> tuple[int, int]:
    return current_app.config["RATE_LIMITS"].get(name, DEFAULT_LIMITS[name])


def client_ip() -> str:
    return request.remote_addr or "unknown"


def over_limit(name: str, who: str) -> bool:
    """True when ``who`` has used up the ``name`` limit in the current window (nothing recorded)."""
    count, seconds = _limit(name)
    since = utcnow() - timedelta(seconds=seconds)
    with current_app.extensions["clinex"].sessions() as session:
        used = session.scalar(select(func.count(RateLimitHit.id)).where(
            RateLimitHit.key == f"{name}:{who}"[:200], RateLimitHit.created_at > since))
    return used >= count


def seconds_until_free(name: str, who: str) -> int:
    """How long until the oldest counted action of ``who`` leaves the window (at least 1)."""
    _count, seconds = _limit(name)
    since = utcnow() - timedelta(seconds=seconds)
    with current_app.extensions["clinex"].sessions() as session:
        oldest = session.scalar(select(func.min(RateLimitHit.created_at)).where(
            RateLimitHit.key == f"{name}:{who}"[:200], RateLimitHit.created_at > since))
    if oldest is None:
        return 1
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=timezone.utc)  # SQLite drops the zone
    return max(1, math.ceil(seconds - (utcnow() - oldest).total_seconds()))


def too_many(message: str, retry_after: int) -> TooManyRequests:
    """A 429 whose page says ``message`` and whose Retry-After header says how long to wait."""
    return TooManyRequests(message, retry_after=retry_after)


def record_hit(name: str, who: str) -> None:
    """Count one action, in its own transaction so a failing request still counts."""
    _count, seconds = _limit(name)
    key = f"{name}:{who}"[:200]
    with current_app.extensions["clinex"].sessions.begin() as session:
        session.execute(delete(RateLimitHit).where(
            RateLimitHit.key == key, RateLimitHit.created_at < utcnow() - timedelta(seconds=seconds)))
        session.add(RateLimitHit(key=key))


def enforce(name: str, *whos: str, record: bool = True) -> None:
    """Abort with 429 and a clear message when any of ``whos`` is over the ``name`` limit."""
    for who in whos:
        if over_limit(name, who):
            wait = seconds_until_free(name, who)
            raise too_many(f"Too many attempts; please wait {max(1, math.ceil(wait / 60))} minute(s) and try again.",
                           wait)
    if record:
        for who in whos:
            record_hit(name, who)
