"""The editors' comment moderation queue: hide, restore, and mark authors trusted."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from sqlalchemy import select

from pipeline.models import Comment, CommentState, Episode, Role, User

from ..auth import role_required
from ..community import comment_now_visible
from ..db import db, get_or_404
from ..forms import ActionForm

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.get("/")
@role_required(Role.editor)
def queue():
    pending = db().scalars(select(Comment).where(Comment.state == CommentState.pending.value)
                           .order_by(Comment.created_at)).all()
    recent = db().scalars(select(Comment).where(Comment.state.in_([CommentState.visible.value,
                                                                   CommentState.hidden.value]))
                          .order_by(Comment.created_at.desc()).limit(50)).all()
    ids = {c.episode_id for c in [*pending, *recent]}
    titles = dict(db().execute(select(Episode.id, Episode.title).where(Episode.id.in_(ids))).all()) if ids else {}
    return render_template("moderation.html", pending=pending, recent=recent, form=ActionForm(), titles=titles)


def _checked() -> None:
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")


def _set_state(comment_id: int, state: CommentState, message: str):
    _checked()
    comment = get_or_404(Comment, comment_id)
    if comment.state == CommentState.deleted.value:
        abort(409, "The author deleted this comment; it cannot be shown again.")
    comment.state = state.value
    db().commit()
    comment_now_visible(comment)
    flash(message)
    return redirect(url_for("moderation.queue"))


@bp.post("/comments/<int:comment_id>/hide")
@role_required(Role.editor)
def hide(comment_id: int):
    return _set_state(comment_id, CommentState.hidden, "The comment is hidden.")


@bp.post("/comments/<int:comment_id>/restore")
@role_required(Role.editor)
def restore(comment_id: int):
    return _set_state(comment_id, CommentState.visible, "The comment is visible.")


@bp.post("/users/<int:user_id>/trust")
@role_required(Role.editor)
def trust(user_id: int):
    """Trust an author: their pending comments appear, and future ones skip the queue."""
    _checked()
    user = get_or_404(User, user_id)
    user.trusted = True
    shown = []
    for comment in db().scalars(select(Comment).where(Comment.author_id == user.id,
                                                      Comment.state == CommentState.pending.value)):
        comment.state = CommentState.visible.value
        shown.append(comment)
    db().commit()
    for comment in shown:
        comment_now_visible(comment)
    flash(f"{user.display_name} is trusted; their comments appear without waiting.")
    return redirect(url_for("moderation.queue"))
