"""Recordings joined end to end into one WAV, each brought to a loudness first (a spoken
introduction before a recording, the summary read aloud after it).

The parts keep their exact lengths (resampled to one rate, no crossfade, nothing trimmed), so a
time ``t`` in the part after a WAV of ``n`` seconds is ``t + n`` in the result, and a WAV of
``n`` seconds at the end starts ``n`` seconds before the end.
"""

from __future__ import annotations

import os
import wave
from dataclasses import dataclass
from pathlib import Path

from .ffmpeg import absolute_arg, run_ffmpeg
from .loudness import measure_loudness

SPLICE_RATE = 44100  # the listening file's rate: the recording is not resampled twice


@dataclass(frozen=True)
class Piece:
    path: Path
    gain_db: float = 0.0


def level_gain(path: str | os.PathLike, target_lufs: float) -> float:
    """The gain that brings ``path`` to ``target_lufs`` (0 for silence)."""
    measured = measure_loudness(path).integrated_lufs
    return 0.0 if measured is None or measured == float("-inf") else target_lufs - measured


def splice(pieces: list[Piece], dest: str | os.PathLike, sample_rate: int = SPLICE_RATE) -> float:
    """Write ``pieces`` one after another as mono 16-bit WAV ``dest``; returns its length in
    seconds (from the samples written). Raises AudioError when ffmpeg cannot read a piece."""
    args, chains, labels = [], [], []
    for number, piece in enumerate(pieces):
        args += ["-i", absolute_arg(piece.path)]
        chains.append(f"[{number}:a:0]aresample={sample_rate},aformat=sample_fmts=s16:channel_layouts=mono,"
                      f"volume={piece.gain_db:.2f}dB[p{number}]")
        labels.append(f"[p{number}]")
    graph = ";".join(chains) + ";" + "".join(labels) + f"concat=n={len(pieces)}:v=0:a=1[out]"
    run_ffmpeg([*args, "-filter_complex", graph, "-map", "[out]", "-c:a", "pcm_s16le", "-y", absolute_arg(dest)],
               what="join the spoken parts and the recording")
    return wav_seconds(dest)


def wav_seconds(path: str | os.PathLike) -> float:
    """The exact length of a PCM WAV file, from its frame count."""
    with wave.open(os.fspath(path)) as fh:
        return fh.getnframes() / fh.getframerate()
