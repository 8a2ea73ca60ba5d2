"""Tie the summary notes to the recording: chapters from sections, tags from glossary hits.

This is the first, simple pairing (BM25 over sliding transcript windows, monotonic for
sections); it is deepened by the pairing issue.
"""

from __future__ import annotations

import re
from collections import Counter

from .notes import split_sections

_WORD = re.compile(r"[a-z0-9]+")
WINDOW_SECONDS = 30.0
MIN_CONFIDENCE = 0.2


def tokens(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if len(w) > 2]


def windows(segments: list[tuple[float, float, str]], size: float = WINDOW_SECONDS) -> list[tuple[float, str]]:
    """Overlapping windows (start, text), one starting at each segment, each about ``size`` long."""
    out = []
    for i, (start, _end, _text) in enumerate(segments):
        parts = [t for s, _e, t in segments[i:] if s < start + size]
        out.append((start, " ".join(parts)))
    return out


def suggest_chapters(notes_markdown: str, segments, duration: float) -> list[tuple[float, str, float, str]]:
    """(start, title, confidence, source) for each notes section confidently found in order."""
    from rank_bm25 import BM25Okapi

    sections = [s for s in split_sections(notes_markdown) if s.title]
    if not sections or not segments:
        return []
    wins = windows(segments)
    bm25 = BM25Okapi([tokens(t) or ["_"] for _s, t in wins])
    chapters, floor = [], 0
    for section in sections:
        query = tokens(f"{section.title} {section.title} {section.body} {' '.join(section.bullets)}")
        if not query:
            continue
        scores = bm25.get_scores(query)
        best = max(range(floor, len(wins)), key=lambda i: scores[i], default=None)
        if best is None:
            break
        top = max(scores) or 1.0
        confidence = float(scores[best] / top) if scores[best] > 0 else 0.0
        if confidence >= MIN_CONFIDENCE:
            chapters.append([wins[best][0], section.title, confidence, "notes"])
            floor = best + 1
    if chapters:
        chapters[0][0] = 0.0  # the first chapter starts the episode
    return [tuple(c) for c in chapters if c[0] < max(duration, 1)]


def suggest_tags(glossary, segments, notes_markdown: str, limit: int = 6) -> list[tuple[str, str, float]]:
    """(name, category, score) for glossary terms heard or written often enough to be a topic."""
    text = " ".join(t for _s, _e, t in segments) + " " + notes_markdown
    lowered = f" {' '.join(_WORD.findall(text.lower()))} "
    counts: Counter = Counter()
    categories = {}
    for term in glossary.terms:
        if term.category not in ("platform", "procedure", "indication", "product", "complication"):
            continue
        needle = f" {' '.join(_WORD.findall(term.term.lower()))} "
        if needle.strip() and (n := lowered.count(needle)):
            counts[term.term] = n
            categories[term.term] = term.category
    return [(name, categories[name], float(n)) for name, n in counts.most_common(limit) if n >= 2]
