"""Calls for summaries: upcoming meetings and their sessions, claiming a session, the meeting
page (summarized / claimed / needs a volunteer), and the .ics feed of upcoming meetings."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from pipeline.community.calls import (CallError, MeetingInput, claim_session, create_meeting, meeting_by_slug,
                                      meetings_ics, parse_sessions, release_session, session_status,
                                      upcoming_meetings)
from pipeline.errors import ClinexError
from pipeline.models import Role, User

from ..auth import role_required
from ..community_forms import MeetingForm
from ..db import db
from ..forms import ActionForm

bp = Blueprint("calls", __name__, url_prefix="/calls")


@bp.get("/")
def index():
    meetings = upcoming_meetings(db())
    needing = {m.id: sum(session_status(s) == "needs volunteer" for s in m.sessions) for m in meetings}
    return render_template("calls.html", meetings=meetings, needing=needing)


@bp.get("/<slug>")
def meeting(slug: str):
    return render_template("call.html", meeting=meeting_by_slug(db(), slug), status=session_status,
                           form=ActionForm())


def _day(value: str, what: str) -> date:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        raise CallError(f"The {what} must be a date like 2027-03-14.") from None


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.summarizer)
def new():
    form = MeetingForm()
    if not form.validate_on_submit():
        return render_template("call_new.html", form=form), 400 if form.errors else 200
    try:
        data = MeetingInput(name=form.name.data, place=form.place.data or "", url=(form.url.data or "").strip(),
                            starts_on=_day(form.starts_on.data, "first day"),
                            ends_on=_day(form.ends_on.data, "last day"), sessions=parse_sessions(form.sessions.data))
        found = create_meeting(db(), db().get(User, current_user.id), data)
    except ClinexError as exc:  # CallError, or markup or control characters in a name
        db().rollback()
        form.sessions.errors = [str(exc)]
        return render_template("call_new.html", form=form), 422
    db().commit()
    flash("The meeting is listed; members can claim its sessions.")
    return redirect(url_for("calls.meeting", slug=found.slug))


@bp.post("/sessions/<int:session_id>/<action>")
@role_required(Role.summarizer)
def claim(session_id: int, action: str):
    """claim ("I'll summarize this") or release a session."""
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    me = db().get(User, current_user.id)
    if action == "claim":
        found = claim_session(db(), session_id, me)
        message = "It's yours: after the session, upload your notes from the studio and choose this session."
    elif action == "release":
        found = release_session(db(), session_id, me)
        message = "Released; someone else can claim it."
    else:
        abort(404, "Session actions are claim and release.")
    db().commit()
    flash(message)
    return redirect(url_for("calls.meeting", slug=found.meeting.slug) + f"#s{found.id}")


@bp.get("/meetings.ics")
def ics():
    settings = current_app.config["CLINEX"]
    body = meetings_ics(upcoming_meetings(db()), settings.BASE_URL, settings.SHOW_TITLE)
    return Response(body, content_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="meetings.ics"', "Cache-Control": "public, max-age=600"})
