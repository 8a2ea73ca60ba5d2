"""One way of writing the whole transcript, whatever block or decoding path a line came from.

Whisper writes each window in the style of what it was prompted with, so one block can come out
"Now the treatment settings." and the next "combination therapy laser alone". The rules, applied
over the transcript in order:

- a sentence starts with a capital: the first word, and every word after ., ? or !;
- a line that does not end a sentence but is followed by one that starts one gets a full stop;
  the last line always ends with one;
- a capital in mid-sentence is kept only for names: words Whisper writes in lower case (a
  lower-case form in its vocabulary) lose it unless the episode or the glossary spells them so;
- terms the episode or the glossary knows are written as they spell them ("q-switched" ->
  "Q-switched"), and "i" alone is "I".
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Iterable, Sequence

from .engines import bundled_model_path
from .types import Segment, Word

_END = (".", "?", "!")
_CORE = re.compile(r"^(\W*)([\w'’-]+)(\W*)$")


@lru_cache(maxsize=1)
def lowercase_words() -> frozenset[str]:
    """Words the model's vocabulary holds in lower case as whole words (common nouns, verbs)."""
    out = set()
    for line in (bundled_model_path() / "vocabulary.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("Ġ") and line[1:].isalpha() and line[1:].islower():
            out.add(line[1:])
    return frozenset(out)


def spellings(names: Iterable[str], *groups: Iterable[str]) -> dict[str, str]:
    """Lower-case word -> its spelling: every word of ``names`` (people, events: "Ana" is a
    name there), then the words of ``groups`` that Whisper does not write in lower case on its
    own (brands, "Q-switched"); earlier groups win."""
    common = lowercase_words()
    out: dict[str, str] = {}
    for n, group in enumerate([names, *groups]):
        for term in group:
            for word in re.findall(r"[\w'’-]+", term or ""):
                low = word.lower()
                if (n == 0 and word[:1].isupper() and len(word) > 1) or (n and low not in common and not word.isdigit()):
                    out.setdefault(low, word)
    return out


def restyle(segments: Sequence[Segment], known: dict[str, str]) -> list[Segment]:
    """The segments written in one style (see the module's rules); times and words kept.

    ``known`` maps lower-case words to their spelling (``spellings`` of the episode's phrases
    and the glossary's terms). Never raises; an empty segment stays empty."""
    lines = [_tokens(s) for s in segments]
    starts = True
    for n, tokens in enumerate(lines):
        for k, token in enumerate(tokens):
            token.word = _cased(token.word, starts, known)
            starts = token.word.rstrip("\"')]").endswith(_END)
        if tokens and not starts and _next_starts_sentence(lines, n, known):
            tokens[-1].word = re.sub(r"[,;:]?$", ".", tokens[-1].word.rstrip(), count=1)
            starts = True
    out = []
    for seg, tokens in zip(segments, lines):
        text = "".join(t.word for t in tokens).strip()
        out.append(replace(seg, text=text, words=tokens if seg.words else []))
    return out


def _tokens(seg: Segment) -> list[Word]:
    if seg.words:
        return [Word(w.start, w.end, w.word, w.probability) for w in seg.words]
    return [Word(seg.start, seg.end, " " + w, 1.0) for w in seg.text.split()]


def _next_starts_sentence(lines: list[list[Word]], n: int, known: dict[str, str]) -> bool:
    for tokens in lines[n + 1:]:
        if tokens:
            first = _CORE.match(tokens[0].word.strip())
            word = first.group(2) if first else tokens[0].word.strip()
            return word[:1].isupper() and word.lower() not in known and word not in ("I",) \
                and not word.startswith("I'")
    return True  # the last line ends the transcript


def _cased(text: str, starts: bool, known: dict[str, str]) -> str:
    """A token's text recased; a token may hold several words (a corrected phrase)."""
    lead = text[:len(text) - len(text.lstrip())]
    parts = text.strip().split(" ")
    return lead + " ".join(_cased_word(p, starts and k == 0, known) for k, p in enumerate(parts))


def _cased_word(text: str, starts: bool, known: dict[str, str]) -> str:
    lead = ""
    m = _CORE.match(text)
    if not m:
        return text
    before, word, after = m.groups()
    low = word.lower()
    if low in known:
        word = known[low]
    elif low == "i" or low.startswith(("i'", "i’")):
        word = "I" + word[1:]
    elif word[:1].isupper() and word[1:].islower() and low in lowercase_words() and not starts:
        word = low
    if starts and word[:1].islower():
        word = word[0].upper() + word[1:]
    return f"{lead}{before}{word}{after}"
