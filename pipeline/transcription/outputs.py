"""Transcript files: WebVTT, SRT, Podcasting 2.0 JSON and plain text, from segments."""

from __future__ import annotations

import json
from typing import Iterable

from .types import Segment


def _clock(seconds: float, separator: str) -> str:
    millis = int(round(max(seconds, 0.0) * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _cue_text(text: str) -> str:
    # A blank line ends a cue and "-->" starts a timing line, so neither may appear in text.
    return " ".join(text.split()).replace("-->", "->")


def _spoken(segments: Iterable[Segment]) -> list[Segment]:
    return [s for s in segments if s.text.strip()]


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(segments: Iterable[Segment]) -> str:
    """WebVTT; a known speaker becomes a ``<v Name>`` voice span."""
    lines = ["WEBVTT", ""]
    for number, seg in enumerate(_spoken(segments), 1):
        text = _escape_vtt(_cue_text(seg.text))
        if seg.speaker:
            text = f"<v {_escape_vtt(_cue_text(seg.speaker))}>{text}"
        lines += [str(number), f"{_clock(seg.start, '.')} --> {_clock(seg.end, '.')}", text, ""]
    return "\n".join(lines)


def to_srt(segments: Iterable[Segment]) -> str:
    """SubRip; the speaker, when known, leads the cue text as ``Name: ``."""
    blocks = []
    for number, seg in enumerate(_spoken(segments), 1):
        text = _cue_text(seg.text)
        if seg.speaker:
            text = f"{_cue_text(seg.speaker)}: {text}"
        blocks.append(f"{number}\n{_clock(seg.start, ',')} --> {_clock(seg.end, ',')}\n{text}\n")
    return "\n".join(blocks)


def to_json(segments: Iterable[Segment]) -> str:
    """Podcasting 2.0 JSON transcript (``version`` 1.0.0, ``segments`` with times in seconds)."""
    items = []
    for seg in _spoken(segments):
        item = {"startTime": round(seg.start, 3), "endTime": round(seg.end, 3), "body": seg.text.strip()}
        if seg.speaker:
            item["speaker"] = seg.speaker
        items.append(item)
    return json.dumps({"version": "1.0.0", "segments": items}, ensure_ascii=False, indent=1)


def to_text(segments: Iterable[Segment]) -> str:
    """Plain text, one line per segment; a blank line and ``Name:`` where the speaker changes."""
    lines: list[str] = []
    previous: object = None
    for seg in _spoken(segments):
        if seg.speaker != previous and seg.speaker:
            lines += ([""] if lines else []) + [f"{seg.speaker}:"]
        previous = seg.speaker
        lines.append(" ".join(seg.text.split()))
    return "\n".join(lines) + ("\n" if lines else "")


FORMATS = {
    "vtt": (to_vtt, "text/vtt"),
    "srt": (to_srt, "application/x-subrip"),
    "json": (to_json, "application/json"),
    "txt": (to_text, "text/plain"),
}

# Transcript file extension -> content type, in the order clients should prefer them.
CONTENT_TYPES = {ext: content_type for ext, (_render, content_type) in FORMATS.items()}
