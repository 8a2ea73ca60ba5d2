"""Small text helpers shared by the pipeline."""

from __future__ import annotations

import re
import unicodedata


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
