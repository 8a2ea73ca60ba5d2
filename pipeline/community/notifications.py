"""Notifications: what happened that a member should hear of, in the site's bell and by mail.

Each notification is a row; its ``email`` column says what mail still owes it (``instant``: the
next ``deliver_mail`` queues a message; ``daily``/``weekly``: the next digest of that period
carries it). Whether an episode may be named is checked when the row is made and again when it
is shown or mailed (an episode may be unpublished or made members-only meanwhile)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from ..models import Comment, CommentState, Episode, EpisodeTag, User, utcnow
from .models import Follow, Notification, Profile
from .prefs import Pref, prefs_for_users
from .visibility import can_see

MENTION = re.compile(r"(?<![\w@/])@([a-z0-9][a-z0-9_-]{1,39})", re.I)
MAX_MENTIONS = 10
MAX_TEXT = 400


@dataclass(frozen=True)
class Notice:
    """A notification as the bell and the mail show it."""

    id: int
    kind: str
    text: str
    link: str
    created_at: object
    unread: bool


def _row(user_id: int, pref: Pref, kind: str, text: str, link: str, episode_id=None, comment_id=None) -> dict | None:
    if not pref.site and pref.email == "off":
        return None
    return {"user_id": user_id, "kind": kind, "text": " ".join(text.split())[:MAX_TEXT], "link": link[:500],
            "episode_id": episode_id, "comment_id": comment_id, "created_at": utcnow(),
            "email": "none" if pref.email == "off" else pref.email,
            "read_at": None if pref.site else utcnow()}  # mail only: never counted as unread


def notify_many(session: Session, user_ids: Iterable[int], kind: str, text: str, link: str,
                episode: Episode | None = None, comment_id: int | None = None) -> int:
    """Tell each active account in ``user_ids`` that may see ``episode``, as its choices say;
    returns how many rows were written. Uses one bulk insert (thousands of followers)."""
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    users = _active_users(session, ids)
    prefs = prefs_for_users(session, list(users), kind)
    rows = [r for uid, user in users.items() if (kind == "review" or can_see(user, episode))
            and (r := _row(uid, prefs[uid], kind, text, link, episode.id if episode else None, comment_id))]
    if rows:
        session.execute(insert(Notification), rows)
    return len(rows)


@dataclass(frozen=True)
class Recipient:
    """What ``can_see`` reads of an account, without loading thousands of ORM objects."""

    id: int
    role: str
    active: bool = True


def _active_users(session: Session, ids: list[int]) -> dict[int, Recipient]:
    found = {}
    for start in range(0, len(ids), 900):
        found.update({uid: Recipient(uid, role) for uid, role in session.execute(
            select(User.id, User.role).where(User.id.in_(ids[start:start + 900]), User.active.is_(True)))})
    return found


def _name(user: User) -> str:
    return user.display_name or "Someone"


def comment_link(episode: Episode, comment: Comment) -> str:
    return f"/episodes/{episode.slug}#c{comment.id}"


def notify_comment(session: Session, comment: Comment) -> int:
    """A comment became visible: tell the author it answers and the members it mentions (not the
    commenter, and once each, however often this runs). Pending comments tell nobody yet."""
    if comment.state != CommentState.visible.value:
        return 0
    if session.scalar(select(func.count(Notification.id)).where(Notification.comment_id == comment.id,
                                                                Notification.kind.in_(("reply", "mention")))):
        return 0
    episode = session.get(Episode, comment.episode_id)
    author, link = session.get(User, comment.author_id), comment_link(episode, comment)
    parent = session.get(Comment, comment.parent_id) if comment.parent_id else None
    told = set()
    if parent is not None and parent.author_id != comment.author_id and parent.state == CommentState.visible.value:
        told.add(parent.author_id)
        notify_many(session, [parent.author_id], "reply", f"{_name(author)} replied to you on “{episode.title}”",
                    link, episode, comment.id)
    mentioned = [u for u in mentioned_users(session, comment.body) if u != comment.author_id and u not in told]
    notify_many(session, mentioned, "mention", f"{_name(author)} mentioned you on “{episode.title}”",
                link, episode, comment.id)
    return len(told) + len(mentioned)


def mentioned_users(session: Session, body: str) -> list[int]:
    """Accounts named ``@handle`` in a comment (at most MAX_MENTIONS distinct handles)."""
    handles = list(dict.fromkeys(h.lower() for h in MENTION.findall(body or "")))[:MAX_MENTIONS]
    if not handles:
        return []
    return list(session.scalars(select(Profile.user_id).where(Profile.handle.in_(handles))))


def followers_of_episode(session: Session, episode: Episode) -> set[int]:
    """Accounts following one of the episode's accepted topics, its event or its summarizer."""
    tag_ids = list(session.scalars(select(EpisodeTag.tag_id).where(EpisodeTag.episode_id == episode.id,
                                                                    EpisodeTag.accepted.is_(True))))
    targets = [("tag", t) for t in tag_ids]
    if episode.event_id:
        targets.append(("event", episode.event_id))
    if episode.created_by_id:
        targets.append(("summarizer", episode.created_by_id))
    found: set[int] = set()
    for kind, target in targets:
        found.update(session.scalars(select(Follow.user_id).where(Follow.target_kind == kind,
                                                                  Follow.target_id == target)))
    found.discard(episode.created_by_id)
    return found


def notify_new_episode(session: Session, episode: Episode) -> int:
    """A newly published episode: tell its followers (once per episode, even if republished)."""
    if session.scalar(select(func.count(Notification.id)).where(Notification.episode_id == episode.id,
                                                                Notification.kind == "new_episode")):
        return 0
    followers = followers_of_episode(session, episode)
    where = f" from {episode.event.name}" if episode.event else ""
    return notify_many(session, followers, "new_episode", f"New episode{where}: “{episode.title}”",
                       f"/episodes/{episode.slug}", episode)


def notify_review_outcome(session: Session, episode: Episode, outcome: str, note: str | None = None) -> int:
    """Tell the summarizer their summary was approved (``approved``) or sent back
    (``changes_requested``, with the editor's note); an approval also tells the followers."""
    if outcome not in ("approved", "changes_requested"):
        raise ValueError(f"outcome must be approved or changes_requested, not {outcome!r}")
    told = 0
    if episode.created_by_id:
        if outcome == "approved":
            text, link = f"Your summary “{episode.title}” is published", f"/episodes/{episode.slug}"
        else:
            text = f"Your summary “{episode.title}” was sent back" + (f": {note}" if note else "")
            link = f"/studio/{episode.id}"
        told += notify_many(session, [episode.created_by_id], "review", text, link, episode)
    if outcome == "approved":
        told += notify_new_episode(session, episode)
    return told


def notices(session: Session, user: User, limit: int = 50) -> list[Notice]:
    """The account's notifications, newest first, leaving out those whose episode it may no
    longer see."""
    rows = session.scalars(select(Notification).where(Notification.user_id == user.id)
                           .order_by(Notification.id.desc()).limit(limit))
    return [Notice(n.id, n.kind, n.text, n.link, n.created_at, n.read_at is None)
            for n in rows if n.kind == "review" or can_see(user, n.episode)]


def unread_count(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def mark_read(session: Session, user_id: int, notification_id: int | None = None) -> int:
    """Mark one (or every) notification of the account read; another account's ids match nothing."""
    query = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    return session.execute(query.values(read_at=utcnow())).rowcount


def open_notice(session: Session, user_id: int, notification_id: int) -> str | None:
    """Mark it read and return where it points; None when it is not the account's."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        return None
    row.read_at = row.read_at or utcnow()
    return row.link
