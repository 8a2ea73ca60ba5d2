"""Where each section and bullet of the notes is discussed in the recording (anchors).

Everything here is plain text work on transcript segments given as ``(start, end, text)``
tuples, so it runs on a database transcript, a JSON fixture or a fresh Whisper run alike.

How sections are found: every transcript segment, with a few seconds of context either side,
is compared with every section of the notes (TF-IDF cosine over lightly stemmed words; glossary
terms count as extra, heavily weighted tokens because they are what a paraphrase keeps). A
Viterbi-style dynamic programme then labels the segments with sections in the notes' order —
sections may be skipped, never revisited — and a section's anchor is the start of its first
segment. Bullets are then placed inside their section's stretch the same way, one window each,
in order. Without notes (or when too few sections are found), chapters come from topic shifts:
TextTiling-style dips in similarity between the minute before and the minute after each
segment boundary.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ..notes import Section, split_sections
from ..words import strip_front_matter, words
from .text import (BULLET_WINDOW_SECONDS, CONTEXT_SECONDS, CONTRAST_FLOOR, HEADING_BONUS, Segments, TermSpace,
                   context_tokens, cosine, span_tokens, tokens)


@dataclass
class AnchorResult:
    """Where a section or bullet of the notes is discussed; ``start`` is None when not found.

    ``position`` is the section's index in ``split_sections(notes)`` for sections, and the
    bullet's running index over the whole notes (document order) for bullets.
    """

    kind: str  # section | bullet
    position: int
    text: str
    start: float | None
    confidence: float



@dataclass
class _Block:
    label: int
    first: int  # segment indexes, inclusive
    last: int


def _label_segments(scores: list[list[float]]) -> list[int]:
    """Best monotonic labelling: segment i gets label L[i], non-decreasing, maximising the sum
    of scores[i][L[i]]. Labels may be skipped but never revisited (Viterbi over a left-to-right
    model with skips)."""
    n, k = len(scores), len(scores[0])
    best = [list(scores[0])]
    back: list[list[int]] = [[-1] * k]
    for i in range(1, n):
        prev = best[-1]
        row, ptr = [], []
        run_val, run_arg = -math.inf, 0
        for j in range(k):
            if prev[j] > run_val:
                run_val, run_arg = prev[j], j
            row.append(run_val + scores[i][j])
            ptr.append(run_arg)
        best.append(row)
        back.append(ptr)
    label = max(range(k), key=lambda j: best[-1][j])
    labels = [label]
    for i in range(n - 1, 0, -1):
        label = back[i][label]
        labels.append(label)
    return labels[::-1]


def _blocks(labels: list[int]) -> dict[int, _Block]:
    out: dict[int, _Block] = {}
    for i, label in enumerate(labels):
        if label in out:
            out[label].last = i
        else:
            out[label] = _Block(label, i, i)
    return out


def _block_confidence(scores: list[list[float]], block: _Block | None, k: int) -> float:
    """How much better section k matches its own stretch than the rest of the recording."""
    if block is None:
        return 0.0
    inside = [scores[i][k] for i in range(block.first, block.last + 1)]
    outside = [scores[i][k] for i in range(len(scores)) if not block.first <= i <= block.last]
    peak_in = max(inside)
    mean_in = sum(inside) / len(inside)
    mean_out = sum(outside) / len(outside) if outside else 0.0
    peak_out = max(outside, default=0.0)
    if peak_in <= 0.02:
        return 0.0
    contrast = (mean_in - mean_out) / (mean_in + mean_out + 1e-9)
    dominance = min(1.0, peak_in / (peak_out + 1e-9)) if peak_out > 0 else 1.0
    return round(max(0.0, min(1.0, 0.5 * contrast + 0.5 * dominance * min(1.0, peak_in / 0.15))), 3)


def _section_text(section: Section) -> str:
    return " ".join([section.title, section.title, section.body, *section.bullets])


def doc_sections(notes_markdown: str) -> list[Section]:
    return split_sections(strip_front_matter(notes_markdown))


def is_document_title(sections: list[Section], index: int) -> bool:
    """A lone level-1 heading over deeper ones names the talk, not a part of it."""
    return (index == 0 and sections[0].level == 1
            and any(s.level > 1 for s in sections[1:]) and all(s.level != 1 for s in sections[1:]))


def align_notes(notes_markdown: str, segments: Segments, glossary=None) -> list[AnchorResult]:
    """Anchor each section and bullet of the notes in the transcript.

    Returns one AnchorResult per section (in notes order) followed by one per bullet; a part
    that could not be placed has ``start`` None and confidence 0. Empty notes or an empty
    transcript give anchors with no start (or none at all). Never raises on odd input.
    """
    sections = doc_sections(notes_markdown)
    if not sections:
        return []
    segments = [s for s in segments if s[2].strip()]
    if not segments:
        return _unplaced(sections)
    seg_tokens = [tokens(t, glossary) for _s, _e, t in segments]
    space = TermSpace(seg_tokens)
    seg_vecs = [space.vector(context_tokens(segments, seg_tokens, i, CONTEXT_SECONDS)) for i in range(len(segments))]
    sec_vecs = [space.vector(tokens(_section_text(s), glossary)) for s in sections]
    scores = [[cosine(v, sv) for sv in sec_vecs] for v in seg_vecs]
    labels = _label_segments(_heading_bonus(_contrast(scores), sections, segments))
    blocks = _blocks(_snap_to_announcements(labels, sections, segments))
    results, spans = [], []
    for k, section in enumerate(sections):
        block = blocks.get(k)
        confidence = _block_confidence(scores, block, k) if sec_vecs[k] else 0.0
        start = segments[block.first][0] if block and confidence > 0 else None
        results.append(AnchorResult("section", k, section.title or section.body[:120], start, confidence))
        spans.append((block.first, block.last) if block else None)
    results += _align_bullets(sections, segments, seg_tokens, spans, space, glossary)
    return results


def _contrast(scores: list[list[float]]) -> list[list[float]]:
    """Each section's scores relative to its own background: (score - median) / (peak - median).

    A short or generic section (an introduction that names the main topic) resembles every
    segment a little; measured against its own median it no longer outbids the section that
    is actually being discussed. The floor on the range keeps a section that matches nothing
    well from having its noise blown up."""
    columns = list(zip(*scores))
    scaled = []
    for col in columns:
        ordered = sorted(col)
        median = ordered[len(ordered) // 2]
        span = max(ordered[-1] - median, CONTRAST_FLOOR)
        scaled.append([(v - median) / span for v in col])
    return [list(row) for row in zip(*scaled)]


def _heading_bonus(scores, sections, segments) -> list[list[float]]:
    """Speakers announce their sections ("now the treatment settings"): a segment that says all
    the words of a heading leans towards that section."""
    for k, section in enumerate(sections):
        for i, (_s, _e, text) in enumerate(segments):
            if _says_heading(section, text):
                scores[i][k] += HEADING_BONUS
    return scores


def _says_heading(section: Section, text: str, lead: int = 8) -> bool:
    """Whether a sentence of ``text`` opens with most of the heading's words ("Now, the
    treatment settings.", "Let us start with assessment"); a heading word said in passing
    mid-sentence does not count."""
    heading = set(words(section.title))
    if not heading:
        return False
    need = max(1, math.ceil(len(heading) / 2))
    return any(len(heading & set(words(" ".join(sentence.split()[:lead])))) >= need
               for sentence in re.split(r"[.?!;:]\s+", text))


def _snap_to_announcements(labels: list[int], sections, segments, reach: int = 2) -> list[int]:
    """Move a section's first segment to a nearby segment that says its heading outright.

    Context smoothing blurs a boundary by a segment or two; the speaker's own "now, treatment
    settings" is the sharper cue. Only moves within ``reach`` segments, never past a
    neighbouring section's first segment."""
    labels = list(labels)
    for k in sorted(set(labels)):
        first = labels.index(k)
        if first == 0 or _says_heading(sections[k], segments[first][2]):
            continue
        prev = labels[first - 1]
        prev_first = labels.index(prev)
        after = [i for i in range(first + 1, min(len(labels), first + reach + 1)) if labels[i] == k]
        before = [i for i in range(max(prev_first + 1, first - reach), first) if labels[i] == prev]
        for i in sorted(before + after, key=lambda i: abs(i - first)):
            if _says_heading(sections[k], segments[i][2]):
                for j in range(min(i, first), max(i, first)):
                    labels[j] = k if i < first else prev
                break
    return labels


def _unplaced(sections: list[Section]) -> list[AnchorResult]:
    out = [AnchorResult("section", k, s.title or s.body[:120], None, 0.0) for k, s in enumerate(sections)]
    bullets = [b for s in sections for b in s.bullets]
    return out + [AnchorResult("bullet", n, b, None, 0.0) for n, b in enumerate(bullets)]


def _windows(segments: Segments, first: int, last: int, seconds: float) -> list[tuple[int, int]]:
    """(first, last) segment index of about ``seconds`` of speech from each of segments first..last."""
    out = []
    for i in range(first, last + 1):
        end = i
        while end + 1 < len(segments) and segments[end + 1][0] < segments[i][0] + seconds:
            end += 1
        out.append((i, end))
    return out


def _align_bullets(sections, segments, seg_tokens, spans, space, glossary) -> list[AnchorResult]:
    """Place bullets in order inside their section's stretch (a little wider, for slack)."""
    results: list[AnchorResult] = []
    position = 0
    for k, section in enumerate(sections):
        span = spans[k] or _gap_between(spans, k, len(segments))
        first, last = max(0, span[0] - 1), min(len(segments) - 1, span[1] + 1)
        wins = _windows(segments, first, last, BULLET_WINDOW_SECONDS)
        win_vecs = [space.vector(span_tokens(seg_tokens, a, b)) for a, b in wins]
        bullet_vecs = [space.vector(tokens(b, glossary)) for b in section.bullets]
        scores = [[cosine(bv, w) for w in win_vecs] for bv in bullet_vecs]
        for b, (bullet, chosen) in enumerate(zip(section.bullets, _monotonic_points(scores))):
            if chosen is None:
                results.append(AnchorResult("bullet", position, bullet, None, 0.0))
            else:
                row = scores[b]
                confidence = _point_confidence(row, chosen)
                start = segments[wins[chosen][0]][0] if confidence > 0 else None
                results.append(AnchorResult("bullet", position, bullet, start, confidence))
            position += 1
    return results


def _gap_between(spans, k: int, n: int) -> tuple[int, int]:
    before = [s[1] for s in spans[:k] if s]
    after = [s[0] for s in spans[k + 1:] if s]
    return (before[-1] if before else 0, after[0] if after else n - 1)


def _monotonic_points(scores: list[list[float]], skip: float = 0.03) -> list[int | None]:
    """One column per row, columns non-decreasing, maximising the summed score; a row whose best
    is worse than ``skip`` is left out (None) rather than forcing the others out of order."""
    if not scores or not scores[0]:
        return [None] * len(scores)
    n, m = len(scores), len(scores[0])
    # f[j]: best total for rows so far with every chosen column <= j.
    f = [0.0] * m
    choice: list[list[tuple[str, int]]] = []
    for row in scores:
        g, moves = [], []
        for j in range(m):
            options = [(f[j] + skip, ("skip", j)), (f[j] + row[j], ("take", j))]
            if j:
                options.append((g[j - 1], ("left", j - 1)))
            value, move = max(options, key=lambda o: o[0])
            g.append(value)
            moves.append(move)
        f = g
        choice.append(moves)
    out: list[int | None] = [None] * n
    j = m - 1
    for r in range(n - 1, -1, -1):
        kind, col = choice[r][j]
        while kind == "left":
            j = col
            kind, col = choice[r][j]
        out[r] = j if kind == "take" else None
    return out


def _point_confidence(row: list[float], chosen: int) -> float:
    value = row[chosen]
    rest = sorted(row, reverse=True)
    typical = rest[len(rest) // 2] if rest else 0.0
    if value <= 0.03:
        return 0.0
    return round(max(0.0, min(1.0, (value - typical) / value * min(1.0, value / 0.2))), 3)
