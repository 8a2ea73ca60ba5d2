"""The episode's own vocabulary: the words to bias its transcription with."""

from __future__ import annotations

import re
from typing import Iterable

from ..words import STOPWORDS, phrase_words, stem, strip_front_matter, term_matcher
from .glossary import ordinary_words


def episode_vocabulary(notes_markdown: str, speakers: Iterable, event_name: str | None,
                       tags: Iterable[str], glossary, limit: int = 60) -> list[str]:
    """Words to bias transcription of one episode: speaker names, the event, the tags, the
    glossary terms the notes name, then the notes' rare words (those Whisper's vocabulary lacks
    as whole words, which it cannot spell unaided). Order is priority; no duplicates."""
    notes = strip_front_matter(notes_markdown or "")
    out: list[str] = []
    names = [getattr(s, "name", s) for s in speakers or ()]
    for item in [*names, event_name, *(tags or ())]:
        _add(out, item)
    if glossary is not None:
        for term in term_matcher(glossary).find(notes):
            _add(out, term.term)
    common = ordinary_words()
    known = {w.lower() for item in out for w in phrase_words(item)}
    for raw in re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", notes):
        low = raw.lower()
        parts = [p for p in re.split(r"[-']", low) if p]
        if len(low) < 4 or low in STOPWORDS or low in known or all(p in common or stem(p) in common for p in parts):
            continue
        known.add(low)
        _add(out, raw)
    return out[:limit]


def _add(out: list[str], item) -> None:
    item = " ".join(str(item or "").split())
    if item and item.lower() not in {o.lower() for o in out}:
        out.append(item)
