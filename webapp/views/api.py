"""A small JSON API for scripted uploads: upload, status, submit; and for editors, spoken extras.

Authentication is only ``Authorization: Bearer cx_...`` (never the session cookie), which is why
the blueprint is exempt from CSRF: a browser cannot attach that header to a cross-site request.
Errors are JSON ``{"error": kind, "message": sentence}`` with a 4xx status.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for
from werkzeug.exceptions import Unauthorized

from pipeline import review
from pipeline.errors import InvalidNotes, InvalidUpload
from pipeline.models import Episode, EpisodeStatus, Role
from pipeline.notes import MAX_NOTES_BYTES, decode_notes, meta_from_fields
from pipeline.workflow import transition

from .. import dispatcher
from ..auth import bearer_user, csrf
from ..db import ctx, db, get_or_404
from ..forms import _TAG
from ..security import enforce
from ..status import episode_status
from ..uploads import ingest_notes, ingest_path

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)
FIELDS = ("title", "event", "speakers", "date", "tags")


class TokenRequired(Unauthorized):
    description = "Send your API token as 'Authorization: Bearer cx_...' (make one on your account page)."


@bp.after_request
def challenge(response):
    """Tell clients how to authenticate (the JSON error page drops exception headers)."""
    if response.status_code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="clinex"'
    return response


def token_required(view):
    """Summarizer (or higher) tokens only: 401 without a valid token, 403 for listeners."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        user = bearer_user()
        if user is None:
            raise TokenRequired()
        if not user.has_role(Role.summarizer):
            abort(403, "API uploads are for summarizers; ask an editor for the role.")
        g.api_user = user
        return view(*args, **kwargs)

    wrapper.required_role = Role.summarizer
    return wrapper


def _own(episode_id: int) -> Episode:
    episode = get_or_404(Episode, episode_id)
    if episode.created_by_id != g.api_user.id and not g.api_user.has_role(Role.editor):
        abort(404, "No such episode.")
    return episode


def _fields() -> dict:
    values = {}
    for name in FIELDS:
        value = request.form.get(name, "")
        if len(value) > 2000 or _TAG.search(value):
            raise InvalidUpload(f"The field '{name}' must be plain text of at most 2000 characters.")
        values[name] = value
    return values


def _notes() -> str | None:
    part = request.files.get("notes")
    raw = part.stream.read(MAX_NOTES_BYTES + 1) if part else request.form.get("notes", "").encode()
    if len(raw) > MAX_NOTES_BYTES:
        raise InvalidNotes(f"The notes may be at most {MAX_NOTES_BYTES // 1024} KB.")
    return decode_notes(raw) or None


@bp.post("/episodes")
@token_required
def create():
    """multipart/form-data: audio (file, required unless notes_only=true), notes (file or text),
    title, event, speakers, date, tags. ``notes_only=true`` makes an episode of the notes alone,
    voiced. Answers 202 with the episode id and where to poll."""
    enforce("upload", str(g.api_user.id))
    audio = request.files.get("audio")
    notes_only = request.form.get("notes_only", "").strip().lower() in ("1", "true", "yes", "on")
    if notes_only and audio is not None and audio.filename:
        raise InvalidUpload("Send either a recording or notes_only=true, not both.")
    if not notes_only and (audio is None or not audio.filename):
        raise InvalidUpload("Send the recording as the multipart file field 'audio' "
                            "(or notes_only=true with the notes for a summary without a recording).")
    f = _fields()
    meta = meta_from_fields(f["title"], f["event"], f["speakers"], f["date"], f["tags"])
    result = (ingest_notes(meta, _notes(), g.api_user) if notes_only
              else ingest_path(audio.stream.name, audio.filename, meta, _notes(), g.api_user))
    status_url = url_for("api.show", episode_id=result.episode_id, _external=True)
    body = {"id": result.episode_id, "slug": result.slug, "status": "processing", "status_url": status_url}
    return jsonify(body), 202, {"Location": status_url}


@bp.get("/episodes/<int:episode_id>")
@token_required
def show(episode_id: int):
    return jsonify(episode_status(_own(episode_id)))


@bp.post("/episodes/<int:episode_id>/submit")
@token_required
def submit(episode_id: int):
    """Send an episode back to review after the editor asked for changes (409 from other states)."""
    episode = _own(episode_id)
    transition(db(), episode, EpisodeStatus.in_review, actor=g.api_user, reason="resubmitted through the API")
    db().commit()
    return jsonify(episode_status(episode))


@bp.post("/episodes/<int:episode_id>/spoken-extras")
@token_required
def spoken_extras(episode_id: int):
    """Editors: JSON ``{"intro": bool, "summary": bool}`` chooses what the voice adds to a
    recording in review and makes the listening file again; answers 202 with where to poll."""
    if not g.api_user.has_role(Role.editor):
        abort(403, "Spoken extras are an editor's choice; ask an editor.")
    episode = get_or_404(Episode, episode_id)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or any(not isinstance(body.get(k, False), bool) for k in ("intro", "summary")):
        raise InvalidUpload('Send JSON like {"intro": true, "summary": false}.')
    db().rollback()
    jobs = review.choose_extras(ctx(), episode.id, g.api_user.id, intro=body.get("intro", False),
                                summary=body.get("summary", False))
    dispatcher(current_app).dispatch(jobs)
    status_url = url_for("api.show", episode_id=episode_id, _external=True)
    return jsonify({"id": episode_id, "status": "processing", "status_url": status_url}), 202, {"Location": status_url}
