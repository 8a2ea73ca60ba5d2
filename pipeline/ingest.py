"""Turn an uploaded recording (and optional notes) into a stored original, rows and queued jobs.

Nothing is half-stored: the upload is validated before anything is written, and if any later
step fails the stored original is deleted and the transaction rolled back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audio
from .catalog import free_slug, get_or_create_event, get_or_create_person, get_or_create_tag
from .errors import InvalidUpload, NotFound, StorageError, WorkflowError
from .jobs import JobContext, queue_first_steps
from .keys import original_key
from .models import (AudioNotes, Episode, EpisodePerson, EpisodeStatus, EpisodeTag, MediaFile, MediaKind, Summary,
                     TagSource, User)
from .notes import EpisodeMeta, Notes, parse_notes
from .settings import Settings
from .storage import Storage, file_sha256, safe_filename
from .voicing import episode_lexicon, episode_script
from .voice import script_for
from .voice.speech_text import Credits
from .workflow import transition

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    episode_id: int
    slug: str
    job_ids: list[int]


def ingest_upload(ctx: JobContext, audio_path: str | Path, *, filename: str, meta: EpisodeMeta,
                  notes_text: str | bytes | None = None, author_id: int | None = None) -> IngestResult:
    """The one way a recording comes in (studio form, resumable upload, JSON API, ``clinex
    ingest``): parse the notes, then store and register it as ``ingest_recording`` does. The
    caller dispatches ``job_ids`` (the jobs are committed already). Raises InvalidUpload (bad
    notes, not audio, a duplicate...) with nothing stored."""
    notes = parse_notes(notes_text) if notes_text is not None and notes_text.strip() else None
    with ctx.session() as session:
        author = session.get(User, author_id) if author_id is not None else None
        return ingest_recording(session, ctx.storage, ctx.settings, audio_path, filename=filename, meta=meta,
                                notes=notes, author=author)


def ingest_recording(session: Session, storage: Storage, settings: Settings, audio_path: str | Path, *,
                     filename: str, meta: EpisodeMeta, notes: Notes | None = None,
                     author: User | None = None) -> IngestResult:
    """Validate, store and register a recording; commits and returns the jobs to dispatch.

    Raises InvalidUpload (not audio, too long, silent, a duplicate...) before anything is stored.
    """
    meta = meta.merged_over(notes.meta) if notes else meta
    info = audio.validate_upload(audio_path, filename=filename, max_bytes=settings.MAX_UPLOAD_BYTES,
                                 max_duration=settings.MAX_DURATION_SECONDS)
    sha = file_sha256(audio_path)
    _refuse_duplicate(session, sha)
    title = meta.title or _title_from(notes, filename)
    episode = _new_episode(session, meta, title, author, recorded_on=meta.recorded_on, duration=info.duration)
    key = original_key(episode.uuid, filename)
    try:
        _attach_metadata(session, episode, meta, notes, author)
        stored = storage.put_file(key, audio_path, content_type=_content_type(info))
        session.add(MediaFile(episode_id=episode.id, kind=MediaKind.original.value, storage_key=key,
                              filename=safe_filename(filename), content_type=_content_type(info),
                              size=stored.size, sha256=stored.sha256, duration=info.duration,
                              codec=info.codec, container=info.container, sample_rate=info.sample_rate,
                              channels=info.channels, bitrate=info.bitrate))
        transition(session, episode, EpisodeStatus.processing, actor=author, reason="uploaded")
        jobs = queue_first_steps(session, episode)
        session.commit()
    except BaseException:
        session.rollback()
        _delete_after_failure(storage, key)
        raise
    return IngestResult(episode.id, episode.slug, [j.id for j in jobs])


def ingest_notes_only(ctx: JobContext, *, meta: EpisodeMeta, notes_text: str | bytes | None,
                      author_id: int | None = None) -> IngestResult:
    """Summary notes with no recording (an article, a webinar we may not publish, a session
    nobody recorded): the notes become an episode whose audio is the summary spoken
    (``flow.NOTES_ONLY``). The caller dispatches ``job_ids``.

    Raises InvalidUpload, with nothing stored, for missing or bad notes, notes with nothing a
    voice can say or too long to voice, and notes already submitted as another episode.
    """
    if notes_text is None or not notes_text.strip():
        raise InvalidUpload("A summary without a recording needs its notes: write or attach the summary notes.")
    notes = parse_notes(notes_text)
    meta = meta.merged_over(notes.meta)
    with ctx.session() as session:
        author = session.get(User, author_id) if author_id is not None else None
        title = meta.title or _heading_title(notes)
        if not title:
            raise InvalidUpload("Give the summary a title (a title field, a 'title:' line or a '# heading').")
        credits = Credits(ctx.settings.SHOW_TITLE, title, author.display_name if author else None, meta.source)
        script_for(notes.markdown, credits, episode_lexicon(session))  # refuses what cannot be voiced
        _refuse_duplicate_notes(session, notes.markdown)
        episode = _new_episode(session, meta, title, author,
                               recorded_on=meta.recorded_on or (meta.source.published_on if meta.source else None))
        episode.audio_notes = _audio_notes(meta, notes_only=True)
        _attach_metadata(session, episode, meta, notes, author)
        transition(session, episode, EpisodeStatus.processing, actor=author, reason="summary notes submitted")
        jobs = queue_first_steps(session, episode)
        session.commit()
        return IngestResult(episode.id, episode.slug, [j.id for j in jobs])


def revoice_notes(ctx: JobContext, episode_id: int, actor_id: int | None = None) -> list[int]:
    """Voice a notes-only episode again after its summarizer changed the notes; returns the job
    IDs to dispatch (committed). Raises NotFound, WorkflowError unless it is in review or sent
    back, InvalidUpload (nothing changed) when the new notes cannot be voiced."""
    with ctx.session() as session:
        episode = session.get(Episode, episode_id)
        if episode is None or episode.audio_notes is None or not episode.audio_notes.notes_only:
            raise NotFound(f"No notes-only episode {episode_id}.")
        if episode.status not in (EpisodeStatus.in_review.value, EpisodeStatus.changes_requested.value):
            raise WorkflowError("The summary can be voiced again only while it is in review or sent back.")
        episode_script(ctx, session, episode)  # refuses notes that cannot be voiced, before anything changes
        actor = session.get(User, actor_id) if actor_id is not None else None
        transition(session, episode, EpisodeStatus.processing, actor=actor, reason="notes changed: voiced again")
        return [job.id for job in queue_first_steps(session, episode)]


def _audio_notes(meta: EpisodeMeta, *, notes_only: bool) -> AudioNotes:
    return cite_source(AudioNotes(notes_only=notes_only), meta.source)


def cite_source(row: AudioNotes, source) -> AudioNotes:
    """Write ``source`` (a ``notes.Source`` or None) into the episode's AudioNotes row."""
    row.source_title = source.title if source else None
    row.source_kind = source.kind if source else None
    row.source_url = source.url if source else None
    row.source_authors = list(source.authors) if source else []
    row.source_date = source.published_on if source else None
    return row


def _refuse_duplicate_notes(session: Session, markdown: str) -> None:
    existing = session.scalars(select(Summary).join(AudioNotes, AudioNotes.episode_id == Summary.episode_id)
                               .where(AudioNotes.notes_only.is_(True), Summary.markdown == markdown)).first()
    if existing:
        raise InvalidUpload(f"These notes were already submitted as episode {existing.episode_id}.")


def _delete_after_failure(storage: Storage, key: str) -> None:
    """Remove what a failed ingest may have stored. When the store is down too, the ingest's own
    error is the one to report (the caller shows one sentence, not this); a copy left behind is
    an orphan that ``clinex doctor --fix`` removes."""
    try:
        storage.delete(key)
    except StorageError as exc:
        log.info("Could not remove %s after a failed upload (clinex doctor --fix will): %s", key, exc)


def _refuse_duplicate(session: Session, sha: str) -> None:
    existing = session.scalars(select(MediaFile).where(MediaFile.kind == MediaKind.original.value, MediaFile.sha256 == sha)).first()
    if existing:
        raise InvalidUpload(f"This recording was already uploaded as episode {existing.episode_id} "
                            f"('{existing.episode.title}').")


def _new_episode(session: Session, meta: EpisodeMeta, title: str, author: User | None, **columns) -> Episode:
    """A draft episode with the fields every way in takes from the metadata (flushed: it has an id)."""
    episode = Episode(title=title, slug=free_slug(session, Episode, title), status=EpisodeStatus.draft.value,
                      explicit=meta.explicit, season=meta.season, number=meta.number,
                      episode_type=meta.episode_type, members_only=meta.members_only,
                      created_by_id=author.id if author else None, **columns)
    session.add(episode)
    session.flush()
    return episode


def _heading_title(notes: Notes | None) -> str | None:
    """The notes' leading "# heading", as a title."""
    if notes and notes.sections and notes.sections[0].level == 1:
        return notes.sections[0].title[:300]
    return None


def _title_from(notes: Notes | None, filename: str) -> str:
    if heading := _heading_title(notes):
        return heading
    stem = Path(safe_filename(filename)).stem.replace("-", " ").replace("_", " ").strip()
    return stem[:300] or "Untitled recording"


def _content_type(info: audio.AudioInfo) -> str:
    return {"mp3": "audio/mpeg", "wav": "audio/wav", "flac": "audio/flac", "ogg": "audio/ogg",
            "mp4": "audio/mp4", "mov": "audio/mp4", "m4a": "audio/mp4", "webm": "audio/webm",
            "matroska": "audio/webm"}.get(info.container.split(",")[0], "application/octet-stream")


def _attach_metadata(session: Session, episode: Episode, meta: EpisodeMeta, notes: Notes | None,
                     author: User | None) -> None:
    if meta.event:
        episode.event = get_or_create_event(session, meta.event)
    # A name given twice ("Melasma, melasma" are one tag) is credited once; its first role wins.
    people = {}
    for speaker in meta.speakers:
        person = get_or_create_person(session, speaker.name)
        people.setdefault(person.id, (person, speaker.role))
    for position, (person, role) in enumerate(people.values()):
        episode.people.append(EpisodePerson(person=person, role=role, position=position))
    tags = {tag.id: tag for tag in (get_or_create_tag(session, name) for name in meta.tags)}
    for tag in tags.values():
        episode.tags.append(EpisodeTag(tag=tag, source=TagSource.summarizer.value, accepted=True))
    if meta.source and episode.audio_notes is None:
        episode.audio_notes = _audio_notes(meta, notes_only=False)
    if notes and notes.markdown.strip():
        session.add(Summary(episode_id=episode.id, version=1, markdown=notes.markdown,
                            author_id=author.id if author else None))
