"""Moving everything timed in an episode at once: when a spoken introduction goes before a
recording, every moment of the recording comes later in the listening file.

What is timed: transcript segments and their words, chapters, "listen at" anchors, comment
timestamps, listeners' places, voices' first words and the soundbite. Two offsets record what
has been moved, so moving again is always relative to the recording's own timeline:
``AudioNotes.intro_seconds`` for the episode's rows, and ``Transcript.options["extras"]`` for
the transcript (a new transcript starts on the recording's timeline, whatever the episode's
rows say). ``back_to_recording`` undoes the spoken extras (``pipeline.extras`` makes them): the
voice's segments and chapters go, times move back, the listening file without them returns.
"""

from __future__ import annotations

from sqlalchemy import case, delete, update
from sqlalchemy.orm import Session

from .models import Anchor, AudioNotes, ChapterSource, Comment, Episode, Listen, MediaFile, MediaKind, Transcript

EXTRAS = "extras"  # the key in Transcript.options: {"shift": seconds, "voice_segments": [index, ...]}


def episode_shift(episode: Episode) -> float:
    """How far the episode's rows are moved now (the spoken introduction's length)."""
    notes = episode.audio_notes
    return float(notes.intro_seconds or 0.0) if notes is not None else 0.0


def transcript_shift(transcript: Transcript | None) -> float:
    return float(((transcript.options or {}).get(EXTRAS) or {}).get("shift", 0.0)) if transcript else 0.0


def shift_episode_rows(session: Session, episode: Episode, by: float) -> None:
    """Move every timed row of the episode but its transcript by ``by`` seconds (not below 0)."""
    if not by:
        return
    for chapter in episode.chapters:
        if chapter.source != ChapterSource.voice.value:
            chapter.start = _moved(chapter.start, by)
    for model, column in ((Anchor, Anchor.start), (Comment, Comment.timestamp), (Listen, Listen.position_seconds)):
        session.execute(update(model).where(model.episode_id == episode.id, column.is_not(None))
                        .values({column: _greatest(column + by)}).execution_options(synchronize_session="fetch"))
    if episode.soundbite_start is not None:
        episode.soundbite_start = _moved(episode.soundbite_start, by)
    notes = episode.audio_notes
    if notes is not None:
        notes.intro_seconds = max(0.0, (notes.intro_seconds or 0.0) + by)


def shift_transcript(transcript: Transcript, by: float) -> None:
    """Move the transcript's segments, their words and its voices by ``by`` seconds."""
    if not by:
        return
    for seg in transcript.segments:
        seg.start, seg.end = _moved(seg.start, by), _moved(seg.end, by)
        seg.words = [dict(w, start=_moved(w["start"], by), end=_moved(w["end"], by)) for w in (seg.words or [])]
    for voice in transcript.voices:
        voice.first_start = _moved(voice.first_start, by)
    extras = dict((transcript.options or {}).get(EXTRAS) or {})
    extras["shift"] = max(0.0, float(extras.get("shift", 0.0)) + by)
    transcript.options = {**(transcript.options or {}), EXTRAS: extras}


def back_to_recording(session: Session, episode: Episode) -> None:
    """Undo the spoken extras: the voice's segments and chapters removed, every time back on the
    recording's own timeline, and the listening file without extras the episode's audio again.
    Idempotent; on an episode without extras it changes nothing. The caller rewrites the
    transcript files (``pipeline.steps.write_transcript_files``) when it keeps this state."""
    transcript = episode.transcript
    if transcript is not None:
        voice_segments = set(((transcript.options or {}).get(EXTRAS) or {}).get("voice_segments", ()))
        for seg in [s for s in transcript.segments if s.index in voice_segments]:
            transcript.segments.remove(seg)
        session.flush()
        shift_transcript(transcript, -transcript_shift(transcript))
        transcript.options = {k: v for k, v in (transcript.options or {}).items() if k != EXTRAS}
    for chapter in [c for c in episode.chapters if c.source == ChapterSource.voice.value]:
        episode.chapters.remove(chapter)
    shift_episode_rows(session, episode, -episode_shift(episode))
    notes = episode.audio_notes
    if notes is not None:
        notes.intro_seconds, notes.summary_start = 0.0, None
    _restore_plain_audio(session, episode)
    session.flush()


def _restore_plain_audio(session: Session, episode: Episode) -> None:
    """The listening file made with the extras gives way to the one without (kept as ``plain``)."""
    plain = episode.media_of(MediaKind.plain)
    if plain is None:
        return
    session.execute(delete(MediaFile).where(MediaFile.episode_id == episode.id, MediaFile.kind == MediaKind.audio.value))
    plain.kind = MediaKind.audio.value
    session.flush()
    session.expire(episode, ["media"])
    episode.duration = plain.duration


def audio_notes_row(session: Session, episode: Episode) -> AudioNotes:
    """The episode's AudioNotes row, made when it has none (a recording without a cited source)."""
    if episode.audio_notes is None:
        episode.audio_notes = AudioNotes(episode_id=episode.id, notes_only=False, source_authors=[])
        session.flush()
    return episode.audio_notes


def _moved(t: float, by: float) -> float:
    return max(0.0, round(t + by, 3))


def _greatest(expression):
    """``max(expression, 0)`` in SQL that SQLite and PostgreSQL both run."""
    return case((expression < 0, 0.0), else_=expression)
