"""Summary notes: Markdown with optional YAML front matter.

```
---
title: Picosecond lasers for melasma
event: {name: Aesthetic Lasers Summit 2026, place: Lisbon, starts_on: 2026-05-14}
date: 2026-05-14
speakers: [{name: Dr. Ana Ribeiro, role: speaker}, Dr. Tom Hale]
tags: [Melasma, Picosecond laser]
explicit: false
members_only: false
season: 1
episode: 3
source: {title: "Picosecond vs Q-switched lasers for melasma", url: https://doi.org/10.1000/x,
         kind: article, authors: [A. Ribeiro, T. Hale], date: 2026-03-01}
---
# Section heading          <- a section (becomes a chapter when anchored)
- a claim                  <- a bullet (gets a "listen at" link when anchored)
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import yaml

from .errors import InvalidNotes, InvalidUpload
from .text import strip_bidi_controls

MAX_NOTES_BYTES = 512 * 1024
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.+)$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
KNOWN_KEYS = {"title", "event", "date", "speakers", "tags", "explicit", "season", "episode", "episode_type", "language",
              "members_only", "session", "source"}
SOURCE_KINDS = ("article", "webinar", "session", "guide")
SOURCE_KEYS = {"title", "url", "kind", "authors", "date"}


@dataclass(frozen=True)
class Speaker:
    name: str
    role: str = "speaker"


@dataclass(frozen=True)
class EventRef:
    name: str
    place: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None


@dataclass(frozen=True)
class Source:
    """What a summary summarizes (front matter ``source:``): cited on the page, in the feed item
    and in the spoken opening and closing."""

    title: str
    kind: str = "article"  # article | webinar | session | guide
    url: str | None = None
    authors: tuple[str, ...] = ()
    published_on: date | None = None


@dataclass
class Section:
    """A heading and what follows it. ``line`` (0-based, None for text before the first heading)
    and ``bullet_lines`` say where the heading and each bullet are in the Markdown, so a page can
    put a section's or bullet's anchor next to the element rendered from that line."""

    title: str
    level: int
    body: str = ""
    bullets: list[str] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)
    bullet_lines: list[int] = field(default_factory=list, compare=False, repr=False)


@dataclass
class EpisodeMeta:
    """What a summarizer says about a recording, from the CLI, a form or front matter."""

    title: str | None = None
    event: EventRef | None = None
    recorded_on: date | None = None
    speakers: list[Speaker] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    explicit: bool = False
    season: int | None = None
    number: int | None = None
    episode_type: str = "full"
    members_only: bool = False
    call_session: int | None = None  # front matter ``session``: the call-for-summaries session these notes cover
    source: Source | None = None

    def merged_over(self, base: "EpisodeMeta") -> "EpisodeMeta":
        """Fields set here win over ``base`` (command-line flags over front matter)."""
        return EpisodeMeta(
            title=self.title or base.title, event=self.event or base.event,
            recorded_on=self.recorded_on or base.recorded_on, speakers=self.speakers or base.speakers,
            tags=self.tags or base.tags, explicit=self.explicit or base.explicit,
            season=self.season if self.season is not None else base.season,
            number=self.number if self.number is not None else base.number,
            episode_type=self.episode_type if self.episode_type != "full" else base.episode_type,
            members_only=self.members_only or base.members_only, source=self.source or base.source,
            call_session=self.call_session if self.call_session is not None else base.call_session)


@dataclass
class Notes:
    meta: EpisodeMeta
    markdown: str
    sections: list[Section]

    @property
    def plain_text(self) -> str:
        return " ".join([s.title + " " + s.body + " " + " ".join(s.bullets) for s in self.sections]).strip()


def parse_notes(text: str | bytes) -> Notes:
    """Split front matter from Markdown and read sections and bullets.

    Raises InvalidNotes (an InvalidUpload) for notes that are too large, not UTF-8, or whose front matter is not
    a YAML mapping of the known fields with values of the right kind.
    """
    if isinstance(text, bytes):
        if len(text) > MAX_NOTES_BYTES:
            raise InvalidNotes(f"The notes are {len(text) // 1024} KB; notes may be at most {MAX_NOTES_BYTES // 1024} KB.")
        text = decode_notes(text)
    if len(text.encode()) > MAX_NOTES_BYTES:
        raise InvalidNotes(f"The notes are too long; notes may be at most {MAX_NOTES_BYTES // 1024} KB.")
    text = strip_bidi_controls(text.replace("\x00", ""))  # they could reverse how a title or name reads
    meta, body = EpisodeMeta(), text
    match = _FRONT.match(text)
    if match:
        meta = _meta_from_yaml(match.group(1))
        body = text[match.end():]
    return Notes(meta=meta, markdown=body.strip() + "\n" if body.strip() else "", sections=split_sections(body))


def decode_notes(raw: bytes) -> str:
    """UTF-8 bytes (a BOM is dropped) to text. Raises InvalidNotes naming the first byte that is
    not UTF-8 and where it is, since a summarizer has to find it in their editor."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InvalidNotes(f"The notes are not UTF-8 text: byte 0x{raw[exc.start]:02X} on line {line} is not UTF-8 "
                           "(the file is probably Latin-1 or Windows-1252); save the notes as UTF-8 Markdown.") from None


def split_sections(markdown: str) -> list[Section]:
    sections: list[Section] = []
    current = Section(title="", level=0)
    in_code = False
    # Lines as CommonMark counts them (not str.splitlines, which also breaks at \f, \x1c, \u2028...).
    for number, line in enumerate(_LINE_BREAK.split(markdown)):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if not in_code and (h := _HEADING.match(line)):
            if current.title or current.body.strip() or current.bullets:
                sections.append(current)
            current = Section(title=h.group(2).strip(), level=len(h.group(1)), line=number)
        elif not in_code and (b := _BULLET.match(line)):
            current.bullets.append(b.group(1).strip())
            current.bullet_lines.append(number)
        elif line.strip():
            current.body = (current.body + " " + line.strip()).strip()
    if current.title or current.body.strip() or current.bullets:
        sections.append(current)
    return sections


def _meta_from_yaml(source: str) -> EpisodeMeta:
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" near line {where.line + 2}" if where else ""
        raise InvalidNotes(f"The notes' front matter is not valid YAML{line}.") from None
    if data is None:
        return EpisodeMeta()
    if not isinstance(data, dict):
        raise InvalidNotes("The notes' front matter must be a list of 'field: value' lines.")
    unknown = sorted(str(k) for k in data if k not in KNOWN_KEYS)
    if unknown:
        raise InvalidNotes(f"The notes' front matter has unknown field(s) {', '.join(unknown)}; "
                            f"known fields are {', '.join(sorted(KNOWN_KEYS))}.")
    return EpisodeMeta(
        title=_text(data, "title", 300), event=_event(data.get("event")),
        recorded_on=_date(data.get("date"), "date"), speakers=_speakers(data.get("speakers")),
        tags=_tags(data.get("tags")), explicit=_bool(data.get("explicit", False), "explicit"),
        members_only=_bool(data.get("members_only", False), "members_only"),
        season=_int(data.get("season"), "season"), number=_int(data.get("episode"), "episode"),
        episode_type=_episode_type(data.get("episode_type", "full")), source=_source(data.get("source")),
        call_session=_int(data.get("session"), "session"))


def _text(data: dict, key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int, float)):
        raise InvalidNotes(f"The notes' '{key}' must be text.")
    value = str(value).strip()
    if len(value) > limit:
        raise InvalidNotes(f"The notes' '{key}' is longer than {limit} characters.")
    return value or None


def _date(value, key: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidNotes(f"The notes' '{key}' must be a date like 2026-05-14, not {str(value)[:40]!r}.") from None


def _int(value, key: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 100000:
        raise InvalidNotes(f"The notes' '{key}' must be a positive whole number.")
    return value


def _bool(value, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in {"yes", "true", "1"}:
        return True
    if str(value).lower() in {"no", "false", "0", "clean"}:
        return False
    raise InvalidNotes(f"The notes' '{key}' must be true or false.")


def _episode_type(value) -> str:
    if value not in ("full", "trailer", "bonus"):
        raise InvalidNotes("The notes' 'episode_type' must be full, trailer or bonus.")
    return value


def _event(value) -> EventRef | None:
    if value is None:
        return None
    if isinstance(value, str):
        return EventRef(name=_clean_name(value, "event"))
    if not isinstance(value, dict) or "name" not in value:
        raise InvalidNotes("The notes' 'event' must be a name or a mapping with at least 'name'.")
    return EventRef(name=_clean_name(value["name"], "event"), place=_text(value, "place", 200),
                    starts_on=_date(value.get("starts_on"), "event starts_on"),
                    ends_on=_date(value.get("ends_on"), "event ends_on"))


def source_front_matter(source: Source | None) -> str:
    """The ``source:`` front matter that reads back as ``source`` (empty for none): the studio's
    edit form shows it above the notes so a change to it is saved like the rest."""
    if source is None:
        return ""
    data = {"title": source.title, "kind": source.kind}
    if source.url:
        data["url"] = source.url
    if source.authors:
        data["authors"] = list(source.authors)
    if source.published_on:
        data["date"] = source.published_on
    return "---\n" + yaml.safe_dump({"source": data}, sort_keys=False, allow_unicode=True, width=100) + "---\n"


def _source(value) -> Source | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not value.get("title"):
        raise InvalidUpload("The notes' 'source' must be a mapping with at least 'title' "
                            "(and url, kind, authors, date).")
    unknown = sorted(str(k) for k in value if k not in SOURCE_KEYS)
    if unknown:
        raise InvalidUpload(f"The notes' 'source' has unknown field(s) {', '.join(unknown)}; "
                            f"known fields are {', '.join(sorted(SOURCE_KEYS))}.")
    kind = str(value.get("kind", "article")).strip().lower()
    if kind not in SOURCE_KINDS:
        raise InvalidUpload(f"The notes' source 'kind' must be one of {', '.join(SOURCE_KINDS)}, not {kind[:40]!r}.")
    url = _text(value, "url", 500)
    if url and not re.match(r"https?://[^\s/]+\.[^\s]+$", url):
        raise InvalidUpload("The notes' source 'url' must be a web address starting with http:// or https://.")
    authors = value.get("authors") or []
    authors = [authors] if isinstance(authors, str) else authors
    if not isinstance(authors, list):
        raise InvalidUpload("The notes' source 'authors' must be a list of names.")
    return Source(title=_clean_name(value["title"], "source title", TITLE_LIMIT), kind=kind, url=url,
                  authors=tuple(_clean_name(a, "source author") for a in authors),
                  published_on=_date(value.get("date"), "source date"))


def _speakers(value) -> list[Speaker]:
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        raise InvalidNotes("The notes' 'speakers' must be a list of names.")
    out = []
    for item in value:
        if isinstance(item, dict) and "name" in item:
            out.append(Speaker(_clean_name(item["name"], "speaker"), str(item.get("role", "speaker"))[:40]))
        elif isinstance(item, str):
            out.append(Speaker(_clean_name(item, "speaker")))
        else:
            raise InvalidNotes("Each speaker in the notes must be a name or {name: ..., role: ...}.")
    return out


def _tags(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [v for v in value.split(",")]
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise InvalidNotes("The notes' 'tags' must be a list of words.")
    return [_clean_name(v, "tag", 100) for v in value if str(v).strip()]


def _clean_name(value, what: str, limit: int = 200) -> str:
    if not isinstance(value, (str, int)):
        raise InvalidNotes(f"A {what} name in the notes must be text.")
    value = " ".join(str(value).split())
    if not value:
        raise InvalidNotes(f"A {what} name in the notes is empty.")
    if len(value) > limit:
        raise InvalidNotes(f"A {what} name in the notes is longer than {limit} characters.")
    return value


def strip_front_matter(notes_markdown: str) -> str:
    """The notes without their YAML front matter block."""
    match = _FRONT.match(notes_markdown or "")
    return notes_markdown[match.end():] if match else (notes_markdown or "")


# --- episode fields typed in a form, an API call or on the command line ----------------------

TITLE_LIMIT, NAME_LIMIT, TAG_LIMIT = 300, 200, 100


def parse_day(value: str | None, label: str = "The date") -> date | None:
    """'2026-05-14' to a date; raises InvalidUpload (naming the field as ``label``) on anything else."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidUpload(f"{label} must look like 2026-05-14, not {value.strip()[:40]!r}.") from None


def split_names(value: str | None, limit: int = NAME_LIMIT) -> list[str]:
    """Comma- or line-separated names, cleaned; raises InvalidUpload for one that is too long."""
    return clean_names(re.split(r"[,\n;]", value or ""), limit)


def clean_names(items, limit: int = NAME_LIMIT) -> list[str]:
    """Names with their spaces tidied, empty ones and repeats dropped; InvalidUpload for one too long."""
    names = [" ".join(str(item).split()) for item in items]
    for name in names:
        if len(name) > limit:
            raise InvalidUpload(f"The name {name[:40]!r}... is longer than {limit} characters.")
    return list(dict.fromkeys(n for n in names if n))


def meta_from_fields(title=None, event=None, speakers=None, recorded_on=None, tags=None, *,
                     date_label: str = "The date") -> EpisodeMeta:
    """An EpisodeMeta from form, API or command-line fields, cut to the columns' limits (title
    300, event and names 200, tags 100 characters). ``speakers`` and ``tags`` are text with
    comma- or line-separated names, or lists of names. Raises InvalidUpload naming the bad field."""
    title, event, speakers, tags = (strip_bidi_controls(v) for v in (title, event, speakers, tags))
    return EpisodeMeta(title=" ".join((title or "").split())[:TITLE_LIMIT] or None,
                       event=EventRef(" ".join(event.split())[:NAME_LIMIT]) if event and event.strip() else None,
                       recorded_on=parse_day(recorded_on, date_label),
                       speakers=[Speaker(s) for s in _names(speakers, NAME_LIMIT)],
                       tags=_names(tags, TAG_LIMIT))


def _names(value, limit: int) -> list[str]:
    """Text is split at commas and new lines; a list (``--speaker`` given twice) is taken as is."""
    if value is None or isinstance(value, str):
        return split_names(value, limit)
    return clean_names(value, limit)
