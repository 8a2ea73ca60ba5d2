"""The clinical glossary: decoding hints (hotwords) and post-correction of near misses.

Post-correction only ever rewrites a stretch of the transcript into a glossary term, and only when
(a) the stretch is a known mishearing of that term, or (b) it contains a word that is not ordinary
English and sounds or spells close to the term. A known mishearing made of ordinary words
("sit and" for Sciton) needs support from context: the term is among the episode's hotwords, or
the same segment already names other glossary terms. Ordinary words are never fuzzy-matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import yaml
from rapidfuzz import fuzz, process

from pipeline.errors import ConfigError

from .engines import bundled_model_path
from .types import Correction, Segment, Word

CATEGORIES = ("platform", "maker", "product", "procedure", "indication", "complication",
              "skin", "abbreviation", "anatomy",
              "term", "correction")  # the last two: what editors add in the admin page or from corrections
# Scores: a listed mishearing holding a non-word is near certain; one of ordinary words is a
# guess until context backs it; fuzzy matches score their similarity (0-1).
THRESHOLD = 0.85
LISTED_NONWORD, LISTED_ORDINARY = 0.95, 0.6
ACTIVE_BONUS, CLINICAL_BONUS = 0.3, 0.25  # term among the hotwords; other terms in the segment
FUZZY_MIN_CHARS = 5
MAX_SPAN = 5
HOTWORDS_MAX_CHARS = 600  # faster-whisper keeps about 220 tokens of hotwords; stay well inside


@dataclass(frozen=True)
class Term:
    term: str
    category: str
    mishearings: tuple[str, ...] = ()


def _key(text: str) -> str:
    """Letters and digits only, lower case: "Clear + Brilliant" -> "clearbrilliant"."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _phrase(text: str) -> str:
    """Lower-case words separated by single spaces, punctuation dropped."""
    return " ".join(re.sub(r"[^0-9a-z' ]", " ", text.lower()).split())


_SOUNDS = [(r"ph", "f"), (r"ck", "k"), (r"c(?=[eiy])", "s"), (r"c", "k"), (r"q", "k"), (r"x", "ks"),
           (r"z", "s"), (r"y", "i"), (r"(?<=.)h", ""), (r"(?<=.)[aeiou]+", "a"), (r"(.)\1+", r"\1")]


def sound_key(text: str) -> str:
    """A crude English phonetic key: spellings that sound alike map to the same string."""
    key = _key(text)
    for pattern, repl in _SOUNDS:
        key = re.sub(pattern, repl, key)
    return key


def _load_yaml(text: str) -> object:
    """Safe YAML with libyaml's C parser where PyYAML was built with it (ten times faster)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """Whole words of the Whisper (GPT-2) vocabulary, plus the glossary's ``ordinary_words``."""
    data = _load_yaml(resources.files("pipeline").joinpath("data/glossary.yaml").read_text(encoding="utf-8"))
    words = {w.lower() for w in data.get("ordinary_words", [])}
    for line in (bundled_model_path() / "vocabulary.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("Ġ") and line[1:].isalpha() and len(line) > 2:
            words.add(line[1:].lower())
    return frozenset(words)


@dataclass
class _Token:
    word: Word
    core: str  # lower-case letters/digits/apostrophes of the word

    @property
    def trailing(self) -> str:
        return re.sub(r"^.*?([^\w]*)$", r"\1", self.word.word.strip())


class Glossary:
    """A set of terms; ``hotwords_for`` picks decoding hints, ``correct`` fixes near misses."""

    def __init__(self, terms: Iterable[Term]):
        self.terms: list[Term] = list(terms)
        self._by_key = {_key(t.term): t for t in self.terms if _key(t.term)}
        self._by_sound = {sound_key(t.term): t for t in self.terms if len(_key(t.term)) >= FUZZY_MIN_CHARS}
        self._listed: dict[str, Term] = {}
        for t in self.terms:
            for m in t.mishearings:
                self._listed.setdefault(_key(m), t)

    def __len__(self) -> int:
        return len(self.terms)

    # -- decoding hints ---------------------------------------------------------------------
    def terms_in(self, text: str) -> list[Term]:
        """Glossary terms named in ``text`` (as written or as a listed mishearing), in order."""
        phrase = f" {_phrase(text)} "
        found: dict[str, tuple[int, Term]] = {}
        for t in self.terms:
            for form in (t.term, *t.mishearings):
                pos = phrase.find(f" {_phrase(form)} ")
                if _phrase(form) and pos >= 0 and (t.term not in found or pos < found[t.term][0]):
                    found[t.term] = (pos, t)
        return [t for _, t in sorted(found.values(), key=lambda p: p[0])]

    def hotwords_for(self, context_text: str, extra: Sequence[str] = (), limit: int = 60) -> list[str]:
        """Hotwords for one episode: ``extra`` (speaker names, event, tags) first, then the
        glossary terms the context (summary notes) names, most specific first, capped so
        faster-whisper keeps them all."""
        named = self.terms_in(context_text)
        # Brand and device names are what tiny.en cannot spell unaided; generic words it can.
        rank = {c: i for i, c in enumerate(("platform", "product", "maker", "complication"))}
        named.sort(key=lambda t: rank.get(t.category, len(rank)))
        chosen: list[str] = []
        size = 0
        for word in [*extra, *(t.term for t in named)]:
            word = word.strip()
            if word and word not in chosen and size + len(word) + 1 <= HOTWORDS_MAX_CHARS:
                chosen.append(word)
                size += len(word) + 1
            if len(chosen) >= limit:
                break
        return chosen

    # -- post-correction --------------------------------------------------------------------
    def correct(self, segments: Iterable[Segment], active_terms: Iterable[str] = ()
                ) -> tuple[list[Segment], list[Correction]]:
        """Segments with near misses rewritten to glossary terms, and one Correction for each.

        ``active_terms`` (usually the episode's hotwords) lets a mishearing made of ordinary
        words be corrected; without it such a stretch needs other terms in the same segment.
        """
        active = {_key(a) for a in active_terms}
        out, corrections = [], []
        for seg in segments:
            fixed, found = self._correct_segment(seg, active)
            out.append(fixed)
            corrections.extend(found)
        return out, corrections

    def _tokens(self, seg: Segment) -> list[_Token]:
        words = seg.words or [Word(seg.start, seg.end, " " + w, 1.0) for w in seg.text.split()]
        return [_Token(w, _phrase(w.word).replace(" ", "")) for w in words]

    def _correct_segment(self, seg: Segment, active: set[str]) -> tuple[Segment, list[Correction]]:
        tokens = self._tokens(seg)
        clinical = self._has_terms(tokens)
        new_words: list[Word] = []
        corrections: list[Correction] = []
        i = 0
        while i < len(tokens):
            match = self._best_match(tokens, i, active, clinical)
            if match is None:
                new_words.append(tokens[i].word)
                i += 1
                continue
            size, term, score = match
            span = tokens[i:i + size]
            if term is None:
                new_words.extend(t.word for t in span)
                i += size
                continue
            original = "".join(t.word.word for t in span).strip()
            word = _merge(span, term.term)
            new_words.append(word)
            corrections.append(Correction(seg.index, original, word.word.strip(), term.term, round(score, 3)))
            clinical = True  # a term found makes the segment clinical for what follows
            i += size
        if not corrections:
            return seg, []
        text = "".join(w.word for w in new_words).strip()
        return replace(seg, text=text, words=new_words if seg.words else []), corrections

    def _has_terms(self, tokens: list[_Token]) -> bool:
        return any(self._is_term_already(tokens[i:i + n]) for n in (1, 2, 3) for i in range(len(tokens)))

    def _best_match(self, tokens: list[_Token], i: int, active: set[str], clinical: bool
                    ) -> tuple[int, Term | None, float] | None:
        """Longest span from token i that becomes a term with enough confidence, if any.

        A span that already spells a term is returned with term None, so it is kept as is.
        """
        for size in range(min(MAX_SPAN, len(tokens) - i), 0, -1):
            span = tokens[i:i + size]
            if self._is_term_already(span):
                return size, None, 1.0
            for scorer in (self._score_listed, self._score_joined, self._score_fuzzy):
                hit = scorer(span, active, clinical)
                # A guess by spelling or sound never changes a number ("595 nanometers" is not
                # "755 nanometer", "Fitzpatrick 4" not "Fitzpatrick"); listed mishearings may.
                if hit and hit[1] >= THRESHOLD and (scorer == self._score_listed or _same_numbers(span, hit[0])):
                    return size, hit[0], hit[1]
        return None

    def _is_term_already(self, span: list[_Token]) -> bool:
        """The span spells a term, or its plural ("nanometers", "lasers" stay as said)."""
        words = " ".join(t.word.word.strip().strip(".,;:!?") for t in span)
        for form in (words, *(words[:-len(end)] for end in ("es", "s") if words.lower().endswith(end))):
            term = self._by_key.get(_key(form))
            if term is not None and _phrase(term.term) == _phrase(form):
                return True
        return False

    def _score_listed(self, span, active, clinical):
        term = self._listed.get("".join(t.core for t in span))
        return None if term is None else (term, self._listed_score(span, term, active, clinical))

    def _score_joined(self, span, active, clinical):
        # "Pico Sure", "cool sculpting": the term's own letters split into words.
        term = self._by_key.get("".join(t.core for t in span)) if len(span) > 1 else None
        if term is None or len(_key(term.term)) < 6:
            return None
        return term, self._listed_score(span, term, active, clinical) - 0.05

    @staticmethod
    def _listed_score(span, term: Term, active: set[str], clinical: bool) -> float:
        ordinary = _ordinary()
        if any(t.core not in ordinary for t in span):
            return LISTED_NONWORD
        # A phrase people corrected the same way in several episodes ("fold a graph" ->
        # photograph) is as good as a hotword; a single ordinary word is too common for that.
        taught = term.category == "correction" and len(span) > 1
        bonus = ACTIVE_BONUS if _key(term.term) in active or taught else CLINICAL_BONUS if clinical else 0.0
        return LISTED_ORDINARY + bonus

    def _score_fuzzy(self, span, active, clinical):
        ordinary = _ordinary()
        if all(t.core in ordinary for t in span):
            return None
        joined = "".join(t.core for t in span)
        if len(joined) < FUZZY_MIN_CHARS:
            return None
        candidates = []
        best = process.extractOne(joined, self._by_key.keys(), scorer=fuzz.ratio, score_cutoff=85)
        if best:
            candidates.append((self._by_key[best[0]], best[1] / 100))
        sound = self._by_sound.get(sound_key(joined))
        if sound and fuzz.ratio(joined, _key(sound.term)) >= 60:
            candidates.append((sound, 0.9))  # sounds the same, spelled roughly alike
        near = process.extractOne(joined, self._by_key.keys(), scorer=fuzz.ratio, score_cutoff=80)
        if near and fuzz.ratio(sound_key(joined), sound_key(near[0])) >= 85:
            candidates.append((self._by_key[near[0]], 0.88))  # spelled and sounds nearly alike
        for term, score in sorted(candidates, key=lambda c: -c[1]):
            if _fits(span, joined, term):
                return term, score + (0.05 if _key(term.term) in active else 0.0)
        return None


# Short words and roman numerals are ordinary too, though the vocabulary test misses them.
_SHORT = frozenset("a i o ii iii iv v vi vii viii ix x".split())


@lru_cache(maxsize=1)
def _ordinary() -> frozenset[str]:
    return ordinary_words() | _SHORT


def _same_numbers(span: list[_Token], term: Term) -> bool:
    return re.findall(r"\d+", " ".join(t.word.word for t in span)) == re.findall(r"\d+", term.term)


def _fits(span: list[_Token], joined: str, term: Term) -> bool:
    """A fuzzy hit must be about as long as the term and may not swallow ordinary neighbours."""
    key = _key(term.term)
    if not 0.85 <= len(joined) / len(key) <= 1.18:
        return False
    term_words = set(_phrase(term.term).split())
    ordinary = _ordinary()
    # A piece glued to the previous one ("deco" "-second") belongs to the same written word.
    return all(t.core not in ordinary or t.core in term_words or (k and not t.word.word.startswith(" "))
               for k, t in enumerate(span))


def _merge(span: list[_Token], term: str) -> Word:
    first, last = span[0].word, span[-1].word
    lead = " " if first.word.startswith(" ") else ""
    prob = min(t.word.probability for t in span)
    return Word(first.start, last.end, f"{lead}{term}{span[-1].trailing}", prob)


def _parse_entries(data: object, source: str) -> list[Term]:
    entries = data.get("terms", []) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ConfigError(f"Glossary {source} must hold a list of terms.")
    terms = []
    for entry in entries:
        if not isinstance(entry, dict) or not str(entry.get("term", "")).strip():
            raise ConfigError(f"Glossary {source}: every entry needs a term, got {entry!r}.")
        category = entry.get("category", "product")
        if category not in CATEGORIES:
            raise ConfigError(f"Glossary {source}: {entry['term']!r} has unknown category {category!r}.")
        terms.append(Term(str(entry["term"]).strip(), category,
                          tuple(str(m) for m in entry.get("mishearings") or ())))
    return terms


def _read_yaml(path: Path | str, text: str | None = None) -> list[Term]:
    try:
        data = _load_yaml(text if text is not None else Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"Cannot read glossary {path}: {exc}") from exc
    return _parse_entries(data, str(path))


@lru_cache(maxsize=1)
def bundled_terms() -> tuple[Term, ...]:
    text = resources.files("pipeline").joinpath("data/glossary.yaml").read_text(encoding="utf-8")
    return tuple(_read_yaml("pipeline/data/glossary.yaml", text))


def _merge_terms(*groups: Iterable[Term]) -> list[Term]:
    merged: dict[str, Term] = {}
    for group in groups:
        for t in group:
            old = merged.get(t.term.lower())
            mishearings = tuple(dict.fromkeys((*(old.mishearings if old else ()), *t.mishearings)))
            merged[t.term.lower()] = Term(t.term, t.category, mishearings)
    return list(merged.values())


def load_glossary(extra_path: str | None = None,
                  extra_terms: Iterable[tuple[str, str, list[str]]] = ()) -> Glossary:
    """The bundled glossary with a YAML file and editors' terms merged over it, by term.

    Raises ConfigError when the file is unreadable or an entry lacks a term or has an
    unknown category.
    """
    groups: list[Iterable[Term]] = [bundled_terms()]
    if extra_path:
        groups.append(_read_yaml(extra_path))
    # Editors type categories freely; one the glossary does not know is a plain term, not a
    # reason to stop every transcription.
    groups.append(_parse_entries([{"term": t, "category": c if c in CATEGORIES else "term", "mishearings": m}
                                  for t, c, m in extra_terms], "from the database"))
    return Glossary(_merge_terms(*groups))
