"""Private feed tokens: members-only episodes in any podcast app, one revocable address per token.

Only a token's sha256 is stored, so a token is shown once, when it is made. A token works while
it is not revoked and its account is active; revoking is a timestamp, so it takes effect on the
very next request and the account page can still list it.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .accounts import get_user, token_digest
from .errors import ClinexError
from .models import FeedToken, Role, User, utcnow

TOKEN_PREFIX = "cxf_"
MAX_LIVE_TOKENS = 10
#: A token's last use is written at most this often, so feed polling is not a write per request.
LAST_USED_PRECISION = timedelta(minutes=10)
#: The least role that hears members-only episodes on the site (a signed-in account of any role).
MEMBER_ROLE = Role.listener


def issue_feed_token(session: Session, user: User) -> str:
    """A new private feed token for ``user``; the caller shows it once (only its digest is kept).

    Raises ClinexError for an inactive account or one that already has MAX_LIVE_TOKENS live tokens.
    """
    if not user.active:
        raise ClinexError(f"The account {user.email} is disabled; it cannot have a private feed.")
    live = session.scalar(select(func.count(FeedToken.id)).where(FeedToken.user_id == user.id,
                                                                 FeedToken.revoked_at.is_(None)))
    if live >= MAX_LIVE_TOKENS:
        raise ClinexError(f"An account may have {MAX_LIVE_TOKENS} private feeds at most; revoke one first.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(FeedToken(user_id=user.id, token_hash=token_digest(token)))
    session.flush()
    return token


def live_feed_token(session: Session, token: str | None) -> FeedToken | None:
    """The stored row of ``token`` when it is unrevoked and its account active, else None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    row = session.scalars(select(FeedToken).where(FeedToken.token_hash == token_digest(token))).first()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row


def note_use(row: FeedToken, now: datetime | None = None) -> bool:
    """Record that the token was just used (coarsely; see LAST_USED_PRECISION). True if changed."""
    now = now or utcnow()
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    if last is not None and now - last < LAST_USED_PRECISION:
        return False
    row.last_used_at = now
    return True


def revoke_feed_tokens(session: Session, user_id: int, token_id: int | None = None) -> int:
    """Revoke every live token of the account (or only ``token_id`` of it); returns how many."""
    query = update(FeedToken).where(FeedToken.user_id == user_id, FeedToken.revoked_at.is_(None))
    if token_id is not None:
        query = query.where(FeedToken.id == token_id)
    return session.execute(query.values(revoked_at=utcnow())).rowcount


def feed_tokens_of(session: Session, user_id: int) -> list[FeedToken]:
    """The account's tokens, live ones first, newest first."""
    return list(session.scalars(select(FeedToken).where(FeedToken.user_id == user_id)
                                .order_by(FeedToken.revoked_at.is_not(None), FeedToken.id.desc())))



def revoke_feeds_of(session: Session, email: str) -> int:
    """``clinex users revoke-feeds EMAIL``: revoke every live token of the account; how many.

    Raises NotFound when there is no such account."""
    return revoke_feed_tokens(session, get_user(session, email).id)
