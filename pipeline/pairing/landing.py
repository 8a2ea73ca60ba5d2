"""Land "listen at" moments on the words: the sentence where a bullet's passage begins, or
the word a search matched, instead of the start of the segment (or window) that holds it.

Whisper's segments run 4-15 s and a bullet's window is 20 s, so a segment start can be a whole
sentence early. Word timestamps are stored per segment; a segment whose text an editor changed
no longer matches its words, and its words are then spread evenly over its time.

A summary line gathers what a speaker says over two or three sentences ("Long pulses heat
vessels without purpura; short pulses bruise"), so the sentence that says most of it can be the
second of its passage: a sentence before it that says opening words of the line the rest does
not say joins the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from ..words import stem, words
from .alignment import AnchorResult
from .text import BULLET_WINDOW_SECONDS

SEARCH_BEFORE = 3.0  # a passage may begin a little before the window it was found in
LATE_MATCH_SECONDS = 4.0  # a sentence's opening words matching this late mean a run-on sentence
PASSAGE_BEFORE = 10.0  # a passage begins at most this long before the sentence that says most of it
_SENTENCE_END = re.compile(r"[.?!][\"')\]]*$")
# "Dr." and its kind end with a full stop but not a sentence ("In Dr. Okafor's clinic").
_ABBREVIATION = re.compile(r"\b(?:dr|mr|mrs|ms|prof|st|vs|cf|approx|e\.g|i\.e)\.$", re.IGNORECASE)
# Summaries write the unit a speaker says in full ("595 nm" for "595 nanometres"); stems as words() gives them.
_UNITS = {"nanometer": "nm", "millimeter": "mm", "centimeter": "cm", "milligram": "mg", "milliliter": "ml",
          "millisecond": "ms"}


def _stems(text: str) -> list[str]:
    return [_UNITS.get(w, w) for w in words(text)]


@dataclass(frozen=True)
class TimedWord:
    start: float
    end: float
    text: str
    opens: bool = False  # first word of a segment

    @property
    def stems(self) -> list[str]:
        return _stems(self.text)

    @property
    def ends_sentence(self) -> bool:
        text = self.text.strip()
        return bool(_SENTENCE_END.search(text)) and not _ABBREVIATION.search(text)


def timed_words(segments: Iterable) -> list[TimedWord]:
    """Every word of the transcript with its time, from rows (``start``, ``end``, ``text``,
    ``words`` as stored: dicts with start/end/word) in order."""
    out: list[TimedWord] = []
    for seg in segments:
        stored = [w if isinstance(w, dict) else w.__dict__ for w in (getattr(seg, "words", None) or [])]
        if stored and " ".join("".join(w["word"] for w in stored).split()) == " ".join(seg.text.split()):
            found = [TimedWord(w["start"], w["end"], w["word"]) for w in stored]
        else:
            found = _spread(seg.start, seg.end, seg.text)
        if found:
            out += [replace(found[0], opens=True), *found[1:]]
    return out


def _spread(start: float, end: float, text: str) -> list[TimedWord]:
    parts = text.split()
    step = (end - start) / max(len(parts), 1)
    return [TimedWord(start + k * step, start + (k + 1) * step, " " + p) for k, p in enumerate(parts)]


def land_anchors(anchors: Sequence[AnchorResult], transcript: Sequence[TimedWord],
                 ) -> list[AnchorResult]:
    """Bullet anchors moved to the start of the sentence where their passage begins, with
    confidence at least the share of the bullet's words that sentence says; section anchors
    and unplaced bullets are returned as they are."""
    out = []
    for a in anchors:
        if a.kind == "bullet" and a.start is not None:
            landed = land_passage(transcript, a.text, a.start)
            if landed is not None:
                # A sentence that says most of the bullet's words is evidence of its own, even
                # where two bullets shared one window and the window's contrast was low.
                a = replace(a, start=round(landed[0], 2), confidence=max(a.confidence, round(landed[1], 3)))
        out.append(a)
    return out


def land_passage(transcript: Sequence[TimedWord], text: str, near: float,
                 after: float = BULLET_WINDOW_SECONDS + 2.0) -> tuple[float, float] | None:
    """(start, share of ``text``'s weighted words it says) of the passage around the sentence
    within [near - 3 s, near + ``after``] that best matches ``text``, or None when none of its
    content words is said there.

    A sentence scores the ``text`` content words it holds, those of the first half of ``text``
    counting double: a passage begins where the bullet's opening words are said, and a sentence
    that only shares its closing words ("skin type") comes before or after it. Ties: the
    earliest sentence. The passage then reaches back (up to ``PASSAGE_BEFORE``) over the
    sentences before that one while each says an opening word the passage does not yet say."""
    wanted = list(dict.fromkeys(_stems(text)))
    if not wanted:
        return None
    weight = {s: 2.0 if k < len(wanted) / 2 else 1.0 for k, s in enumerate(wanted)}
    spans = sentences(transcript)
    best, best_score = None, 0.0
    for k, (first, last) in enumerate(spans):
        if not near - SEARCH_BEFORE <= transcript[first].start <= near + after:
            continue
        score = sum(weight.get(s, 0.0) for s in _said(transcript, first, last))
        if score > best_score:
            best, best_score = k, score
    if best is None:
        return None
    first, last = spans[_passage_first(transcript, spans, best, weight)]
    return _opening(transcript, first, last, weight), best_score / sum(weight.values())


def _said(transcript: Sequence[TimedWord], first: int, last: int) -> set[str]:
    return {s for t in transcript[first:last + 1] for s in t.stems}


def _passage_first(transcript: Sequence[TimedWord], spans: list[tuple[int, int]], best: int,
                   weight: dict[str, float]) -> int:
    """Index in ``spans`` of the sentence that begins the passage around sentence ``best``: an
    earlier sentence joins while it says an opening word of the bullet that the passage does
    not, so the previous bullet's sentence, sharing only a word the passage says too, stays out."""
    k, said = best, _said(transcript, *spans[best])
    while k > 0 and transcript[spans[best][0]].start - transcript[spans[k - 1][0]].start <= PASSAGE_BEFORE:
        before = _said(transcript, *spans[k - 1])
        if not any(weight.get(s) == 2.0 for s in before - said):
            break
        k, said = k - 1, said | before
    return k


def _opening(transcript: Sequence[TimedWord], first: int, last: int, weight: dict[str, float]) -> float:
    """The sentence's start, or its first word of the bullet's opening when that comes late (a
    transcript without full stops runs several spoken sentences into one) or when nothing says
    the sentence begins there: a segment that opens after a word without a full stop may open
    mid-sentence, on the end of the sentence before."""
    opening = [i for i in range(first, last + 1) if any(weight.get(s) == 2.0 for s in transcript[i].stems)]
    if not opening:
        return transcript[first].start
    match = opening[0]
    begun = first == 0 or transcript[first - 1].ends_sentence
    late = transcript[match].start - transcript[first].start > LATE_MATCH_SECONDS
    return transcript[match].start if late or not begun else transcript[first].start


def sentences(transcript: Sequence[TimedWord]) -> list[tuple[int, int]]:
    """(first, last) word index of each sentence: a word after ., ? or ! starts one, and so does
    the first word of a segment (``TimedWord.opens``), so unpunctuated text still splits."""
    out, first = [], 0
    for i in range(1, len(transcript) + 1):
        if i == len(transcript) or transcript[i - 1].ends_sentence or transcript[i].opens:
            out.append((first, i - 1))
            first = i
    return out


def first_match(transcript: Sequence[TimedWord], query_words: Sequence[str]) -> float | None:
    """Start of the first word matching a query word (the last one as a prefix, as search
    does), or None; used to open a search hit at the word it found."""
    wanted = [q.lower() for q in query_words if q]
    if not wanted:
        return None
    stems = {stem(q) for q in wanted}
    for w in transcript:
        for token in re.findall(r"[\w']+", w.text.lower()):
            if token in wanted or stem(token) in stems or token.startswith(wanted[-1]):
                return w.start
    return None
