"""Who is speaking: speaker turns from voice prints clustered per recording.

The recognizer's words say where there is speech. Words are grouped into stretches between
pauses (cut again every few seconds, so a change of speaker without a pause still falls on a
cut); each stretch gets the mean voice print of the 1.6-s windows over it. Stretches are
clustered bottom-up (average linkage on cosine distance) until the closest two groups are
further apart than ``threshold``; groups heard for less than ``min_speaker_seconds`` join the
nearest voice, and a last pass moves each stretch to its nearest voice. The count is never
above ``max_speakers`` (the notes' speaker list when there is one). Voices are numbered from 0
in the order they first speak.

Typical use, after transcription::

    turns, info = diarize(path, words, DiarizationOptions(max_speakers=len(notes_speakers)))
    segments = split_by_speaker(segments, turns)     # each segment now has one ``voice``
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from typing import Iterable, Sequence

import numpy as np

from .stream import SAMPLE_RATE, decode_blocks
from .types import Segment, Word
from .voiceprint import WINDOW_SECONDS, shared_encoder

BLOCK_SECONDS = 300.0  # audio is decoded in blocks like this, so memory stays bounded


@dataclass
class DiarizationOptions:
    """How voices are told apart; stored with the transcript so it says how it was made."""

    threshold: float = 0.25  # cosine distance between groups that still counts as one voice
    max_speakers: int = 8
    min_speaker_seconds: float = 4.0
    pause_seconds: float = 0.15  # a gap between words at least this long ends a stretch
    stretch_seconds: float = 3.2  # longer stretches are cut at word boundaries (two windows)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Turn:
    """One stretch of speech by one voice (``speaker`` counts from 0 in order of appearance)."""

    start: float
    end: float
    speaker: int


@dataclass
class DiarizationInfo:
    """What one diarization run found and what it cost."""

    speakers: int
    stretches: int
    windows: int
    seconds: float
    options: dict


@dataclass
class _Stretch:
    start: float
    end: float
    words: list[int]  # indices into the recording's word list


def stretches_of(words: Sequence[Word], options: DiarizationOptions) -> list[_Stretch]:
    """Consecutive words grouped between pauses, each group at most ``stretch_seconds`` long."""
    out: list[_Stretch] = []
    for i, word in enumerate(words):
        last = out[-1] if out else None
        if (last is None or word.start - last.end >= options.pause_seconds
                or word.end - last.start > options.stretch_seconds):
            out.append(_Stretch(word.start, word.end, [i]))
        else:
            last.end = max(last.end, word.end)
            last.words.append(i)
    return out


def _window_starts(stretch: _Stretch) -> list[float]:
    """Start times of the windows that cover a stretch (one, centred, when it is short)."""
    length = stretch.end - stretch.start
    count = max(1, int(round(length / WINDOW_SECONDS)))
    if count == 1:
        return [stretch.start]
    step = (length - WINDOW_SECONDS) / (count - 1)
    return [stretch.start + k * step for k in range(count)]


def _window_audio(samples: np.ndarray, start: float, end: float) -> np.ndarray:
    """1.6 s of samples from ``start``; a shorter stretch of speech is repeated to fill it,
    which keeps the voice's statistics (silence or a neighbour's words would not)."""
    size = int(WINDOW_SECONDS * SAMPLE_RATE)
    piece = samples[max(0, int(start * SAMPLE_RATE)):max(0, int(end * SAMPLE_RATE))]
    if len(piece) == 0:
        return np.zeros(size, np.float32)
    return np.resize(piece, size) if len(piece) < size else piece[:size]


def _stretch_windows(path, stretches: list[_Stretch]) -> Iterable[tuple[int, np.ndarray]]:
    """(stretch number, window samples), decoding the recording once, block by block."""
    todo = [(n, s, min(s + WINDOW_SECONDS, st.end)) for n, st in enumerate(stretches) for s in _window_starts(st)]
    pos = 0
    for offset, samples in decode_blocks(path, BLOCK_SECONDS):
        block_end = offset + len(samples) / SAMPLE_RATE
        while pos < len(todo) and todo[pos][1] < block_end:
            number, start, end = todo[pos]
            yield number, _window_audio(samples, start - offset, end - offset)
            pos += 1


def _embed_stretches(path, stretches: list[_Stretch], encoder) -> tuple[np.ndarray, int]:
    numbers, windows = [], []
    for number, audio in _stretch_windows(path, stretches):
        numbers.append(number)
        windows.append(audio)
    prints = encoder.embed(windows)
    means = np.zeros((len(stretches), prints.shape[1] if len(prints) else 256), np.float32)
    np.add.at(means, np.asarray(numbers, dtype=int), prints)
    return _unit(means), len(windows)


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


def cluster_voices(prints: np.ndarray, weights: np.ndarray, options: DiarizationOptions) -> np.ndarray:
    """A voice number per stretch (0, 1, ... in order of first appearance)."""
    if len(prints) < 2:
        return np.zeros(len(prints), dtype=int)
    from scipy.cluster.hierarchy import fcluster, linkage  # a resemblyzer dependency

    tree = linkage(prints.astype(np.float64), method="average", metric="cosine")
    labels = fcluster(tree, options.threshold, criterion="distance") - 1
    labels = _absorb_small(prints, weights, labels, options.min_speaker_seconds)
    # The bound applies to the voices that remain: cutting the tree at the bound first can
    # spend a place on a stray stretch that is then absorbed, leaving one voice too few.
    while labels.max() + 1 > options.max_speakers:
        labels = _merge_closest(prints, weights, labels)
    return _in_order_of_appearance(labels)


def _merge_closest(prints, weights, labels) -> np.ndarray:
    """The two voices whose centres are closest become one."""
    centres = _centroids(prints, weights, labels)
    near = centres @ centres.T
    np.fill_diagonal(near, -np.inf)
    a, b = np.unravel_index(np.argmax(near), near.shape)
    return np.unique(np.where(labels == max(a, b), min(a, b), labels), return_inverse=True)[1]


def _centroids(prints: np.ndarray, weights: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return _unit(np.stack([(prints[labels == k] * weights[labels == k, None]).sum(0) for k in range(labels.max() + 1)]))


def _absorb_small(prints, weights, labels, min_seconds: float) -> np.ndarray:
    """Voices heard too briefly join the nearest larger one; then each stretch moves to its
    nearest voice (bottom-up merging can leave a stretch with the wrong group)."""
    labels = np.unique(labels, return_inverse=True)[1]
    talk = np.bincount(labels, weights=weights)
    keep = np.flatnonzero(talk >= min_seconds)
    if keep.size == 0:
        return np.zeros_like(labels)
    centres = _centroids(prints, weights, labels)[keep]
    for _ in range(2):
        labels = np.argmax(prints @ centres.T, axis=1)
        centres = _centroids(prints, weights, np.unique(labels, return_inverse=True)[1])
    return np.unique(labels, return_inverse=True)[1]


def _in_order_of_appearance(labels: np.ndarray) -> np.ndarray:
    order: dict[int, int] = {}
    for label in labels:
        order.setdefault(int(label), len(order))
    return np.array([order[int(label)] for label in labels], dtype=int)


def diarize(path, words: Sequence[Word], options: DiarizationOptions | None = None, encoder=None
            ) -> tuple[list[Turn], DiarizationInfo]:
    """Speaker turns over the recording at ``path``, from the recognizer's ``words``.

    Raises TranscriptionError when the voice encoder is not installed or the audio cannot be
    decoded. No words means no turns.
    """
    options = options or DiarizationOptions()
    began = time.perf_counter()
    stretches = stretches_of(words, options)
    if not stretches:
        return [], DiarizationInfo(0, 0, 0, 0.0, options.as_dict())
    prints, windows = _embed_stretches(path, stretches, encoder or shared_encoder())
    weights = np.array([s.end - s.start for s in stretches])
    labels = cluster_voices(prints, weights, options)
    turns = _merge_turns([Turn(s.start, s.end, int(k)) for s, k in zip(stretches, labels)])
    info = DiarizationInfo(int(labels.max()) + 1, len(stretches), windows, time.perf_counter() - began,
                           options.as_dict())
    return turns, info


def _merge_turns(turns: list[Turn]) -> list[Turn]:
    merged: list[Turn] = []
    for turn in turns:
        if merged and merged[-1].speaker == turn.speaker:
            merged[-1].end = turn.end
        else:
            merged.append(replace(turn))
    return merged


def voice_at(turns: Sequence[Turn], start: float, end: float) -> int | None:
    """The voice that speaks most of [start, end], or the nearest turn's when none overlaps."""
    if not turns:
        return None
    overlap = [(min(end, t.end) - max(start, t.start), t.speaker) for t in turns]
    best, speaker = max(overlap, key=lambda pair: pair[0])
    if best > 0:
        return speaker
    middle = (start + end) / 2
    return min(turns, key=lambda t: min(abs(middle - t.start), abs(middle - t.end))).speaker


def split_by_speaker(segments: Sequence[Segment], turns: Sequence[Turn]) -> list[Segment]:
    """Segments cut where the voice changes between words, each with its ``voice``; indices
    are renumbered from the first segment's."""
    out: list[Segment] = []
    for seg in segments:
        out += _split_one(seg, turns)
    first = segments[0].index if segments else 0
    return [replace(seg, index=first + n) for n, seg in enumerate(out)]


def _split_one(seg: Segment, turns: Sequence[Turn]) -> list[Segment]:
    if not seg.words:
        return [replace(seg, voice=voice_at(turns, seg.start, seg.end))]
    voices = [voice_at(turns, w.start, w.end) for w in seg.words]
    runs: list[tuple[int | None, list[Word]]] = []
    for word, voice in zip(seg.words, voices):
        if runs and runs[-1][0] == voice:
            runs[-1][1].append(word)
        else:
            runs.append((voice, [word]))
    if len(runs) == 1:
        return [replace(seg, voice=runs[0][0])]
    return [replace(seg, start=ws[0].start, end=ws[-1].end, words=list(ws), voice=voice,
                    text="".join(w.word for w in ws).strip()) for voice, ws in runs]
