"""The episode state machine. Every transition is checked and written to the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .errors import WorkflowError
from .models import AuditEvent, Episode, EpisodeStatus as S, User, utcnow

ALLOWED: dict[S, set[S]] = {
    S.draft: {S.processing, S.failed},
    S.processing: {S.in_review, S.failed, S.processing},
    S.failed: {S.processing},
    S.in_review: {S.published, S.changes_requested, S.processing},
    S.changes_requested: {S.in_review, S.processing},
    S.published: {S.unpublished},
    S.unpublished: {S.published, S.in_review},
}

_VERBS = {S.published: "publish", S.changes_requested: "send back", S.unpublished: "unpublish",
          S.in_review: "submit for review", S.processing: "process"}


def transition(session: Session, episode: Episode, to: S | str, *, actor: User | None = None,
               reason: str | None = None) -> AuditEvent:
    """Move ``episode`` to state ``to`` and record who, when and why.

    Raises WorkflowError when the move is not allowed from the current state.
    """
    to = S(to)
    current = S(episode.status)
    if to not in ALLOWED.get(current, set()):
        verb = _VERBS.get(to, f"move to {to.value}")
        raise WorkflowError(f"Episode {episode.id} is {current.value.replace('_', ' ')}; it cannot {verb} from there.")
    episode.status = to.value
    if to is S.published and episode.published_at is None:
        episode.published_at = utcnow()
    if to is S.failed:
        episode.failure_reason = reason
    elif to is S.processing:
        episode.failure_reason = None
    if to is S.changes_requested:
        episode.review_note = reason
    event = AuditEvent(episode_id=episode.id, actor_id=actor.id if actor else None,
                       from_state=current.value, to_state=to.value, reason=reason)
    session.add(event)
    return event
