"""Chapters: the notes' sections where they were found, else topic shifts in the transcript."""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections import Counter

from ..words import STOPWORDS, stem, term_matcher
from .alignment import align_notes, doc_sections, is_document_title
from .text import MIN_CONFIDENCE, TOPIC_MIN_SECONDS, Segments, TermSpace, cosine, span_tokens, term_token, tokens


def suggest_chapters(notes_markdown: str, segments: Segments, duration: float, glossary=None
                     ) -> list[tuple[float, str, float, str]]:
    """(start, title, confidence, source) chapters, ascending, the first at 0, all before
    ``duration``.

    From the notes' headings when at least two sections are anchored with confidence (source
    "notes"); otherwise from topic shifts in the transcript (source "topics"). An empty
    transcript gives no chapters.
    """
    if not segments:
        return []
    duration = max(duration or 0.0, segments[-1][1])
    sections = doc_sections(notes_markdown)
    anchors = [a for a in align_notes(notes_markdown, segments, glossary) if a.kind == "section"]
    found = [(a.start, sections[a.position].title, a.confidence) for a in anchors
             if a.start is not None and a.confidence >= MIN_CONFIDENCE and sections[a.position].title
             and not is_document_title(sections, a.position)]
    if len(found) < 2:
        return topic_chapters(segments, duration, glossary)
    chapters: list[list] = []
    for start, title, confidence in sorted(found):
        if chapters and start - chapters[-1][0] < 1.0:
            continue  # two headings on the same moment: keep the first
        chapters.append([start, title, confidence, "notes"])
    if chapters[0][0] > max(30.0, 0.05 * duration):
        chapters.insert(0, [0.0, "Introduction", chapters[0][2], "notes"])
    chapters[0][0] = 0.0
    return [(round(s, 2), t, c, src) for s, t, c, src in chapters if s < duration]


def topic_chapters(segments: Segments, duration: float, glossary=None
                   ) -> list[tuple[float, str, float, str]]:
    """Chapters at topic shifts, titled by their key terms: (start, title, confidence, "topics").

    At each segment boundary the minute before is compared with the minute after; boundaries
    at the deepest similarity dips (TextTiling depth scores) start chapters, no closer than
    ``max(TOPIC_MIN_SECONDS, duration / 15)``. Always at least one chapter at 0 when there is speech.
    """
    segments = [s for s in segments if s[2].strip()]
    if not segments:
        return []
    duration = max(duration or 0.0, segments[-1][1])
    seg_tokens = [tokens(t, glossary) for _s, _e, t in segments]
    space = TermSpace(seg_tokens)
    block = min(60.0, max(15.0, duration / 8))
    gaps = _gap_similarities(segments, seg_tokens, space, block)
    min_len = max(TOPIC_MIN_SECONDS, duration / 15)
    cuts = _deep_dips(gaps, segments, min_len, duration)
    starts = [0] + cuts
    chapters = []
    for n, first in enumerate(starts):
        last = starts[n + 1] - 1 if n + 1 < len(starts) else len(segments) - 1
        title = _key_terms_title(segments, seg_tokens, space, first, last, glossary)
        confidence = 1.0 if n == 0 else gaps[first][1]
        chapters.append((0.0 if n == 0 else round(segments[first][0], 2), title, round(confidence, 3), "topics"))
    return chapters


def _gap_similarities(segments, seg_tokens, space, block: float) -> dict[int, tuple[float, float]]:
    """For each boundary before segment g: (similarity of the blocks around it, depth score)."""
    starts = [s for s, _e, _t in segments]
    sims: dict[int, float] = {}
    for g in range(1, len(segments)):
        t = starts[g]
        left = span_tokens(seg_tokens, bisect_left(starts, t - block), g - 1)
        right = span_tokens(seg_tokens, g, bisect_left(starts, t + block) - 1)
        sims[g] = cosine(space.vector(left), space.vector(right)) if left and right else 1.0
    keys = sorted(sims)
    out = {}
    for n, g in enumerate(keys):
        left_peak = right_peak = sims[g]
        for m in range(n - 1, -1, -1):  # climb to the nearest peak on each side
            if sims[keys[m]] < left_peak:
                break
            left_peak = sims[keys[m]]
        for m in range(n + 1, len(keys)):
            if sims[keys[m]] < right_peak:
                break
            right_peak = sims[keys[m]]
        out[g] = (sims[g], (left_peak - sims[g]) + (right_peak - sims[g]))
    return out


def _deep_dips(gaps, segments, min_len: float, duration: float) -> list[int]:
    if not gaps:
        return []
    depths = [d for _s, d in gaps.values()]
    mean = sum(depths) / len(depths)
    std = math.sqrt(sum((d - mean) ** 2 for d in depths) / len(depths))
    cutoff = max(mean + std / 2, 0.05)  # Hearst's liberal cut-off, made a little stricter
    chosen: list[int] = []
    for g, (_sim, depth) in sorted(gaps.items(), key=lambda item: -item[1][1]):
        t = segments[g][0]
        if depth < cutoff or len(chosen) >= int(duration // TOPIC_MIN_SECONDS):
            break
        if t < min_len or duration - t < min_len:
            continue
        if all(abs(t - segments[c][0]) >= min_len for c in chosen):
            chosen.append(g)
    return sorted(chosen)


def _key_terms_title(segments, seg_tokens, space, first: int, last: int, glossary, count: int = 3) -> str:
    """The chapter's most distinctive terms, glossary terms first, as a short title."""
    counts: Counter = Counter(t for toks in seg_tokens[first:last + 1] for t in toks)
    surface = _surface_forms(" ".join(t for _s, _e, t in segments[first:last + 1]), glossary)
    ranked = sorted(counts, key=lambda t: -(1 + math.log(counts[t])) * space.idf(t) * (2 if t.startswith("g:") else 1))
    names: list[str] = []
    for tok in ranked:
        name = surface.get(tok)
        if name and len(tok) > 3 and name.lower() not in {n.lower() for n in names}:
            names.append(name)
        if len(names) == count:
            break
    if not names:
        return "Part"
    title = ", ".join(names)
    return title[0].upper() + title[1:]


def _surface_forms(text: str, glossary) -> dict[str, str]:
    """Token -> how it is most often written (glossary terms as spelled in the glossary)."""
    seen: dict[str, Counter] = {}
    for raw in re.findall(r"[A-Za-z0-9]+(?:'[a-z]+)?", text):
        low = raw.lower()
        if low in STOPWORDS or len(low) < 2:
            continue
        seen.setdefault(stem(low), Counter())[low] += 1
    forms = {tok: c.most_common(1)[0][0] for tok, c in seen.items()}
    if glossary is not None:
        for term in term_matcher(glossary).find(text):
            forms[term_token(term)] = term.term
    return forms
