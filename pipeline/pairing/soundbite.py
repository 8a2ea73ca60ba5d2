"""A soundbite: the 15-60 s stretch densest in the episode's terms and closest to its notes."""

from __future__ import annotations

from ..words import term_matcher
from .alignment import doc_sections
from .text import Segments, TermSpace, cosine, span_tokens, tokens

SOUNDBITE_MIN, SOUNDBITE_MAX, SOUNDBITE_IDEAL = 15.0, 60.0, 30.0

def suggest_soundbite(segments: Segments, notes_markdown: str, glossary) -> tuple[float, float] | None:
    """(start, duration) of one 15-60 s passage made of whole segments, dense in glossary terms
    and close to the notes' bullets (or headings); None when no such passage exists."""
    segments = [s for s in segments if s[2].strip()]
    if not segments:
        return None
    sections = doc_sections(notes_markdown)
    points = [b for s in sections for b in s.bullets] or [s.title + " " + s.body for s in sections]
    matcher = term_matcher(glossary)
    seg_tokens = [tokens(t, glossary) for _s, _e, t in segments]
    space = TermSpace(seg_tokens)
    point_vecs = [space.vector(tokens(p, glossary)) for p in points if p.strip()]
    seg_terms = [[t.term for t in matcher.find(text)] for _s, _e, text in segments]
    best, best_score = None, -1.0
    for i, (start, _e, _t) in enumerate(segments):
        for j in range(i, min(len(segments), i + 40)):
            length = segments[j][1] - start
            if length > SOUNDBITE_MAX:
                break
            if length < SOUNDBITE_MIN:
                continue
            terms = [t for names in seg_terms[i:j + 1] for t in names]
            density = len(terms) / length * 30 + 0.5 * len(set(terms))
            vec = space.vector(span_tokens(seg_tokens, i, j))
            closeness = max((cosine(vec, p) for p in point_vecs), default=0.0)
            shape = 1.0 - abs(length - SOUNDBITE_IDEAL) / (2 * SOUNDBITE_MAX)
            score = (min(density, 6.0) / 6.0 + 2 * closeness) * shape
            if score > best_score:
                best, best_score = (round(start, 2), round(length, 2)), score
    return best
