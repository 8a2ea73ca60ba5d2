"""The episode's own vocabulary: what its notes, title, event, speakers, tags and source name.

It serves twice: as decoding hints (``episode_vocabulary``, hotwords) and as the phrases that
post-correction may restore (``known_phrases``), each with the words around it in the notes so
that a correction needs the recording to be talking about the same thing there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

from ..words import STOPWORDS, phrase_words, stem, strip_front_matter, term_matcher, words
from .glossary import ordinary_words

MAX_PHRASE_WORDS = 3
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_SENTENCE = re.compile(r"[.!?]\s+|\n")
_CLAUSE = re.compile(r"[,;:()\u2013\u2014]")


@dataclass(frozen=True)
class EpisodeKnowledge:
    """Everything an episode knows before it is transcribed (strings only, so any face can fill it)."""

    title: str = ""
    notes: str = ""  # Markdown, front matter allowed
    speakers: tuple[str, ...] = ()
    event: str | None = None
    tags: tuple[str, ...] = ()
    source: str | None = None  # the uploaded file's name, often "palomar-starlux-talk.mp3"

    def names(self) -> list[str]:
        """The named things: speakers, event, tags and the words of the source's name."""
        source = " ".join(re.split(r"[-_.\s]+", re.sub(r"\.[A-Za-z0-9]{2,4}$", "", self.source or "")))
        return [n for n in (*self.speakers, self.event, *self.tags, source) if n and n.strip()]


@dataclass(frozen=True)
class KnownPhrase:
    """A phrase the episode names, as it is to be written, with the content-word stems of the
    sentence it came from (``context``) and whether Whisper could not spell it unaided (``rare``)."""

    text: str
    context: frozenset[str] = field(default_factory=frozenset)
    rare: bool = False
    name: bool = False  # a speaker, event, tag or source: its context is the whole episode

    @property
    def stems(self) -> frozenset[str]:
        return frozenset(words(self.text))


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
        for term in term_matcher(glossary).find(notes):
            _add(out, term.term)
    known = {w.lower() for item in out for w in phrase_words(item)}
    for raw in re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", notes):
        low = raw.lower()
        if len(low) < 4 or low in STOPWORDS or low in known or not is_rare(low):
            continue
        known.add(low)
        _add(out, raw)
    return out[:limit]


def knowledge_vocabulary(knowledge: EpisodeKnowledge, glossary, limit: int = 60) -> list[str]:
    """``episode_vocabulary`` over everything the episode knows (the title counts as notes)."""
    return episode_vocabulary(f"{knowledge.title}\n{strip_front_matter(knowledge.notes or '')}",
                              knowledge.names()[:-1] if knowledge.source else knowledge.names(),
                              None, (), glossary, limit)


def is_rare(word: str) -> bool:
    """A word (or hyphenated compound) Whisper's vocabulary lacks as a whole word."""
    common = ordinary_words()
    parts = [p for p in re.split(r"[-'’]", word.lower()) if p]
    # "a", "I", "m" of "I'm": the vocabulary test skips words this short, and they are all ordinary
    return bool(parts) and not all(len(p) <= 2 or p in common or stem(p) in common or p.isdigit() for p in parts)


def known_phrases(knowledge: EpisodeKnowledge) -> list[KnownPhrase]:
    """Every phrase of one to three words the episode names, with its sentence's stems.

    Names (speakers, event, tags, source) have the whole notes as context: they may come up
    anywhere. A phrase must hold a word of four letters or more and may not start or end on a
    stop word, so "of the" is never a target. A word is written as the notes write it where it
    is not first in its sentence (capitals there are a name's, not the sentence's)."""
    notes = strip_front_matter(knowledge.notes or "")
    texts = [re.sub(r"^\s*(#+|[-*+]|\d+[.)])\s+", "", s or "") for s in [knowledge.title, *_SENTENCE.split(notes)]]
    sentences = [_TOKEN.findall(t) for t in texts]
    # A phrase never runs over a comma or a colon: "darkening: stop" is two thoughts. Its context
    # is its clause and two clauses either side ("On darkening: stop, intensify sun protection"):
    # in a list ("Topics: Botox, Fraxel, InMode, ...") the whole sentence would back every item
    # wherever any three others are said.
    clauses = [(_TOKEN.findall(c), frozenset(words(" ".join(parts[max(0, k - 2):k + 3]))))
               for t in texts for parts in [_CLAUSE.split(t)] for k, c in enumerate(parts)]
    names = [_TOKEN.findall(n) for n in knowledge.names()]
    proper = {t.lower(): t for tokens in sentences for t in tokens[1:] if t[:1].isupper()}
    # Tags are capitalized by habit ("Melasma"); speakers and events are names.
    proper.update({t.lower(): t for n in (*knowledge.speakers, knowledge.event or "")
                   for t in _TOKEN.findall(n) if t[:1].isupper()})
    everything = frozenset(words(f"{knowledge.title}\n{notes}"))
    out: dict[str, KnownPhrase] = {}
    for tokens, context, is_name in [*((n, everything, True) for n in names), *((c, x, False) for c, x in clauses)]:
        for phrase in _phrases(tokens, proper):
            rare = any(is_rare(w) or w.lower() in proper for w in phrase.split())
            _keep(out, KnownPhrase(phrase, context, rare, is_name))
    return list(out.values())


def written_forms(knowledge: EpisodeKnowledge) -> list[str]:
    """How the episode writes its words where case tells: every word of the speakers and the
    event, and the notes' and title's words that are not first in their sentence."""
    notes = strip_front_matter(knowledge.notes or "")
    out = [t for n in (*knowledge.speakers, knowledge.event or "") for t in _TOKEN.findall(n)]
    for sentence in [knowledge.title, *_SENTENCE.split(notes)]:
        out += _TOKEN.findall(re.sub(r"^\s*(#+|[-*+]|\d+[.)])\s+", "", sentence or ""))[1:]
    return out


def _phrases(tokens: list[str], proper: dict[str, str]) -> list[str]:
    shown = [proper.get(t.lower(), t if i or _looks_proper(t) else t.lower()) for i, t in enumerate(tokens)]
    out = []
    for n in range(1, MAX_PHRASE_WORDS + 1):
        for i in range(len(tokens) - n + 1):
            run = shown[i:i + n]
            low = [w.lower() for w in run]
            if low[0] in STOPWORDS or low[-1] in STOPWORDS or max(len(w) for w in low) < 4:
                continue
            out.append(" ".join(run))
    return out


def _looks_proper(token: str) -> bool:
    """A capitalized word Whisper cannot spell ("Cutera") or one with inner capitals ("StarLux")."""
    return token[:1].isupper() and (is_rare(token) or any(c.isupper() for c in token[1:]))


def _keep(out: dict[str, KnownPhrase], phrase: KnownPhrase) -> None:
    old = out.get(phrase.text.lower())
    if old is None:
        out[phrase.text.lower()] = phrase
    else:  # the same phrase in two sentences: either sentence may back it
        # a name in one place is a name everywhere: ordinary words alone never become it
        out[phrase.text.lower()] = KnownPhrase(old.text, old.context | phrase.context, old.rare or phrase.rare,
                                               old.name or phrase.name)


def _add(out: list[str], item) -> None:
    item = " ".join(str(item or "").split())
    if item and item.lower() not in {o.lower() for o in out}:
        out.append(item)
