"""The editor's review queue: listen, read, approve (publish) or send back; unpublish."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from pipeline.models import AuditEvent, Episode, EpisodeStatus, Role, User
from pipeline.publish import publish_episode, request_changes, unpublish_episode

from ..auth import role_required
from ..db import ctx, db, get_or_404
from ..forms import ReviewForm

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.get("/")
@role_required(Role.editor)
def queue():
    episodes = db().scalars(select(Episode).where(Episode.status == EpisodeStatus.in_review.value)
                            .order_by(Episode.updated_at)).all()
    return render_template("review_queue.html", episodes=episodes)


@bp.get("/<int:episode_id>")
@role_required(Role.editor)
def episode(episode_id: int):
    ep = get_or_404(Episode, episode_id)
    audit = db().scalars(select(AuditEvent).where(AuditEvent.episode_id == ep.id).order_by(AuditEvent.id)).all()
    return render_template("review_episode.html", episode=ep, form=ReviewForm(), audit=audit,
                           transcript=ep.transcript)


def _actor() -> User:
    return db().get(User, current_user.id)


@bp.post("/<int:episode_id>/approve")
@role_required(Role.editor)
def approve(episode_id: int):
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    ep = get_or_404(Episode, episode_id)
    publish_episode(ctx(), db(), ep, _actor(), note=form.note.data or None)
    db().commit()
    flash(f"Published “{ep.title}”.")
    return redirect(url_for("review.queue"))


@bp.post("/<int:episode_id>/request-changes")
@role_required(Role.editor)
def send_back(episode_id: int):
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    ep = get_or_404(Episode, episode_id)
    request_changes(db(), ep, _actor(), form.note.data or "")
    db().commit()
    flash(f"Sent “{ep.title}” back to the summarizer.")
    return redirect(url_for("review.queue"))


@bp.post("/<int:episode_id>/unpublish")
@role_required(Role.editor)
def unpublish(episode_id: int):
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    ep = get_or_404(Episode, episode_id)
    unpublish_episode(db(), ep, _actor(), form.note.data or None)
    db().commit()
    flash(f"Unpublished “{ep.title}”.")
    return redirect(url_for("review.episode", episode_id=ep.id))
