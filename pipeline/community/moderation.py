"""Reports on comments and what editors do about them (hide, warn, suspend, dismiss); every
action is written to the moderation log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..errors import ClinexError, NotFound
from ..models import Comment, CommentState, Episode, User, utcnow
from .models import ModerationAction, Report
from .notifications import notify_many

REASONS = {"spam": "Spam or advertising", "abuse": "Abusive or harassing", "misinformation": "Clinically wrong or unsafe",
           "privacy": "Reveals a patient or private details", "other": "Something else"}
MAX_DETAILS = 1000


@dataclass(frozen=True)
class ReportedComment:
    comment: Comment
    count: int
    reasons: list[str]
    details: list[str]


def report_comment(session: Session, comment_id: int, reporter_id: int, reason: str, details: str = "") -> bool:
    """File a report; True when new (one per reader per comment). Raises ClinexError for an
    unknown reason, over-long details or one's own comment, NotFound for a comment not shown."""
    if reason not in REASONS:
        raise ClinexError(f"Choose a reason: {', '.join(REASONS)}.")
    details = (details or "").strip()
    if len(details) > MAX_DETAILS:
        raise ClinexError(f"Details may be at most {MAX_DETAILS} characters.")
    comment = session.get(Comment, comment_id)
    if comment is None or comment.state != CommentState.visible.value:
        raise NotFound("That comment is not there any more.")
    if comment.author_id == reporter_id:
        raise ClinexError("You cannot report your own comment; delete it instead.")
    if session.scalar(select(Report.id).where(Report.comment_id == comment_id, Report.reporter_id == reporter_id)):
        return False
    session.add(Report(comment_id=comment_id, reporter_id=reporter_id, reason=reason, details=details or None))
    session.flush()
    return True


def open_reports(session: Session) -> list[ReportedComment]:
    """Comments with unresolved reports, most reported first."""
    rows = session.scalars(select(Report).where(Report.resolved_at.is_(None)).order_by(Report.id)).all()
    grouped: dict[int, list[Report]] = {}
    for r in rows:
        grouped.setdefault(r.comment_id, []).append(r)
    out = [ReportedComment(rs[0].comment, len(rs), sorted({REASONS[r.reason] for r in rs}),
                           [r.details for r in rs if r.details]) for rs in grouped.values()]
    return sorted(out, key=lambda r: (-r.count, r.comment.id))


def open_report_count(session: Session) -> int:
    return session.scalar(select(func.count(func.distinct(Report.comment_id))).where(Report.resolved_at.is_(None))) or 0


def _log(session: Session, actor_id: int, action: str, target_user_id=None, comment_id=None, note=None) -> None:
    session.add(ModerationAction(actor_id=actor_id, action=action, target_user_id=target_user_id,
                                 comment_id=comment_id, note=(note or "").strip()[:1000] or None))


def _resolve(session: Session, comment_id: int) -> None:
    session.execute(update(Report).where(Report.comment_id == comment_id, Report.resolved_at.is_(None))
                    .values(resolved_at=utcnow()))


def set_comment_state(session: Session, actor_id: int, comment_id: int, state: CommentState, note: str = "") -> Comment:
    """Hide or show a comment (resolving its reports) and log it. Raises NotFound, or
    ClinexError for a comment its author deleted."""
    comment = session.get(Comment, comment_id)
    if comment is None:
        raise NotFound("No such comment.")
    if comment.state == CommentState.deleted.value:
        raise ClinexError("The author deleted this comment; it cannot be shown again.")
    comment.state = state.value
    _resolve(session, comment_id)
    _log(session, actor_id, "hide" if state is CommentState.hidden else "restore", comment.author_id, comment_id, note)
    session.flush()
    return comment


def dismiss_reports(session: Session, actor_id: int, comment_id: int, note: str = "") -> None:
    _resolve(session, comment_id)
    _log(session, actor_id, "dismiss", None, comment_id, note)


def warn_member(session: Session, actor_id: int, user_id: int, note: str, comment_id: int | None = None) -> None:
    """Send the member a notice from the editors (site and mail) and log it. Raises ClinexError
    without a note: a warning says what was wrong."""
    if not (note or "").strip():
        raise ClinexError("Write what the warning is about; the member reads it.")
    _member(session, user_id)
    link = "/notifications"
    if comment_id and (comment := session.get(Comment, comment_id)):
        episode = session.get(Episode, comment.episode_id)
        link = f"/episodes/{episode.slug}#c{comment.id}"
    notify_many(session, [user_id], "moderation", f"A note from the editors: {note.strip()}", link)
    _log(session, actor_id, "warn", user_id, comment_id, note)
    if comment_id:
        _resolve(session, comment_id)


def suspend_member(session: Session, actor_id: int, user_id: int, note: str, suspend: bool = True) -> User:
    """Suspend (the account cannot sign in, its feeds stop) or reinstate. Raises ClinexError for
    one's own account or an editor's (an admin changes roles first)."""
    user = _member(session, user_id)
    if user.id == actor_id:
        raise ClinexError("You cannot suspend your own account.")
    if suspend and user.has_role("editor"):
        raise ClinexError("Editors and admins are not suspended here; change their role first.")
    user.active = not suspend
    _log(session, actor_id, "suspend" if suspend else "reinstate", user_id, None, note)
    session.flush()
    return user


def _member(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such member.")
    return user


def moderation_log(session: Session, limit: int = 100) -> list[ModerationAction]:
    return list(session.scalars(select(ModerationAction).order_by(ModerationAction.id.desc()).limit(limit)))
