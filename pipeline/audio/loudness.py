"""Loudness: EBU R128 measurement from ffmpeg's log, and the gain plan that reaches the target.

How the target is reached quickly (a two-pass ``loudnorm`` resamples to 192 kHz and is slow):
one pass measures the input's integrated loudness and keeps about two minutes of excerpts; the
excerpts tell how much loudness the limiter will take away at the chosen gain, which is added
back (``choose_gain``).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from ..errors import AudioError
from .ffmpeg import absolute_arg, last_number, run_ffmpeg
from .filters import (
    codec_args,
    excerpt_select,
    layout_filter,
    limiter_filter,
    true_peak_chain,
)
from .types import (
    CALIBRATION_STEPS,
    CUT_MARGIN_DB,
    FLOAT,
    MAX_GAIN_DB,
    MAX_MAKEUP_DB,
    OUTPUT_RATE,
    PEAK_ROUNDS,
    AudioInfo,
    AudioOptions,
    LoudnessInfo,
)

# --------------------------------------------------------------------------- loudness

def _parse_ebur128(text: str) -> tuple[float, float | None, float | None]:
    """(integrated LUFS, loudness range LU, true peak dBFS) from ebur128's summary."""
    text = _without_progress(text)
    summary = text[text.rfind("Summary:"):]
    integrated = last_number(r"\bI:\s+(\S+) LUFS", summary)
    if integrated is None:
        raise AudioError("ffmpeg did not report the loudness of the audio.")
    return integrated, last_number(r"LRA:\s+(\S+) LU\b", summary), last_number(r"Peak:\s+(\S+) dBFS", summary)


def measure_loudness(path: str | os.PathLike) -> LoudnessInfo:
    """EBU R128 integrated loudness, loudness range and true peak of the first audio stream,
    measured by ffmpeg's ``ebur128=peak=true`` (the reference; about 10 s per hour of audio).

    Raises AudioError when ffmpeg cannot decode the file.
    """
    result = run_ffmpeg(
        ["-i", absolute_arg(path), "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        what="measure the loudness",
    )
    integrated, lra, peak = _parse_ebur128(result.stderr)
    return LoudnessInfo(integrated, peak if peak is not None else -math.inf, lra)


def loudness_from_log(text: str) -> LoudnessInfo:
    integrated, lra, _ = _parse_ebur128(text)
    peak = last_number(r"Peak level dB:\s*(\S+)", text, default=-math.inf)
    return LoudnessInfo(integrated, peak, lra)


# --------------------------------------------------------------------------- preparing

def measure_input(src, info: AudioInfo, options: AudioOptions, excerpts: Path,
                   on_time: Callable[[float], None]) -> LoudnessInfo:
    """Pass 1: loudness and true peak of the input as it will be published (after the downmix,
    because that is what the gain applies to), plus excerpts at the output rate for calibration."""
    graph = (
        f"[0:a:0]{layout_filter(info.channels, options.stereo)},asplit=2[m][x];"
        f"[m]ebur128=framelog=verbose,{true_peak_chain(info.sample_rate)}[mo];"
        f"[x]{excerpt_select(info.duration)}aresample={OUTPUT_RATE},{FLOAT}[xo]"
    )
    result = run_ffmpeg(
        ["-f", info.container, "-i", absolute_arg(src), "-filter_complex", graph,
         "-map", "[mo]", "-f", "null", "-", "-map", "[xo]", "-c:a", "pcm_f32le", "-y", str(excerpts)],
        on_time=on_time, what="measure the loudness of the recording",
    )
    return loudness_from_log(result.stderr)


@dataclass(frozen=True)
class GainPlan:
    """Gain before the limiter; make-up after it for the level the encoder loses (LAME's
    output decodes about 0.45 dB quieter than its input); how far below the true-peak limit
    the limiter's ceiling must sit for the encoded peaks to stay under it."""

    gain_db: float
    makeup_db: float = 0.0
    cut_db: float = 0.0


def _calibration_loudness(excerpts: Path, nominal: float, steps: list[float], options: AudioOptions,
                          encoded: Path) -> tuple[float, list[float]]:
    """Loudness of the excerpts as they are, and after gain nominal+step and the limiter for
    each step; one ffmpeg process, one branch per step. The first step's branch is also
    encoded to ``encoded``, to learn what the encoder does to the level."""
    branches = [f"[s{i}]volume={nominal + step:.2f}dB,{limiter_filter(options)},ebur128=framelog=verbose[o{i}]"
                for i, step in enumerate(steps)]
    labels = "".join(f"[s{i}]" for i in range(len(steps)))
    graph = f"[0:a]asplit={len(steps) + 1}[base]{labels};[base]ebur128=framelog=verbose[ob];" + ";".join(branches)
    maps = [arg for i in ["b", *range(1, len(steps))] for arg in ("-map", f"[o{i}]")]
    result = run_ffmpeg(["-i", str(excerpts), "-filter_complex", graph, *maps, "-f", "null", "-",
                         "-map", "[o0]", *codec_args(options), "-y", str(encoded)],
                        what="calibrate the limiter")
    values = _summaries_in_order(result.stderr)
    if len(values) != len(steps) + 1:
        raise AudioError("ffmpeg did not report the loudness of every calibration branch.")
    return values[0], values[1:]


# ffmpeg writes a log line's "[Parsed_ebur128_N @ 0x…] [info] " prefixes and its text in separate
# writes, and newer builds (the one imageio-ffmpeg ships) write the -progress key=value lines from
# another thread, so one can land in the middle of a log line.
_PROGRESS_LINE = re.compile(r"(?:frame|fps|stream_\d+_\d+_q|bitrate|total_size|out_time_us|out_time_ms|out_time"
                            r"|dup_frames|drop_frames|speed|progress)=[^\n]*\n")


def _without_progress(text: str) -> str:
    return _PROGRESS_LINE.sub("", text)


def _summaries_in_order(text: str) -> list[float]:
    """Integrated loudness of each ebur128 instance in a graph, in the order they were written."""
    parts = re.split(r"\[Parsed_ebur128_(\d+) @ [^\]]*\] \[info\] Summary:", _without_progress(text))
    # ffmpeg may build the graph twice and print an empty summary for the first one: last wins.
    blocks = dict((int(index), block) for index, block in zip(parts[1::2], parts[2::2]))
    return [last_number(r"\bI:\s+(\S+) LUFS", blocks[index], default=-math.inf) for index in sorted(blocks)]


def choose_gain(input_lufs: float, excerpts: Path, options: AudioOptions, cut_db: float = 0.0) -> GainPlan:
    """Gain that lands the limited, encoded output on the target with its true peak under the limit.

    Plain gain undershoots: the limiter takes loudness away from every peak it catches. The
    excerpts are measured at the nominal gain plus each of CALIBRATION_STEPS, and the extra
    gain that makes up for the limiter is interpolated between the two steps around it. The
    encoded excerpts show how far the encoder overshoots the ceiling; the ceiling is lowered
    by that much (``cut_db``, at least the one given) and the calibration repeated.
    Raises AudioError if ffmpeg fails.
    """
    nominal = min(MAX_GAIN_DB, options.loudness_target - input_lufs)
    steps = [step for step in CALIBRATION_STEPS if nominal + step <= MAX_GAIN_DB] or [0.0]
    encoded = excerpts.with_name(f"excerpts.{options.format}")
    for _ in range(PEAK_ROUNDS):
        ceiling = replace(options, true_peak_limit=options.true_peak_limit - cut_db)
        base, limited = _calibration_loudness(excerpts, nominal, steps, ceiling, encoded)
        if not math.isfinite(base) or base <= -70.0:
            return GainPlan(nominal, 0.0, cut_db)  # excerpts all quiet: nothing to learn from them
        makeup, peak = _codec_effect(encoded, limited[0])
        over = peak + makeup - options.true_peak_limit
        if over <= 0:
            break
        cut_db += over + CUT_MARGIN_DB
    return GainPlan(_interpolate_gain(nominal, base + nominal, steps, limited), makeup, cut_db)


def _interpolate_gain(nominal: float, goal: float, steps: list[float], limited: list[float]) -> float:
    """``goal``: where the excerpts would land with plain gain and no limiter."""
    if limited[0] >= goal - 0.05:
        return nominal
    for (step0, level0), (step1, level1) in zip(zip(steps, limited), zip(steps[1:], limited[1:])):
        if level1 >= goal:
            return nominal + step0 + (goal - level0) * (step1 - step0) / max(level1 - level0, 1e-6)
    return nominal + steps[-1]


def _codec_effect(encoded: Path, pcm_lufs: float) -> tuple[float, float]:
    """(make-up dB the encoder's input needs to keep its level, true peak of the encoded excerpts)."""
    result = run_ffmpeg(["-i", str(encoded), "-af", f"ebur128=framelog=verbose,{true_peak_chain(OUTPUT_RATE)}",
                         "-f", "null", "-"], what="measure the encoded excerpts")
    loudness = loudness_from_log(result.stderr)
    lost = pcm_lufs - loudness.integrated_lufs
    makeup = max(-MAX_MAKEUP_DB, min(MAX_MAKEUP_DB, lost)) if math.isfinite(lost) else 0.0
    return makeup, loudness.true_peak_dbtp
