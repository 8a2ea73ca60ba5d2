"""How words sound: a metaphone-style key and a closeness score over it.

Whisper mishears a rare word as ordinary words that sound like it ("fold a graph" for
photograph, "its metric" for Fitzpatrick); spelling distance misses those, a key of consonant
sounds does not. The key follows Lawrence Philips' Metaphone in spirit (consonant classes, silent
letters, vowels dropped after the first letter), simplified to what English clinical speech needs.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

# Ordered rewrites on lower-case letters; upper-case letters in the output are finished sounds.
_RULES = [
    (r"^(kn|gn|pn|wr|ps)", lambda m: m.group(1)[1]), (r"^x", "s"), (r"^wh", "w"), (r"mb$", "m"),
    (r"gh(?![aeiou])", ""), (r"ph", "F"), (r"sch", "SK"), (r"tch|ch", "X"), (r"sh", "X"),
    (r"ti(?=[ao])", "X"), (r"th", "0"), (r"h(?![aeiou])", ""),
    (r"dg(?=[eiy])", "J"), (r"ck", "K"), (r"c(?=[eiy])", "S"),
    (r"c", "K"), (r"g(?=[eiy])", "J"), (r"q", "K"), (r"x", "KS"), (r"z", "S"), (r"v", "F"),
    (r"d", "T"), (r"g", "K"), (r"w(?![aeiou])", ""), (r"y(?![aeiou])", ""),
]


@lru_cache(maxsize=65536)
def sound_of(text: str) -> str:
    """The phonetic key of a word or phrase: "fold a graph" -> "FLTKRF", "photograph" -> "FTKRF".

    Digits are kept as they are (a number sounds like itself); anything else but letters is
    dropped, so a phrase and its words run together key the same."""
    s = re.sub(r"[^a-z0-9]", "", text.lower())
    if not s:
        return ""
    s = re.sub(r"([a-z])\1+", r"\1", s)  # "Daxxify" sounds like "Daxify"
    for pattern, repl in _RULES:
        s = re.sub(pattern, repl, s)
    if not s:  # a silent letter alone ("h", "gh"): nothing to hear
        return ""
    first, rest = s[0], s[1:]
    key = ("A" if first in "aeiouy" else first) + re.sub(r"[aeiouyhw]", "", rest)
    key = re.sub(r"(.)\1+", r"\1", key.upper())
    return key


def sound_closeness(heard: str, term: str) -> float:
    """1.0 when ``heard`` and ``term`` sound the same, falling with the edit distance between
    their keys (normalized by the longer key); 0.0 when either has no letters."""
    a, b = sound_of(heard), sound_of(term)
    if not a or not b:
        return 0.0
    return Levenshtein.normalized_similarity(a, b)
