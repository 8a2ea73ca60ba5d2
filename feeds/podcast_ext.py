"""feedgen extensions: our Podcasting 2.0 namespace, and the tags feedgen 1.0.0 gets wrong.

Each namespace is a feed class plus an entry class registered once on the
``FeedGenerator`` (see :func:`register`). The feed-level class matters even
when a tag is item-only: it puts the prefix on ``<rss>``, and lxml then reuses
that declaration when items are appended instead of inventing ``ns0:``.

Values arrive already cleaned of XML-illegal characters (``feeds.rss`` does
that); these classes only place them.
"""

from __future__ import annotations

import email.utils
from datetime import datetime

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"

CHAPTERS_TYPE = "application/json+chapters"
_RSS = None  # plain RSS 2.0 elements have no namespace


def _element(parent, ns: str | None, tag: str, text: str | None = None, **attrs) -> etree._Element:
    """Append ``{ns}tag`` with the attributes that are not None."""
    elem = etree.SubElement(parent, f"{{{ns}}}{tag}" if ns else tag,
                            {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        elem.text = text
    return elem


def _seconds(value: float) -> str:
    """Seconds the way the spec writes them (``73.0``, ``1234.5``), without float noise."""
    text = f"{float(value):.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


class _PersonMixin:
    """``podcast:person`` is allowed on both channel and item."""

    def person(self, name: str, role: str = "host", group: str = "cast",
               href: str | None = None, img: str | None = None) -> None:
        """Credit a person; the spec asks for a non-blank name under 128 characters."""
        self._people.append((name, {"role": role, "group": group, "href": href, "img": img}))

    def _write_people(self, parent) -> None:
        for name, attrs in self._people:
            _element(parent, PODCAST_NS, "person", name, **attrs)


class PodcastIndexExtension(_PersonMixin, BaseExtension):
    """Channel tags of ``https://podcastindex.org/namespace/1.0`` (prefix ``podcast``)."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: tuple[bool, str | None] | None = None
        self._medium: str | None = None
        self._people: list = []
        self._funding: list[tuple[str, str]] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def guid(self, value: str) -> None:
        """Set ``podcast:guid`` (a UUIDv5; see ``feeds.model.podcast_guid_for``)."""
        self._guid = value

    def locked(self, locked: bool, owner: str | None = None) -> None:
        """Set ``podcast:locked`` yes/no; ``owner`` is the e-mail allowed to move the show."""
        self._locked = (locked, owner)

    def medium(self, value: str) -> None:
        """Set ``podcast:medium`` (``podcast``, ``audiobook``, ...)."""
        self._medium = value

    def funding(self, url: str, text: str) -> None:
        """Add a ``podcast:funding`` link with its label."""
        self._funding.append((url, text))

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self._guid:
            _element(channel, PODCAST_NS, "guid", self._guid)
        if self._locked is not None:
            locked, owner = self._locked
            _element(channel, PODCAST_NS, "locked", "yes" if locked else "no", owner=owner)
        if self._medium:
            _element(channel, PODCAST_NS, "medium", self._medium)
        for url, text in self._funding:
            _element(channel, PODCAST_NS, "funding", text, url=url)
        self._write_people(channel)
        return rss_feed


class PodcastIndexEntryExtension(_PersonMixin, BaseEntryExtension):
    """Item tags of the Podcasting 2.0 namespace."""

    def __init__(self) -> None:
        self._transcripts: list[dict] = []
        self._chapters: str | None = None
        self._season: int | None = None
        self._episode: int | None = None
        self._soundbites: list[tuple[float, float, str | None]] = []
        self._people: list = []

    def transcript(self, url: str, type: str, language: str | None = None,
                   rel: str | None = None) -> None:
        """Add a ``podcast:transcript`` (one per format: VTT, SRT, JSON, text)."""
        self._transcripts.append({"url": url, "type": type, "language": language, "rel": rel})

    def chapters(self, url: str) -> None:
        """Point ``podcast:chapters`` at a JSON chapters 1.2.0 file."""
        self._chapters = url

    def season(self, number: int) -> None:
        """Set ``podcast:season``."""
        self._season = number

    def episode(self, number: int) -> None:
        """Set ``podcast:episode``."""
        self._episode = number

    def soundbite(self, start: float, duration: float, title: str | None = None) -> None:
        """Add a ``podcast:soundbite`` (start and length in seconds)."""
        self._soundbites.append((start, duration, title))

    def extend_rss(self, item):
        for attrs in self._transcripts:
            _element(item, PODCAST_NS, "transcript", **attrs)
        if self._chapters:
            _element(item, PODCAST_NS, "chapters", url=self._chapters, type=CHAPTERS_TYPE)
        if self._season is not None:
            _element(item, PODCAST_NS, "season", str(self._season))
        if self._episode is not None:
            _element(item, PODCAST_NS, "episode", str(self._episode))
        for start, duration, title in self._soundbites:
            _element(item, PODCAST_NS, "soundbite", title or None,
                     startTime=_seconds(start), duration=_seconds(duration))
        self._write_people(item)
        return item


class FeedgenGapsExtension(BaseExtension):
    """Channel tags feedgen 1.0.0 writes wrongly or never.

    - ``itunes:explicit``: feedgen only takes yes/no/clean; Apple and the W3C
      validator want ``true``/``false``.
    - ``itunes:image``: feedgen silently drops any URL not ending ``.jpg``/``.png``
      (``cover.jpeg``, or a URL with a query string).
    - ``atom:link rel="hub"``: feedgen accepts it and never writes it (WebSub).
    - ``lastBuildDate``: feedgen stamps it with now() and formats dates by
      flipping the process-wide locale (not thread-safe in a threaded server);
      :func:`register` blanks feedgen's value and this class writes the date.
    """

    def __init__(self) -> None:
        self._explicit: bool | None = None
        self._image: str | None = None
        self._hub: str | None = None
        self._built: datetime | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"itunes": ITUNES_NS, "atom": ATOM_NS}

    def explicit(self, value: bool) -> None:
        """Set ``itunes:explicit`` as ``true``/``false``."""
        self._explicit = value

    def image(self, url: str) -> None:
        """Set ``itunes:image`` whatever the URL ends with."""
        self._image = url

    def hub(self, url: str) -> None:
        """Add ``atom:link rel="hub"`` for WebSub subscribers."""
        self._hub = url

    def last_build_date(self, when: datetime) -> None:
        """Set ``lastBuildDate`` (time-zone aware)."""
        self._built = when

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self._built is not None:
            _element(channel, _RSS, "lastBuildDate", rfc2822(self._built))
        if self._hub:
            _element(channel, ATOM_NS, "link", href=self._hub, rel="hub")
        _write_apple(channel, self._explicit, self._image)
        return rss_feed


class FeedgenGapsEntryExtension(BaseEntryExtension):
    """Item ``itunes:explicit``, ``itunes:image`` and ``pubDate`` (same gaps as the channel)."""

    def __init__(self) -> None:
        self._explicit: bool | None = None
        self._image: str | None = None
        self._published: datetime | None = None

    def pub_date(self, when: datetime) -> None:
        """Set ``pubDate`` (time-zone aware) without feedgen's locale switching."""
        self._published = when

    def explicit(self, value: bool) -> None:
        """Set ``itunes:explicit`` as ``true``/``false``."""
        self._explicit = value

    def image(self, url: str) -> None:
        """Set the episode's ``itunes:image`` whatever the URL ends with."""
        self._image = url

    def extend_rss(self, item):
        if self._published is not None:
            _element(item, _RSS, "pubDate", rfc2822(self._published))
        _write_apple(item, self._explicit, self._image)
        return item


def rfc2822(when: datetime) -> str:
    """``Fri, 01 Mar 2024 09:30:00 +0100``: English names whatever the locale."""
    return email.utils.format_datetime(when)


def _write_apple(parent, explicit: bool | None, image: str | None) -> None:
    if image:
        _element(parent, ITUNES_NS, "image", href=image)
    if explicit is not None:
        _element(parent, ITUNES_NS, "explicit", "true" if explicit else "false")


def register(fg: FeedGenerator) -> None:
    """Load the iTunes extension and ours on ``fg`` (once per generator).

    Afterwards ``fg.podcast`` is feedgen's iTunes extension, ``fg.podcastindex``
    the Podcasting 2.0 tags and ``fg.gaps`` the corrected Apple tags; entries
    added later get the matching entry classes.
    """
    fg.load_extension("podcast")
    fg.register_extension("podcastindex", PodcastIndexExtension, PodcastIndexEntryExtension)
    fg.register_extension("gaps", FeedgenGapsExtension, FeedgenGapsEntryExtension)
    # feedgen stamps lastBuildDate with now() at construction and offers no way
    # to unset it; ``fg.gaps.last_build_date`` writes the real one. feedgen is
    # pinned to 1.0.0, and a test fails if a second lastBuildDate ever appears.
    fg._FeedGenerator__rss_lastBuildDate = None
