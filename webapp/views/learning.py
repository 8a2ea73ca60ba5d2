"""One's own learning record: the page, a reflection note per episode, CSV and PDF exports.

Every route reads the signed-in account's record only; there is no address for anyone else's,
and a note on an episode that is not in one's own record is a 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from pipeline.learning import MAX_REFLECTION, SELF_REPORTED, InvalidReflection, learning_record, save_reflection
from pipeline.learning_export import LogHeading, record_csv, record_pdf
from pipeline.models import utcnow

from ..db import db
from ..forms import ActionForm

bp = Blueprint("learning", __name__)
NO_STORE = {"Cache-Control": "private, no-store"}


def _page(status: int = 200, error: str | None = None, failed_slug: str | None = None):
    record = learning_record(db(), current_user.id)
    return render_template("learning.html", record=record, form=ActionForm(), notice=SELF_REPORTED,
                           max_reflection=MAX_REFLECTION, error=error, failed_slug=failed_slug), status


@bp.get("/account/learning")
@login_required
def record():
    return _page()


@bp.post("/account/learning/<slug>/reflection")
@login_required
def reflect(slug: str):
    """Keep, change or (sent empty) remove one's note; 400 with the reason for a note it will not
    keep, 404 for an episode not in one's record (the app's CSRF check comes first)."""
    try:
        kept = save_reflection(db(), current_user.id, slug, request.form.get("reflection", ""))
    except InvalidReflection as exc:
        db().rollback()
        return _page(400, str(exc), slug)
    db().commit()
    flash("Your reflection is saved." if kept else "Your reflection is removed.")
    return redirect(url_for("learning.record") + f"#ep-{slug}")


@bp.get("/account/learning.csv")
@login_required
def csv():
    body = "\ufeff" + record_csv(learning_record(db(), current_user.id))  # the BOM makes Excel read UTF-8
    return Response(body.encode(), content_type="text/csv; charset=utf-8",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="learning-record.csv"'})


@bp.get("/account/learning.pdf")
@login_required
def pdf():
    settings = current_app.config["CLINEX"]
    heading = LogHeading(name=current_user.display_name, email=current_user.email, site=settings.BASE_URL,
                         made_at=utcnow())
    body = record_pdf(learning_record(db(), current_user.id), heading)
    return Response(body, content_type="application/pdf",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="learning-log.pdf"'})
