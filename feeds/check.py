"""Check a podcast feed against what Apple, the Podcasting 2.0 spec and podcast apps require.

``check_feed`` returns one sentence per problem (an empty list means the feed
passed). It judges any RSS document, not only ours, so ``clinex feed check``
can point it at a file or URL; with ``fetch`` it also asks the server whether
media, transcripts and chapters are really there.
"""

from __future__ import annotations

import email.utils
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from lxml import etree

from feeds import namespace
from feeds.chapters_schema import schema_problems
from feeds.model import APPLE_CATEGORIES, EPISODE_TYPES, MEDIUMS, TRANSCRIPT_TYPES
from feeds.podcast_ext import ATOM_NS, CHAPTERS_TYPE, ITUNES_NS, PODCAST_NS

Fetch = Callable[[str], tuple[int, dict, bytes]]

DESCRIPTION_LIMIT = 4000
NS = {"itunes": ITUNES_NS, "podcast": PODCAST_NS, "atom": ATOM_NS,
      "content": "http://purl.org/rss/1.0/modules/content/"}

# No DTDs, entities or network: a feed under test is untrusted input.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False)
_GENERATED_PREFIX = re.compile(r"ns\d+")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_RFC2822 = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?\d{1,2} "
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}(?::\d{2})? "
    r"(?:[+-]\d{4}|UT|GMT|[ECMP][SD]T)")


def check_feed(xml: bytes, *, fetch: Fetch | None = None) -> list[str]:
    """Return every problem found in the RSS document ``xml``, one sentence each.

    Checks well-formedness, namespaces (no ``ns0:``), the channel and item tags
    Apple requires, unique GUIDs and enclosure URLs, byte lengths, RFC 2822
    dates, integer durations, description size and the Podcasting 2.0 tags.
    With ``fetch(url) -> (status, headers, body)`` it also compares each
    enclosure's length with the served Content-Length (a HEAD answer is
    enough), and requires transcripts, chapters and the cover to answer 200.
    Never raises for a bad feed; a failing ``fetch`` propagates.
    """
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        return [f"The feed is not well-formed XML ({exc})."]
    problems = list(_check_document(root))
    channel = root.find("channel")
    if channel is None:
        return problems + ["The feed has no <channel> element."]
    items = channel.findall("item")
    problems += _check_channel(channel)
    problems += _check_items(items)
    if fetch is not None:
        problems += _check_served(channel, items, fetch)
    return problems


def check_chapters(body: bytes, duration: float | None = None) -> list[str]:
    """Return the problems of a JSON chapters file: version, ascending, first at 0, in duration."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return [f"The chapters file is not valid JSON ({exc})."]
    if not isinstance(data, dict) or not isinstance(data.get("chapters"), list):
        return ["The chapters file has no \"chapters\" list."]
    problems = [] if isinstance(data.get("version"), str) else \
        ["The chapters file has no \"version\" string."]
    problems += _check_chapter_times(data["chapters"], duration)
    # The schema would repeat what the sentences above already say in plainer words.
    return problems or list(schema_problems(data))


# -- document -------------------------------------------------------------------------------

def _check_document(root) -> Iterator[str]:
    if root.tag != "rss" or root.get("version") != "2.0":
        yield "The document is not RSS 2.0 (<rss version=\"2.0\">)."
    generated = sorted({p for el in root.iter() if isinstance(el.tag, str)
                        for p in el.nsmap if p and _GENERATED_PREFIX.fullmatch(p)})
    if generated:
        yield f"The feed uses generated namespace prefixes ({', '.join(generated)}:)."
    for prefix in ("itunes", "podcast"):
        bound = root.nsmap.get(prefix)
        if bound is not None and bound != NS[prefix]:
            yield f"The {prefix}: prefix is bound to {bound}, not {NS[prefix]}."


# -- channel --------------------------------------------------------------------------------

def _check_channel(channel) -> list[str]:
    problems = [f"The channel has no <{tag}>." for tag in ("title", "link", "description",
                                                              "language")
                if not _text(channel, tag)]
    for check in (_channel_apple, _channel_podcast, _channel_self_link):
        problems += check(channel)
    problems += _description_size(channel, "The channel")
    return problems


def _channel_apple(channel) -> Iterator[str]:
    image = channel.find("itunes:image", NS)
    if image is None or not (image.get("href") or "").strip():
        yield "The channel has no itunes:image with an href."
    yield from _category(channel)
    yield from _explicit(channel, "The channel", required=True)
    if not _text(channel, "itunes:author"):
        yield "The channel has no itunes:author."
    if not _EMAIL.fullmatch(_text(channel, "itunes:owner/itunes:email")):
        yield "The channel has no itunes:owner with an itunes:email address."


def _category(channel) -> Iterator[str]:
    top = channel.find("itunes:category", NS)
    if top is None:
        yield "The channel has no itunes:category."
        return
    name = top.get("text", "")
    if name not in APPLE_CATEGORIES:
        yield f"The itunes:category {name!r} is not on Apple's list."
        return
    for sub in top.findall("itunes:category", NS):
        if sub.get("text") not in APPLE_CATEGORIES[name]:
            yield f"The subcategory {sub.get('text')!r} is not one of Apple's under {name!r}."


def _channel_podcast(channel) -> Iterator[str]:
    guid = _text(channel, "podcast:guid")
    if not guid:
        yield "The channel has no podcast:guid."
    elif not _is_uuid5(guid):
        yield f"The podcast:guid {guid!r} is not a lowercase UUIDv5."
    locked = channel.find("podcast:locked", NS)
    if locked is not None and (locked.text or "").strip() not in ("yes", "no"):
        yield "The podcast:locked value must be \"yes\" or \"no\"."
    medium = channel.find("podcast:medium", NS)
    if medium is not None and (medium.text or "").strip() not in MEDIUMS:
        yield f"The podcast:medium {medium.text!r} is not one the spec defines."
    yield from _people(channel, "The channel")
    yield from namespace.channel_problems(channel)


def _channel_self_link(channel) -> Iterator[str]:
    if not any(link.get("rel") == "self" and link.get("href")
               for link in channel.findall("atom:link", NS)):
        yield "The channel has no atom:link rel=\"self\" pointing at the feed."


def _is_uuid5(value: str) -> bool:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return False
    return str(parsed) == value and parsed.version == 5


# -- items ----------------------------------------------------------------------------------

def _check_items(items) -> list[str]:
    problems: list[str] = []
    for number, item in enumerate(items, 1):
        name = _item_name(item, number)
        for check in (_item_basics, _item_enclosure, _item_dates, _item_podcast):
            problems += check(item, name)
        problems += _description_size(item, name)
    problems += _duplicates(items, lambda i: _text(i, "guid"), "GUID")
    problems += _duplicates(items, lambda i: _attr(i, "enclosure", "url"), "enclosure URL")
    return problems


def _item_name(item, number: int) -> str:
    guid = _text(item, "guid")
    return f"Item {number} ({guid})" if guid else f"Item {number}"


def _item_basics(item, name: str) -> Iterator[str]:
    for tag in ("title", "guid", "description"):
        if not _text(item, tag):
            yield f"{name} has no <{tag}>."
    episode_type = _text(item, "itunes:episodeType")
    if episode_type not in EPISODE_TYPES:
        yield f"{name} needs itunes:episodeType full, trailer or bonus, not {episode_type!r}."
    yield from _explicit(item, name, required=False)


def _item_enclosure(item, name: str) -> Iterator[str]:
    enclosure = item.find("enclosure")
    if enclosure is None:
        yield f"{name} has no <enclosure>."
        return
    for attr in ("url", "type"):
        if not (enclosure.get(attr) or "").strip():
            yield f"{name} has an enclosure without a {attr}."
    length = enclosure.get("length") or ""
    if not length.isdigit() or int(length) <= 0:
        yield f"{name} has enclosure length {length!r}, not a whole number of bytes above 0."


def _item_dates(item, name: str) -> Iterator[str]:
    pub_date = _text(item, "pubDate")
    if not pub_date:
        yield f"{name} has no <pubDate>."
    elif not _is_rfc2822_with_zone(pub_date):
        yield f"{name} has pubDate {pub_date!r}, not an RFC 2822 date with a time zone."
    duration = _text(item, "itunes:duration")
    if not duration.isdigit():
        yield f"{name} has itunes:duration {duration!r}, not a whole number of seconds."


def _is_rfc2822_with_zone(value: str) -> bool:
    # email.utils accepts a date without a zone (it assumes UTC), so the shape is
    # matched first; parsing then rejects impossible dates such as 31 Feb.
    if not _RFC2822.fullmatch(value):
        return False
    try:
        email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return False
    return True


def _item_podcast(item, name: str) -> Iterator[str]:
    for transcript in item.findall("podcast:transcript", NS):
        if not transcript.get("url") or transcript.get("type") not in TRANSCRIPT_TYPES:
            yield f"{name} has a podcast:transcript without a url or a known type."
    for chapters in item.findall("podcast:chapters", NS):
        if not chapters.get("url") or chapters.get("type") != CHAPTERS_TYPE:
            yield f"{name} has podcast:chapters without a url or type {CHAPTERS_TYPE}."
    for tag in ("season", "episode"):
        value = _text(item, f"podcast:{tag}")
        if item.find(f"podcast:{tag}", NS) is not None and not _NUMBER.fullmatch(value):
            yield f"{name} has podcast:{tag} {value!r}, not a number."
    for bite in item.findall("podcast:soundbite", NS):
        if not (_NUMBER.fullmatch(bite.get("startTime", ""))
                and _NUMBER.fullmatch(bite.get("duration", ""))):
            yield f"{name} has a podcast:soundbite without numeric startTime and duration."
    yield from _people(item, name)
    yield from namespace.item_problems(item, name)


def _duplicates(items, key: Callable, what: str) -> Iterator[str]:
    seen: set[str] = set()
    for value in (key(item) for item in items):
        if value and value in seen:
            yield f"The {what} {value!r} appears on more than one item."
        seen.add(value)


# -- shared ---------------------------------------------------------------------------------

def _explicit(parent, name: str, *, required: bool) -> Iterator[str]:
    elem = parent.find("itunes:explicit", NS)
    if elem is None:
        if required:
            yield f"{name} has no itunes:explicit."
    elif (elem.text or "").strip() not in ("true", "false"):
        yield f"{name} has itunes:explicit {elem.text!r}; Apple wants \"true\" or \"false\"."


def _people(parent, name: str) -> Iterator[str]:
    if any(not (p.text or "").strip() for p in parent.findall("podcast:person", NS)):
        yield f"{name} has a podcast:person with no name."


def _description_size(parent, name: str) -> Iterator[str]:
    size = len(_text(parent, "description").encode("utf-8"))
    if size >= DESCRIPTION_LIMIT:
        yield f"{name} has a description of {size} bytes; Apple allows under {DESCRIPTION_LIMIT}."


def _text(parent, path: str) -> str:
    return (parent.findtext(path, default="", namespaces=NS) or "").strip()


def _attr(parent, path: str, attr: str) -> str:
    elem = parent.find(path, NS)
    return "" if elem is None else (elem.get(attr) or "")


# -- what the server says -------------------------------------------------------------------

def _check_served(channel, items, fetch: Fetch) -> list[str]:
    problems = list(_served_cover(channel, fetch))
    for number, item in enumerate(items, 1):
        name = _item_name(item, number)
        problems += _served_enclosure(item, name, fetch)
        for transcript in item.findall("podcast:transcript", NS):
            problems += _served_transcript(transcript, f"{name}'s transcript", fetch)
        problems += _served_chapters(item, name, fetch)
    return problems


def _served_enclosure(item, name: str, fetch: Fetch) -> Iterator[str]:
    url, length = _attr(item, "enclosure", "url"), _attr(item, "enclosure", "length")
    if not url:
        return
    status, headers, body = fetch(url)
    if status != 200:
        yield f"{name}'s enclosure {url} answered {status}, not 200."
        return
    served = _header(headers, "content-length") or (str(len(body)) if body else None)
    if served is None:
        yield f"{name}'s enclosure {url} does not say its Content-Length."
    elif served != length:
        yield f"{name}'s enclosure says {length} bytes but the server sends {served}."


def _fetch_served(url: str, declared: str | None, label: str, fetch: Fetch) -> tuple[list[str], bytes | None]:
    """Fetch a file a tag points at: the problems with its answer (status, type, CORS) and its
    body, None when it did not answer 200."""
    status, headers, body = fetch(url)
    if status != 200:
        return [f"{label} answered {status}, not 200."], None
    return [*_served_type(headers, declared, label), *_served_cors(headers, label)], body


def _served_transcript(transcript, what: str, fetch: Fetch) -> Iterator[str]:
    """200, the declared type, CORS for web players, and a body in that format."""
    url, declared = transcript.get("url"), transcript.get("type")
    if not namespace.is_url(url):  # nothing to fetch; the tag checks have said so
        return
    problems, body = _fetch_served(url, declared, f"{what} {url}", fetch)
    yield from problems
    if body is None:
        return
    shape = _TRANSCRIPT_SHAPES.get(_SAME_TYPE.get(declared, declared))
    if shape and not shape[0](body):
        yield f"{what} {url} is not {shape[1]}."


def _served_type(headers: dict, declared: str | None, what: str) -> Iterator[str]:
    served = (_header(headers, "content-type") or "").split(";")[0].strip().lower()
    if declared and _SAME_TYPE.get(served, served) != _SAME_TYPE.get(declared, declared):
        yield f"{what} is served as {served or 'no type'!r}, not {declared}."


def _served_cors(headers: dict, what: str) -> Iterator[str]:
    # The namespace asks for CORS: web players fetch transcripts and chapters from another origin.
    if not _header(headers, "access-control-allow-origin"):
        yield f"{what} has no Access-Control-Allow-Origin header; web players cannot read it."


def _is_vtt(body: bytes) -> bool:
    return body.removeprefix(b"\xef\xbb\xbf").startswith(b"WEBVTT")


def _is_srt(body: bytes) -> bool:
    return re.search(rb"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", body) is not None


def _is_json_transcript(body: bytes) -> bool:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    segments = data.get("segments") if isinstance(data, dict) else None
    return isinstance(data.get("version"), str) and isinstance(segments, list) and all(
        isinstance(s, dict) and isinstance(s.get("body"), str)
        and isinstance(s.get("startTime"), (int, float)) for s in segments)


_SAME_TYPE = {"application/srt": "application/x-subrip"}
_TRANSCRIPT_SHAPES: dict[str, tuple[Callable[[bytes], bool], str]] = {
    "text/vtt": (_is_vtt, "WebVTT (it does not start with WEBVTT)"),
    "application/x-subrip": (_is_srt, "SRT (no 00:00:00,000 --> timing line)"),
    "application/json": (_is_json_transcript, "a JSON transcript (version and segments with startTime and body)"),
}


def _served_chapters(item, name: str, fetch: Fetch) -> Iterator[str]:
    url = _attr(item, "podcast:chapters", "url")
    if not namespace.is_url(url):
        return
    problems, body = _fetch_served(url, CHAPTERS_TYPE, f"{name}'s chapters {url}", fetch)
    yield from problems
    if body is None:
        return
    duration = _text(item, "itunes:duration")
    for problem in check_chapters(body, float(duration) if duration.isdigit() else None):
        yield f"{name}: {problem}"


def _served_cover(channel, fetch: Fetch) -> Iterator[str]:
    url = _attr(channel, "itunes:image", "href")
    if not url:
        return
    status, _, body = fetch(url)
    if status != 200:
        yield f"The cover {url} answered {status}, not 200."
    elif body:
        yield from _cover_problems(body)


def _cover_problems(body: bytes) -> Iterator[str]:
    from PIL import Image, UnidentifiedImageError  # only needed when a cover was fetched

    try:
        with Image.open(io.BytesIO(body)) as image:
            kind, (width, height) = image.format, image.size
    except UnidentifiedImageError:
        yield "The cover is not an image Pillow can read."
        return
    if kind not in ("JPEG", "PNG"):
        yield f"The cover is {kind}; Apple accepts JPEG or PNG."
    if width != height or not 1400 <= width <= 3000:
        yield f"The cover is {width}x{height}; Apple wants a square of 1400 to 3000 pixels."


def _check_chapter_times(chapters: list[Any], duration: float | None) -> Iterator[str]:
    starts = [c.get("startTime") if isinstance(c, dict) else None for c in chapters]
    if any(not isinstance(s, (int, float)) or isinstance(s, bool) for s in starts):
        yield "A chapter has no numeric startTime."
        return
    if starts and starts[0] != 0:
        yield f"The first chapter starts at {starts[0]}, not 0."
    if any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
        yield "The chapters are not in ascending startTime order."
    if duration is not None and any(s >= duration for s in starts):
        yield f"A chapter starts at or after the end of the audio ({duration:g} s)."


def _header(headers: dict, name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return str(value).strip()
    return None
