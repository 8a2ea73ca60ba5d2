"""The sign-in form's protection: device cookies, the per-address limit and the per-account wait.

A browser that signs in gets a signed device cookie naming the account; when it comes back, its
failures and waits are its own (``pipeline.sign_in``), and neither the address limit nor failures
from other browsers stop it. Everyone else shares the account's count and the address limit.
"""

from __future__ import annotations

import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from pipeline.models import User
from pipeline.sign_in import (Attempt, record_address_limited, record_failure, record_success, say_wait,
                              wait_seconds)

from .security import client_ip, over_limit, record_hit, seconds_until_free, too_many

DEVICE_COOKIE = "clinex_device"
DEVICE_MAX_AGE = 180 * 24 * 3600
_SALT = "clinex-device"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def device_of(user: User | None) -> str | None:
    """The device id in this browser's cookie if the cookie is ours, unexpired and for ``user``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or user is None:
        return None
    try:
        data = _serializer().loads(raw, max_age=DEVICE_MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != user.id or not isinstance(data.get("d"), str):
        return None
    return data["d"][:32]


def attempt_for(email: str, user: User | None) -> Attempt:
    return Attempt(email=email, address=client_ip(), device=device_of(user))


def _events():
    return current_app.extensions["clinex"].sessions.begin()  # its own transaction: a refused request still counts


def refuse_if_waiting(attempt: Attempt) -> None:
    """Raise a 429 (with Retry-After) when this attempt must wait; the password is not checked then."""
    if attempt.device is None and over_limit("login", attempt.address):
        wait = seconds_until_free("login", attempt.address)
        raise too_many(f"Too many failed sign-ins from your network; wait {say_wait(wait)} and try again "
                       "(a browser that signed in here before is not kept waiting).", wait)
    with _events() as session:
        wait = wait_seconds(session, attempt, current_app.config["SIGNIN_DELAY"])
    if wait:
        raise too_many(f"Several wrong passwords were tried for this account, so it is slowed down: wait "
                       f"{say_wait(wait)} and try again. A browser you have signed in with before is not kept "
                       "waiting; or reset your password.", wait)


def count_failure(attempt: Attempt, user: User | None) -> int:
    """Log a failed sign-in; returns how long the account now waits (0: not slowed down yet)."""
    with _events() as session:
        delay = record_failure(session, attempt, user.id if user else None, current_app.config["SIGNIN_DELAY"])
    if attempt.device is None:
        was_over = over_limit("login", attempt.address)
        record_hit("login", attempt.address)
        if not was_over and over_limit("login", attempt.address):
            with _events() as session:
                record_address_limited(session, attempt, user.id if user else None,
                                       seconds_until_free("login", attempt.address))
    return delay


def count_success(attempt: Attempt, user: User, response):
    """Log the sign-in and give (or renew) this browser's device cookie for the account."""
    with _events() as session:
        record_success(session, attempt, user.id)
    device = attempt.device or secrets.token_hex(16)
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps({"u": user.id, "d": device}), max_age=DEVICE_MAX_AGE,
                        httponly=True, samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


__all__ = ["DEVICE_COOKIE", "attempt_for", "refuse_if_waiting", "count_failure", "count_success", "device_of"]
