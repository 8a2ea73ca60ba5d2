"""What the Podcasting 2.0 namespace documentation asks of each ``podcast:`` tag we write.

``channel_problems`` and ``item_problems`` yield one sentence per problem; ``feeds.check`` calls
them beside its own checks. The rules are the documented ones: required attributes, allowed
values, how many of a tag a parent may hold, the 128-character labels and the person taxonomy.
Recommendations (a soundbite of 15 to 120 seconds) are not reported: a feed may ignore them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from feeds.podcast_ext import PODCAST_NS

NS = {"podcast": PODCAST_NS, "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd"}
#: Aggregators may cut names, labels and titles longer than this.
LABEL_LIMIT = 128
#: ``podcast:episode``'s ``display`` attribute.
DISPLAY_LIMIT = 32
#: Tags the documentation allows once per parent.
SINGLE_IN_CHANNEL = ("guid", "locked", "medium")
SINGLE_IN_ITEM = ("chapters", "season", "episode")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_WHOLE = re.compile(r"\d+")
_NUMBER = re.compile(r"\d+(\.\d+)?")

#: The Podcast Taxonomy Project's groups and roles (the namespace's taxonomy.json), lower case:
#: ``role`` and ``group`` are compared case-insensitively.
TAXONOMY: dict[str, frozenset[str]] = {
    "creative direction": frozenset({
        "director", "assistant director", "executive producer", "senior producer", "producer",
        "associate producer", "development producer", "creative director"}),
    "cast": frozenset({"host", "co-host", "guest host", "guest", "voice actor", "narrator", "announcer",
                       "reporter"}),
    "writing": frozenset({
        "author", "editorial director", "co-writer", "writer", "songwriter", "guest writer", "story editor",
        "managing editor", "script editor", "script coordinator", "researcher", "editor", "fact checker",
        "translator", "translater", "transcriber", "logger"}),
    "audio production": frozenset({
        "studio coordinator", "technical director", "technical manager", "audio engineer",
        "remote recording engineer", "post production engineer"}),
    "audio post-production": frozenset({
        "audio editor", "sound designer", "foley artist", "composer", "theme music", "music production",
        "music contributor"}),
    "administration": frozenset({
        "production coordinator", "booking coordinator", "production assistant", "content manager",
        "marketing manager", "sales representative", "sales manager"}),
    "visuals": frozenset({"graphic designer", "cover art designer"}),
    "community": frozenset({"social media manager"}),
    "misc.": frozenset({"consultant", "intern"}),
    "video production": frozenset({"camera operator", "lighting designer", "camera grip", "assistant camera"}),
    "video post-production": frozenset({"editor", "assistant editor"}),
}


def channel_problems(channel) -> Iterator[str]:
    """The channel's podcast: tags: counts, locked's owner, funding, people."""
    yield from _counts(channel, SINGLE_IN_CHANNEL, "The channel")
    locked = channel.find("podcast:locked", NS)
    if locked is not None and locked.get("owner") is not None and not _EMAIL.fullmatch(locked.get("owner")):
        yield f"The podcast:locked owner {locked.get('owner')!r} is not an e-mail address."
    for funding in channel.findall("podcast:funding", NS):
        if not is_url(funding.get("url")):
            yield f"A podcast:funding has url {funding.get('url')!r}, not an http(s) URL."
        yield from _label(funding.text, "A podcast:funding label")
    yield from people_problems(channel, "The channel")


def item_problems(item, name: str) -> Iterator[str]:
    """An item's podcast: tags: counts, transcripts, chapters, season, episode, soundbites, people."""
    yield from _counts(item, SINGLE_IN_ITEM, name)
    for transcript in item.findall("podcast:transcript", NS):
        yield from _transcript(transcript, name)
    chapters = item.find("podcast:chapters", NS)
    if chapters is not None and chapters.get("url") and not is_url(chapters.get("url")):
        yield f"{name} has podcast:chapters url {chapters.get('url')!r}, not an http(s) URL."
    yield from _season_and_episode(item, name)
    yield from _soundbites(item, name)
    yield from people_problems(item, name)


def people_problems(parent, name: str) -> Iterator[str]:
    """``podcast:person``: a name within 128 characters, a taxonomy group and role, URLs."""
    for person in parent.findall("podcast:person", NS):
        who = (person.text or "").strip()
        yield from _label(who, f"{name}'s podcast:person name")
        group = (person.get("group") or "cast").strip().lower()
        role = (person.get("role") or "host").strip().lower()
        if group not in TAXONOMY:
            yield f"{name}'s podcast:person {who!r} has group {person.get('group')!r}, not one of the taxonomy's."
        elif role not in TAXONOMY[group]:
            yield f"{name}'s podcast:person {who!r} has role {role!r}, not one of the {group!r} group's."
        for attr in ("href", "img"):
            if person.get(attr) is not None and not is_url(person.get(attr)):
                yield f"{name}'s podcast:person {who!r} has {attr} {person.get(attr)!r}, not an http(s) URL."


def is_url(value: str | None) -> bool:
    """An absolute http or https URL with a host (what an app can fetch)."""
    if not value:
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _counts(parent, tags: tuple[str, ...], name: str) -> Iterator[str]:
    for tag in tags:
        count = len(parent.findall(f"podcast:{tag}", NS))
        if count > 1:
            yield f"{name} has {count} podcast:{tag} tags; the namespace allows one."


def _transcript(transcript, name: str) -> Iterator[str]:
    url, language, rel = transcript.get("url"), transcript.get("language"), transcript.get("rel")
    if url and not is_url(url):
        yield f"{name} has a podcast:transcript url {url!r}, not an http(s) URL."
    if language is not None and not _LANGUAGE.fullmatch(language):
        yield f"{name} has a podcast:transcript language {language!r}, not a language code."
    if rel is not None and rel != "captions":
        yield f"{name} has a podcast:transcript rel {rel!r}; the only value is \"captions\"."


def _season_and_episode(item, name: str) -> Iterator[str]:
    season = item.find("podcast:season", NS)
    if season is not None:
        value = (season.text or "").strip()
        if _NUMBER.fullmatch(value) and not _WHOLE.fullmatch(value):
            yield f"{name} has podcast:season {value!r}, not a whole number."
        yield from _label(season.get("name"), f"{name}'s podcast:season name")
    episode = item.find("podcast:episode", NS)
    if episode is not None and len(episode.get("display") or "") > DISPLAY_LIMIT:
        yield f"{name}'s podcast:episode display is over {DISPLAY_LIMIT} characters."


def _soundbites(item, name: str) -> Iterator[str]:
    length = (item.findtext("itunes:duration", default="", namespaces=NS) or "").strip()
    for bite in item.findall("podcast:soundbite", NS):
        start, duration = bite.get("startTime", ""), bite.get("duration", "")
        if not (_NUMBER.fullmatch(start) and _NUMBER.fullmatch(duration)):
            continue  # feeds.check already names it
        if float(duration) <= 0:
            yield f"{name} has a podcast:soundbite of duration {duration}; it must be above 0."
        elif length.isdigit() and float(start) + float(duration) > int(length) + 1:
            yield f"{name} has a podcast:soundbite ending at {float(start) + float(duration):g} s, " \
                  f"after the episode ({length} s)."
        yield from _label(bite.text, f"{name}'s podcast:soundbite title")


def _label(text: str | None, what: str) -> Iterator[str]:
    if text is not None and len(text.strip()) > LABEL_LIMIT:
        yield f"{what} is over {LABEL_LIMIT} characters."
