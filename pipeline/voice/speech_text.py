"""Summary notes rewritten for the ear: what the voice says, block by block.

Headings become chapters with a pause around them, bullets become sentences, clinical writing
is expanded (units, ranges, skin types, abbreviations from the lexicon), Markdown links,
emphasis, code and images are stripped, and an opening and a closing say what is summarized
and by whom. Each sentence keeps two forms: what the transcript shows and what the voice is
given (with ``[[phonemes]]`` from the lexicon).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InvalidUpload
from ..notes import Section, Source, split_sections, strip_front_matter
from .lexicon import Lexicon
from .spoken_numbers import expand_numbers

MAX_SPEECH_WORDS = 8000  # about 55 minutes at the voice's 150 words a minute
PAUSES = {"opening": 1.0, "heading": 0.7, "body": 0.5, "bullet": 0.35, "closing": 0.0}
PAUSE_BEFORE_CHAPTER = 1.0

_REWRITES = [
    (re.compile(r"```.*?```", re.S), " "), (re.compile(r"!\[[^\]]*\]\([^)]*\)"), " "),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"), (re.compile(r"<[^>]+>"), " "),
    (re.compile(r"https?://\S+|www\.\S+"), " "), (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<!\w)[*_](.+?)[*_](?!\w)"), r"\1"), (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"^\s*(?:>|\|)+|\|", re.M), " "),
]
_WORDS = [(r"\be\.g\.", "for example"), (r"\bi\.e\.", "that is"), (r"\bvs\.?(?=\s)", "versus"),
          (r"\bDr\.(?=\s)", "Doctor"), (r"\bProf\.(?=\s)", "Professor"), (r"\bapprox\.", "approximately"),
          (r"\betc\.", "et cetera"), (r"\bw/(?=\s)", "with"), (r"\bet al\.", "and colleagues"),
          (r"\bpts\b", "patients"), (r"\btx\b", "treatment"), (r"\band/or\b", "and or"),
          (r"&", " and "), (r"→|->", " leads to "), (r"≥|>=", " at least "), (r"≤|<=", " at most "),
          (r"±", " plus or minus "), (r"×", " times "), (r"~(?=\s?\d)", "about "), (r"\s<\s?(?=\d)", " less than "),
          (r"\s>\s?(?=\d)", " more than ")]
_SENTENCE_END = re.compile(r"(?<!\b[A-Z][.])(?<=[.!?])[\"”)]?\s+(?=[A-Z0-9\"“(])")
_MONTHS = "January February March April May June July August September October November December".split()


@dataclass(frozen=True)
class Sentence:
    display: str  # what the transcript shows
    spoken: str  # what the voice is given


@dataclass
class Block:
    """A paragraph of speech: the unit a resumed voicing skips once it is stored."""

    kind: str  # opening | heading | body | bullet | closing
    sentences: list[Sentence]
    pause_after: float
    chapter: str | None = None  # a chapter with this title starts here
    section: int | None = None  # index in split_sections(notes): a section anchor
    bullet: int | None = None  # running bullet index over the notes: a bullet anchor

    @property
    def text(self) -> str:
        return " ".join(s.spoken for s in self.sentences)


@dataclass
class SpeechScript:
    blocks: list[Block] = field(default_factory=list)

    @property
    def word_count(self) -> int:
        return sum(len(s.display.split()) for b in self.blocks for s in b.sentences)

    @property
    def display_text(self) -> str:
        return " ".join(s.display for b in self.blocks for s in b.sentences)


@dataclass(frozen=True)
class Credits:
    """Who and what the opening and closing name."""

    show: str
    title: str
    summarizer: str | None = None
    source: Source | None = None
    notes_only: bool = True


def clean_inline(text: str) -> str:
    """Markdown and clinical shorthand to plain words (numbers still as digits)."""
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    for pattern, replacement in _WORDS:
        text = re.sub(pattern, replacement, text)
    return " ".join(text.split())


def sentences_of(text: str, lexicon: Lexicon) -> list[Sentence]:
    """Speakable sentences of a piece of notes text (those without a letter are dropped)."""
    text = re.sub(r"\s*[–—]\s*", ", ", expand_numbers(clean_inline(text)))
    out = []
    for part in _SENTENCE_END.split(text):
        part = part.strip(" ,;:")
        if not re.search(r"[A-Za-z]", part):
            continue
        if part[-1] not in ".!?":
            part += "."
        display, spoken = lexicon.apply(part)
        out.append(Sentence(display, spoken))
    return out


def script_for(notes_markdown: str, credits: Credits, lexicon: Lexicon) -> SpeechScript:
    """What the voice says for these notes, opening and closing included.

    Raises InvalidUpload when the notes are empty, have nothing a voice can say (only links,
    code or symbols), or are longer than MAX_SPEECH_WORDS.
    """
    sections = split_sections(strip_front_matter(notes_markdown or ""))
    if not sections:
        raise InvalidUpload("The notes are empty: write the summary before asking for it to be voiced.")
    script = SpeechScript()
    _add(script, Block("opening", sentences_of(opening_text(credits), lexicon), PAUSES["opening"], chapter="Opening"))
    bullet = 0
    for index, section in enumerate(sections):
        _add_section(script, section, index, bullet, credits, lexicon)
        bullet += len(section.bullets)
    if not any(b.kind != "opening" for b in script.blocks):
        raise InvalidUpload("The notes have nothing a voice can say (only links, code or symbols); "
                            "write the summary in sentences.")
    _add(script, Block("closing", sentences_of(closing_text(credits), lexicon), PAUSES["closing"]))
    if script.word_count > MAX_SPEECH_WORDS:
        raise InvalidUpload(f"The notes would take {script.word_count} spoken words; a voiced summary may have "
                            f"at most {MAX_SPEECH_WORDS}. Shorten the notes or split them into episodes.")
    return script


def _add_section(script, section: Section, index: int, first_bullet: int, credits: Credits, lexicon) -> None:
    said_title = section.title and not (index == 0 and section.level == 1
                                       and section.title.strip().lower() == credits.title.strip().lower())
    if said_title:
        heading = sentences_of(section.title, lexicon)
        if heading and script.blocks:
            script.blocks[-1].pause_after = max(script.blocks[-1].pause_after, PAUSE_BEFORE_CHAPTER)
        _add(script, Block("heading", heading, PAUSES["heading"], chapter=clean_inline(section.title)[:300],
                           section=index))
    _add(script, Block("body", sentences_of(section.body, lexicon), PAUSES["body"],
                       section=None if said_title else index))
    for offset, text in enumerate(section.bullets):
        _add(script, Block("bullet", sentences_of(text, lexicon), PAUSES["bullet"], bullet=first_bullet + offset))


def _add(script: SpeechScript, block: Block) -> None:
    if block.sentences:
        script.blocks.append(block)


@dataclass(frozen=True)
class Introduction:
    """What the short spoken introduction before a recording names."""

    show: str
    title: str
    speakers: tuple[str, ...] = ()
    event: str | None = None
    chapters: tuple[str, ...] = ()
    summarizer: str | None = None
    summary_follows: bool = False  # the summary, read aloud, is the last chapter


INTRO_CHAPTERS = 8  # an introduction names at most this many chapters


def intro_script(intro: Introduction, lexicon: Lexicon) -> SpeechScript:
    """The spoken introduction as one block (one chapter, "Introduction")."""
    script = SpeechScript()
    _add(script, Block("opening", sentences_of(intro_text(intro), lexicon), PAUSES["opening"], chapter="Introduction"))
    return script


def intro_text(i: Introduction) -> str:
    lines = [f"{i.show}.", f"{i.title}."]
    if i.speakers:
        lines.append(f"With {_and(i.speakers)}.")
    if i.event:
        lines.append(f"Recorded at {i.event}.")
    if i.chapters:
        lines.append(f"In this episode: {_and(i.chapters[:INTRO_CHAPTERS])}.")
    if i.summary_follows:
        by = f", written by {i.summarizer}," if i.summarizer else ""
        lines.append(f"At the end, the summary{by} read aloud.")
    elif i.summarizer:
        lines.append(f"Summary notes by {i.summarizer} are on the episode page.")
    return " ".join(lines)


def _and(items) -> str:
    items = [" ".join(str(x).split()).rstrip(".") for x in items if str(x).strip()]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def opening_text(c: Credits) -> str:
    lines = [f"{c.show}.", f"{c.title}."]
    by = f" written by {c.summarizer}" if c.summarizer else ""
    if c.notes_only:
        kind = c.source.kind if c.source else "source"
        lines.append(f"This is a summary{by}, not the original {kind}.")
    else:
        lines.append(f"The summary{by}, read aloud.")
    if c.source:
        lines.append(f"It summarizes {source_phrase(c.source)}.")
    return " ".join(lines)


def closing_text(c: Credits) -> str:
    what = f"a summary of {source_phrase(c.source)}" if c.source else "a summary"
    by = f", written by {c.summarizer}" if c.summarizer else ""
    more = f" The original {c.source.kind} is linked in the show notes." if c.source and c.source.url else ""
    return f"That was {what}{by}, for {c.show}.{more}"


def _ordinal_suffix(day: int) -> str:
    """"st" for 1 and 21, "nd" for 2 and 22, "rd" for 3 and 23, else "th" ("June first")."""
    return "th" if 11 <= day <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def source_phrase(source: Source) -> str:
    phrase = f"the {source.kind} {source.title}"
    if source.authors:
        names = source.authors
        phrase += " by " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])
    if source.published_on:
        d = source.published_on
        phrase += f", {_MONTHS[d.month - 1]} {d.day}{_ordinal_suffix(d.day)}, {d.year}"
    return phrase
