"""Post-correction to the episode's own phrases: restoring what the notes name, by sound.

A stretch of one to four heard words becomes a phrase of the episode (``KnownPhrase``) only when

- it sounds like the phrase (``sound_closeness`` of their phonetic keys at least ``MIN_SOUND``,
  ``MIN_SOUND_ORDINARY`` when heard and phrase are ordinary words), and
- the recording is talking about what the phrase's sentence in the notes talks about: at least
  ``MIN_CONTEXT`` of that sentence's other content words are said within the segment and its
  neighbours (``MIN_CONTEXT_ORDINARY`` when the heard words are all ordinary English), and
- the heard words are not only small words ("and") nor hold a number ("four weeks"),
- the heard words are not themselves something the episode or the glossary names, and ordinary
  words are rewritten into ordinary words only where Whisper split or joined them ("fold a
  graph" -> photograph): a plain word swap ("high" for "higher") is what speakers do.

Every change is returned as a ``Correction`` so the review page shows it and an editor can undo it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from ..words import STOPWORDS, phrase_words, words
from .glossary import ordinary_words
from .phonetic import sound_closeness, sound_of
from .types import Correction, Segment, Word
from .vocabulary import KnownPhrase, is_rare

MIN_SOUND, MIN_SOUND_ORDINARY = 0.7, 0.8
MIN_PART_SOUND = 0.65  # the replaced words alone, where heard and phrase share others
MIN_CONTEXT, MIN_CONTEXT_ORDINARY = 2, 3
MAX_SPAN = 4
MIN_KEY = 3  # "a", "in": too short to judge by sound
NUMBER_WORDS = frozenset("""zero one two three four five six seven eight nine ten eleven twelve thirteen
fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety
hundred thousand million first second third fourth fifth sixth seventh eighth ninth tenth half""".split())


@dataclass(frozen=True)
class _Target:
    phrase: KnownPhrase
    key: str
    stems: frozenset[str]
    ordinary: bool  # every word is ordinary English


@dataclass(frozen=True)
class _Hit:
    first: int
    size: int
    target: _Target
    score: float


class EpisodeRecall:
    """The episode's phrases, ready to be matched; ``protected`` phrases are never rewritten."""

    def __init__(self, phrases: Iterable[KnownPhrase], protected: Iterable[str] = ()):
        self.targets = [_target(p) for p in phrases if len(sound_of(p.text)) >= MIN_KEY]
        self.protected = {" ".join(phrase_words(p)) for p in [*protected, *(t.phrase.text for t in self.targets)]}

    def correct(self, segments: Sequence[Segment]) -> tuple[list[Segment], list[Correction]]:
        """Segments with misheard episode phrases restored, and one Correction for each change."""
        out, corrections = [], []
        for i, seg in enumerate(segments):
            near = " ".join(s.text for s in segments[max(0, i - 1):i + 2])
            fixed, found = self._correct_segment(seg, frozenset(words(near)))
            out.append(fixed)
            corrections += found
        return out, corrections

    def _correct_segment(self, seg: Segment, around: frozenset[str]) -> tuple[Segment, list[Correction]]:
        tokens = seg.words or [Word(seg.start, seg.end, " " + w, 1.0) for w in seg.text.split()]
        targets = [t for t in self.targets if len((t.phrase.context - t.stems) & around) >= MIN_CONTEXT]
        if not targets:
            return seg, []
        hits = sorted(self._hits(tokens, targets, around, seg), key=lambda h: (-h.score, h.size))
        chosen: list[_Hit] = []
        for hit in hits:
            hit = _widest(hit, hits)
            if all(hit.first + hit.size <= c.first or c.first + c.size <= hit.first for c in chosen):
                chosen.append(hit)
        if not chosen:
            return seg, []
        return _rewrite(seg, tokens, sorted(chosen, key=lambda h: h.first))

    def _hits(self, tokens: list[Word], targets: list[_Target], around: frozenset[str], seg: Segment) -> list[_Hit]:
        cores = [" ".join(phrase_words(w.word)) for w in tokens]
        own = frozenset(words(seg.text))
        hits = []
        for first in range(len(tokens)):
            for size in range(1, min(MAX_SPAN, len(tokens) - first) + 1):
                heard = " ".join(c for c in cores[first:first + size] if c)
                hit = self._best(heard, size, targets, around, own) if heard else None
                if hit:
                    hits.append(_Hit(first, size, hit[0], hit[1]))
        return hits

    def _keeps_protected(self, heard_words: list[str], target: _Target) -> bool:
        """A heard word that is itself a term ("Radiesse") may only become a word that sounds
        like it ("hyperpigmentation" -> hypopigmentation), never be swallowed by a neighbour."""
        phrase = phrase_words(target.phrase.text)
        return all(w not in self.protected or _sounds_like_one_of(w, phrase) for w in heard_words)

    def _best(self, heard: str, size: int, targets: list[_Target], around: frozenset[str], own: frozenset[str]):
        key = sound_of(heard)
        if len(key) < MIN_KEY or heard in self.protected or re.search(r"\d", heard):
            return None
        heard_words = heard.split()
        if all(w in STOPWORDS for w in heard_words) or any(w in NUMBER_WORDS for w in heard_words):
            return None  # "and" is never InMode, "four weeks" never Fraxel: a number is what was said
        heard_ordinary = not any(is_rare(w) for w in heard_words)
        heard_stems = frozenset(words(heard))
        best = None
        for t in targets:
            if abs(len(t.key) - len(key)) > 0.25 * max(len(t.key), len(key)) or heard_stems == t.stems:
                continue
            if heard_ordinary and t.ordinary and size == len(t.phrase.text.split()):
                continue  # a swap of ordinary words is speech, not a mishearing
            if heard_ordinary and t.phrase.name:
                continue  # a name is everywhere in context: ordinary words alone never become one
            if not self._keeps_protected(heard_words, t):
                continue
            sound = sound_closeness(heard, t.phrase.text)
            if sound >= MIN_SOUND and not _changes_sound_alike(heard_words, phrase_words(t.phrase.text)):
                continue
            plain = heard_ordinary and t.ordinary
            # ordinary words into an ordinary word: the segment itself must say what the notes say
            support = len((t.phrase.context - t.stems - heard_stems) & (own if plain else around))
            if sound < (MIN_SOUND_ORDINARY if plain else MIN_SOUND):
                continue
            if support < (MIN_CONTEXT_ORDINARY if heard_ordinary else MIN_CONTEXT):
                continue
            score = sound + 0.01 * min(support, 3)
            if best is None or score > best[1]:
                best = (t, score)
        return best


def _widest(hit: _Hit, hits: list[_Hit], slack: float = 0.15) -> _Hit:
    """A hit spanning this one that restores a longer phrase nearly as well ("cuter of pearl"
    -> Cutera Pearl over "cuter" -> Cutera), else the hit itself."""
    words_in = len(hit.target.phrase.text.split())
    wider = [h for h in hits if h.first <= hit.first and h.first + h.size >= hit.first + hit.size
             and len(h.target.phrase.text.split()) > words_in and h.score >= hit.score - slack]
    return max(wider, key=lambda h: (h.score, -h.size)) if wider else hit


def _sounds_like_one_of(word: str, words_: list[str]) -> bool:
    return any(sound_closeness(word, w) >= MIN_SOUND for w in words_)


def _changes_sound_alike(heard: list[str], phrase: list[str]) -> bool:
    """Whether what differs between the heard words and the phrase is a mishearing: words
    replaced by words that sound alike, never a word only added or only dropped next to words
    both share ("melasma and" is not "melasma and PIH"), never a single word's other form
    ("contraindication" for "contraindicated" is what the speaker said)."""
    variant = any(h != w and _shared_prefix(h, w) >= 5 and min(len(h), len(w)) >= 6 for h in heard for w in phrase)
    if variant and (len(heard) != len(phrase) or len(heard) == 1):
        return False
    ops = difflib.SequenceMatcher(a=heard, b=phrase, autojunk=False).get_opcodes()
    if not any(op == "equal" for op, *_ in ops):
        return True
    for op, i1, i2, j1, j2 in ops:
        if op in ("insert", "delete"):
            return False
        if op == "replace" and sound_closeness(" ".join(heard[i1:i2]), " ".join(phrase[j1:j2])) < MIN_PART_SOUND:
            return False
        if op == "replace" and set(phrase[j1:j2]) & STOPWORDS - set(heard[i1:i2]):
            return False  # "glable we use" is not "glabella with": a small word never appears from nowhere
    return True


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _target(phrase: KnownPhrase) -> _Target:
    common = ordinary_words()
    ordinary = all(w in common for w in phrase_words(phrase.text)) and not phrase.rare
    return _Target(phrase, sound_of(phrase.text), phrase.stems, ordinary)


def _rewrite(seg: Segment, tokens: list[Word], hits: list[_Hit]) -> tuple[Segment, list[Correction]]:
    new_words, corrections, i = [], [], 0
    for hit in hits:
        new_words += tokens[i:hit.first]
        span = tokens[hit.first:hit.first + hit.size]
        merged = _merge(span, hit.target.phrase.text)
        new_words.append(merged)
        corrections.append(Correction(seg.index, "".join(w.word for w in span).strip(), merged.word.strip(),
                                      hit.target.phrase.text, round(min(hit.score, 1.0), 3)))
        i = hit.first + hit.size
    new_words += tokens[i:]
    text = "".join(w.word for w in new_words).strip()
    return replace(seg, text=text, words=new_words if seg.words else []), corrections


def _merge(span: list[Word], text: str) -> Word:
    """One word carrying the phrase over the span's time, keeping the span's outer punctuation."""
    first, last = span[0].word, span[-1].word
    lead = " " if first.startswith(" ") or not first else ""
    trailing = re.sub(r"^.*?([^\w]*)$", r"\1", last.strip())
    return Word(span[0].start, span[-1].end, f"{lead}{text}{trailing}", min(w.probability for w in span))
