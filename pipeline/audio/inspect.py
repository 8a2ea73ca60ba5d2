"""Is this upload a recording we can publish? Sniffing, probing and validation, with the
messages a summarizer sees when it is not."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

from ..errors import InvalidUpload
from .ffmpeg import absolute_arg, last_number, run_counting_errors
from .types import SILENCE_PEAK_DB, SILENCE_RMS_DB, TINY_MEDIA_BYTES, AudioInfo

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
        ["-f", info.container, "-i", absolute_arg(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
         "-af", stats, "-f", "null", "-"],
        what="decode the recording",
    )
    text = "\n".join(run.lines)
    samples = last_number(r"Number of samples:\s*(\d+)", text) or 0.0
    return DecodeCheck(
        duration=samples / info.sample_rate if info.sample_rate else 0.0,
        peak_db=last_number(r"Peak level dB:\s*(\S+)", text, default=-math.inf),
        rms_db=last_number(r"RMS level dB:\s*(\S+)", text, default=-math.inf),
        errors=run.error_count + (run.process.returncode != 0),
    )
