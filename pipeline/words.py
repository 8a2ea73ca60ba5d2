"""Words in clinical text: stop words, light stemming, and the glossary terms a text names.
Used by pairing (anchors, chapters, tags) and by the episode vocabulary for transcription."""

from __future__ import annotations

import re
from functools import lru_cache

from .notes import strip_front_matter  # noqa: F401  (re-exported: text work starts without it)

WORD_PATTERN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
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


def stem(word: str) -> str:
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
    return [stem(w) for w in WORD_PATTERN.findall(text.lower()) if w not in STOPWORDS and len(w) > 1]


def phrase_words(text: str) -> list[str]:
    return re.sub(r"[^0-9a-z' ]", " ", text.lower()).split()


class TermMatcher:
    """Finds glossary terms (as written) in text by looking up word n-grams."""

    def __init__(self, glossary):
        self.forms: dict[tuple[str, ...], object] = {}
        for term in getattr(glossary, "terms", ()) if glossary is not None else ():
            key = tuple(phrase_words(term.term))
            if key:
                self.forms.setdefault(key, term)
        self.longest = max((len(k) for k in self.forms), default=0)

    def find(self, text: str) -> list:
        """Terms in ``text``, once per occurrence, longest match first at each position."""
        tokens = phrase_words(text)
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
def term_matcher(glossary) -> TermMatcher:
    return TermMatcher(glossary)
