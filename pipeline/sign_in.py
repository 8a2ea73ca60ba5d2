"""Sign-in protection that cannot be turned against the account's owner.

Failed sign-ins slow an account down (a growing wait) instead of locking it, and they are counted
apart for each browser that signed in to the account before (it shows a signed device cookie)
and for all other browsers together. So failures from elsewhere, however many, never keep the
owner's own browser waiting, while a guesser without that cookie gets a few tries a day.
Every outcome is a ``SignInEvent``: the audit log editors read, and what the waits are counted from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .errors import ConfigError
from .models import SignInEvent, utcnow

KEEP_EVENTS = timedelta(days=90)


@dataclass(frozen=True)
class DelayPolicy:
    """The first ``free_failures`` failures in ``window_seconds`` (since the last success of the
    same kind of browser) are tried at once; after them the account waits ``first_delay`` seconds
    before the next try, the wait doubling with each further failure up to ``longest_delay``."""

    free_failures: int = 5
    first_delay: int = 30
    longest_delay: int = 900
    window_seconds: int = 24 * 3600

    def delay_after(self, failures: int) -> int:
        if failures < self.free_failures:
            return 0
        return min(self.longest_delay, self.first_delay * 2 ** min(failures - self.free_failures, 30))


def parse_delay_policy(text: str) -> DelayPolicy:
    """``"5/30/900"`` (free failures / first wait / longest wait, in seconds) to a DelayPolicy.
    Raises ConfigError naming the setting when it is not three whole numbers that make sense."""
    parts = [p.strip() for p in (text or "").split("/")]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ConfigError(f"CLINEX_SIGNIN_DELAY: write free/first/longest, like 5/30/900, not {text!r}.")
    free, first, longest = (int(p) for p in parts)
    if free < 1 or first < 1 or longest < first:
        raise ConfigError("CLINEX_SIGNIN_DELAY: allow at least 1 failure, wait at least 1 second, and make the "
                          f"longest wait no shorter than the first (not {text!r}).")
    return DelayPolicy(free, first, longest)


@dataclass(frozen=True)
class Attempt:
    """Who tries to sign in as whom: ``device`` is the browser's device id for this account
    (from a valid signed cookie), None for a browser the account has not signed in with."""

    email: str
    address: str
    device: str | None = None


@dataclass(frozen=True)
class FailureInfo:
    """Failed sign-ins for one email over the last day, for the editors' accounts page."""

    email: str
    failures: int
    last_at: datetime
    last_address: str
    waiting_seconds: int


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without their zone; they are stored in UTC
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _same_browser(device: str | None):
    return SignInEvent.device == device if device else SignInEvent.device.is_(None)


def _failures(session: Session, attempt: Attempt, policy: DelayPolicy, now: datetime) -> tuple[int, datetime | None]:
    """Failures counted for this kind of browser since its last success (within the window)."""
    since = now - timedelta(seconds=policy.window_seconds)
    mine = (SignInEvent.email == attempt.email, _same_browser(attempt.device), SignInEvent.created_at > since)
    last_ok = _aware(session.scalar(select(func.max(SignInEvent.created_at)).where(
        *mine, SignInEvent.kind == "signed_in")))
    count, last = session.execute(select(func.count(SignInEvent.id), func.max(SignInEvent.created_at)).where(
        *mine, SignInEvent.kind == "failed", SignInEvent.created_at > (last_ok or since))).one()
    return count, _aware(last)


def wait_seconds(session: Session, attempt: Attempt, policy: DelayPolicy, now: datetime | None = None) -> int:
    """How long this attempt must wait before its password is even checked (0: go ahead)."""
    now = now or utcnow()
    count, last = _failures(session, attempt, policy, now)
    if not count or last is None:
        return 0
    return max(0, math.ceil(policy.delay_after(count) - (now - last).total_seconds()))


def record_failure(session: Session, attempt: Attempt, user_id: int | None, policy: DelayPolicy) -> int:
    """Log a wrong password (or unknown email); returns the wait it starts, logged as ``delayed``."""
    _prune(session)
    session.add(_event(attempt, user_id, "failed"))
    session.flush()
    count, _last = _failures(session, attempt, policy, utcnow())
    delay = policy.delay_after(count)
    if delay:
        session.add(_event(attempt, user_id, "delayed", wait_seconds=delay))
    return delay


def record_success(session: Session, attempt: Attempt, user_id: int) -> None:
    session.add(_event(attempt, user_id, "signed_in"))


def record_address_limited(session: Session, attempt: Attempt, user_id: int | None, wait: int) -> None:
    session.add(_event(attempt, user_id, "address_limited", wait_seconds=wait))


def _event(attempt: Attempt, user_id: int | None, kind: str, wait_seconds: int | None = None) -> SignInEvent:
    return SignInEvent(email=attempt.email[:254], user_id=user_id, kind=kind, address=attempt.address[:64],
                       device=attempt.device, wait_seconds=wait_seconds)


def _prune(session: Session) -> None:
    session.execute(delete(SignInEvent).where(SignInEvent.created_at < utcnow() - KEEP_EVENTS))


def failures_by_email(session: Session, policy: DelayPolicy, now: datetime | None = None, *,
                      accounts_only: bool = True) -> dict[str, FailureInfo]:
    """Every email with failed sign-ins in the last day, with when and from where the last one
    came and how long a browser without its device cookie waits now. ``accounts_only`` leaves out
    emails no account has (guesses sprayed over made-up addresses stay off the accounts page)."""
    now = now or utcnow()
    recent = (SignInEvent.kind == "failed", SignInEvent.created_at > now - timedelta(days=1))
    rows = session.execute(
        select(SignInEvent.email, func.count(SignInEvent.id), func.max(SignInEvent.created_at))
        .where(*recent, *((SignInEvent.user_id.is_not(None),) if accounts_only else ()))
        .group_by(SignInEvent.email)).all()
    out = {}
    for email, count, last in rows:
        address = session.scalar(select(SignInEvent.address).where(
            SignInEvent.email == email, SignInEvent.kind == "failed").order_by(SignInEvent.id.desc()).limit(1))
        out[email] = FailureInfo(email, count, _aware(last), address,
                                 wait_seconds(session, Attempt(email, address), policy, now))
    return out


def recent_events(session: Session, email: str | None = None, limit: int = 200) -> list[SignInEvent]:
    """The newest sign-in events, of one email when given."""
    query = select(SignInEvent).order_by(SignInEvent.id.desc()).limit(limit)
    if email:
        query = query.where(SignInEvent.email == email.strip().lower())
    return list(session.scalars(query))


def say_wait(seconds: int) -> str:
    """``45 seconds``, ``4 minutes``: how long, in words a person reads at a glance."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


__all__ = ["DelayPolicy", "Attempt", "FailureInfo", "parse_delay_policy", "wait_seconds", "record_failure",
           "record_success", "record_address_limited", "failures_by_email", "recent_events", "say_wait"]
