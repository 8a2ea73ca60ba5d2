"""Tie the summary notes to the recording: anchors, chapters, tags, a soundbite, hotwords.

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
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from .notes import _FRONT, Section, split_sections
from .text import slugify

Segments = Sequence[tuple[float, float, str]]

CONTEXT_SECONDS = 8.0  # context either side of a segment when scoring it against sections
BULLET_WINDOW_SECONDS = 20.0
HEADING_BONUS = 0.3  # added to a segment's (contrast) score for a section whose heading it says
CONTRAST_FLOOR = 0.15
GLOSSARY_WEIGHT = 3  # a glossary term counts as this many ordinary words
MIN_CONFIDENCE = 0.25  # below this a section is not a chapter and gets no "listen at" link
TAG_CATEGORIES = ("platform", "indication", "procedure", "product", "complication")
TOPIC_MIN_SECONDS = 30.0  # shortest chapter found from topic shifts
SOUNDBITE_MIN, SOUNDBITE_MAX, SOUNDBITE_IDEAL = 15.0, 60.0, 30.0

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
STOPWORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each even every few for from further get gets got had hadn't has hasn't have
haven't having he he'd he'll he's her here here's hers herself him himself his how how's i i'd
i'll i'm i've if in into is isn't it it's its itself just let's like may me might more most much
must mustn't my myself need needs no nor not now of off often on once one only or other ought our
ours ourselves out over own per quite rather really same say says she she'd she'll she's should
shouldn't so some such than that that's the their theirs them themselves then there there's these
they they'd they'll they're they've this those through thus to too two under until up upon us
use used uses using very via was wasn't we we'd we'll we're we've well were weren't what what's
when when's where where's which while who who's whom why why's will with within without won't
would wouldn't yes yet you you'd you'll you're you've your yours yourself yourselves okay ok so
let lets going go goes today talk next first second third now then new many make makes made also
always never usually just see seen think know want way ways thing things lot lots good great
""".split())


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


# -- text -----------------------------------------------------------------------------------

def strip_front_matter(notes_markdown: str) -> str:
    match = _FRONT.match(notes_markdown or "")
    return notes_markdown[match.end():] if match else (notes_markdown or "")


def _stem(word: str) -> str:
    # Just enough to meet plurals, verb forms and British spellings half way ("sessions" and
    # "session", "pulsed" and "pulse", "nanometres" and "nanometer").
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 5 and word.endswith("tre"):
        word = word[:-2] + "er"
    if len(word) > 4 and word.endswith("e") and not word.endswith("ee"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower-case content words, stemmed, without stop words."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def _phrase_words(text: str) -> list[str]:
    return re.sub(r"[^0-9a-z' ]", " ", text.lower()).split()


class _TermMatcher:
    """Finds glossary terms (as written) in text by looking up word n-grams."""

    def __init__(self, glossary):
        self.forms: dict[tuple[str, ...], object] = {}
        for term in getattr(glossary, "terms", ()) if glossary is not None else ():
            key = tuple(_phrase_words(term.term))
            if key:
                self.forms.setdefault(key, term)
        self.longest = max((len(k) for k in self.forms), default=0)

    def find(self, text: str) -> list:
        """Terms in ``text``, once per occurrence, longest match first at each position."""
        tokens = _phrase_words(text)
        found, i = [], 0
        while i < len(tokens):
            for n in range(min(self.longest, len(tokens) - i), 0, -1):
                term = self.forms.get(tuple(tokens[i:i + n]))
                if term is not None:
                    found.append(term)
                    i += n
                    break
            else:
                i += 1
        return found


@lru_cache(maxsize=8)
def _matcher(glossary) -> _TermMatcher:
    return _TermMatcher(glossary)


def _term_token(term) -> str:
    return "g:" + "".join(_phrase_words(term.term))


def tokens(text: str, glossary=None) -> list[str]:
    """Words of ``text`` plus one heavily weighted token for each glossary term in it."""
    out = words(text)
    if glossary is not None:
        for term in _matcher(glossary).find(text):
            out.extend([_term_token(term)] * GLOSSARY_WEIGHT)
    return out


class _Space:
    """TF-IDF with sub-linear term frequency; IDF from the transcript's segments."""

    def __init__(self, documents: Iterable[list[str]]):
        df: Counter = Counter()
        n = 0
        for doc in documents:
            df.update(set(doc))
            n += 1
        self.n = max(n, 1)
        self.df = df

    def idf(self, token: str) -> float:
        return math.log((1 + self.n) / (1 + self.df.get(token, 0))) + 1.0

    def vector(self, toks: Iterable[str]) -> dict[str, float]:
        counts = Counter(toks)
        vec = {t: (1 + math.log(c)) * self.idf(t) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def _span_tokens(seg_tokens: list[list[str]], first: int, last: int) -> list[str]:
    return [t for toks in seg_tokens[first:last + 1] for t in toks]


def _context_tokens(segments: Segments, seg_tokens: list[list[str]], i: int, seconds: float) -> list[str]:
    """Segment i's tokens twice (it is what is labelled) with its neighbours' within ``seconds``."""
    start, end, _text = segments[i]
    first, last = i, i
    while first > 0 and segments[first - 1][1] >= start - seconds:
        first -= 1
    while last + 1 < len(segments) and segments[last + 1][0] <= end + seconds:
        last += 1
    return seg_tokens[i] + _span_tokens(seg_tokens, first, last)


# -- alignment ------------------------------------------------------------------------------

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


def _doc_sections(notes_markdown: str) -> list[Section]:
    return split_sections(strip_front_matter(notes_markdown))


def _is_document_title(sections: list[Section], index: int) -> bool:
    """A lone level-1 heading over deeper ones names the talk, not a part of it."""
    return (index == 0 and sections[0].level == 1
            and any(s.level > 1 for s in sections[1:]) and all(s.level != 1 for s in sections[1:]))


def align_notes(notes_markdown: str, segments: Segments, glossary=None) -> list[AnchorResult]:
    """Anchor each section and bullet of the notes in the transcript.

    Returns one AnchorResult per section (in notes order) followed by one per bullet; a part
    that could not be placed has ``start`` None and confidence 0. Empty notes or an empty
    transcript give anchors with no start (or none at all). Never raises on odd input.
    """
    sections = _doc_sections(notes_markdown)
    if not sections:
        return []
    segments = [s for s in segments if s[2].strip()]
    if not segments:
        return _unplaced(sections)
    seg_tokens = [tokens(t, glossary) for _s, _e, t in segments]
    space = _Space(seg_tokens)
    seg_vecs = [space.vector(_context_tokens(segments, seg_tokens, i, CONTEXT_SECONDS)) for i in range(len(segments))]
    sec_vecs = [space.vector(tokens(_section_text(s), glossary)) for s in sections]
    scores = [[_cosine(v, sv) for sv in sec_vecs] for v in seg_vecs]
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
        win_vecs = [space.vector(_span_tokens(seg_tokens, a, b)) for a, b in wins]
        bullet_vecs = [space.vector(tokens(b, glossary)) for b in section.bullets]
        scores = [[_cosine(bv, w) for w in win_vecs] for bv in bullet_vecs]
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


# -- chapters -------------------------------------------------------------------------------

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
    sections = _doc_sections(notes_markdown)
    anchors = [a for a in align_notes(notes_markdown, segments, glossary) if a.kind == "section"]
    found = [(a.start, sections[a.position].title, a.confidence) for a in anchors
             if a.start is not None and a.confidence >= MIN_CONFIDENCE and sections[a.position].title
             and not _is_document_title(sections, a.position)]
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
    space = _Space(seg_tokens)
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
        left = _span_tokens(seg_tokens, bisect_left(starts, t - block), g - 1)
        right = _span_tokens(seg_tokens, g, bisect_left(starts, t + block) - 1)
        sims[g] = _cosine(space.vector(left), space.vector(right)) if left and right else 1.0
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
        seen.setdefault(_stem(low), Counter())[low] += 1
    forms = {tok: c.most_common(1)[0][0] for tok, c in seen.items()}
    if glossary is not None:
        for term in _matcher(glossary).find(text):
            forms[_term_token(term)] = term.term
    return forms


# -- tags -----------------------------------------------------------------------------------

def glossary_hits(glossary, segments: Segments, notes_markdown: str) -> dict[str, tuple[object, int, int]]:
    """Term name -> (term, hits in the transcript, hits in the notes)."""
    matcher = _matcher(glossary)
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
    said = " " + " ".join(" ".join(_phrase_words(t)) for _s, _e, t in segments) + " "
    written = " " + " ".join(_phrase_words(notes)) + " "
    candidates: Counter = Counter()
    for chunk in re.split(r"[^A-Za-z0-9' -]+|\s-\s", notes):
        run: list[str] = []
        for w in _phrase_words(chunk) + [""]:
            if w and w not in STOPWORDS and not w.isdigit() and len(w) > 2:
                run.append(w)
                continue
            for n in (1, 2, 3):
                for i in range(len(run) - n + 1):
                    candidates[" ".join(run[i:i + n])] += 1
            run = []
    glossary_forms = {" ".join(k) for k in _matcher(glossary).forms} if glossary is not None else set()
    common = _ordinary_words()
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


# -- soundbite ------------------------------------------------------------------------------

def suggest_soundbite(segments: Segments, notes_markdown: str, glossary) -> tuple[float, float] | None:
    """(start, duration) of one 15-60 s passage made of whole segments, dense in glossary terms
    and close to the notes' bullets (or headings); None when no such passage exists."""
    segments = [s for s in segments if s[2].strip()]
    if not segments:
        return None
    sections = _doc_sections(notes_markdown)
    points = [b for s in sections for b in s.bullets] or [s.title + " " + s.body for s in sections]
    matcher = _matcher(glossary)
    seg_tokens = [tokens(t, glossary) for _s, _e, t in segments]
    space = _Space(seg_tokens)
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
            vec = space.vector(_span_tokens(seg_tokens, i, j))
            closeness = max((_cosine(vec, p) for p in point_vecs), default=0.0)
            shape = 1.0 - abs(length - SOUNDBITE_IDEAL) / (2 * SOUNDBITE_MAX)
            score = (min(density, 6.0) / 6.0 + 2 * closeness) * shape
            if score > best_score:
                best, best_score = (round(start, 2), round(length, 2)), score
    return best


# -- per-episode vocabulary -----------------------------------------------------------------

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
        for term in _matcher(glossary).find(notes):
            _add(out, term.term)
    common = _ordinary_words()
    known = {w.lower() for item in out for w in _phrase_words(item)}
    for raw in re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", notes):
        low = raw.lower()
        parts = [p for p in re.split(r"[-']", low) if p]
        if len(low) < 4 or low in STOPWORDS or low in known or all(p in common or _stem(p) in common for p in parts):
            continue
        known.add(low)
        _add(out, raw)
    return out[:limit]


def _add(out: list[str], item) -> None:
    item = " ".join(str(item or "").split())
    if item and item.lower() not in {o.lower() for o in out}:
        out.append(item)


def _ordinary_words() -> frozenset[str]:
    from .transcription.glossary import ordinary_words

    return ordinary_words()
