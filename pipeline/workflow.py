"""The episode state machine. Every transition is checked and written to the audit log."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .errors import WorkflowError
from .models import AuditEvent, Episode, EpisodeStatus, User, utcnow

ALLOWED: dict[EpisodeStatus, set[EpisodeStatus]] = {
    EpisodeStatus.draft: {EpisodeStatus.processing, EpisodeStatus.failed},
    EpisodeStatus.processing: {EpisodeStatus.in_review, EpisodeStatus.failed, EpisodeStatus.processing},
    EpisodeStatus.failed: {EpisodeStatus.processing},
    EpisodeStatus.in_review: {EpisodeStatus.published, EpisodeStatus.changes_requested, EpisodeStatus.processing},
    EpisodeStatus.changes_requested: {EpisodeStatus.in_review, EpisodeStatus.processing},
    EpisodeStatus.published: {EpisodeStatus.unpublished},
    EpisodeStatus.unpublished: {EpisodeStatus.published, EpisodeStatus.in_review},
}

_VERBS = {EpisodeStatus.published: "publish", EpisodeStatus.changes_requested: "send back",
          EpisodeStatus.unpublished: "unpublish",
          EpisodeStatus.in_review: "submit for review", EpisodeStatus.processing: "process"}


def transition(session: Session, episode: Episode, to: EpisodeStatus | str, *, actor: User | None = None,
               reason: str | None = None) -> AuditEvent:
    """Move ``episode`` to state ``to`` and record who, when and why.

    Raises WorkflowError when the move is not allowed from the current state.
    """
    to = EpisodeStatus(to)
    current = EpisodeStatus(episode.status)
    if to not in ALLOWED.get(current, set()):
        verb = _VERBS.get(to, f"move to {to.value}")
        raise WorkflowError(f"Episode {episode.id} is {current.value.replace('_', ' ')}; it cannot {verb} from there.")
    episode.status = to.value
    if to is EpisodeStatus.published and episode.published_at is None:
        episode.published_at = utcnow()
    if to is EpisodeStatus.failed:
        episode.failure_reason = reason
    elif to is EpisodeStatus.processing:
        episode.failure_reason = None
    if to is EpisodeStatus.changes_requested:
        episode.review_note = reason
    event = AuditEvent(episode_id=episode.id, actor_id=actor.id if actor else None,
                       from_state=current.value, to_state=to.value, reason=reason)
    session.add(event)
    return event
