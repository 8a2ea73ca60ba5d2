"""Suggested tags: glossary terms the episode names, and free key phrases."""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Iterable

from ..text import slugify
from ..transcription.glossary import ordinary_words
from ..words import STOPWORDS, phrase_words, strip_front_matter, term_matcher
from .text import TAG_CATEGORIES, Segments


def glossary_hits(glossary, segments: Segments, notes_markdown: str) -> dict[str, tuple[object, int, int]]:
    """Term name -> (term, hits in the transcript, hits in the notes)."""
    matcher = term_matcher(glossary)
    heard = Counter(t.term for _s, _e, text in segments for t in matcher.find(text))
    written = Counter(t.term for t in matcher.find(strip_front_matter(notes_markdown)))
    terms = {t.term: t for t in matcher.forms.values()}
    return {name: (terms[name], heard[name], written[name]) for name in set(heard) | set(written)}


def suggest_tags(glossary, segments: Segments, notes_markdown: str, limit: int = 6,
                 exclude: Iterable[str] = (), keyphrases: int = 2) -> list[tuple[str, str, float]]:
    """(name, category, score 0-1) tag candidates, best first, at most ``limit``.

    Glossary terms of the tag categories that are said often or both said and written come
    first; free keyphrases of the notes that the speaker also uses (category "topic") fill up
    to ``keyphrases`` of the remaining places. Names in ``exclude`` (tags the episode already
    has) are never suggested, compared by slug.
    """
    taken = {slugify(n) for n in exclude}
    picked: list[tuple[str, str, float]] = []
    if glossary is not None:
        for name, (term, heard, written) in glossary_hits(glossary, segments, notes_markdown).items():
            if term.category not in TAG_CATEGORIES or slugify(name) in taken:
                continue
            if heard >= 2 or written >= 2 or (heard and written):
                weight = heard + 2 * written
                picked.append((_tag_name(name), term.category, round(1 - math.exp(-weight / 5), 3)))
    # Platforms and indications are what listeners follow as topics; they win ties.
    picked.sort(key=lambda p: (-p[2], TAG_CATEGORIES.index(p[1]), p[0]))
    picked = picked[:limit]
    taken |= {slugify(n) for n, _c, _s in picked}
    room = min(keyphrases, limit - len(picked))
    if room > 0:
        for phrase, score in free_keyphrases(segments, notes_markdown, glossary):
            if slugify(phrase) not in taken and not any(slugify(phrase) in t or t in slugify(phrase) for t in taken):
                picked.append((phrase, "topic", score))
                taken.add(slugify(phrase))
                room -= 1
            if room == 0:
                break
    return picked


def _tag_name(term: str) -> str:
    """Glossary spelling, with a capital first letter for lower-case words ("Rosacea")."""
    return term[0].upper() + term[1:] if term[:1].islower() else term


def free_keyphrases(segments: Segments, notes_markdown: str, glossary=None, top: int = 10
                    ) -> list[tuple[str, float]]:
    """RAKE-like phrases of one to three content words from the notes, scored by how often the
    notes and the transcript use them; a phrase the speaker never says is not a topic."""
    notes = strip_front_matter(notes_markdown)
    said = " " + " ".join(" ".join(phrase_words(t)) for _s, _e, t in segments) + " "
    written = " " + " ".join(phrase_words(notes)) + " "
    candidates: Counter = Counter()
    for chunk in re.split(r"[^A-Za-z0-9' -]+|\s-\s", notes):
        run: list[str] = []
        for w in phrase_words(chunk) + [""]:
            if w and w not in STOPWORDS and not w.isdigit() and len(w) > 2:
                run.append(w)
                continue
            for n in (1, 2, 3):
                for i in range(len(run) - n + 1):
                    candidates[" ".join(run[i:i + n])] += 1
            run = []
    glossary_forms = {" ".join(k) for k in term_matcher(glossary).forms} if glossary is not None else set()
    common = ordinary_words()
    scored = []
    for phrase in candidates:
        if phrase in glossary_forms:
            continue
        heard = said.count(f" {phrase} ")
        times = written.count(f" {phrase} ")
        n = phrase.count(" ") + 1
        if heard >= 2 and times >= 1 and (n > 1 or (heard >= 3 and phrase not in common)):
            scored.append((phrase, heard + 2 * times, n))
    scored.sort(key=lambda p: (-(p[1] * (1 + 0.5 * (p[2] - 1))), p[0]))
    out = []
    for phrase, weight, n in scored:
        if any(phrase in kept or kept in phrase for kept, _s in out):
            continue
        out.append((phrase[0].upper() + phrase[1:], round(0.5 * (1 - math.exp(-weight / 6)), 3)))
        if len(out) == top:
            break
    return out
