"""Render a show and its episodes as podcast RSS: iTunes tags plus Podcasting 2.0.

The output is a pure function of the inputs (no clock, stable item order), so
the web app can hash it into a strong ETag and cache it until content changes.
"""

from __future__ import annotations

import gc
import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone

from feedgen.feed import FeedGenerator

from feeds import podcast_ext
from feeds.model import EpisodeItem, PersonCredit, ShowInfo, split_category

#: Apple's limit for ``description``; we stay strictly below it (in UTF-8 bytes).
DESCRIPTION_LIMIT = 4000
#: The Podcasting 2.0 spec asks names and labels to stay within 128 characters.
LABEL_LIMIT = 128
#: ``lastBuildDate`` of a feed with no episodes and no ``updated_at``: a constant,
#: because "now" would change the bytes (and the ETag) on every render.
EMPTY_FEED_DATE = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Everything XML 1.0 forbids: C0 controls except tab/LF/CR, surrogates, U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ELLIPSIS = "\u2026"

#: ``podcast:transcript`` tags are written worst first, best last. Clients that keep a single
#: transcript keep the last tag they read (feedparser 6.0.14 and podcastparser 0.6.11 do, see
#: tests/feeds/test_rss.py). The namespace's transcript notes name WebVTT the one format to offer
#: if only one is (Apple ingests it, browsers play it); JSON carries word timings but few apps
#: read it; SRT is timed captions; HTML and plain text have no timings to follow along with.
TRANSCRIPT_RANK = {"text/plain": 0, "text/html": 1, "application/x-subrip": 2, "application/srt": 2,
                   "application/json": 3, "text/vtt": 4}


def clean_text(value: str | None) -> str:
    """Return ``value`` without characters XML 1.0 cannot carry, trimmed."""
    return _XML_ILLEGAL.sub("", value or "").strip()


def truncate_utf8(text: str, limit: int = DESCRIPTION_LIMIT - 1) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 bytes, never mid-character, marking the cut."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = limit - len(_ELLIPSIS.encode("utf-8"))
    # Decoding with "ignore" drops the partial character the byte cut left behind.
    return data[:room].decode("utf-8", "ignore").rstrip() + _ELLIPSIS


def build_feed(show: ShowInfo, items: Sequence[EpisodeItem]) -> bytes:
    """Render the RSS 2.0 document for ``show`` with ``items``, newest first.

    Deterministic: the same inputs give the same bytes. ``lastBuildDate`` is
    ``show.updated_at``, else the newest ``published_at``. Text is cleaned of
    XML-illegal characters. Raises ``ValueError`` if two items share a GUID or
    an enclosure URL (apps would merge or drop them) or ``show.category`` is not
    on Apple's list; the dataclasses reject other bad values when constructed.
    """
    _require_unique(items)
    with _gc_paused():
        fg = _channel(show, items)
        for item in sorted(items, key=lambda i: (i.published_at, i.guid), reverse=True):
            _add_item(fg, item)
        return fg.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)


def feed_etag(body: bytes) -> str:
    """Strong ETag (quoted) for a rendered feed body."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def last_build_date(show: ShowInfo, items: Sequence[EpisodeItem]) -> datetime:
    """The feed's ``lastBuildDate``: content time, never the clock."""
    if show.updated_at is not None:
        return show.updated_at
    return max((item.published_at for item in items), default=EMPTY_FEED_DATE)


def _require_unique(items: Sequence[EpisodeItem]) -> None:
    for what, values in (("GUID", [i.guid for i in items]),
                         ("enclosure URL", [i.enclosure_url for i in items])):
        if len(set(values)) != len(values):
            repeated = sorted({v for v in values if values.count(v) > 1})
            raise ValueError(f"Two episodes share the {what} {repeated[0]!r}.")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic collector off while feedgen allocates.

    A 1,000-episode render makes ~100k short-lived objects and none of them is
    garbage before the end, yet the collector would walk them over and over: a
    quarter of the render time (benchmarks/feed.py). Restores the caller's setting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _label(value: str | None) -> str:
    return clean_text(value)[:LABEL_LIMIT].strip()


def _channel(show: ShowInfo, items: Sequence[EpisodeItem]) -> FeedGenerator:
    fg = FeedGenerator()
    podcast_ext.register(fg)
    title = clean_text(show.title) or "Untitled show"
    fg.title(title)
    fg.description(truncate_utf8(clean_text(show.description)) or title)
    # feedgen keeps the first rel=self for atom:link and makes the *last* link()
    # call the channel <link>, so the site must come second.
    fg.link(href=show.feed_url, rel="self", type="application/rss+xml")
    fg.link(href=show.link, rel="alternate")
    fg.language(show.language)
    fg.gaps.last_build_date(last_build_date(show, items))
    fg.generator("Clinical Exchange")
    if clean_text(show.copyright):
        fg.copyright(clean_text(show.copyright))
    fg.image(url=show.image_url, title=title, link=show.link)
    _itunes_channel(fg, show, title)
    _podcastindex_channel(fg, show)
    return fg


def _itunes_channel(fg: FeedGenerator, show: ShowInfo, title: str) -> None:
    author = clean_text(show.author) or title
    top, sub = split_category(show.category)
    fg.podcast.itunes_author(author)
    fg.podcast.itunes_owner(name=clean_text(show.owner_name) or author,
                            email=clean_text(show.owner_email))
    fg.podcast.itunes_category(cat=top, **({"sub": sub} if sub else {}))
    fg.podcast.itunes_type("episodic")
    fg.gaps.explicit(show.explicit)
    fg.gaps.image(show.image_url)
    if show.blocked:
        fg.podcast.itunes_block(True)
    if show.hub_url:
        fg.gaps.hub(show.hub_url)


def _podcastindex_channel(fg: FeedGenerator, show: ShowInfo) -> None:
    ext = fg.podcastindex
    ext.guid(show.guid)
    ext.locked(show.locked, clean_text(show.owner_email) or None)
    ext.medium(show.medium)
    if show.funding_url:
        ext.funding(show.funding_url, _label(show.funding_text) or "Support the show")
    _credit(ext, show.people)


def _credit(ext, people: Sequence[PersonCredit]) -> None:
    for person in people:
        name = _label(person.name)
        if name:  # the spec forbids a blank person
            ext.person(name, role=_label(person.role) or "guest",
                       group=_label(person.group) or "cast", href=person.href, img=person.img)


def _add_item(fg: FeedGenerator, item: EpisodeItem) -> None:
    fe = fg.add_entry(order="append")
    guid = clean_text(item.guid)
    title = clean_text(item.title) or f"Episode {guid}"
    fe.guid(guid, permalink=False)
    fe.title(title)
    fe.link(href=item.link)
    # An empty description would make feedgen copy the HTML into <description>.
    fe.description(truncate_utf8(clean_text(item.summary_text)) or title)
    html = clean_text(item.summary_html)
    if html:
        fe.content(html)
    fe.enclosure(item.enclosure_url, str(item.enclosure_length), item.enclosure_type)
    fe.gaps.pub_date(item.published_at)
    for keyword in item.keywords:
        if _label(keyword):
            fe.category(term=_label(keyword))
    _itunes_item(fe, item)
    _podcastindex_item(fe, item)


def _itunes_item(fe, item: EpisodeItem) -> None:
    fe.podcast.itunes_duration(int(round(item.duration)))
    fe.podcast.itunes_episode_type(item.episode_type)
    if item.season is not None:
        fe.podcast.itunes_season(item.season)
    if item.number is not None:
        fe.podcast.itunes_episode(item.number)
    fe.gaps.explicit(item.explicit)
    if item.image_url:
        fe.gaps.image(item.image_url)


def _podcastindex_item(fe, item: EpisodeItem) -> None:
    ext = fe.podcastindex
    for link in sorted(item.transcripts, key=lambda link: TRANSCRIPT_RANK[link.type]):
        ext.transcript(link.url, link.type, link.language, link.rel)
    if item.chapters_url:
        ext.chapters(item.chapters_url)
    if item.season is not None:
        ext.season(item.season)
    if item.number is not None:
        ext.episode(item.number)
    for bite in item.soundbites:
        ext.soundbite(bite.start, bite.duration, _label(bite.title) or None)
    _credit(ext, item.people)
