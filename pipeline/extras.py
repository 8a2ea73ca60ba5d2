"""The ``spoken_extras`` step of a recording: a short spoken introduction before it and/or the
summary notes read aloud as its last chapter, in one listening file.

What each episode gets is its editor's choice on the review page (``pipeline.review.choose_extras``),
else ``CLINEX_SPOKEN_EXTRAS``. The step first undoes earlier extras (``timeline.back_to_recording``),
then voices the introduction (title, speakers, event, the chapters) and the summary, joins
[introduction, recording, summary] at the listening file's rate, levels and encodes the whole
like any recording, and moves every timed row (transcript, chapters, anchors, comments,
listeners' places) by the introduction's exact length. The voice's sentences join the transcript
with the synthesis's times; "Introduction" and "The summary, read aloud" become chapters. The
listening file without extras is kept (``MediaKind.plain``) and stays downloadable. With nothing
chosen the step only makes sure no extras are left.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from .audio import AudioOptions, normalize_and_encode
from .audio.splice import Piece, level_gain, splice, wav_seconds
from .errors import ConfigError
from .keys import audio_key, audio_prefix
from .models import Chapter, ChapterSource, Episode, MediaFile, MediaKind, Transcript, TranscriptSegment
from .steps import heard_segments, store_listening_file, write_transcript_files
from .storage import file_sha256, local_copy
from .timeline import EXTRAS, audio_notes_row, back_to_recording, shift_episode_rows, shift_transcript
from .voice import Introduction, intro_script, load_voice
from .voice.compose import TimedSentence, VoicedText, wav_bytes
from .voicing import credits_for, delete_voicing_parts, episode_lexicon, episode_script, voice_script, voice_speaker

CHOICES = ("none", "intro", "summary", "both")
INTRO_TITLE = "Introduction"
SUMMARY_TITLE = "The summary, read aloud"
SUMMARY_PARTS = 1000  # voiced parts of the summary are numbered from here (the introduction's from 0)


def describe_extras(intro: bool, summary: bool) -> str:
    """"a spoken introduction and the summary read aloud", one of them, or "" for neither."""
    return " and ".join(what for what, on in (("a spoken introduction", intro), ("the summary read aloud", summary)) if on)


def default_extras(setting: str) -> tuple[bool, bool]:
    """(intro, summary) from CLINEX_SPOKEN_EXTRAS. Raises ConfigError for another value."""
    value = (setting or "none").strip().lower()
    if value not in CHOICES:
        raise ConfigError(f"CLINEX_SPOKEN_EXTRAS must be one of {', '.join(CHOICES)}, not {setting!r}.")
    return value in ("intro", "both"), value in ("summary", "both")


def chosen_extras(settings, episode: Episode) -> tuple[bool, bool]:
    """What this episode gets: the editor's choice where made, else the setting; never for a
    notes-only episode (it is all spoken) and no summary without notes to read."""
    notes = episode.audio_notes
    if notes is not None and notes.notes_only:
        return False, False
    intro, summary = default_extras(settings.SPOKEN_EXTRAS)
    if notes is not None and notes.spoken_intro is not None:
        intro = notes.spoken_intro
    if notes is not None and notes.spoken_summary is not None:
        summary = notes.spoken_summary
    has_notes = bool(episode.summary and episode.summary.markdown.strip())
    return intro, summary and has_notes


def introduction_for(ctx, episode: Episode, summary_follows: bool) -> Introduction:
    credits = credits_for(ctx, episode, notes_only=False)
    return Introduction(show=ctx.settings.SHOW_TITLE, title=episode.title, summarizer=credits.summarizer,
                        speakers=tuple(p.person.name for p in episode.people),
                        event=episode.event.name if episode.event else None,
                        chapters=tuple(c.title for c in episode.chapters if c.source != ChapterSource.voice.value),
                        summary_follows=summary_follows)


def extras_step(ctx, session: Session, episode: Episode, report) -> None:
    """Make the chosen extras (or none); see the module's description."""
    back_to_recording(session, episode)
    intro, summary = chosen_extras(ctx.settings, episode)
    transcript = episode.transcript
    if intro or summary:
        _make_extras(ctx, session, episode, transcript, intro, summary, report)
    if transcript is not None:
        write_transcript_files(ctx, episode, transcript.id, heard_segments(transcript.segments))
    session.flush()
    _delete_unused_audio(ctx, session, episode)
    report(1.0)


def _delete_unused_audio(ctx, session: Session, episode: Episode) -> None:
    """Listening files of this episode no row refers to any more (one made with extras chosen
    before, or replaced when the audio was prepared again); the step's own rows are flushed."""
    used = set(session.scalars(select(MediaFile.storage_key).where(MediaFile.episode_id == episode.id)))
    for key in ctx.storage.keys(audio_prefix(episode.uuid)):
        if key not in used:
            ctx.storage.delete(key)


def _make_extras(ctx, session: Session, episode: Episode, transcript: Transcript | None, intro: bool, summary: bool,
                 report) -> None:
    voice = load_voice(ctx.settings.TTS_VOICE)
    lexicon = episode_lexicon(session)
    spoken_intro = (voice_script(ctx.storage, episode.uuid, intro_script(introduction_for(ctx, episode, summary), lexicon),
                                 voice, lambda p: report(0.15 * p)) if intro else None)
    spoken_summary = (voice_script(ctx.storage, episode.uuid, episode_script(ctx, session, episode, notes_only=False),
                                   voice, lambda p: report(0.15 + 0.35 * p), first_index=SUMMARY_PARTS)
                      if summary else None)
    plain = episode.media_of(MediaKind.audio)
    options = AudioOptions.from_settings(ctx.settings)
    with tempfile.TemporaryDirectory(prefix="clinex-extras-") as tmp, local_copy(ctx.storage, plain.storage_key) as rec:
        work = Path(tmp)
        pieces = [Piece(Path(rec))]
        if spoken_intro:
            pieces.insert(0, _voice_piece(work / "intro.wav", spoken_intro, ctx.settings.LOUDNESS_TARGET))
        if spoken_summary:
            pieces.append(_voice_piece(work / "summary.wav", spoken_summary, ctx.settings.LOUDNESS_TARGET))
        joined = work / "programme.wav"
        total = splice(pieces, joined)
        shift = wav_seconds(pieces[0].path) if spoken_intro else 0.0
        summary_start = total - wav_seconds(pieces[-1].path) if spoken_summary else None
        prepared = normalize_and_encode(joined, work / "out", options, progress=lambda p: report(0.5 + 0.45 * p))
        plain.kind = MediaKind.plain.value
        session.flush()
        key = audio_key(episode.uuid, file_sha256(joined), prepared.extension)
        store_listening_file(ctx, session, episode, prepared, key)
    notes = audio_notes_row(session, episode)
    shift_episode_rows(session, episode, shift)
    if transcript is not None:
        shift_transcript(transcript, shift)
        _add_voice_segments(ctx, session, transcript, spoken_intro, spoken_summary, summary_start)
    notes.summary_start = round(summary_start, 3) if summary_start is not None else None
    if spoken_intro:
        episode.chapters.append(Chapter(start=0.0, title=INTRO_TITLE, source=ChapterSource.voice.value, confidence=1.0))
    if spoken_summary:
        episode.chapters.append(Chapter(start=round(summary_start, 3), title=SUMMARY_TITLE,
                                        source=ChapterSource.voice.value, confidence=1.0))
    session.flush()
    session.expire(episode, ["chapters"])
    delete_voicing_parts(ctx.storage, episode.uuid)


def _voice_piece(path: Path, voiced: VoicedText, target_lufs: float) -> Piece:
    path.write_bytes(wav_bytes(voiced.pcm, voiced.sample_rate))
    return Piece(path, level_gain(path, target_lufs))


def _add_voice_segments(ctx, session: Session, transcript: Transcript, spoken_intro: VoicedText | None,
                        spoken_summary: VoicedText | None, summary_start: float | None) -> None:
    """The voice's sentences as transcript segments: the introduction's numbered below the
    recording's (negative), the summary's after its last, so the recording's keep their numbers
    (corrections and revisions refer to them)."""
    speaker = voice_speaker(ctx)
    added: list[int] = []
    intro = list(spoken_intro.sentences) if spoken_intro else []
    last = max((s.index for s in transcript.segments), default=-1)
    numbered = [(index - len(intro), s, 0.0) for index, s in enumerate(intro)]
    if spoken_summary:
        numbered += [(last + 1 + index, s, summary_start) for index, s in enumerate(spoken_summary.sentences)]
    for index, sentence, offset in numbered:
        session.add(_segment(transcript, index, sentence, offset, speaker))
        added.append(index)
    extras = dict((transcript.options or {}).get(EXTRAS) or {})
    extras["voice_segments"] = added
    transcript.options = {**(transcript.options or {}), EXTRAS: extras}
    session.flush()
    session.expire(transcript, ["segments"])


def _segment(transcript: Transcript, index: int, s: TimedSentence, offset: float, speaker: str) -> TranscriptSegment:
    return TranscriptSegment(transcript_id=transcript.id, index=index, start=round(s.start + offset, 3),
                             end=round(s.end + offset, 3), text=s.text, speaker=speaker,
                             words=[{"start": round(w.start + offset, 3), "end": round(w.end + offset, 3),
                                     "word": w.word, "probability": 1.0} for w in s.words])

