"""Reporting a comment, and the editors' side: the reports queue with counts, hide, warn,
suspend or reinstate an account, dismiss; every action goes to the moderation log."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.community.moderation import (dismiss_reports, moderation_log, open_reports, report_comment,
                                           set_comment_state, suspend_member, warn_member)
from pipeline.models import Comment, CommentState, Episode, Role

from ..auth import role_required
from ..community_forms import ModerationNoteForm, ReportForm
from ..db import db, get_or_404
from ..security import enforce

bp = Blueprint("reports", __name__)


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@role_required(Role.listener)
def report(comment_id: int):
    comment = get_or_404(Comment, comment_id)
    episode = db().get(Episode, comment.episode_id)
    form = ReportForm()
    if not form.validate_on_submit():
        return render_template("report.html", form=form, comment=comment, episode=episode), \
            400 if form.errors else 200
    enforce("report", str(current_user.id))
    new = report_comment(db(), comment_id, current_user.id, form.reason.data, form.details.data or "")
    db().commit()
    flash("Thank you: the editors will look at it." if new else "You reported this comment already.")
    return redirect(url_for("public.episode", slug=episode.slug) + f"#c{comment_id}")


@bp.get("/moderation/reports")
@role_required(Role.editor)
def queue():
    return render_template("reports.html", reports=open_reports(db()), log=moderation_log(db(), 50),
                           form=ModerationNoteForm())


def _note() -> str:
    form = ModerationNoteForm()
    if not form.validate_on_submit():
        abort(400, "The note is too long or has HTML tags, or the form expired; reload and try again.")
    return form.note.data or ""


@bp.post("/moderation/reports/<int:comment_id>/<action>")
@role_required(Role.editor)
def act(comment_id: int, action: str):
    """hide | restore | dismiss | warn (the author, about this comment)."""
    note = _note()
    comment = get_or_404(Comment, comment_id)
    if action == "hide":
        set_comment_state(db(), current_user.id, comment_id, CommentState.hidden, note)
    elif action == "restore":
        set_comment_state(db(), current_user.id, comment_id, CommentState.visible, note)
    elif action == "dismiss":
        dismiss_reports(db(), current_user.id, comment_id, note)
    elif action == "warn":
        warn_member(db(), current_user.id, comment.author_id, note, comment_id)
    else:
        abort(404, "Moderation actions are hide, restore, dismiss and warn.")
    db().commit()
    if action == "warn":
        from ..community import deliver_soon

        deliver_soon()
    flash(f"Done: {action}.")
    return redirect(url_for("reports.queue"))


@bp.post("/moderation/members/<int:user_id>/<action>")
@role_required(Role.editor)
def member(user_id: int, action: str):
    """suspend | reinstate an account."""
    if action not in ("suspend", "reinstate"):
        abort(404, "Member actions are suspend and reinstate.")
    note = _note()
    user = suspend_member(db(), current_user.id, user_id, note, suspend=action == "suspend")
    db().commit()
    flash(f"{user.display_name} is {'suspended' if action == 'suspend' else 'reinstated'}.")
    return redirect(request.referrer if (request.referrer or "").startswith(request.host_url) else url_for("reports.queue"))
