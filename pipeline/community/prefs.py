"""Per-kind notification choices, and the signed links that change them without signing in.

A link carries the account id, the kind (or ``*`` for every kind) and the mail mode it sets,
signed with the site's secret key; it changes nothing but that account's own choice, so a
link forwarded or altered cannot touch anyone else's settings."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ClinexError
from .models import NotificationPref

KINDS = {
    "reply": "Replies to your comments",
    "mention": "Mentions of you (@name)",
    "new_episode": "New episodes in topics, events and summarizers you follow",
    "review": "Your summaries approved or sent back",
    "reminder": "Reminders to summarize sessions you claimed",
    "moderation": "Notices from the editors about your posts",
}
EMAIL_MODES = ("instant", "daily", "weekly", "off")
DEFAULT_EMAIL = {"new_episode": "daily"}
SALT = "clinex-notification-settings"


@dataclass(frozen=True)
class Pref:
    kind: str
    site: bool
    email: str


def prefs_of(session: Session, user_id: int) -> dict[str, Pref]:
    """Every kind's choice for the account, defaults filled in."""
    stored = {p.kind: p for p in session.scalars(select(NotificationPref).where(NotificationPref.user_id == user_id))}
    return {k: Pref(k, stored[k].site, stored[k].email) if k in stored else Pref(k, True, DEFAULT_EMAIL.get(k, "instant"))
            for k in KINDS}


def prefs_for_users(session: Session, user_ids: list[int], kind: str) -> dict[int, Pref]:
    """One kind's choice for many accounts in one query (fan-out to thousands of followers)."""
    stored = {}
    for chunk in range(0, len(user_ids), 900):  # SQLite allows ~1000 bound parameters
        ids = user_ids[chunk:chunk + 900]
        stored.update({p.user_id: p for p in session.scalars(select(NotificationPref).where(
            NotificationPref.kind == kind, NotificationPref.user_id.in_(ids)))})
    default = Pref(kind, True, DEFAULT_EMAIL.get(kind, "instant"))
    return {u: Pref(kind, stored[u].site, stored[u].email) if u in stored else default for u in user_ids}


def set_pref(session: Session, user_id: int, kind: str, site: bool | None = None, email: str | None = None) -> Pref:
    """Change one kind's choice (``*``: every kind). Raises ClinexError for an unknown kind or mode."""
    if kind != "*" and kind not in KINDS:
        raise ClinexError(f"There is no notification kind {kind!r}; kinds are {', '.join(KINDS)}.")
    if email is not None and email not in EMAIL_MODES:
        raise ClinexError(f"Email can be {', '.join(EMAIL_MODES)}, not {email!r}.")
    current = prefs_of(session, user_id)
    for name in (KINDS if kind == "*" else [kind]):
        row = session.get(NotificationPref, (user_id, name)) or NotificationPref(user_id=user_id, kind=name)
        row.site = current[name].site if site is None else site
        row.email = current[name].email if email is None else email
        session.add(row)
    session.flush()
    return prefs_of(session, user_id)[kind if kind != "*" else "reply"]


@functools.lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    # one per key: deriving the signing key anew for each link was most of a digest run's time
    return URLSafeSerializer(secret, salt=SALT)


@functools.lru_cache(maxsize=8)
def _signer(secret: str):
    return _serializer(secret).make_signer(SALT)


def settings_token(secret: str, user_id: int, kind: str, email: str) -> str:
    """What ``URLSafeSerializer.dumps`` makes, with the signer made once (a digest run signs two
    links for each of thousands of members)."""
    payload = _serializer(secret).dump_payload({"u": user_id, "k": kind, "e": email})
    return _signer(secret).sign(payload).decode("ascii")


def read_settings_token(secret: str, token: str) -> tuple[int, str, str]:
    """(account id, kind, mail mode) of a link made by ``settings_token``. Raises ClinexError for
    a link that was altered, truncated or made with another key."""
    try:
        data = _serializer(secret).loads(token[:500])
        user_id, kind, email = int(data["u"]), str(data["k"]), str(data["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise ClinexError("This link is damaged or was not made by this site; use the one in the email, "
                          "or sign in and change your notification settings.") from None
    if (kind != "*" and kind not in KINDS) or email not in EMAIL_MODES:
        raise ClinexError("This link is damaged or was not made by this site.")
    return user_id, kind, email


def apply_settings_token(session: Session, secret: str, token: str) -> tuple[int, str, str]:
    """Carry out a signed link: only the account named inside it changes."""
    user_id, kind, email = read_settings_token(secret, token)
    set_pref(session, user_id, kind, email=email)
    return user_id, kind, email
