"""Who speaks in a transcript: diarize it, store its voices with suggested names, and name the
segments (``TranscriptSegment.speaker``) for pages, transcript files and search.

Called by the transcribe step once every segment is saved (``steps._finish_transcript``).
``CLINEX_DIARIZATION`` says whether to diarize: ``auto`` (when the voice encoder is installed),
``on`` (a missing encoder fails the step with the reason) or ``off``. Without diarization an
episode whose notes name one speaker has every segment by that speaker, as before.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from sqlalchemy.orm import Session

from .errors import ConfigError
from .models import Episode, TranscriptSegment, Transcript, Voice
from .transcription import Segment
from .transcription.diarize import DiarizationOptions, diarize, split_by_speaker
from .transcription.voiceprint import encoder_available

MODES = ("auto", "on", "off")


def diarization_wanted(settings) -> bool:
    """Whether to diarize under ``settings``; ConfigError for a mode that is not auto, on or off."""
    mode = str(settings.DIARIZATION).strip().lower()
    if mode not in MODES:
        raise ConfigError(f"CLINEX_DIARIZATION must be auto, on or off, not {settings.DIARIZATION!r}.")
    return mode == "on" or (mode == "auto" and encoder_available())


def options_for(settings, episode: Episode) -> DiarizationOptions:
    """The settings' options, at most as many voices as the notes name speakers (when they do)."""
    bound = int(settings.DIARIZATION_MAX_SPEAKERS)
    if episode.people:
        bound = min(bound, len(episode.people))
    return DiarizationOptions(threshold=float(settings.DIARIZATION_THRESHOLD), max_speakers=max(bound, 1))


def suggested_names(episode: Episode) -> list[str]:
    """The notes' speakers in their order: the first to speak is taken to be the first listed."""
    return [p.person.name for p in episode.people]


def assign_speakers(ctx, session: Session, episode: Episode, transcript: Transcript,
                    heard: list[Segment], audio_path) -> list[Segment]:
    """The transcript's segments with speakers, stored in place of the saved rows.

    Raises TranscriptionError when diarization is on but cannot run (no encoder, bad audio)."""
    transcript.voices.clear()
    session.flush()
    turns = []
    if diarization_wanted(ctx.settings):
        options = options_for(ctx.settings, episode)
        turns, info = diarize(audio_path, [w for s in heard for w in s.words], options)
    if not turns:  # not diarized (or no word timings to diarize by)
        only = suggested_names(episode)
        named = [replace(s, speaker=only[0] if len(only) == 1 else None, voice=None) for s in heard]
    else:
        named = split_by_speaker(heard, turns)
        labels = _store_voices(transcript, named, suggested_names(episode))
        named = [replace(s, speaker=labels.get(s.voice)) for s in named]
        transcript.options = {**(transcript.options or {}), "diarization": {
            "speakers": info.speakers, "seconds": round(info.seconds, 2), **options.as_dict()}}
    _replace_rows(session, transcript, named)
    return named


def _store_voices(transcript: Transcript, segments: Sequence[Segment], names: list[str]) -> dict[int, str]:
    talk: dict[int, list[float]] = {}
    for seg in segments:
        if seg.voice is not None:
            first, seconds = talk.get(seg.voice, [seg.start, 0.0])
            talk[seg.voice] = [min(first, seg.start), seconds + seg.end - seg.start]
    labels = {}
    for number, (first, seconds) in sorted(talk.items()):
        voice = Voice(number=number, name=names[number] if number < len(names) else None, named=False,
                      first_start=first, seconds=round(seconds, 2))
        transcript.voices.append(voice)
        labels[number] = voice.label
    return labels


def _replace_rows(session: Session, transcript: Transcript, segments: Sequence[Segment]) -> None:
    """Rows rewritten from ``segments`` (diarization may cut a row where the voice changes)."""
    transcript.segments.clear()
    session.flush()
    for seg in segments:
        transcript.segments.append(TranscriptSegment(index=seg.index, start=seg.start, end=seg.end, text=seg.text,
                                           words=[w.__dict__ for w in seg.words], speaker=seg.speaker,
                                           voice=seg.voice, avg_logprob=seg.avg_logprob,
                                           no_speech_prob=seg.no_speech_prob))
    session.flush()


def rename_segments(transcript: Transcript) -> None:
    """Segments take their voice's current name (after an editor named the voices)."""
    labels = {v.number: v.label for v in transcript.voices}
    for seg in transcript.segments:
        if seg.voice in labels:
            seg.speaker = labels[seg.voice]
