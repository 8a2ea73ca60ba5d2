"""Guards against Whisper's known long-form failure modes.

- text invented over silence or music: dropped when the model itself says "no speech" and is
  unsure of the words (the VAD already keeps most silence away from the decoder);
- repetition loops ("the the the ...", a sentence over and over): repeated runs collapse to one;
- timestamps that drift backwards, overlap or run past the end: clamped to a monotonic timeline.
"""

from __future__ import annotations

import zlib
from dataclasses import replace
from typing import Callable, Sequence, TypeVar

from .types import Segment, Word

T = TypeVar("T")

# Whisper's own thresholds for "this window was probably silence" (openai/whisper transcribe.py).
NO_SPEECH_THRESHOLD = 0.6
LOGPROB_THRESHOLD = -1.0
# A loop that survives collapsing still compresses far better than speech does.
COMPRESSION_RATIO_THRESHOLD = 2.4
MAX_NGRAM = 12


def compression_ratio(text: str) -> float:
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0


def _run_length(keys: Sequence[str], start: int, size: int) -> int:
    """How many times keys[start:start+size] repeats back to back from ``start``."""
    unit = keys[start:start + size]
    count = 1
    while keys[start + count * size:start + (count + 1) * size] == unit:
        count += 1
    return count


def _is_loop(size: int, count: int) -> bool:
    # "very very" and "no, no, no" are speech; six or more repeated words, or any phrase said
    # four times running, is a decoder stuck in a loop.
    return count >= 3 and (size * (count - 1) >= 6 or count >= 4)


def collapse_repeats(items: Sequence[T], key: Callable[[T], str]) -> list[T]:
    """Keep one copy of every run of a repeated n-gram (n <= 12) that looks like a loop."""
    keys = [key(item).strip().lower().strip(".,!?;:") for item in items]
    kept: list[T] = []
    i = 0
    while i < len(items):
        for size in range(1, MAX_NGRAM + 1):
            count = _run_length(keys, i, size)
            if _is_loop(size, count):
                kept.extend(items[i:i + size])
                i += size * count
                break
        else:
            kept.append(items[i])
            i += 1
    return kept


def break_loops(segment: Segment) -> Segment:
    """The segment with repetition loops collapsed, in its words and its text."""
    if segment.words:
        words = collapse_repeats(segment.words, key=lambda w: w.word)
        if len(words) == len(segment.words):
            return segment
        return replace(segment, words=words, text="".join(w.word for w in words).strip())
    tokens = segment.text.split()
    kept = collapse_repeats(tokens, key=str)
    return segment if len(kept) == len(tokens) else replace(segment, text=" ".join(kept))


def is_hallucination(segment: Segment) -> bool:
    """True for text the model itself rates as probably-silence and low-confidence, or a loop."""
    if not segment.text.strip():
        return True
    silent = (segment.no_speech_prob or 0.0) > NO_SPEECH_THRESHOLD
    unsure = segment.avg_logprob is not None and segment.avg_logprob < LOGPROB_THRESHOLD
    return (silent and unsure) or compression_ratio(segment.text) > COMPRESSION_RATIO_THRESHOLD


class Timeline:
    """Keeps segment and word times monotonic and within [floor, limit]."""

    def __init__(self, floor: float, limit: float):
        self.last_end = floor
        self.limit = limit

    def _clamp(self, start: float, end: float, floor: float) -> tuple[float, float]:
        start = min(max(start, floor), self.limit)
        return start, min(max(end, start), self.limit)

    def place(self, segment: Segment) -> Segment | None:
        """The segment moved onto the timeline, or None when nothing of it is left."""
        start, end = self._clamp(segment.start, segment.end, self.last_end)
        if end <= start and start >= self.limit:
            return None
        words, floor = [], start
        for w in segment.words:
            w_start, w_end = self._clamp(w.start, w.end, floor)
            words.append(Word(w_start, min(w_end, end) if w_start <= end else w_end, w.word, w.probability))
            floor = w_start
        if words:
            end = max(end, words[-1].end)
        self.last_end = end
        return replace(segment, start=start, end=end, words=words)
