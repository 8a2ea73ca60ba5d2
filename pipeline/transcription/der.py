"""Diarization error rate: how much reference speech is given to the wrong voice, or missed,
or invented, after the best one-to-one mapping of found voices to true speakers.

Scored on a 10-ms grid; ``collar`` seconds either side of every reference boundary are not
scored (the usual 0.25 s forgives boundaries that are a word's edge off). One speaker at a time
is assumed (the latest turn wins where reference turns overlap).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

STEP = 0.01

Span = tuple[float, float, Hashable]  # (start, end, who)


@dataclass
class DerInfo:
    """DER and its parts, in seconds of scored reference speech."""

    der: float
    missed: float
    false_alarm: float
    confusion: float
    scored: float
    mapping: dict


def _grid(spans: Sequence[Span], frames: int, names: dict) -> np.ndarray:
    grid = np.full(frames, -1, dtype=int)
    for start, end, who in spans:
        grid[int(round(start / STEP)):int(round(end / STEP))] = names.setdefault(who, len(names))
    return grid


def diarization_error_rate(reference: Sequence[Span], hypothesis: Sequence[Span], collar: float = 0.25) -> DerInfo:
    """DER of ``hypothesis`` against ``reference`` (both lists of (start, end, label))."""
    from scipy.optimize import linear_sum_assignment  # a resemblyzer dependency

    end = max([e for _s, e, _w in [*reference, *hypothesis]] or [0.0])
    frames = int(round(end / STEP)) + 1
    ref_names, hyp_names = {}, {}
    ref, hyp = _grid(reference, frames, ref_names), _grid(hypothesis, frames, hyp_names)
    scored = np.ones(frames, dtype=bool)
    for start, stop, _who in reference:
        for edge in (start, stop):
            scored[max(0, int(round((edge - collar) / STEP))):int(round((edge + collar) / STEP))] = False
    ref, hyp = ref[scored], hyp[scored]
    both = (ref >= 0) & (hyp >= 0)
    counts = np.zeros((max(len(ref_names), 1), max(len(hyp_names), 1)))
    np.add.at(counts, (ref[both], hyp[both]), 1)
    rows, cols = linear_sum_assignment(-counts)
    matched = counts[rows, cols].sum()
    missed, false_alarm = float(((ref >= 0) & (hyp < 0)).sum()), float(((ref < 0) & (hyp >= 0)).sum())
    confusion = float(both.sum() - matched)
    total = float((ref >= 0).sum())
    names_r, names_h = {v: k for k, v in ref_names.items()}, {v: k for k, v in hyp_names.items()}
    mapping = {names_h[c]: names_r[r] for r, c in zip(rows, cols) if counts[r, c] > 0}
    return DerInfo(der=(missed + false_alarm + confusion) / total if total else 0.0, missed=missed * STEP,
                   false_alarm=false_alarm * STEP, confusion=confusion * STEP, scored=total * STEP, mapping=mapping)
