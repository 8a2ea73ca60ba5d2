"""Small text helpers shared by the pipeline."""

from __future__ import annotations

import re
import unicodedata


# Embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): in a comment or a
# title they can make text read backwards or spill into what follows. The marks U+200E/U+200F
# stay: right-to-left writing needs them and they reorder nothing around them.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(value):
    """``value`` without bidirectional embedding/override/isolate controls; lists of strings and
    anything that is not text are handled too (non-text comes back unchanged)."""
    if isinstance(value, str):
        return BIDI_CONTROLS.sub("", value)
    if isinstance(value, list):
        return [strip_bidi_controls(v) for v in value]
    return value


def slugify(value: str, max_length: int = 80) -> str:
    """ASCII, lower-case, hyphen-separated; never empty."""
    value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-")
    return value[:max_length].rstrip("-") or "untitled"


def format_timestamp(seconds: float) -> str:
    """12:34 or 1:02:03."""
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def parse_timestamp(value: str) -> float:
    """'12:34', '1:02:03' or '95' to seconds; raises ValueError on anything else."""
    parts = value.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(f"not a timestamp: {value!r}")
    total = 0
    for part in parts:
        total = total * 60 + int(part)
    return float(total)
