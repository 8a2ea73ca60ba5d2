"""Voiced blocks (paragraphs) with exact sentence and word times, and their joining into one
recording with its transcript segments, chapters and anchors.

A block is voiced on its own so a voicing cut short resumes at the first block not yet stored
(the step stores each ``SpokenPart`` as it finishes). Times inside a part start at 0; joining
shifts them by the parts before. Sentence times are exact (each sentence is synthesized alone);
word times share out the sentence's voiced span by the phonemes each word took.
"""

from __future__ import annotations

import io
import json
import wave
from dataclasses import asdict, dataclass, field

import numpy as np

from .engine import Voice, silence
from .speech_text import Block, SpeechScript

SENTENCE_GAP = 0.22  # seconds between sentences of a block
_VOICED = 300  # |sample| above this is speech, not the voice's lead-in or tail


@dataclass(frozen=True)
class TimedWord:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class TimedSentence:
    text: str
    start: float
    end: float
    words: tuple[TimedWord, ...] = ()


@dataclass
class SpokenPart:
    """One block voiced: 16-bit mono PCM and its sentences, timed from the part's start."""

    pcm: bytes
    sample_rate: int
    sentences: list[TimedSentence] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate

    def timings_json(self) -> bytes:
        return json.dumps({"sample_rate": self.sample_rate, "sentences": [asdict(s) for s in self.sentences]}).encode()

    def wav_bytes(self) -> bytes:
        return wav_bytes(self.pcm, self.sample_rate)

    @classmethod
    def from_stored(cls, wav: bytes, timings: bytes) -> "SpokenPart":
        data = json.loads(timings)
        with wave.open(io.BytesIO(wav)) as fh:
            pcm = fh.readframes(fh.getnframes())
        sentences = [TimedSentence(s["text"], s["start"], s["end"], tuple(TimedWord(**w) for w in s["words"]))
                     for s in data["sentences"]]
        return cls(pcm, data["sample_rate"], sentences)


@dataclass
class VoicedText:
    """The whole recording: PCM, transcript sentences, chapters and anchors, in seconds."""

    pcm: bytes
    sample_rate: int
    sentences: list[TimedSentence]
    chapters: list[tuple[float, str]]
    anchors: list[tuple[str, int, str, float]]  # (section | bullet, position, text, start)

    @property
    def duration(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


def voice_block(voice: Voice, block: Block) -> SpokenPart:
    """Speak one block, sentence by sentence, with the block's pause at its end.

    Raises TranscriptionError (from the voice) when a sentence cannot be spoken."""
    chunks, timed, at = [], [], 0.0
    rate = voice.sample_rate
    for number, sentence in enumerate(block.sentences):
        if number:
            chunks.append(silence(SENTENCE_GAP, rate))
            at += SENTENCE_GAP
        spoken = voice.synthesize(sentence.spoken)
        chunks.append(spoken.pcm)
        timed.append(_timed(sentence.display, spoken.pcm, rate, at, spoken.word_weights))
        at += spoken.duration
    chunks.append(silence(block.pause_after, rate))
    return SpokenPart(b"".join(chunks), rate, timed)


def _timed(text: str, pcm: bytes, rate: int, offset: float, weights: tuple[float, ...]) -> TimedSentence:
    samples = np.frombuffer(pcm, dtype=np.int16)
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _VOICED)
    first, last = (loud[0], loud[-1] + 1) if loud.size else (0, samples.size)
    start, end = offset + float(first) / rate, offset + float(last) / rate
    words = text.split()
    if len(weights) != len(words):  # a lexicon reading changed the word count: share by letters
        weights = tuple(float(len(w)) for w in words)
    total, at, out = sum(weights) or 1.0, start, []
    for word, weight in zip(words, weights):
        span = (end - start) * weight / total
        out.append(TimedWord(word, round(at, 3), round(at + span, 3)))
        at += span
    return TimedSentence(text, round(start, 3), round(end, 3), tuple(out))


def join_parts(script: SpeechScript, parts: list[SpokenPart]) -> VoicedText:
    """One recording from the voiced blocks of ``script`` (one part per block, in order)."""
    rate = parts[0].sample_rate
    pcm, sentences, chapters, anchors, at = [], [], [], [], 0.0
    for block, part in zip(script.blocks, parts, strict=True):
        first = part.sentences[0].start + at if part.sentences else at
        if block.chapter:
            chapters.append((0.0 if not chapters else round(first, 3), block.chapter))
        if block.section is not None:
            anchors.append(("section", block.section, block.chapter or block.sentences[0].display, round(first, 3)))
        if block.bullet is not None:
            anchors.append(("bullet", block.bullet, block.sentences[0].display, round(first, 3)))
        sentences += [shift(s, at) for s in part.sentences]
        pcm.append(part.pcm)
        at += part.duration
    return VoicedText(b"".join(pcm), rate, sentences, chapters, anchors)


def shift(sentence: TimedSentence, by: float) -> TimedSentence:
    return TimedSentence(sentence.text, round(sentence.start + by, 3), round(sentence.end + by, 3),
                         tuple(TimedWord(w.word, round(w.start + by, 3), round(w.end + by, 3)) for w in sentence.words))


def wav_bytes(pcm: bytes, sample_rate: int) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(sample_rate)
        fh.writeframes(pcm)
    return out.getvalue()
