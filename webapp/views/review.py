"""The editor's review: queue, one page per episode (listen, read, tags, chapters, glossary
corrections, who may hear it, downloads, history), approve (publish), send back, unpublish, retry."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from pipeline import review
from pipeline.downloads import download_counts
from pipeline.extras import chosen_extras, describe_extras
from pipeline.errors import ClinexError
from pipeline.models import AuditEvent, Chapter, Episode, EpisodeStatus, Role
from pipeline.publish import bump_site_version
from pipeline.text import format_timestamp, parse_timestamp

from .. import dispatcher
from ..auth import role_required
from ..community import deliver_soon
from ..corrections import add_mishearing, glossary_suggestions
from ..db import ctx, db, get_or_404
from ..forms import ActionForm, ChaptersForm, ReviewForm
from ..status import episode_status

bp = Blueprint("review", __name__, url_prefix="/review")
LISTED = (EpisodeStatus.in_review, EpisodeStatus.changes_requested, EpisodeStatus.processing,
          EpisodeStatus.failed, EpisodeStatus.published, EpisodeStatus.unpublished)


@bp.get("/")
@role_required(Role.editor)
def queue():
    """Episodes in review oldest first; the other states below for finding things."""
    groups = {}
    for status in LISTED:
        order = Episode.updated_at if status is EpisodeStatus.in_review else Episode.updated_at.desc()
        groups[status.value] = db().scalars(select(Episode).where(Episode.status == status.value)
                                            .order_by(order).limit(100)).all()
    return render_template("review_queue.html", episodes=groups["in_review"], groups=groups)


@bp.get("/<int:episode_id>")
@role_required(Role.editor)
def episode(episode_id: int):
    ep = get_or_404(Episode, episode_id)
    return _page(ep, ReviewForm(), ChaptersForm(data={"chapters": _chapter_lines(ep)}))


def _page(ep: Episode, form, chapters_form, status: int = 200):
    audit = db().scalars(select(AuditEvent).where(AuditEvent.episode_id == ep.id).order_by(AuditEvent.id)).all()
    return render_template("review_episode.html", episode=ep, form=form, audit=audit, transcript=ep.transcript,
                           chapters_form=chapters_form, action_form=ActionForm(), status=episode_status(ep),
                           suggestions=glossary_suggestions(db(), ep), spoken_extras=_extras_state(ep),
                           downloads=download_counts(db(), episode_id=ep.id)[0]), status


def _extras_state(ep: Episode) -> dict:
    """What the voice adds to the recording: chosen (the checkboxes) and made (the listening file)."""
    intro, summary = chosen_extras(current_app.config["CLINEX"], ep)
    notes = ep.audio_notes
    made = describe_extras(bool(notes and notes.intro_seconds), bool(notes and notes.summary_start is not None))
    return {"intro": intro, "summary": summary, "made": made,
            "start": format_timestamp(notes.intro_seconds if notes else 0.0)}


def _chapter_lines(ep: Episode) -> str:
    return "\n".join(f"{format_timestamp(c.start)} {c.title}" for c in ep.chapters)


def _reviewed(episode_id: int):
    """The episode and the validated note form; a bad form re-renders the page with reasons."""
    form = ReviewForm()
    ep = get_or_404(Episode, episode_id)
    if not form.validate_on_submit():
        abort(make_response(_page(ep, form, ChaptersForm(data={"chapters": _chapter_lines(ep)}), 400)))
    return ep, form


def _decide(episode_id: int, decision, said: str, then: str | None = None):
    """Carry out an editor's decision (``pipeline.review``) with the form's note; a bad form
    re-renders the page, a refused decision answers with its reason (``webapp.errors``)."""
    ep, form = _reviewed(episode_id)
    title = ep.title
    db().rollback()  # the decision works in its own session; this one must not hold the row meanwhile
    decision(ctx(), episode_id, current_user.id, form.note.data or None)
    deliver_soon()  # the mail the decision's notifications owe
    flash(said.format(title=title))
    return redirect(then or url_for("review.queue"))


@bp.post("/<int:episode_id>/approve")
@role_required(Role.editor)
def approve(episode_id: int):
    """Publish as a ``publish`` job: if this web process dies part way, a worker finishes it."""
    return _decide(episode_id, review.approve, "Published “{title}”.")


@bp.post("/<int:episode_id>/request-changes")
@role_required(Role.editor)
def send_back(episode_id: int):
    return _decide(episode_id, review.send_back, "Sent “{title}” back to the summarizer.")


@bp.post("/<int:episode_id>/unpublish")
@role_required(Role.editor)
def unpublish(episode_id: int):
    return _decide(episode_id, review.unpublish, "Unpublished “{title}”.",
                   then=url_for("review.episode", episode_id=episode_id))


@bp.post("/<int:episode_id>/retry")
@role_required(Role.editor)
def retry(episode_id: int):
    return _decide(episode_id, _retry, "Processing again.", then=url_for("review.episode", episode_id=episode_id))


def _retry(job_ctx, episode_id: int, actor_id: int, _note) -> None:
    dispatcher(current_app).dispatch(review.retry(job_ctx, episode_id, actor_id))


@bp.post("/<int:episode_id>/spoken-extras")
@role_required(Role.editor)
def spoken_extras(episode_id: int):
    """The voice's introduction and/or summary around the recording, made anew (the episode is
    processed and comes back to review)."""
    ep = get_or_404(Episode, episode_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and choose again.")
    db().rollback()
    jobs = review.choose_extras(ctx(), ep.id, current_user.id, intro=bool(request.form.get("intro")),
                                summary=bool(request.form.get("summary")))
    dispatcher(current_app).dispatch(jobs)
    flash("Making the spoken parts; the episode comes back to review when they are ready.")
    return redirect(url_for("review.episode", episode_id=episode_id))


@bp.post("/<int:episode_id>/tags")
@role_required(Role.editor)
def tags(episode_id: int):
    """Keep the checked tags (accepting suggestions, restoring dropped ones), drop the rest.
    Dropped tags stay on record so that analysing the episode again does not suggest them anew."""
    ep = get_or_404(Episode, episode_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    keep = {int(v) for v in request.form.getlist("keep") if v.isdigit()}
    for et in ep.tags:
        et.accepted = et.tag_id in keep
        et.dropped = not et.accepted
    _changed(ep)
    flash("Tags saved.")
    return redirect(url_for("review.episode", episode_id=ep.id) + "#tags")


@bp.post("/<int:episode_id>/chapters")
@role_required(Role.editor)
def chapters(episode_id: int):
    ep = get_or_404(Episode, episode_id)
    form = ChaptersForm()
    parsed = _parse_chapters(form, ep) if form.validate_on_submit() else None
    if parsed is None:
        return _page(ep, ReviewForm(formdata=None), form, 400)
    for old in list(ep.chapters):
        ep.chapters.remove(old)
    for start, title in parsed:
        ep.chapters.append(Chapter(start=start, title=title, source="editor", confidence=1.0))
    _changed(ep)
    flash("Chapters saved.")
    return redirect(url_for("review.episode", episode_id=ep.id) + "#chapters")


def _parse_chapters(form, ep: Episode) -> list[tuple[float, str]] | None:
    """Lines '12:34 Title' sorted by time; None (with the reason on the form) when one is bad."""
    out = []
    for number, line in enumerate((form.chapters.data or "").splitlines(), start=1):
        if not line.strip():
            continue
        stamp, _, title = line.strip().partition(" ")
        try:
            start = parse_timestamp(stamp)
        except ValueError:
            form.chapters.errors = [f"Line {number}: start with a time like 12:34, then the title."]
            return None
        if not title.strip() or len(title) > 300 or (ep.duration and start > ep.duration):
            form.chapters.errors = [f"Line {number}: needs a title (up to 300 characters) within the episode."]
            return None
        out.append((start, title.strip()))
    return sorted(out)


@bp.post("/<int:episode_id>/access")
@role_required(Role.editor)
def access(episode_id: int):
    """Members only (signed-in members and private feeds) or everyone; feeds and pages follow at
    once, and the change is in the episode's history."""
    ep = get_or_404(Episode, episode_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    members_only = request.form.get("members_only") == "on"
    if members_only != ep.members_only:
        ep.members_only = members_only
        reason = "made members-only" if members_only else "opened to everyone"
        db().add(AuditEvent(episode_id=ep.id, actor_id=current_user.id, from_state=ep.status, to_state=ep.status,
                            reason=reason))
        _changed(ep)
    flash("Members only: only signed-in members and private feeds get it." if members_only
          else "Everyone can hear this episode.")
    return redirect(url_for("review.episode", episode_id=ep.id) + "#access")


def _changed(ep: Episode) -> None:
    if ep.status == EpisodeStatus.published.value:
        bump_site_version(db())  # feeds carry tags and chapters
    db().commit()


@bp.post("/<int:episode_id>/voices")
@role_required(Role.editor)
def voices(episode_id: int):
    """Name the voices diarization found (fields ``voice-<number>``); the transcript files follow."""
    get_or_404(Episode, episode_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    names = {}
    for key, value in request.form.items():
        if key.startswith("voice-"):
            if not key[6:].isdigit():
                raise ClinexError("Each voice's name field must be voice-<number>.")
            names[int(key[6:])] = value
    db().rollback()  # the decision works in its own session
    labels = review.name_voices(ctx(), episode_id, names)
    flash(f"Voices named: {', '.join(labels)}.")
    return redirect(url_for("review.episode", episode_id=episode_id) + "#voices")


@bp.post("/<int:episode_id>/glossary")
@role_required(Role.editor)
def glossary(episode_id: int):
    """Add a correction the transcriber made to the glossary as a known mishearing."""
    ep = get_or_404(Episode, episode_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    wanted = {(s.heard, s.corrected) for s in glossary_suggestions(db(), ep)}
    pair = (request.form.get("heard", ""), request.form.get("corrected", ""))
    if pair not in wanted:
        raise ClinexError("That correction is not among this episode's suggestions.")
    add_mishearing(db(), pair[1], pair[0], category="correction")
    db().commit()
    flash(f"“{pair[0]}” is now known as a mishearing of “{pair[1]}”.")
    if request.form.get("back") == "transcript":  # offered in the transcript editor
        return redirect(url_for("studio.transcript", episode_id=ep.id) + "#glossary")
    return redirect(url_for("review.episode", episode_id=ep.id) + "#glossary")


__all__ = ["bp"]
