"""Follows: topics, events and summarizers a member wants to hear more of; the "Following"
page's new episodes and replies."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..errors import ClinexError, NotFound
from ..models import Episode, EpisodeStatus, EpisodeTag, Event, Tag, User
from .models import Follow

TARGETS = {"tag": Tag, "event": Event, "summarizer": User}
MAX_FOLLOWS = 500


def _check_target(session: Session, kind: str, target_id: int) -> None:
    if kind not in TARGETS:
        raise ClinexError(f"One can follow topics, events or summarizers, not {kind!r}.")
    target = session.get(TARGETS[kind], target_id)
    if target is None or (kind == "summarizer" and not target.active):
        raise NotFound(f"There is no such {'topic' if kind == 'tag' else kind} to follow.")


def follow(session: Session, user_id: int, kind: str, target_id: int) -> bool:
    """Follow; True when it is new (following twice is one follow). Raises ClinexError for an
    unknown kind, NotFound for a missing target, ClinexError for oneself or past MAX_FOLLOWS."""
    _check_target(session, kind, target_id)
    if kind == "summarizer" and target_id == user_id:
        raise ClinexError("You cannot follow yourself.")
    if is_following(session, user_id, kind, target_id):
        return False
    if len(follows_of(session, user_id)) >= MAX_FOLLOWS:
        raise ClinexError(f"You follow {MAX_FOLLOWS} things already; unfollow some first.")
    session.add(Follow(user_id=user_id, target_kind=kind, target_id=target_id))
    session.flush()
    return True


def unfollow(session: Session, user_id: int, kind: str, target_id: int) -> bool:
    return session.execute(delete(Follow).where(Follow.user_id == user_id, Follow.target_kind == kind,
                                                Follow.target_id == target_id)).rowcount > 0


def is_following(session: Session, user_id: int | None, kind: str, target_id: int) -> bool:
    if user_id is None:
        return False
    return session.scalar(select(Follow.id).where(Follow.user_id == user_id, Follow.target_kind == kind,
                                                  Follow.target_id == target_id)) is not None


def follows_of(session: Session, user_id: int) -> list[Follow]:
    return list(session.scalars(select(Follow).where(Follow.user_id == user_id).order_by(Follow.id)))


def followed_tag_ids(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(Follow.target_id).where(Follow.user_id == user_id, Follow.target_kind == "tag")))


def followed_episodes(session: Session, user_id: int, include_members_only: bool, limit: int = 50) -> list[Episode]:
    """Published episodes in what the member follows, newest first."""
    follows = follows_of(session, user_id)
    by = {k: [f.target_id for f in follows if f.target_kind == k] for k in TARGETS}
    if not follows:
        return []
    tagged = select(EpisodeTag.episode_id).where(EpisodeTag.tag_id.in_(by["tag"]), EpisodeTag.accepted.is_(True))
    query = select(Episode).where(Episode.status == EpisodeStatus.published.value,
                                  Episode.id.in_(tagged) | Episode.event_id.in_(by["event"])
                                  | Episode.created_by_id.in_(by["summarizer"]))
    if not include_members_only:
        query = query.where(Episode.members_only.is_(False))
    return list(session.scalars(query.order_by(Episode.published_at.desc()).limit(limit)))


def target_names(session: Session, follows: list[Follow]) -> list[tuple[Follow, str]]:
    """Each follow with the name of what it follows (gone targets left out)."""
    out = []
    for f in follows:
        target = session.get(TARGETS.get(f.target_kind, Tag), f.target_id)
        if target is not None:
            out.append((f, target.display_name if f.target_kind == "summarizer" else target.name))
    return out
