"""The pronunciation lexicon: how the voice says the clinical words it would get wrong.

Entries live in the clinical glossary YAML under ``pronunciations:`` and in the glossary admin
page (the ``glossary_terms`` rows with a pronunciation). Each entry says one of:

    phonemes: IPA the voice speaks as written      (Sciton -> sˈaɪtɑːn)
    say:      words to read instead                (PIH -> post-inflammatory hyperpigmentation)
    letters:  true, read as letters                (HSV -> H. S. V.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable

import yaml

from ..errors import ConfigError

# Phonemes the bundled voices know; anything else in a lexicon entry would be spoken as silence.
IPA_CHARACTERS = set("abcdefhijklmnopqrstuvwxyzæçðøŋœɐɑɒɔəɚɛɜɞɟɡɣɤɥɦɨɪɫɬɭɯɰɱɲɳɴɵɸɹɺɻɽɾʀʁʂʃʈʉʊʋʌʍʎʏʐʑʒʔʕʝʟˈˌːˑ̃θχᵻ ")


@dataclass(frozen=True)
class Pronunciation:
    term: str
    phonemes: str = ""
    say: str = ""
    letters: bool = False

    def spoken(self) -> str:
        """What the voice is given for the term."""
        if self.phonemes:
            return f"[[{self.phonemes}]]"
        if self.say:
            return self.say
        return " ".join(ch for ch in self.term if ch.isalnum()) if self.letters else self.term

    def display(self, written: str) -> str:
        """What the transcript shows: the expansion when it is read expanded, else the term as written."""
        return self.say if self.say and not self.phonemes else written


def check_phonemes(term: str, phonemes: str) -> str:
    """The phonemes, stripped; raises ConfigError naming the characters the voice cannot say."""
    phonemes = phonemes.strip()
    unknown = sorted(set(phonemes) - IPA_CHARACTERS)
    if unknown:
        raise ConfigError(f"The pronunciation of {term!r} uses {''.join(unknown)!r}, which the voice cannot say; "
                          f"use IPA letters such as sˈaɪtɑːn.")
    return phonemes


class Lexicon:
    """Terms matched whole-word (case-sensitive for letter abbreviations, else case-insensitive)."""

    def __init__(self, entries: Iterable[Pronunciation]):
        self.entries = {e.term.lower(): e for e in entries}
        terms = sorted(self.entries.values(), key=lambda e: len(e.term), reverse=True)
        self._pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(e.term) for e in terms) + r")(?![\w-])",
                                   re.I) if terms else None

    def __len__(self) -> int:
        return len(self.entries)

    def merged(self, entries: Iterable[Pronunciation]) -> "Lexicon":
        return Lexicon([*self.entries.values(), *entries])

    def apply(self, text: str) -> tuple[str, str]:
        """(what the transcript shows, what the voice is given) for a sentence of display text."""
        if self._pattern is None:
            return text, text
        display = self._pattern.sub(lambda m: self._entry(m).display(m.group(1)), text)
        spoken = self._pattern.sub(lambda m: self._entry(m).spoken(), text)
        return display, spoken

    def _entry(self, match: re.Match) -> Pronunciation:
        return self.entries[match.group(1).lower()]


def parse_pronunciations(data: object, source: str) -> list[Pronunciation]:
    """Entries of a ``pronunciations:`` list; raises ConfigError for an entry saying nothing."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise ConfigError(f"Pronunciations in {source} must be a list.")
    out = []
    for entry in data:
        if not isinstance(entry, dict) or not str(entry.get("term", "")).strip():
            raise ConfigError(f"Pronunciations in {source}: every entry needs a term, got {entry!r}.")
        term = str(entry["term"]).strip()
        item = Pronunciation(term, check_phonemes(term, str(entry.get("phonemes") or "")),
                             str(entry.get("say") or "").strip(), bool(entry.get("letters", False)))
        if not (item.phonemes or item.say or item.letters):
            raise ConfigError(f"Pronunciations in {source}: {term!r} needs phonemes, say or letters.")
        out.append(item)
    return out


@lru_cache(maxsize=1)
def bundled_lexicon() -> Lexicon:
    text = resources.files("pipeline").joinpath("data/glossary.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    return Lexicon(parse_pronunciations(data.get("pronunciations"), "pipeline/data/glossary.yaml"))


def load_lexicon(extra: Iterable[tuple[str, str, str, bool]] = ()) -> Lexicon:
    """The bundled lexicon with editors' entries (term, phonemes, say, letters) over it."""
    rows = [Pronunciation(t, p or "", s or "", bool(letters)) for t, p, s, letters in extra if p or s or letters]
    return bundled_lexicon().merged(rows)
