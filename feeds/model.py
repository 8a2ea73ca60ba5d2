"""What a feed is made of: plain frozen dataclasses the web app fills in.

Nothing here knows about XML; ``feeds.rss`` turns these into bytes. Constructors
raise ``ValueError`` for values no feed could carry (a naive date, a zero byte
length), so a bad row fails where it is read, not deep inside rendering.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime

#: Namespace the Podcasting 2.0 spec fixes for ``podcast:guid`` (UUIDv5).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

EPISODE_TYPES = ("full", "trailer", "bonus")

TRANSCRIPT_TYPES = (
    "text/vtt",
    "application/x-subrip",
    "application/srt",
    "application/json",
    "text/plain",
    "text/html",
)

#: ``podcast:medium`` values the Podcasting 2.0 spec defines ("L" = a list of them).
MEDIUMS = frozenset({"podcast", "music", "video", "film", "audiobook", "newsletter", "blog",
                     "publisher", "course", "mixed", "podcastL", "musicL", "videoL", "filmL",
                     "audiobookL", "newsletterL", "blogL", "publisherL", "courseL"})

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True)
class PersonCredit:
    """A person on the show or an episode (``podcast:person``)."""

    name: str
    role: str = "guest"
    group: str = "cast"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True)
class TranscriptLink:
    """Where one rendering of an episode's transcript lives."""

    url: str
    type: str
    language: str = "en"
    rel: str | None = None

    def __post_init__(self) -> None:
        if self.type not in TRANSCRIPT_TYPES:
            raise ValueError(f"Transcript type {self.type!r} is not one podcast apps read.")


@dataclass(frozen=True)
class Soundbite:
    """A moment editors marked as a preview (``podcast:soundbite``)."""

    start: float
    duration: float
    title: str | None = None

    def __post_init__(self) -> None:
        if self.start < 0 or self.duration <= 0:
            raise ValueError("A soundbite needs a start >= 0 and a positive duration.")


@dataclass(frozen=True)
class ChapterInfo:
    """One chapter mark, in seconds from the start of the audio."""

    start: float
    title: str
    url: str | None = None
    img: str | None = None


@dataclass(frozen=True)
class EpisodeItem:
    """One published episode as the feed shows it."""

    guid: str
    title: str
    link: str
    summary_html: str
    summary_text: str
    enclosure_url: str
    enclosure_length: int
    enclosure_type: str
    duration: float
    published_at: datetime
    explicit: bool = False
    season: int | None = None
    number: int | None = None
    episode_type: str = "full"
    image_url: str | None = None
    transcripts: tuple[TranscriptLink, ...] = ()
    chapters_url: str | None = None
    people: tuple[PersonCredit, ...] = ()
    soundbites: tuple[Soundbite, ...] = ()
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # feedgen would happily write length="None" or a date without a zone;
        # refusing here names the episode instead of shipping a bad feed.
        if not self.guid.strip():
            raise ValueError("An episode needs a non-empty GUID.")
        if isinstance(self.enclosure_length, bool) or not isinstance(self.enclosure_length, int) \
                or self.enclosure_length <= 0:
            raise ValueError(f"Episode {self.guid}: enclosure length must be a positive "
                             f"number of bytes, not {self.enclosure_length!r}.")
        _require_aware(self.published_at, f"Episode {self.guid}: published_at")
        if self.duration < 0:
            raise ValueError(f"Episode {self.guid}: duration cannot be negative.")
        if self.episode_type not in EPISODE_TYPES:
            raise ValueError(f"Episode {self.guid}: episode type must be one of "
                             f"{', '.join(EPISODE_TYPES)}.")


@dataclass(frozen=True, kw_only=True)
class ShowInfo:
    """The channel: one show (the main feed, a tag feed or an event feed).

    Keyword-only because the field list is long and positional mistakes
    (owner name vs. author) would pass silently.
    """

    title: str
    description: str
    link: str
    feed_url: str
    author: str
    owner_name: str
    owner_email: str
    image_url: str
    language: str = "en"
    category: str = "Health & Fitness/Medicine"
    explicit: bool = False
    podcast_guid: str | None = None
    locked: bool = True
    #: ``itunes:block``: keep the feed out of directories (a private feed).
    blocked: bool = False
    medium: str = "podcast"
    funding_url: str | None = None
    funding_text: str | None = None
    hub_url: str | None = None
    people: tuple[PersonCredit, ...] = ()
    updated_at: datetime | None = None
    copyright: str | None = None

    def __post_init__(self) -> None:
        # Apple rejects a show without these; say so before rendering anything.
        for name, what in (("link", "a site link"), ("feed_url", "a feed URL"),
                           ("image_url", "cover art (image_url)")):
            if not getattr(self, name).strip():
                raise ValueError(f"The show needs {what}.")
        if "@" not in self.owner_email:
            raise ValueError(f"The show's owner e-mail {self.owner_email!r} is not an address.")
        if self.medium not in MEDIUMS:
            raise ValueError(f"{self.medium!r} is not a podcast:medium the spec defines.")
        if self.updated_at is not None:
            _require_aware(self.updated_at, "ShowInfo.updated_at")
        split_category(self.category)

    @property
    def guid(self) -> str:
        """The stored ``podcast:guid``, or the one derived from the feed URL."""
        return self.podcast_guid or podcast_guid_for(self.feed_url)


def podcast_guid_for(feed_url: str) -> str:
    """Return the Podcasting 2.0 ``podcast:guid`` for a feed URL.

    UUIDv5 of the URL with its scheme and trailing slashes removed, so
    ``https://podnews.net/rss/`` and ``podnews.net/rss`` give the same GUID.
    """
    name = _SCHEME.sub("", feed_url.strip()).rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NAMESPACE, name))


def split_category(category: str) -> tuple[str, str | None]:
    """Split ``"Top/Sub"`` into Apple's category and subcategory.

    Raises ``ValueError`` when the pair is not on Apple's list, because Apple
    rejects a feed whose category it does not know.
    """
    top, _, sub = category.partition("/")
    if top not in APPLE_CATEGORIES or (sub and sub not in APPLE_CATEGORIES[top]):
        raise ValueError(f"{category!r} is not a category from Apple's list.")
    return top, sub or None


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone (RFC 2822 dates need one).")


#: Apple Podcasts categories and subcategories (the 2019 list Apple still uses).
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing",
                 "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health",
                         "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies",
                "Home & Garden", "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics",
             "Sports News", "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism",
                                "Religion", "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics",
                "Natural Sciences", "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel",
                          "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf",
               "Hockey", "Rugby", "Running", "Soccer", "Swimming", "Tennis", "Volleyball",
               "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}
