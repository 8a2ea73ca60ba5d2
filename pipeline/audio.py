"""Audio: probe and validate uploads, measure loudness, prepare the published file.

Everything long runs through ffmpeg processes and pipes, so memory stays bounded whatever the
length of the recording; Python only reads the filters' summaries from ffmpeg's log.

How ``prepare_audio`` reaches the loudness target quickly (a two-pass ``loudnorm`` resamples to
192 kHz and is slow): one pass measures the input's integrated loudness and keeps about two
minutes of excerpts; the excerpts tell how much loudness the limiter will take away at the chosen
gain, which is added back; a second pass applies gain and limiter, encodes, and measures the
encoded stream at the same time in a third process.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .errors import AudioError, ConfigError, InvalidUpload
from .ffmpeg import FfmpegRun, run_counting_errors, run_ffmpeg
from .id3 import Chapter, EpisodeTags  # re-exported: tags travel with the audio

OUTPUT_RATE = 44100
# The limiter works on samples; lossy encoding and inter-sample peaks add a few tenths of a dB.
# With 0.7 the encoded peaks of a long lecture still went over the limit now and then, and the
# whole file had to be encoded a second time; 1.0 costs nothing audible on speech.
PEAK_MARGIN_DB = 1.0
PEAK_ROUNDS = 3
CUT_MARGIN_DB = 0.2
MAX_GAIN_DB = 40.0
MAX_MAKEUP_DB = 2.0
# A recording is silent when nothing in it rises above -50 dBFS or its average stays below -70 dBFS.
SILENCE_PEAK_DB = -50.0
SILENCE_RMS_DB = -70.0
EXCERPTS = 12
CALIBRATION_STEPS = (0.0, 1.0, 2.0, 3.5, 5.0)
TINY_MEDIA_BYTES = 4096
EXCERPT_SECONDS = 5.0
MEASURE_SHARE = 0.25  # of the progress bar, for the measuring pass

# Pinned after every resampler: left free, ffmpeg may negotiate 16-bit integer there, and
# a hot recording would be clipped before the gain brings it down.
FLOAT = "aformat=sample_fmts=flt"

CONTENT_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4"}


@dataclass(frozen=True)
class AudioInfo:
    """Facts about one file's first audio stream. ``duration`` is 0.0 when unknown."""

    container: str
    codec: str
    duration: float
    sample_rate: int
    channels: int
    bitrate: int | None
    size: int


@dataclass(frozen=True)
class LoudnessInfo:
    """EBU R128 integrated loudness (LUFS), true peak (dBTP) and loudness range (LU)."""

    integrated_lufs: float
    true_peak_dbtp: float
    loudness_range: float | None


@dataclass(frozen=True)
class AudioOptions:
    """How published audio is made; stored with the media row."""

    loudness_target: float = -16.0
    true_peak_limit: float = -1.0
    bitrate_kbps: int = 64
    stereo: bool = False
    format: str = "mp3"
    # LAME's -q (0 slowest and best .. 9 fastest). 7 encodes a 64 kbit/s mono lecture about 1.8x
    # faster than LAME's default 5 (the encode is most of prepare_audio's time).
    mp3_quality: int = 7

    def __post_init__(self):
        if self.format not in CONTENT_TYPES:
            raise ConfigError(f"Audio format must be mp3 or m4a, not {self.format!r}.")
        if not 0 <= self.mp3_quality <= 9:
            raise ConfigError(f"MP3 encoder quality must be between 0 (best) and 9 (fastest), not {self.mp3_quality}.")
        if not 16 <= self.bitrate_kbps <= 320:
            raise ConfigError(f"Audio bitrate must be between 16 and 320 kbit/s, not {self.bitrate_kbps}.")

    @classmethod
    def from_settings(cls, settings) -> "AudioOptions":
        return cls(
            loudness_target=float(settings.LOUDNESS_TARGET),
            true_peak_limit=float(settings.TRUE_PEAK_LIMIT),
            bitrate_kbps=int(settings.AUDIO_BITRATE),
            stereo=bool(settings.AUDIO_STEREO),
            format=str(settings.AUDIO_FORMAT).lower(),
            mp3_quality=int(settings.AUDIO_MP3_QUALITY),
        )

    @property
    def channels(self) -> int:
        return 2 if self.stereo else 1


@dataclass(frozen=True)
class PreparedAudio:
    path: Path
    info: AudioInfo
    input_loudness: LoudnessInfo
    output_loudness: LoudnessInfo
    content_type: str
    extension: str
    gain_db: float = 0.0  # applied before the limiter
    makeup_db: float = 0.0  # applied after it, for the level the encoder loses


# --------------------------------------------------------------------------- messages

def _say_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def _say_size(size: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}".replace(".0 ", " ")
    return f"{size} bytes"


MSG_EMPTY = "The file is empty; please upload the recording again."
MSG_TOO_LARGE = "The file is {size} and uploads are limited to {limit}; please split or compress the recording."
MSG_NOT_AUDIO = "This file is {kind}, not an audio recording."
MSG_UNREADABLE = "This file is not an audio or video recording that we can read."
MSG_DAMAGED_CONTAINER = "This file looks like {kind} but is damaged or incomplete, so it cannot be read."
MSG_NO_AUDIO = "The file has no sound track, so there is nothing to publish."
MSG_ZERO_LENGTH = "The recording contains no audio at all (its length is zero)."
MSG_TRUNCATED = "The recording is cut short or damaged: only {got} of its {declared} could be decoded, so please upload the complete file."
MSG_UNDECODABLE = "The audio in this file is damaged and could not be decoded."
MSG_TOO_LONG = "The recording is {duration} long and recordings are limited to {limit}."
MSG_SILENT = "The recording is silent from start to end; please check that the right file was uploaded."


# --------------------------------------------------------------------------- sniffing

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or Office document"),
    (b"{\\rtf", "a text document"),
)
_AUDIO_MAGIC = (
    (b"ID3", "an MP3 file"), (b"fLaC", "a FLAC file"), (b"OggS", "an Ogg file"),
    (b"RIFF", "a WAV file"), (b"\x1aE\xdf\xa3", "a WebM/Matroska file"),
)


def sniff_non_audio(head: bytes) -> str | None:
    """Describe ``head`` (a file's first bytes) if it is plainly not media, else None."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if _looks_like_text(head):
        lowered = head[:512].lower()
        return "a web page (HTML)" if b"<html" in lowered or b"<!doctype" in lowered else "a text file"
    return None


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", "ignore")
    # Cutting the sample can split one multi-byte character; real binary loses far more.
    if len(text.encode("utf-8")) < len(head) - 3:
        return False
    printable = sum(ch.isprintable() or ch in "\t\r\n\f" for ch in text)
    return printable >= 0.97 * len(text)


def _describe_media(head: bytes) -> str | None:
    for magic, kind in _AUDIO_MAGIC:
        if head.startswith(magic):
            return kind
    if head[4:8] == b"ftyp":
        return "an MP4/M4A file"
    return None


def _read_head(path: str | os.PathLike, size: int = 4096) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(size)


# --------------------------------------------------------------------------- probing

def probe(path: str | os.PathLike) -> AudioInfo:
    """Container, codec, duration, rate, channels and bitrate of the first audio stream.

    Uses PyAV (FFmpeg's libraries, bundled with the ``av`` wheel); detection is by content,
    not by file name. Raises InvalidUpload when the file cannot be opened or has no audio.
    """
    import av

    try:
        with av.open(os.fspath(path), metadata_errors="ignore") as container:
            return _info_from(container, os.path.getsize(path))
    except av.error.FFmpegError:
        raise InvalidUpload(_unreadable_message(path)) from None


def _unreadable_message(path: str | os.PathLike) -> str:
    kind = _describe_media(_read_head(path))
    if not kind:
        return MSG_UNREADABLE
    # Headers and no frames (an export stopped at once, a tag with nothing after it) is the
    # usual reason a tiny media file cannot be opened.
    return MSG_ZERO_LENGTH if os.path.getsize(path) <= TINY_MEDIA_BYTES else MSG_DAMAGED_CONTAINER.format(kind=kind)


def _info_from(container, size: int) -> AudioInfo:
    if not container.streams.audio:
        raise InvalidUpload(MSG_NO_AUDIO)
    stream = container.streams.audio[0]
    ctx = stream.codec_context
    return AudioInfo(
        container=container.format.name.split(",")[0],
        codec=ctx.codec.canonical_name if ctx.codec else ctx.name,
        duration=_declared_duration(container, stream) or 0.0,
        sample_rate=int(ctx.sample_rate or 0),
        channels=int(ctx.channels or 0),
        bitrate=int(stream.bit_rate or container.bit_rate or 0) or None,
        size=size,
    )


def _declared_duration(container, stream) -> float | None:
    """What the headers promise for the audio. A video's length is not the audio's, so with
    a video stream present only the audio stream's own duration counts."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration and not container.streams.video:
        return container.duration / 1_000_000
    return None


# --------------------------------------------------------------------------- validation

@dataclass(frozen=True)
class DecodeCheck:
    """What a full decode found: seconds of audio, peak and RMS level (dBFS), decoder errors."""

    duration: float
    peak_db: float
    rms_db: float
    errors: int


def validate_upload(path: str | os.PathLike, *, filename: str, max_bytes: int,
                    max_duration: float) -> AudioInfo:
    """Check an upload by its content and return its AudioInfo (duration as decoded).

    ``filename`` is the untrusted client name; it is never used to open or identify the file.
    Raises InvalidUpload, with one sentence for the summarizer, when the file is empty, too
    large, not audio (text, web page, image, document), unreadable or damaged, has no sound
    track, is cut short, has zero length, is too long, or is silent.
    """
    size = os.path.getsize(path)
    if size == 0:
        raise InvalidUpload(MSG_EMPTY)
    if size > max_bytes:
        raise InvalidUpload(MSG_TOO_LARGE.format(size=_say_size(size), limit=_say_size(max_bytes)))
    kind = sniff_non_audio(_read_head(path))
    if kind:
        raise InvalidUpload(MSG_NOT_AUDIO.format(kind=kind))
    info = probe(path)
    _check_length(info.duration, max_duration)
    check = decode_check(path, info)
    _judge_decode(info, check, max_duration)
    return replace(info, duration=check.duration)


def _check_length(duration: float, max_duration: float) -> None:
    if duration > max_duration:
        raise InvalidUpload(MSG_TOO_LONG.format(duration=_say_duration(duration), limit=_say_duration(max_duration)))


def _judge_decode(info: AudioInfo, check: DecodeCheck, max_duration: float) -> None:
    if check.duration <= 0:
        raise InvalidUpload(MSG_UNDECODABLE if check.errors else MSG_ZERO_LENGTH)
    declared = info.duration
    # A few frames of slack: encoders pad, containers round.
    if declared and check.duration < declared - max(1.0, 0.02 * declared):
        raise InvalidUpload(MSG_TRUNCATED.format(got=_say_duration(check.duration), declared=_say_duration(declared)))
    _check_length(check.duration, max_duration)
    if is_silent(check.peak_db, check.rms_db):
        raise InvalidUpload(MSG_SILENT)


def is_silent(peak_db: float, rms_db: float) -> bool:
    """True when a recording has nothing anyone would hear (see SILENCE_* for the thresholds)."""
    return peak_db < SILENCE_PEAK_DB or rms_db < SILENCE_RMS_DB


def decode_check(path: str | os.PathLike, info: AudioInfo) -> DecodeCheck:
    """Decode the whole first audio stream (streamed, nothing kept) and report what came out.

    Never raises for bad audio: ``duration`` 0.0 and ``errors`` tell the caller.
    """
    stats = "astats=measure_perchannel=none:measure_overall=Peak_level+RMS_level+Number_of_samples"
    run = run_counting_errors(
        # -f: the demuxer PyAV found by content, so the CLI cannot guess from the extension.
        ["-f", info.container, "-i", _abs(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
         "-af", stats, "-f", "null", "-"],
        what="decode the recording",
    )
    text = "\n".join(run.lines)
    samples = _number(r"Number of samples:\s*(\d+)", text) or 0.0
    return DecodeCheck(
        duration=samples / info.sample_rate if info.sample_rate else 0.0,
        peak_db=_number(r"Peak level dB:\s*(\S+)", text, default=-math.inf),
        rms_db=_number(r"RMS level dB:\s*(\S+)", text, default=-math.inf),
        errors=run.error_count + (run.process.returncode != 0),
    )


def _abs(path: str | os.PathLike) -> str:
    # Absolute, so a name starting with "-" can never read as an option.
    return os.fspath(Path(path).absolute())


def _number(pattern: str, text: str, default: float | None = None) -> float | None:
    matches = re.findall(pattern, text)
    if not matches:
        return default
    try:
        return float(matches[-1])
    except ValueError:
        return default


# --------------------------------------------------------------------------- loudness

def _parse_ebur128(text: str) -> tuple[float, float | None, float | None]:
    """(integrated LUFS, loudness range LU, true peak dBFS) from ebur128's summary."""
    text = _without_progress(text)
    summary = text[text.rfind("Summary:"):]
    integrated = _number(r"\bI:\s+(\S+) LUFS", summary)
    if integrated is None:
        raise AudioError("ffmpeg did not report the loudness of the audio.")
    return integrated, _number(r"LRA:\s+(\S+) LU\b", summary), _number(r"Peak:\s+(\S+) dBFS", summary)


def measure_loudness(path: str | os.PathLike) -> LoudnessInfo:
    """EBU R128 integrated loudness, loudness range and true peak of the first audio stream,
    measured by ffmpeg's ``ebur128=peak=true`` (the reference; about 10 s per hour of audio).

    Raises AudioError when ffmpeg cannot decode the file.
    """
    result = run_ffmpeg(
        ["-i", _abs(path), "-map", "0:a:0", "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"],
        what="measure the loudness",
    )
    integrated, lra, peak = _parse_ebur128(result.stderr)
    return LoudnessInfo(integrated, peak if peak is not None else -math.inf, lra)


def _true_peak_chain(sample_rate: int) -> str:
    """Filters that measure true peak as BS.1770 defines it: the peak of the signal oversampled
    four times. Much cheaper than ebur128's own, which resamples to 192 kHz in double precision."""
    return (f"aresample={4 * sample_rate},{FLOAT},"
            "astats=measure_perchannel=none:measure_overall=Peak_level")


def _loudness_from_log(text: str) -> LoudnessInfo:
    integrated, lra, _ = _parse_ebur128(text)
    peak = _number(r"Peak level dB:\s*(\S+)", text, default=-math.inf)
    return LoudnessInfo(integrated, peak, lra)


# --------------------------------------------------------------------------- preparing

def _layout_filter(channels: int, stereo: bool) -> str:
    """Bring any channel count to the published layout. An explicit pan works even when the
    file declares no channel layout, where ffmpeg's automatic downmix gives up."""
    if stereo:
        pan = "pan=stereo|c0=c0|c1=c0" if channels == 1 else "aformat=channel_layouts=stereo"
    elif channels <= 1:
        pan = "pan=mono|c0=c0"
    else:
        pan = "pan=mono|c0=" + "+".join(f"{1.0 / channels:.6g}*c{i}" for i in range(channels))
    return f"{FLOAT},{pan},{FLOAT}"


def _limiter(options: AudioOptions, cut_db: float = 0.0) -> str:
    ceiling = 10 ** ((options.true_peak_limit - PEAK_MARGIN_DB - cut_db) / 20)
    ceiling = min(1.0, max(0.0625, ceiling))
    # level=0: alimiter otherwise re-normalises its output up to the ceiling.
    # latency=1: compensate the look-ahead, so the output keeps the input's length and sync.
    return f"alimiter=limit={ceiling:.5f}:attack=5:release=50:level=0:latency=1"


def _excerpt_select(duration: float) -> str:
    """Keep EXCERPTS windows of EXCERPT_SECONDS spread over the recording (all of a short one).

    Window starts follow the golden ratio rather than a fixed period, so a recording with a
    repeating structure (a looped jingle, a test signal) is not sampled at the same phase."""
    if duration <= EXCERPTS * EXCERPT_SECONDS * 1.5:
        return ""
    span = duration - EXCERPT_SECONDS
    starts = sorted(span * ((0.1 + index * 0.6180339887) % 1.0) for index in range(EXCERPTS))
    windows = "+".join(f"between(t,{start:.2f},{start + EXCERPT_SECONDS:.2f})" for start in starts)
    return f"aselect='{windows}',asetpts=N/SR/TB,"


def _measure_input(src, info: AudioInfo, options: AudioOptions, excerpts: Path,
                   on_time: Callable[[float], None]) -> LoudnessInfo:
    """Pass 1: loudness and true peak of the input as it will be published (after the downmix,
    because that is what the gain applies to), plus excerpts at the output rate for calibration."""
    graph = (
        f"[0:a:0]{_layout_filter(info.channels, options.stereo)},asplit=2[m][x];"
        f"[m]ebur128=framelog=verbose,{_true_peak_chain(info.sample_rate)}[mo];"
        f"[x]{_excerpt_select(info.duration)}aresample={OUTPUT_RATE},{FLOAT}[xo]"
    )
    result = run_ffmpeg(
        ["-f", info.container, "-i", _abs(src), "-filter_complex", graph,
         "-map", "[mo]", "-f", "null", "-", "-map", "[xo]", "-c:a", "pcm_f32le", "-y", str(excerpts)],
        on_time=on_time, what="measure the loudness of the recording",
    )
    return _loudness_from_log(result.stderr)


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
    branches = [f"[s{i}]volume={nominal + step:.2f}dB,{_limiter(options)},ebur128=framelog=verbose[o{i}]"
                for i, step in enumerate(steps)]
    labels = "".join(f"[s{i}]" for i in range(len(steps)))
    graph = f"[0:a]asplit={len(steps) + 1}[base]{labels};[base]ebur128=framelog=verbose[ob];" + ";".join(branches)
    maps = [arg for i in ["b", *range(1, len(steps))] for arg in ("-map", f"[o{i}]")]
    result = run_ffmpeg(["-i", str(excerpts), "-filter_complex", graph, *maps, "-f", "null", "-",
                         "-map", "[o0]", *_codec_args(options), "-y", str(encoded)],
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
    return [_number(r"\bI:\s+(\S+) LUFS", blocks[index], default=-math.inf) for index in sorted(blocks)]


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
    result = run_ffmpeg(["-i", str(encoded), "-af", f"ebur128=framelog=verbose,{_true_peak_chain(OUTPUT_RATE)}",
                         "-f", "null", "-"], what="measure the encoded excerpts")
    loudness = _loudness_from_log(result.stderr)
    lost = pcm_lufs - loudness.integrated_lufs
    makeup = max(-MAX_MAKEUP_DB, min(MAX_MAKEUP_DB, lost)) if math.isfinite(lost) else 0.0
    return makeup, loudness.true_peak_dbtp


def _codec_args(options: AudioOptions) -> list[str]:
    bitrate = f"{options.bitrate_kbps}k"
    if options.format == "mp3":
        # CBR (a bitrate and no quality scale), so time-to-byte seeking is exact in every player.
        return ["-c:a", "libmp3lame", "-b:a", bitrate, "-compression_level", str(options.mp3_quality)]
    return ["-c:a", "aac", "-b:a", bitrate]


def _encoder_args(options: AudioOptions, temp_name: str) -> list[str]:
    """Encode once, write the file (seekable, so the MP3 Info header / MP4 index get written)
    and copy the same stream to stdout for the measuring process."""
    if options.format == "mp3":
        outputs = f"[f=mp3:id3v2_version=0:write_id3v1=0]{temp_name}|[f=mp3:id3v2_version=0]pipe:1"
    else:
        outputs = f"[f=mp4:movflags=+faststart]{temp_name}|[f=adts]pipe:1"
    return ["-map", "0:a", *_codec_args(options), "-f", "tee", outputs]


def _encode(src, info: AudioInfo, options: AudioOptions, plan: GainPlan, work: Path,
            temp_name: str, on_time: Callable[[float], None]) -> LoudnessInfo:
    """Pass 2: decode+gain+limit | encode (tee) | measure, three processes on two cores."""
    shaping = (f"{_layout_filter(info.channels, options.stereo)},aresample={OUTPUT_RATE},{FLOAT},"
               f"volume={plan.gain_db:.2f}dB,{_limiter(options, plan.cut_db)},volume={plan.makeup_db:.2f}dB,{FLOAT}")
    raw = ["-f", "f32le", "-ar", str(OUTPUT_RATE), "-ac", str(options.channels), "-i", "pipe:0"]
    runs: list[FfmpegRun] = []
    try:
        runs.append(FfmpegRun(["-f", info.container, "-i", _abs(src), "-map", "0:a:0", "-af", shaping,
                               "-f", "f32le", "pipe:1"], stdout=subprocess.PIPE, what="decode the recording"))
        runs.append(FfmpegRun([*raw, *_encoder_args(options, temp_name)], stdin=runs[0].process.stdout,
                              stdout=subprocess.PIPE, cwd=work, what="encode the audio"))
        runs.append(FfmpegRun(["-f", "mp3" if options.format == "mp3" else "aac", "-i", "pipe:0",
                               "-af", f"ebur128=framelog=verbose,{_true_peak_chain(OUTPUT_RATE)}",
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
    return _loudness_from_log(results[2].stderr)


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


def prepare_audio(src: str | os.PathLike, dest_dir: str | os.PathLike, options: AudioOptions,
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
        measured = _measure_input(src, info, options, excerpts, lambda t: report(MEASURE_SHARE * min(1.0, t / scale)))
        temp_name = f"out.{options.format}"
        output, plan = _encode_within_peak(src, info, options, measured.integrated_lufs, excerpts, work, temp_name,
                                           lambda t: report(MEASURE_SHARE + (1 - MEASURE_SHARE) * min(1.0, t / scale)))
        final = dest_dir / f"{name}.{options.format}"
        os.replace(work / temp_name, final)
    report(1.0)
    return PreparedAudio(final, probe(final), measured, output, CONTENT_TYPES[options.format], options.format,
                         plan.gain_db, plan.makeup_db)


# --------------------------------------------------------------------------- transcription input

def decode_pcm16k(path: str | os.PathLike) -> np.ndarray:
    """The first audio stream as float32 mono samples at 16 kHz (what Whisper expects).

    Two hours are about 460 MB; the bytes are collected once and viewed, never copied again.
    Raises InvalidUpload if the file is not audio, AudioError if decoding fails.
    """
    info = probe(path)
    run = FfmpegRun(["-f", info.container, "-i", _abs(path), "-map", "0:a:0",
                     "-af", f"{_layout_filter(info.channels, False)},aresample=16000,{FLOAT}",
                     "-f", "f32le", "pipe:1"], stdout=subprocess.PIPE, what="decode the recording")
    try:
        run.follow_in_background()
        buffer = bytearray()
        while chunk := run.process.stdout.read(1 << 20):
            buffer += chunk
        run.process.stdout.close()
        run.finish()
    finally:
        run.kill()
    return np.frombuffer(buffer, dtype=np.float32)


__all__ = [
    "AudioInfo", "LoudnessInfo", "AudioOptions", "PreparedAudio", "DecodeCheck", "Chapter", "EpisodeTags",
    "probe", "validate_upload", "decode_check", "is_silent", "sniff_non_audio", "measure_loudness",
    "choose_gain", "prepare_audio", "decode_pcm16k",
]
