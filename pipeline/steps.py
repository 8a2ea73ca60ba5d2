"""What the processing steps of the episode flow do (``pipeline.flow`` says when each runs).

Each step takes ``(ctx, session, episode, report)``; ``jobs.run_job`` calls it inside a session
and commits after it. Steps are idempotent: a re-run replaces what an earlier run made.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import pairing
from .audio import AudioOptions, normalize_and_encode
from .catalog import get_or_create_tag
from .errors import TranscriptionError
from .keys import audio_key, transcript_key
from .models import (Anchor, Chapter, ChapterSource, Episode, EpisodeTag, GlossaryTerm, MediaFile, MediaKind,
                     TranscriptSegment, TagSource, Transcript, TranscriptStatus, utcnow)
from .pairing.landing import land_anchors, timed_words
from .speakers import assign_speakers
from .storage import local_copy
from .timeline import back_to_recording
from .transcription import FORMATS, TranscriptionOptions, Word, load_glossary, transcribe
from .transcription.acoustic import AcousticCheck, check_for
from .transcription.engines import hotwords_prompt
from .transcription.finish import correct_transcript
from .transcription.vocabulary import EpisodeKnowledge, knowledge_vocabulary
from .transcription import Segment


def prepare_audio_step(ctx, session: Session, episode: Episode, report) -> None:
    """Decode the original (or a notes-only episode's voiced summary), bring it to the loudness
    target and encode the listening file."""
    original = episode.media_of(MediaKind.original) or episode.media_of(MediaKind.voiced)
    options = AudioOptions.from_settings(ctx.settings)
    with local_copy(ctx.storage, original.storage_key) as src, tempfile.TemporaryDirectory(prefix="clinex-") as out:
        prepared = normalize_and_encode(src, Path(out), options, progress=report)
        # A new listening file replaces the old one and any made with spoken extras (pipeline.extras).
        session.execute(delete(MediaFile).where(MediaFile.episode_id == episode.id, MediaFile.kind == MediaKind.plain.value))
        store_listening_file(ctx, session, episode, prepared, audio_key(episode.uuid, original.sha256, prepared.extension))
    original.loudness_lufs = prepared.input_loudness.integrated_lufs
    original.true_peak_dbtp = prepared.input_loudness.true_peak_dbtp


def store_listening_file(ctx, session: Session, episode: Episode, prepared, key: str) -> MediaFile:
    """Store a prepared listening file as the episode's ``audio`` (the only one: other audio rows go)."""
    stored = ctx.storage.put_file(key, prepared.path, content_type=prepared.content_type)
    session.execute(delete(MediaFile).where(MediaFile.episode_id == episode.id, MediaFile.kind == MediaKind.audio.value,
                                            MediaFile.storage_key != key))
    media = session.scalars(select(MediaFile).where(MediaFile.storage_key == key)).first() or MediaFile(
        episode_id=episode.id, kind=MediaKind.audio.value, storage_key=key)
    info = prepared.info
    media.kind = MediaKind.audio.value
    media.content_type, media.size, media.sha256 = prepared.content_type, stored.size, stored.sha256
    media.duration, media.codec, media.container = info.duration, info.codec, info.container
    media.sample_rate, media.channels, media.bitrate = info.sample_rate, info.channels, info.bitrate
    media.loudness_lufs = prepared.output_loudness.integrated_lufs
    media.true_peak_dbtp = prepared.output_loudness.true_peak_dbtp
    session.add(media)
    session.flush()
    session.expire(episode, ["media"])
    episode.duration = info.duration
    return media


def episode_glossary(ctx, session: Session):
    """The clinical glossary with the terms editors added in the glossary admin page."""
    extra = [(t.term, t.category, list(t.mishearings or [])) for t in session.scalars(select(GlossaryTerm))]
    return load_glossary(ctx.settings.GLOSSARY_PATH or None, extra_terms=extra)


def episode_context(episode: Episode) -> tuple[str, list[str]]:
    """Text of the notes and the names that matter for this episode (for hotwords and pairing)."""
    names = [p.person.name for p in episode.people]
    names += [et.tag.name for et in episode.tags]
    if episode.event:
        names.append(episode.event.name)
    notes = episode.summary.markdown if episode.summary else ""
    return f"{episode.title}\n{notes}", names


def episode_knowledge(episode: Episode) -> EpisodeKnowledge:
    """Everything the episode knows before it is heard: notes, title, event, speakers, tags, source."""
    original = episode.media_of(MediaKind.original)
    return EpisodeKnowledge(title=episode.title or "", notes=episode.summary.markdown if episode.summary else "",
                            speakers=tuple(p.person.name for p in episode.people),
                            event=episode.event.name if episode.event else None,
                            tags=tuple(et.tag.name for et in episode.tags if not et.dropped),
                            source=original.filename if original else None)


def transcribe_step(ctx, session: Session, episode: Episode, report) -> None:
    """Transcribe the original, saving segments as they come; a retry resumes after the last one."""
    glossary = episode_glossary(ctx, session)
    context, names = episode_context(episode)
    options = TranscriptionOptions.from_settings(ctx.settings)
    vocabulary = knowledge_vocabulary(episode_knowledge(episode), glossary)
    options.hotwords = glossary.hotwords_for(context, extra=list(dict.fromkeys([*names, *vocabulary])))
    transcript = session.scalars(select(Transcript).where(
        Transcript.episode_id == episode.id, Transcript.status == TranscriptStatus.running.value)).first()
    if transcript is None:
        transcript = Transcript(episode_id=episode.id, engine=options.engine, model=options.model,
                                options=options.as_dict(), language=options.language, status=TranscriptStatus.running.value)
        session.add(transcript)
        session.commit()
    saved = list(session.scalars(select(TranscriptSegment).where(TranscriptSegment.transcript_id == transcript.id).order_by(TranscriptSegment.index)))
    start_at = saved[-1].end if saved else 0.0
    duration = episode.duration or 1.0
    original = episode.media_of(MediaKind.original)
    with local_copy(ctx.storage, original.storage_key) as src:
        segments, info = transcribe(src, options, start_at=start_at, first_index=len(saved),
                             cache_dir=str(ctx.settings.instance_path / "models"))
        for offset, seg in enumerate(segments, start=len(saved)):
            session.add(TranscriptSegment(transcript_id=transcript.id, index=offset, start=seg.start, end=seg.end,
                                text=seg.text, words=[w.__dict__ for w in seg.words],
                                avg_logprob=seg.avg_logprob, no_speech_prob=seg.no_speech_prob))
            session.commit()  # each segment is durable: a killed worker resumes after it
            report(min(seg.end / duration, 0.99))
        session.refresh(transcript)
        _finish_transcript(ctx, session, episode, transcript, glossary, info, src)


def _finish_transcript(ctx, session, episode, transcript, glossary, info, audio_path) -> None:
    if not transcript.segments:
        raise TranscriptionError("No speech was found in the recording.")
    # Diarization may cut a segment where the voice changes, so it runs before the corrections.
    heard = assign_speakers(ctx, session, episode, transcript, heard_segments(transcript.segments), audio_path)
    hotwords = (transcript.options or {}).get("hotwords", [])
    check = correction_check(ctx, audio_path, hotwords)
    corrected, corrections = correct_transcript(heard, glossary, episode_knowledge(episode), hotwords, check)
    if check is not None:
        transcript.options = {**(transcript.options or {}), "correction_check": check.summary()}
    for row, seg in zip(transcript.segments, corrected):
        row.text, row.words = seg.text, [w.__dict__ for w in seg.words]
    transcript.corrections = [c.__dict__ for c in corrections]
    write_transcript_files(ctx, episode, transcript.id, corrected)
    transcript.language, transcript.duration = info.language, info.duration
    transcript.status, transcript.completed_at = TranscriptStatus.complete.value, utcnow()


def correction_check(ctx, audio_path, hotwords) -> AcousticCheck | None:
    """The speech model's veto over post-corrections, judged with the prompt the recording was
    decoded with (``CORRECTION_CHECK``)."""
    if not ctx.settings.CORRECTION_CHECK:
        return None
    return check_for(audio_path, TranscriptionOptions.from_settings(ctx.settings), hotwords_prompt(hotwords))


def heard_segments(rows) -> list[Segment]:
    """Saved transcript rows as the recognizer's segments (what the glossary and the files take)."""
    return [Segment(index=r.index, start=r.start, end=r.end, text=r.text, speaker=r.speaker, voice=r.voice,
                         words=[Word(**w) for w in (r.words or [])], avg_logprob=r.avg_logprob,
                         no_speech_prob=r.no_speech_prob) for r in rows]


def write_transcript_files(ctx, episode: Episode, transcript_id: int, segments) -> None:
    """Store the transcript in every format (VTT, SRT, Podcasting 2.0 JSON, text)."""
    for ext, (render, content_type) in FORMATS.items():
        ctx.storage.put_bytes(transcript_key(episode.uuid, transcript_id, ext), render(segments).encode("utf-8"),
                              content_type=content_type)


def analyze_step(ctx, session: Session, episode: Episode, report) -> None:
    """Pair the notes with the transcript: anchors, chapters, suggested tags and a soundbite.

    Re-running replaces what an earlier run suggested (anchors of the current summary version,
    chapters from notes or topics, unreviewed tag suggestions) and never touches what people
    made: editor chapters, the summarizer's and accepted tags, a soundbite already set.
    A recording's spoken extras are undone first (the pairing is with the recording's own
    timeline); the ``spoken_extras`` step after this one makes them again.
    """
    back_to_recording(session, episode)
    transcript = episode.transcript
    glossary = episode_glossary(ctx, session)
    notes = episode.summary.markdown if episode.summary else ""
    segments = [(s.start, s.end, s.text) for s in transcript.segments] if transcript else []
    duration = episode.duration or (segments[-1][1] if segments else 0.0)
    # A voiced summary knows where each part was said: its exact plan replaces the alignment.
    voiced = (transcript.options or {}).get("voiced") if transcript else None
    if voiced:
        anchors = [pairing.AnchorResult(kind, position, text, start, 1.0) for kind, position, text, start in
                   voiced["anchors"]]
    else:
        anchors = pairing.align_notes(notes, segments, glossary) if notes else []
        if anchors and transcript:  # listen-at moments on the sentence, from the stored word times
            anchors = land_anchors(anchors, timed_words(transcript.segments))
    _store_anchors(session, episode, anchors)
    report(0.4)
    _store_tags(session, episode, pairing.suggest_tags(glossary, segments, notes,
                                                       exclude=[et.tag.name for et in episode.tags
                                                                if et.accepted or et.dropped]))
    report(0.6)
    if not any(c.source == ChapterSource.editor for c in episode.chapters):
        episode.chapters.clear()  # delete-orphan: the suggested chapters of an earlier run go
        session.flush()
        suggested = ([(start, title, 1.0, ChapterSource.notes.value) for start, title in voiced["chapters"]]
                     if voiced else pairing.suggest_chapters(notes, segments, duration, glossary))
        for start, title, confidence, source in suggested:
            episode.chapters.append(Chapter(start=start, title=title[:300], confidence=confidence, source=source))
    report(0.8)
    if episode.soundbite_start is None and segments:
        bite = pairing.suggest_soundbite(segments, notes, glossary)
        if bite:
            episode.soundbite_start, episode.soundbite_duration = bite


def _store_anchors(session: Session, episode: Episode, anchors) -> None:
    """Replace the anchors of the current summary version."""
    version = episode.summary.version if episode.summary else 0
    session.execute(delete(Anchor).where(Anchor.episode_id == episode.id, Anchor.summary_version == version))
    for a in anchors:
        session.add(Anchor(episode_id=episode.id, summary_version=version, kind=a.kind, position=a.position,
                           text=a.text, start=a.start, confidence=a.confidence))


def _store_tags(session: Session, episode: Episode, suggestions) -> None:
    """Swap unreviewed suggestions for the new ones; tags people gave or accepted stay as they are,
    and tags an editor dropped stay dropped (never suggested again)."""
    for et in [et for et in episode.tags if et.source == TagSource.suggested and not et.accepted and not et.dropped]:
        episode.tags.remove(et)
    session.flush()
    have = {et.tag_id for et in episode.tags}
    for name, category, score in suggestions:
        tag = get_or_create_tag(session, name, category)
        if tag.id not in have:
            episode.tags.append(EpisodeTag(tag=tag, source=TagSource.suggested.value, accepted=False, score=score))
            have.add(tag.id)

