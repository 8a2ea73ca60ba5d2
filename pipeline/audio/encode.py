"""Make the listening file: gain, limiter and encoder in one ffmpeg pipeline, with the encoded
stream measured by a third process at the same time."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import AudioError
from .ffmpeg import FfmpegRun, absolute_arg
from .filters import codec_args, layout_filter, limiter_filter, true_peak_chain
from .inspect import probe
from .loudness import GainPlan, choose_gain, loudness_from_log, measure_input
from .types import (
    CONTENT_TYPES,
    CUT_MARGIN_DB,
    FLOAT,
    MEASURE_SHARE,
    OUTPUT_RATE,
    PEAK_ROUNDS,
    AudioInfo,
    AudioOptions,
    LoudnessInfo,
    PreparedAudio,
)


def _encoder_args(options: AudioOptions, temp_name: str) -> list[str]:
    """Encode once, write the file (seekable, so the MP3 Info header / MP4 index get written)
    and copy the same stream to stdout for the measuring process."""
    if options.format == "mp3":
        outputs = f"[f=mp3:id3v2_version=0:write_id3v1=0]{temp_name}|[f=mp3:id3v2_version=0]pipe:1"
    else:
        outputs = f"[f=mp4:movflags=+faststart]{temp_name}|[f=adts]pipe:1"
    return ["-map", "0:a", *codec_args(options), "-f", "tee", outputs]


def _encode(src, info: AudioInfo, options: AudioOptions, plan: GainPlan, work: Path,
            temp_name: str, on_time: Callable[[float], None]) -> LoudnessInfo:
    """Pass 2: decode+gain+limit | encode (tee) | measure, three processes on two cores."""
    shaping = (f"{layout_filter(info.channels, options.stereo)},aresample={OUTPUT_RATE},{FLOAT},"
               f"volume={plan.gain_db:.2f}dB,{limiter_filter(options, plan.cut_db)},volume={plan.makeup_db:.2f}dB,{FLOAT}")
    raw = ["-f", "f32le", "-ar", str(OUTPUT_RATE), "-ac", str(options.channels), "-i", "pipe:0"]
    runs: list[FfmpegRun] = []
    try:
        runs.append(FfmpegRun(["-f", info.container, "-i", absolute_arg(src), "-map", "0:a:0", "-af", shaping,
                               "-f", "f32le", "pipe:1"], stdout=subprocess.PIPE, what="decode the recording"))
        runs.append(FfmpegRun([*raw, *_encoder_args(options, temp_name)], stdin=runs[0].process.stdout,
                              stdout=subprocess.PIPE, cwd=work, what="encode the audio"))
        runs.append(FfmpegRun(["-f", "mp3" if options.format == "mp3" else "aac", "-i", "pipe:0",
                               "-af", f"ebur128=framelog=verbose,{true_peak_chain(OUTPUT_RATE)}",
                               "-f", "null", "-"], stdin=runs[1].process.stdout, what="measure the encoded audio"))
        # The children hold their own copies of the pipe ends; closing ours lets EOF and
        # broken pipes travel down and up the chain.
        runs[0].process.stdout.close()
        runs[1].process.stdout.close()
        for run in runs[1:]:
            run.follow_in_background()
        runs[0].follow(on_time)
        results = [run.finish() for run in runs]
    finally:
        for run in runs:
            run.kill()
    return loudness_from_log(results[2].stderr)


def _encode_within_peak(src, info: AudioInfo, options: AudioOptions, input_lufs: float, excerpts: Path,
                        work: Path, temp_name: str, on_time: Callable[[float], None]) -> tuple[LoudnessInfo, GainPlan]:
    """Calibrate and encode; if the whole recording still peaked over the limit (the excerpts
    missed its worst moment), lower the ceiling by the excess, recalibrate and encode again."""
    plan = choose_gain(input_lufs, excerpts, options)
    for _ in range(PEAK_ROUNDS):
        output = _encode(src, info, options, plan, work, temp_name, on_time)
        over = output.true_peak_dbtp - options.true_peak_limit
        if over <= 0:
            return output, plan
        plan = choose_gain(input_lufs, excerpts, options, plan.cut_db + over + CUT_MARGIN_DB)
    raise AudioError(f"The encoded audio still peaks at {output.true_peak_dbtp:.1f} dBTP, over the "
                     f"{options.true_peak_limit:.1f} dBTP limit, after {PEAK_ROUNDS} attempts.")


def _monotonic(progress: Callable[[float], None] | None) -> Callable[[float], None]:
    """Never report going backwards (an encode that must be redone restarts its clock)."""
    highest = -1.0

    def report(fraction: float) -> None:
        nonlocal highest
        if progress and fraction > highest:
            highest = fraction
            progress(fraction)

    return report


def normalize_and_encode(src: str | os.PathLike, dest_dir: str | os.PathLike, options: AudioOptions,
                  progress: Callable[[float], None] | None = None, *, name: str = "prepared") -> PreparedAudio:
    """Decode ``src``, bring it to the loudness target with true peak under the limit, and
    encode it (CBR MP3 or AAC/M4A, 44.1 kHz, mono unless ``options.stereo``) as
    ``dest_dir/<name>.<ext>``. ``progress`` receives 0..1 as the work advances.

    Raises InvalidUpload if ``src`` is not readable audio, AudioError if ffmpeg fails; a
    half-written output is never left behind.
    """
    report = _monotonic(progress)
    report(0.0)
    info = probe(src)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    scale = max(info.duration, 1.0)
    with tempfile.TemporaryDirectory(prefix="clinex-audio-", dir=dest_dir) as tmp:
        work = Path(tmp)
        excerpts = work / "excerpts.wav"
        measured = measure_input(src, info, options, excerpts, lambda t: report(MEASURE_SHARE * min(1.0, t / scale)))
        temp_name = f"out.{options.format}"
        output, plan = _encode_within_peak(src, info, options, measured.integrated_lufs, excerpts, work, temp_name,
                                           lambda t: report(MEASURE_SHARE + (1 - MEASURE_SHARE) * min(1.0, t / scale)))
        final = dest_dir / f"{name}.{options.format}"
        os.replace(work / temp_name, final)
    report(1.0)
    return PreparedAudio(final, probe(final), measured, output, CONTENT_TYPES[options.format], options.format,
                         plan.gain_db, plan.makeup_db)


# --------------------------------------------------------------------------- transcription input
