"""Turning notifications into mail: one message per ``instant`` notification, and daily or weekly
digests that gather the rest. Links in mail go through ``/notifications/<id>/open`` (sign-in
needed), and a members-only episode is never named in a message: mail leaves the site."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..models import Episode, EpisodeStatus, Role, SiteValue, User, utcnow
from ..private_feeds import MEMBER_ROLE
from ..settings import Settings
from .mail import DrainReport, drain_outbox, one_line
from .models import Notification, OutboxMessage
from .prefs import KINDS, settings_token
from .visibility import can_see

PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
MEMBER_ROLES = frozenset(r.value for r in Role if r.rank >= MEMBER_ROLE.rank)
MEMBERS_ONLY_TEXT = "There is news about a members-only episode; sign in to read it."


@dataclass
class DigestItem:
    text: str
    url: str


@dataclass
class Digest:
    user_id: int
    to: str
    name: str
    items: list[DigestItem] = field(default_factory=list)


@dataclass
class DigestReport:
    frequency: str
    members: int
    items: int


def _url(settings: Settings, path: str) -> str:
    return settings.BASE_URL + path


def open_url(settings: Settings, notification_id: int) -> str:
    return _url(settings, f"/notifications/{notification_id}/open")


def change_url(settings: Settings, user_id: int, kind: str, email: str) -> str:
    return _url(settings, f"/notifications/unsubscribe/{settings_token(settings.SECRET_KEY, user_id, kind, email)}")


def mail_text(notification: Notification, episode: Episode | None) -> str:
    """What mail may say: the notification's text, unless it is about a members-only episode."""
    return MEMBERS_ONLY_TEXT if episode is not None and episode.members_only else notification.text


def _instant_body(settings: Settings, user: User, n: Notification, episode: Episode | None) -> tuple[str, str]:
    stop = change_url(settings, user.id, n.kind, "off")
    body = (f"Hello {one_line(user.display_name, 120)},\n\n{mail_text(n, episode)}\n{open_url(settings, n.id)}\n\n"
            f"-- \n{settings.SHOW_TITLE}\nStop emails about “{KINDS[n.kind]}”: {stop}\n"
            f"Get them in a daily digest instead: {change_url(settings, user.id, n.kind, 'daily')}\n"
            f"All settings: {_url(settings, '/notifications/settings')}\n")
    return body, stop


def queue_instant_mail(session: Session, settings: Settings) -> int:
    """An outbox message for each notification still owed instant mail; returns how many. One
    whose episode the member may no longer see is not mailed at all."""
    rows = session.execute(select(Notification, User, Episode).join(User, User.id == Notification.user_id)
                           .outerjoin(Episode, Episode.id == Notification.episode_id)
                           .where(Notification.email == "instant").order_by(Notification.id)).all()
    queued = 0
    for n, user, episode in rows:
        # compare-and-set: of two processes draining at once, one queues the message
        if not _take(session, n.id):
            continue
        if not user.active or (n.kind != "review" and not can_see(user, episode)):
            continue
        body, stop = _instant_body(settings, user, n, episode)
        subject = f"{settings.SHOW_TITLE}: {mail_text(n, episode)}"
        session.add(OutboxMessage(to_addr=user.email, subject=one_line(subject, 300), body=body, unsubscribe_url=stop))
        queued += 1
    session.flush()
    return queued


def _take(session: Session, notification_id: int) -> bool:
    return session.execute(update(Notification).where(Notification.id == notification_id,
                                                      Notification.email == "instant")
                           .values(email="sent").execution_options(synchronize_session=False)).rowcount == 1


def build_digests(session: Session, frequency: str, until: datetime) -> tuple[list[Digest], list[int]]:
    """Per member, the notifications waiting for the ``frequency`` digest made before ``until``
    that the member may still see; with the ids of every row gathered (shown or not)."""
    rows = session.execute(
        select(Notification.id, Notification.kind, Notification.text, User.id, User.email, User.display_name,
               User.active, User.role, Episode.status, Episode.members_only)
        .join(User, User.id == Notification.user_id).outerjoin(Episode, Episode.id == Notification.episode_id)
        .where(Notification.email == frequency, Notification.created_at <= until)
        .order_by(User.id, Notification.id)).all()
    digests: dict[int, Digest] = {}
    for nid, kind, text, uid, email, name, active, role, status, members_only in rows:
        if not _digest_visible(kind, active, role, status, members_only):
            continue
        digest = digests.get(uid) or digests.setdefault(uid, Digest(uid, email, name))
        digest.items.append(DigestItem(MEMBERS_ONLY_TEXT if members_only else text, f"/notifications/{nid}/open"))
    return list(digests.values()), [r[0] for r in rows]


def _digest_visible(kind, active, role, status, members_only) -> bool:
    """``can_see`` on plain columns (a digest run reads hundreds of thousands of rows)."""
    if not active:
        return False
    if kind == "review" or status is None:
        return True
    return status == EpisodeStatus.published.value and (not members_only or role in MEMBER_ROLES)


def digest_body(settings: Settings, digest: Digest, frequency: str, stop_url: str) -> str:
    lines = [f"Hello {one_line(digest.name, 120)},", "", f"Your {frequency} digest from {settings.SHOW_TITLE}:", ""]
    lines += [f"- {item.text}\n  {_url(settings, item.url)}" for item in digest.items]
    other = "weekly" if frequency == "daily" else "daily"
    lines += ["", "-- ", f"Stop all notification emails: {stop_url}",
              f"Switch to a {other} digest: {change_url(settings, digest.user_id, '*', other)}",
              f"All settings: {_url(settings, '/notifications/settings')}", ""]
    return "\n".join(lines)


def _digest_message(settings: Settings, digest: Digest, frequency: str, now: datetime) -> dict:
    stop = change_url(settings, digest.user_id, "*", "off")
    return {"to_addr": digest.to, "subject": one_line(f"{settings.SHOW_TITLE}: your {frequency} digest "
                                                      f"({len(digest.items)} new)", 300),
            "body": digest_body(settings, digest, frequency, stop), "state": "queued", "attempts": 0,
            "next_attempt_at": now, "created_at": now, "unsubscribe_url": stop}


def queue_digests(session: Session, settings: Settings, frequency: str, now: datetime | None = None) -> DigestReport:
    """Gather the waiting ``frequency`` notifications into one outbox message per member (bulk
    inserts: ten thousand members are one statement); the caller commits."""
    if frequency not in PERIODS:
        raise ValueError(f"frequency must be daily or weekly, not {frequency!r}")
    now = now or utcnow()
    digests, ids = build_digests(session, frequency, now)
    messages = [_digest_message(settings, d, frequency, now) for d in digests]
    if messages:
        session.execute(insert(OutboxMessage), messages)
    # exactly the rows gathered above (shown or not): one committed meanwhile waits for the next digest
    for start in range(0, len(ids), 900):
        session.execute(update(Notification).where(Notification.id.in_(ids[start:start + 900]))
                        .values(email="sent").execution_options(synchronize_session=False))
    session.merge(SiteValue(key=f"digest:{frequency}", value=now.isoformat()))
    return DigestReport(frequency, len(digests), sum(len(d.items) for d in digests))


def take_digest_turn(session: Session, frequency: str, now: datetime) -> bool:
    """Claim making the due ``frequency`` digest (compare-and-set on its last-run value), so that
    of several workers whose rounds meet, one makes it. The caller commits."""
    key = f"digest:{frequency}"
    row = session.get(SiteValue, key)
    if row is None:
        try:
            with session.begin_nested():
                session.add(SiteValue(key=key, value=now.isoformat()))
        except IntegrityError:
            return False
        return True
    if now - datetime.fromisoformat(row.value) < PERIODS[frequency]:
        return False
    return session.execute(update(SiteValue).where(SiteValue.key == key, SiteValue.value == row.value)
                           .values(value=now.isoformat())).rowcount == 1


def deliver_mail(sessions: sessionmaker[Session], settings: Settings, digests: bool = True) -> DrainReport:
    """Everything a worker does for mail, safe to run often and from many processes: queue
    instant mail, make any digest that is due, then send what the outbox holds."""
    with sessions.begin() as session:
        queue_instant_mail(session, settings)
    for frequency in PERIODS if digests else ():
        with sessions.begin() as session:
            now = utcnow()
            if take_digest_turn(session, frequency, now):
                queue_digests(session, settings, frequency, now)
    return drain_outbox(sessions, settings)
