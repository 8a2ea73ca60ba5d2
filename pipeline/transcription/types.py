"""Dataclasses that cross the transcription boundary: results, options and measured facts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Word:
    """One recognized word with its time span in seconds from the start of the recording."""

    start: float
    end: float
    word: str
    probability: float


@dataclass
class Segment:
    """A stretch of speech; ``index`` counts from 0 over the whole recording."""

    index: int
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    speaker: str | None = None
    voice: int | None = None  # the diarized voice (0, 1, ... in order of first speaking)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TranscriptionOptions:
    """How a transcript is made; stored with the transcript so it says how it was made.

    ``batch_size`` 0 means faster-whisper's sequential decoder; above 0 its batched pipeline,
    which always runs the Silero VAD. ``threads`` 0 means all cores. ``parallel`` is how many
    blocks faster-whisper transcribes side by side, sharing the ``threads`` (0: one per core, at
    most four); on two cores two one-thread decoders do half as much again as one two-thread one.
    """

    engine: str = "faster-whisper"
    model: str = "tiny.en"
    beam_size: int = 3
    batch_size: int = 2
    threads: int = 0
    parallel: int = 0
    language: str = "en"
    hotwords: list[str] = field(default_factory=list)
    vad: bool = True
    word_timestamps: bool = True
    # Audio is decoded and transcribed in blocks cut at quiet points near multiples of this
    # length: it bounds memory on long recordings and makes resuming deterministic.
    block_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> "TranscriptionOptions":
        """Options from resolved ``Settings`` (``WHISPER_*``), then keyword overrides."""
        values = dict(
            engine=settings.WHISPER_ENGINE,
            model=settings.WHISPER_MODEL,
            beam_size=settings.WHISPER_BEAM_SIZE,
            batch_size=settings.WHISPER_BATCH_SIZE,
            threads=settings.WHISPER_THREADS,
            parallel=settings.WHISPER_PARALLEL,
        )
        values.update(overrides)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class TranscriptionInfo:
    """Facts about one transcription run: what made it, and how long the recording is."""

    engine: str
    model: str
    options: dict[str, Any]
    language: str
    duration: float


@dataclass
class Correction:
    """A glossary post-correction, kept so an editor can see and undo it."""

    segment_index: int
    original: str
    corrected: str
    term: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
