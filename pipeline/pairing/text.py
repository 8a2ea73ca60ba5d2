"""What the pairing steps share: their constants, glossary terms as weighted tokens, and a
TF-IDF space over transcript segments."""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable, Sequence

from ..words import phrase_words, term_matcher, words

Segments = Sequence[tuple[float, float, str]]

CONTEXT_SECONDS = 8.0  # context either side of a segment when scoring it against sections
BULLET_WINDOW_SECONDS = 20.0
HEADING_BONUS = 0.3  # added to a segment's (contrast) score for a section whose heading it says
CONTRAST_FLOOR = 0.15
GLOSSARY_WEIGHT = 3  # a glossary term counts as this many ordinary words
MIN_CONFIDENCE = 0.25  # below this a section is not a chapter and gets no "listen at" link
TAG_CATEGORIES = ("platform", "indication", "procedure", "product", "complication")
TOPIC_MIN_SECONDS = 30.0  # shortest chapter found from topic shifts





def term_token(term) -> str:
    return "g:" + "".join(phrase_words(term.term))


def tokens(text: str, glossary=None) -> list[str]:
    """Words of ``text`` plus one heavily weighted token for each glossary term in it."""
    out = words(text)
    if glossary is not None:
        for term in term_matcher(glossary).find(text):
            out.extend([term_token(term)] * GLOSSARY_WEIGHT)
    return out


class TermSpace:
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


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def span_tokens(seg_tokens: list[list[str]], first: int, last: int) -> list[str]:
    return [t for toks in seg_tokens[first:last + 1] for t in toks]


def context_tokens(segments: Segments, seg_tokens: list[list[str]], i: int, seconds: float) -> list[str]:
    """Segment i's tokens twice (it is what is labelled) with its neighbours' within ``seconds``."""
    start, end, _text = segments[i]
    first, last = i, i
    while first > 0 and segments[first - 1][1] >= start - seconds:
        first -= 1
    while last + 1 < len(segments) and segments[last + 1][0] <= end + seconds:
        last += 1
    return seg_tokens[i] + span_tokens(seg_tokens, first, last)

