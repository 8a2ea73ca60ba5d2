"""The summarizer's studio: upload, notes and details, live progress, transcript fixes, submit."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from pipeline import review
from pipeline.errors import ClinexError, InvalidUpload
from pipeline.ingest import revoice_notes
from pipeline.models import Episode, EpisodeStatus, Role, TranscriptSegment, User
from pipeline.notes import meta_from_fields
from pipeline.workflow import transition

from .. import dispatcher
from ..audio_notes import is_notes_only
from ..auth import can_manage, role_required
from ..calls_studio import call_choices, checked_call_session, link_call_session
from ..corrections import apply_correction, glossary_suggestions, swapped_words
from ..db import ctx, db, get_or_404
from ..episode_edit import apply_fields, fields_of
from ..forms import ActionForm, EpisodeFieldsForm, SegmentForm, UploadForm
from ..rendering import render_markdown
from ..security import enforce
from ..status import episode_status
from .media import serve_range
from ..uploads import append_chunk, find_chunked, ingest_chunked, ingest_notes, ingest_path, start_chunked

bp = Blueprint("studio", __name__, url_prefix="/studio")
EDITABLE = {EpisodeStatus.draft.value, EpisodeStatus.processing.value, EpisodeStatus.in_review.value,
            EpisodeStatus.changes_requested.value, EpisodeStatus.failed.value}


def managed_or_404(episode_id: int) -> Episode:
    """The episode if the signed-in user may work on it; 404 otherwise (ids are not confirmed)."""
    episode = get_or_404(Episode, episode_id)
    if not can_manage(episode):
        abort(404)
    return episode


def _me() -> User:
    return db().get(User, current_user.id)


@bp.get("/")
@role_required(Role.summarizer)
def index():
    query = select(Episode).order_by(Episode.created_at.desc()).limit(200)
    if not current_user.has_role(Role.editor):
        query = query.where(Episode.created_by_id == current_user.id)
    return render_template("studio_index.html", episodes=db().scalars(query).all())


@bp.route("/upload", methods=["GET", "POST"])
@role_required(Role.summarizer)
def upload():
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("studio_upload.html", form=form, **call_choices(_me())), 400 if form.errors else 200
    call = checked_call_session(form, _me())  # before anything is stored
    if form.call_session.errors:
        return render_template("studio_upload.html", form=form, **call_choices(_me())), 422
    try:
        result = _ingest_form(form)
    except InvalidUpload as exc:
        db().rollback()
        _field_for(form, exc, form.audio).errors = [str(exc)]
        return render_template("studio_upload.html", form=form, **call_choices(_me())), 422
    link_call_session(call, result.episode_id, _me())
    flash("Uploaded. Processing has started; this page follows it.")
    return redirect(url_for("studio.episode", episode_id=result.episode_id))


def _field_for(form, exc: Exception, default):
    """The form field an error is about (notes errors beside the notes), else ``default``."""
    name = getattr(exc, "field", None)
    return form[name] if name and name in form else default


@bp.route("/notes", methods=["GET", "POST"])
@role_required(Role.summarizer)
def notes_only():
    """A summary with no recording (an article, a webinar, a session nobody recorded): voiced."""
    form = EpisodeFieldsForm()
    if not form.validate_on_submit():
        return render_template("studio_notes.html", form=form), 400 if form.errors else 200
    try:
        enforce("upload", str(current_user.id))
        meta = meta_from_fields(form.title.data, form.event.data, form.speakers.data, form.recorded_on.data,
                                form.tags.data)
        result = ingest_notes(meta, form.notes.data, _me())
    except InvalidUpload as exc:
        db().rollback()
        _field_for(form, exc, form.notes).errors = [str(exc)]
        return render_template("studio_notes.html", form=form), 422
    flash("Submitted. The summary is being voiced; this page follows it.")
    return redirect(url_for("studio.episode", episode_id=result.episode_id))


def _ingest_form(form: UploadForm):
    """Ingest from the chunked upload named in the form, else from the posted file."""
    enforce("upload", str(current_user.id))
    meta = meta_from_fields(form.title.data, form.event.data, form.speakers.data, form.recorded_on.data,
                            form.tags.data)
    if form.upload_id.data:
        upload = find_chunked(current_user.id, form.upload_id.data)
        if upload is None:
            raise InvalidUpload("That upload is gone (uploads are kept for a day); choose the file again.")
        return ingest_chunked(upload, meta, form.notes.data, _me())
    file = request.files.get("audio")
    if file is None or not file.filename:
        raise InvalidUpload("Choose a recording to upload.")
    return ingest_path(file.stream.name, file.filename, meta, form.notes.data, _me())


@bp.post("/uploads")
@role_required(Role.summarizer)
def start_upload():
    data = request.get_json(silent=True) or {}
    try:
        upload = start_chunked(current_user.id, str(data.get("filename") or ""), data.get("size"))
    except InvalidUpload as exc:
        return jsonify(error="InvalidUpload", message=str(exc)), 422
    return jsonify(upload.as_dict()), 201


@bp.route("/uploads/<upload_id>", methods=["GET", "POST"])
@role_required(Role.summarizer)
def upload_chunk(upload_id: str):
    upload = find_chunked(current_user.id, upload_id)
    if upload is None:
        return jsonify(error="NotFound", message="No such upload; start again."), 404
    if request.method == "GET":
        return jsonify(upload.as_dict())
    offset = request.args.get("offset", "")
    if not offset.isdigit():
        return jsonify(error="InvalidUpload", message="Say where the slice goes: ?offset=<bytes already sent>."), 422
    try:
        received = append_chunk(upload, int(offset), request.stream, request.content_length or 0)
    except InvalidUpload as exc:
        return jsonify(error="InvalidUpload", message=str(exc), received=upload.received), 409
    return jsonify({**upload.as_dict(), "received": received})


@bp.post("/preview")
@role_required(Role.summarizer)
def preview():
    """Rendered notes, for the editor's preview button (a fragment for JavaScript)."""
    form = EpisodeFieldsForm()
    if not form.validate_on_submit():
        return jsonify(error="Invalid", message=" ".join(e for es in form.errors.values() for e in es)), 400
    return jsonify(html=str(render_markdown(form.notes.data)))


@bp.get("/<int:episode_id>")
@role_required(Role.summarizer)
def episode(episode_id: int):
    ep = managed_or_404(episode_id)
    return render_template("studio_episode.html", episode=ep, status=episode_status(ep), form=ActionForm())


@bp.get("/<int:episode_id>/status.json")
@role_required(Role.summarizer)
def status(episode_id: int):
    return jsonify(episode_status(managed_or_404(episode_id)))


@bp.get("/<int:episode_id>/audio")
@role_required(Role.summarizer)
def audio(episode_id: int):
    """The prepared (not yet published) listening file, for the summarizer and editors;
    ``?plain=1``: the one without the voice's introduction and summary."""
    ep = managed_or_404(episode_id)
    kind = "plain" if request.args.get("plain") else "audio"
    media = ep.media_of(kind) or abort(404, "The audio is still being prepared." if kind == "audio"
                                         else "This episode has no recording without spoken extras.")
    url = ctx().storage.url(media.storage_key)
    if url:
        return redirect(url, code=302)
    response = serve_range(media.storage_key, media.size, media.content_type, etag=f'"{media.sha256[:32]}"')
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers.pop("Access-Control-Allow-Origin", None)
    return response


@bp.route("/<int:episode_id>/edit", methods=["GET", "POST"])
@role_required(Role.summarizer)
def edit(episode_id: int):
    ep = managed_or_404(episode_id)
    if ep.status not in EDITABLE:
        abort(409, "Published episodes cannot be edited; ask an editor to unpublish it first.")
    form = EpisodeFieldsForm(data=None if request.method == "POST" else fields_of(ep))
    preview_html = None
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview_html = render_markdown(form.notes.data)
        else:
            try:
                spoken_changed = apply_fields(db(), ep, form, _me())
            except ClinexError as exc:
                db().rollback()
                _field_for(form, exc, form.recorded_on).errors = [str(exc)]
            else:
                db().commit()
                flash("Saved.")
                if spoken_changed:
                    _revoice(ep)
                return redirect(url_for("studio.episode", episode_id=ep.id))
    return render_template("studio_edit.html", form=form, episode=ep, preview=preview_html), \
        400 if form.errors else 200


def _revoice(ep: Episode) -> None:
    """A notes-only episode's audio is its notes: changed notes (or source) are voiced again (in
    review or sent back)."""
    if not is_notes_only(ep) or ep.status not in (EpisodeStatus.in_review.value, EpisodeStatus.changes_requested.value):
        return
    try:
        job_ids = revoice_notes(ctx(), ep.id, current_user.id)
    except ClinexError as exc:
        flash(f"Saved, but the new notes were not voiced: {exc}")
        return
    dispatcher(current_app).dispatch(job_ids)
    flash("The changed summary is being voiced again.")


@bp.get("/<int:episode_id>/transcript")
@role_required(Role.summarizer)
def transcript(episode_id: int):
    ep = managed_or_404(episode_id)
    # Editors keep the glossary: their transcript editor offers each word fix as a new term.
    offers = glossary_suggestions(db(), ep) if current_user.has_role(Role.editor) else []
    return render_template("studio_transcript.html", episode=ep, transcript=ep.transcript, suggestions=offers,
                           action_form=ActionForm())


@bp.route("/<int:episode_id>/segments/<int:segment_id>", methods=["GET", "POST"])
@role_required(Role.summarizer)
def segment(episode_id: int, segment_id: int):
    ep = managed_or_404(episode_id)
    seg = get_or_404(TranscriptSegment, segment_id)
    if ep.transcript is None or seg.transcript_id != ep.transcript.id:
        abort(404)
    form = SegmentForm(data=None if request.method == "POST" else {"text": seg.text})
    if form.validate_on_submit():
        before = seg.text
        changed = apply_correction(ctx(), db(), ep, seg, form.text.data, _me())
        db().commit()
        flash("Correction saved." if changed else "No change.")
        if changed and current_user.has_role(Role.editor) and swapped_words(before, seg.text):
            flash("Add the corrected words to the glossary below, so the next episode that says them gets them right.")
        return redirect(url_for("studio.transcript", episode_id=ep.id) + f"#s{seg.id}")
    return render_template("studio_segment.html", form=form, episode=ep, segment=seg), 400 if form.errors else 200


def _action(episode_id: int) -> Episode:
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    return managed_or_404(episode_id)


@bp.post("/<int:episode_id>/submit")
@role_required(Role.summarizer)
def submit(episode_id: int):
    ep = _action(episode_id)
    transition(db(), ep, EpisodeStatus.in_review, actor=_me(), reason="resubmitted by the summarizer")
    db().commit()
    flash("Sent to the editors for review.")
    return redirect(url_for("studio.episode", episode_id=ep.id))


@bp.post("/<int:episode_id>/retry")
@role_required(Role.summarizer)
def retry(episode_id: int):
    _action(episode_id)
    db().rollback()
    dispatcher(current_app).dispatch(review.retry(ctx(), episode_id, current_user.id))
    flash("Processing again.")
    return redirect(url_for("studio.episode", episode_id=episode_id))


__all__ = ["bp", "managed_or_404"]
