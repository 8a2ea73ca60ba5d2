"""The studio's side of calls for summaries: which session an upload's notes summarize."""

from __future__ import annotations

from flask import flash, request

from pipeline.community.calls import check_session_for_notes, claimed_sessions, link_notes
from pipeline.community.models import MeetingSession
from pipeline.errors import ClinexError
from pipeline.notes import parse_notes
from pipeline.models import Episode, User

from .db import db


def call_choices(user: User) -> dict:
    """The sessions the summarizer claimed (for the upload form's choice) and the preselected one."""
    wanted = request.args.get("session", "") or request.form.get("call_session", "")
    return {"call_sessions": claimed_sessions(db(), user.id), "call_selected": wanted}


def _from_front_matter(notes_text: str | None) -> str:
    """The notes' ``session:`` field, if they parse (bad notes are refused later, by the ingest)."""
    if not (notes_text or "").strip():
        return ""
    try:
        found = parse_notes(notes_text).meta.call_session
    except ClinexError:
        return ""
    return str(found) if found is not None else ""


def checked_call_session(form, user: User) -> MeetingSession | None:
    """The session chosen on the form (else named by the notes' front matter ``session:``) if the
    notes may be linked to it; else None with the reason on the form."""
    raw = (form.call_session.data or "").strip() or _from_front_matter(form.notes.data)
    if not raw:
        return None
    if not raw.isdigit():
        form.call_session.errors = ["Choose a session from the list."]
        return None
    try:
        return check_session_for_notes(db(), int(raw), user)
    except ClinexError as exc:
        form.call_session.errors = [str(exc)]
        return None


def link_call_session(call: MeetingSession | None, episode_id: int, user: User) -> None:
    """Link the stored episode's notes to the session; if someone claimed it meanwhile, the
    episode stays as uploaded and the summarizer is told (the upload is not undone)."""
    if call is None:
        return
    try:
        link_notes(db(), call.id, db().get(Episode, episode_id), user)
    except ClinexError as exc:
        db().rollback()
        flash(f"The notes were not linked to the session: {exc}")
        return
    db().commit()
