"""Standing: "helpful" marks on comments, and a contributor's standing from summaries published
and helpful marks received; top contributors per topic."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import ClinexError, NotFound
from ..models import Comment, CommentState, Episode, EpisodeStatus, EpisodeTag, User
from .models import HelpfulMark

#: A published summary is worth this many helpful marks.
SUMMARY_POINTS = 10


@dataclass(frozen=True)
class Standing:
    user_id: int
    summaries: int
    helpful: int

    @property
    def score(self) -> int:
        return self.summaries * SUMMARY_POINTS + self.helpful


@dataclass(frozen=True)
class Contributor:
    user_id: int
    name: str
    standing: Standing


def mark_helpful(session: Session, comment_id: int, user_id: int, helpful: bool = True) -> int:
    """Add (or take back) the reader's mark; returns the comment's count. Raises NotFound for a
    comment that is not shown and ClinexError for one's own comment. Marking twice is one mark."""
    comment = session.get(Comment, comment_id)
    if comment is None or comment.state != CommentState.visible.value:
        raise NotFound("That comment is not there any more.")
    if comment.author_id == user_id:
        raise ClinexError("You cannot mark your own comment as helpful.")
    existing = session.get(HelpfulMark, (comment_id, user_id))
    if helpful and existing is None:
        session.add(HelpfulMark(comment_id=comment_id, user_id=user_id))
    elif not helpful and existing is not None:
        session.execute(delete(HelpfulMark).where(HelpfulMark.comment_id == comment_id,
                                                  HelpfulMark.user_id == user_id))
    session.flush()
    return helpful_counts(session, [comment_id]).get(comment_id, 0)


def helpful_counts(session: Session, comment_ids: list[int]) -> dict[int, int]:
    if not comment_ids:
        return {}
    return dict(session.execute(select(HelpfulMark.comment_id, func.count()).where(
        HelpfulMark.comment_id.in_(comment_ids)).group_by(HelpfulMark.comment_id)).all())


def marked_by(session: Session, user_id: int | None, comment_ids: list[int]) -> set[int]:
    if user_id is None or not comment_ids:
        return set()
    return set(session.scalars(select(HelpfulMark.comment_id).where(
        HelpfulMark.user_id == user_id, HelpfulMark.comment_id.in_(comment_ids))))


def standings(session: Session, user_ids: list[int]) -> dict[int, Standing]:
    """Standing of each account (those with nothing get zeros), in two queries."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    summaries = dict(session.execute(select(Episode.created_by_id, func.count()).where(
        Episode.created_by_id.in_(ids), Episode.status == EpisodeStatus.published.value)
        .group_by(Episode.created_by_id)).all())
    helpful = dict(session.execute(select(Comment.author_id, func.count()).join(
        HelpfulMark, HelpfulMark.comment_id == Comment.id).where(
        Comment.author_id.in_(ids), Comment.state == CommentState.visible.value).group_by(Comment.author_id)).all())
    return {u: Standing(u, summaries.get(u, 0), helpful.get(u, 0)) for u in ids}


def top_contributors(session: Session, tag_id: int, limit: int = 10) -> list[Contributor]:
    """Who did most for a topic: summaries published in it and helpful marks on comments there."""
    in_topic = select(EpisodeTag.episode_id).where(EpisodeTag.tag_id == tag_id, EpisodeTag.accepted.is_(True))
    summaries = dict(session.execute(select(Episode.created_by_id, func.count()).where(
        Episode.id.in_(in_topic), Episode.status == EpisodeStatus.published.value,
        Episode.created_by_id.is_not(None)).group_by(Episode.created_by_id)).all())
    helpful = dict(session.execute(select(Comment.author_id, func.count()).join(
        HelpfulMark, HelpfulMark.comment_id == Comment.id).where(
        Comment.episode_id.in_(in_topic), Comment.state == CommentState.visible.value)
        .group_by(Comment.author_id)).all())
    ids = set(summaries) | set(helpful)
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids), User.active.is_(True))).all())
    ranked = [Contributor(u, names[u], Standing(u, summaries.get(u, 0), helpful.get(u, 0))) for u in ids if u in names]
    return sorted(ranked, key=lambda c: (-c.standing.score, c.name))[:limit]
