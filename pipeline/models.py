"""Database models (SQLAlchemy 2, typed). Migrations live in ``pipeline/migrations``."""

from __future__ import annotations

import uuid as uuidlib
from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint, false,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from .db import Base
from .enums import (  # noqa: F401  (re-exported: most callers know them as models.*)
    AnchorKind, ChapterSource, CommentState, EpisodeStatus, JobKind, JobState, MediaKind, Role, TagSource,
    TranscriptStatus)
from .user_text import guard_user_text


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_uuid() -> str:
    return str(uuidlib.uuid4())


TZDateTime = DateTime(timezone=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.listener.value)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    api_token_hash: Mapped[Optional[str]] = mapped_column(String(128), index=True)
    feed_token: Mapped[Optional[str]] = mapped_column(String(64), unique=True)  # unused since 0003: see FeedToken
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    def has_role(self, role: Role | str) -> bool:
        return Role(self.role).rank >= Role(role).rank


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    starts_on: Mapped[Optional[date]] = mapped_column(Date)
    ends_on: Mapped[Optional[date]] = mapped_column(Date)
    place: Mapped[Optional[str]] = mapped_column(String(200))
    description: Mapped[Optional[str]] = mapped_column(Text)
    cover_key: Mapped[Optional[str]] = mapped_column(String(500))


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    href: Mapped[Optional[str]] = mapped_column(String(500))


class EpisodePerson(Base):
    __tablename__ = "episode_people"
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), default="speaker")
    position: Mapped[int] = mapped_column(Integer, default=0)
    person: Mapped[Person] = relationship(lazy="joined")


class Episode(Base):
    __tablename__ = "episodes"
    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    guid: Mapped[str] = mapped_column(String(200), unique=True, default=new_uuid)
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=EpisodeStatus.draft.value, index=True)
    event_id: Mapped[Optional[int]] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    recorded_on: Mapped[Optional[date]] = mapped_column(Date)
    season: Mapped[Optional[int]] = mapped_column(Integer)
    number: Mapped[Optional[int]] = mapped_column(Integer)
    episode_type: Mapped[str] = mapped_column(String(10), default="full")
    explicit: Mapped[bool] = mapped_column(Boolean, default=False)
    members_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    language: Mapped[str] = mapped_column(String(16), default="en")
    duration: Mapped[Optional[float]] = mapped_column(Float)
    soundbite_start: Mapped[Optional[float]] = mapped_column(Float)
    soundbite_duration: Mapped[Optional[float]] = mapped_column(Float)
    review_note: Mapped[Optional[str]] = mapped_column(Text)
    failure_reason: Mapped[Optional[str]] = mapped_column(Text)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime, index=True)

    event: Mapped[Optional[Event]] = relationship(lazy="joined")
    created_by: Mapped[Optional[User]] = relationship()
    people: Mapped[list[EpisodePerson]] = relationship(
        order_by="EpisodePerson.position", cascade="all, delete-orphan", lazy="selectin")
    media: Mapped[list["MediaFile"]] = relationship(cascade="all, delete-orphan", back_populates="episode")
    tags: Mapped[list["EpisodeTag"]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    chapters: Mapped[list["Chapter"]] = relationship(order_by="Chapter.start", cascade="all, delete-orphan")
    summaries: Mapped[list["Summary"]] = relationship(order_by="Summary.version", cascade="all, delete-orphan")
    transcripts: Mapped[list["Transcript"]] = relationship(cascade="all, delete-orphan")
    jobs: Mapped[list["Job"]] = relationship(order_by="Job.id", cascade="all, delete-orphan")

    def media_of(self, kind: str) -> Optional["MediaFile"]:
        found = [m for m in self.media if m.kind == kind]
        return max(found, key=lambda m: m.id or 0) if found else None

    @property
    def summary(self) -> Optional["Summary"]:
        return self.summaries[-1] if self.summaries else None

    @property
    def transcript(self) -> Optional["Transcript"]:
        done = [t for t in self.transcripts if t.status == "complete"]
        return max(done, key=lambda t: t.id) if done else None

    @property
    def accepted_tags(self) -> list["Tag"]:
        return [et.tag for et in self.tags if et.accepted]


class MediaFile(Base):
    __tablename__ = "media_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # MediaKind
    storage_key: Mapped[str] = mapped_column(String(500), unique=True)
    filename: Mapped[Optional[str]] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    duration: Mapped[Optional[float]] = mapped_column(Float)
    codec: Mapped[Optional[str]] = mapped_column(String(40))
    container: Mapped[Optional[str]] = mapped_column(String(40))
    sample_rate: Mapped[Optional[int]] = mapped_column(Integer)
    channels: Mapped[Optional[int]] = mapped_column(Integer)
    bitrate: Mapped[Optional[int]] = mapped_column(Integer)
    loudness_lufs: Mapped[Optional[float]] = mapped_column(Float)
    true_peak_dbtp: Mapped[Optional[float]] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    episode: Mapped[Episode] = relationship(back_populates="media")


class FeedToken(Base):
    """A private feed address of one account; only the token's sha256 is kept, so it is shown once.

    A revoked token stays (with ``revoked_at``) so the account page can show its history."""

    __tablename__ = "feed_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    user: Mapped[User] = relationship(lazy="joined")


class Download(Base):
    """One counted download: at most one per client (a keyed hash of IP and User-Agent, never the
    address itself) per episode in any 24 hours."""

    __tablename__ = "downloads"
    __table_args__ = (Index("ix_downloads_episode_client_created", "episode_id", "client_hash", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    client_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Transcript(Base):
    __tablename__ = "transcripts"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    engine: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[Optional[str]] = mapped_column(String(16))
    duration: Mapped[Optional[float]] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default=TranscriptStatus.running.value)
    corrections: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    completed_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    segments: Mapped[list["TranscriptSegment"]] = relationship(
        order_by="TranscriptSegment.index", cascade="all, delete-orphan", back_populates="transcript")
    voices: Mapped[list["Voice"]] = relationship(order_by="Voice.number", cascade="all, delete-orphan")

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments)


class TranscriptSegment(Base):
    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("transcript_id", "index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    speaker: Mapped[Optional[str]] = mapped_column(String(200))
    voice: Mapped[Optional[int]] = mapped_column(Integer)  # Voice.number in this transcript (0004_diarization)
    avg_logprob: Mapped[Optional[float]] = mapped_column(Float)
    no_speech_prob: Mapped[Optional[float]] = mapped_column(Float)
    transcript: Mapped[Transcript] = relationship(back_populates="segments")


class SegmentRevision(Base):
    """A human correction of a segment's text; the newest one is what pages show."""

    __tablename__ = "segment_revisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("segments.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    previous_text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Summary(Base):
    __tablename__ = "summaries"
    __table_args__ = (UniqueConstraint("episode_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    markdown: Mapped[str] = mapped_column(Text)
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    author: Mapped[Optional[User]] = relationship(lazy="joined")


class Tag(Base):
    __tablename__ = "tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(40), default="topic")
    description: Mapped[Optional[str]] = mapped_column(Text)


class EpisodeTag(Base):
    __tablename__ = "episode_tags"
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), default=TagSource.summarizer.value)
    accepted: Mapped[bool] = mapped_column(Boolean, default=True)
    # An editor dropped it: kept (not accepted) so that analysing again does not suggest it anew.
    dropped: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    score: Mapped[Optional[float]] = mapped_column(Float)
    tag: Mapped[Tag] = relationship(lazy="joined")


class Chapter(Base):
    __tablename__ = "chapters"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    start: Mapped[float] = mapped_column(Float)
    title: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20), default=ChapterSource.notes.value)
    confidence: Mapped[Optional[float]] = mapped_column(Float)


class Anchor(Base):
    """Where in the recording a section or bullet of the summary is discussed."""

    __tablename__ = "anchors"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    summary_version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # AnchorKind
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    start: Mapped[Optional[float]] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    parent_id: Mapped[Optional[int]] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[Optional[float]] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(20), default=CommentState.pending.value, index=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    edited_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    author: Mapped[User] = relationship(lazy="joined")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_kind", "state", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # JobKind
    state: Mapped[str] = mapped_column(String(20), default=JobState.queued.value)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[Optional[str]] = mapped_column(Text)
    worker: Mapped[Optional[str]] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    started_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    finished_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_state: Mapped[Optional[str]] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    actor: Mapped[Optional[User]] = relationship(lazy="joined")


class GlossaryTerm(Base):
    """Terms editors add on top of the bundled glossary."""

    __tablename__ = "glossary_terms"
    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(120), unique=True)
    category: Mapped[str] = mapped_column(String(40))
    mishearings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class SiteValue(Base):
    """Small values fixed once and kept, such as the feed's podcast:guid."""

    __tablename__ = "site_values"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RateLimitHit(Base):
    """One counted action (a comment, a failed sign-in) for the web app's rate limits.

    Kept in the database so the limits hold across web server processes."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key_created", "key", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class SignInEvent(Base):
    """One sign-in outcome, the audit log of sign-ins and what the per-account slow-down counts.

    ``kind``: failed, signed_in, delayed (a failure after which the account waits
    ``wait_seconds``) or address_limited (an address used up its failed sign-ins). ``device`` is
    the id of the signed device cookie the browser showed for this account, None without one."""

    __tablename__ = "sign_in_events"
    __table_args__ = (Index("ix_sign_in_events_email_created", "email", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(64))
    device: Mapped[Optional[str]] = mapped_column(String(32))
    wait_seconds: Mapped[Optional[int]] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, index=True)


class Listen(Base):
    """Where one account is in one episode, and how much of it the account has really heard.

    ``heard_seconds`` counts only audio that played (seeks and skips add nothing), so the
    learning record can be built on it; ``completed_at`` is set once, when the end is reached."""

    __tablename__ = "listens"
    __table_args__ = (UniqueConstraint("user_id", "episode_id", name="uq_listens_user_episode"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    position_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    heard_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class FeedDownload(Base):
    """A member's episode fetched through one of their private feed tokens (issue 16, learning
    record). Podcast apps report no progress, so the fetch itself is what says "listened"; one
    row per account and episode, whichever token and however many fetches."""

    __tablename__ = "feed_downloads"
    __table_args__ = (UniqueConstraint("user_id", "episode_id", name="uq_feed_downloads_user_episode"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    feed_token_id: Mapped[Optional[int]] = mapped_column(ForeignKey("feed_tokens.id", ondelete="SET NULL"))
    first_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Reflection(Base):
    """A listener's own note on an episode ("what I will change in practice"); private to them."""

    __tablename__ = "reflections"
    __table_args__ = (UniqueConstraint("user_id", "episode_id", name="uq_reflections_user_episode"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Voice(Base):
    """A voice diarization told apart in one transcript, and the name it goes by.

    ``name`` is suggested from the notes' speakers in order of first appearance until an editor
    names it (``named``); segments carry the name in ``TranscriptSegment.speaker`` for pages, files and search."""

    __tablename__ = "voices"
    __table_args__ = (UniqueConstraint("transcript_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 0, 1, ... in order of first speaking
    name: Mapped[Optional[str]] = mapped_column(String(200))
    named: Mapped[bool] = mapped_column(Boolean, default=False)
    first_start: Mapped[float] = mapped_column(Float, default=0.0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)  # how long this voice speaks

    @property
    def label(self) -> str:
        return self.name or f"Speaker {self.number + 1}"


class AudioNotes(Base):
    """What an episode's summary summarizes (front matter ``source:``) and whether the episode is
    the summary voiced, with no recording (``notes_only``); one row per episode that has either."""

    __tablename__ = "audio_notes"
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True)
    notes_only: Mapped[bool] = mapped_column(Boolean, default=False)
    source_title: Mapped[Optional[str]] = mapped_column(String(300))
    source_kind: Mapped[Optional[str]] = mapped_column(String(20))  # article | webinar | session | guide
    source_url: Mapped[Optional[str]] = mapped_column(String(500))
    source_authors: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_date: Mapped[Optional[date]] = mapped_column(Date)
    voice: Mapped[Optional[str]] = mapped_column(String(200))  # the voice that spoke it, once voiced
    # A recording's spoken extras (pipeline.extras): the editor's choice (None: CLINEX_SPOKEN_EXTRAS),
    # how far the intro moved the recording in the listening file, and where the summary starts.
    spoken_intro: Mapped[Optional[bool]] = mapped_column(Boolean)
    spoken_summary: Mapped[Optional[bool]] = mapped_column(Boolean)
    intro_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    summary_start: Mapped[Optional[float]] = mapped_column(Float)
    # The row is reached as ``episode.audio_notes`` (None for a recording without a cited source).
    episode: Mapped[Episode] = relationship(backref=backref("audio_notes", uselist=False, lazy="selectin",
                                                            cascade="all, delete-orphan"))


class SpokenTerm(Base):
    """How the voice says a term, added by editors over the glossary's ``pronunciations:``."""

    __tablename__ = "pronunciations"
    id: Mapped[int] = mapped_column(primary_key=True)
    term: Mapped[str] = mapped_column(String(120), unique=True)
    phonemes: Mapped[Optional[str]] = mapped_column(String(200))
    say: Mapped[Optional[str]] = mapped_column(String(200))
    letters: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


# Every column people write into is stored without bidirectional override characters.
USER_WRITTEN = (
    User.display_name, Event.name, Event.place, Event.description, Person.name,
    Episode.title, Episode.review_note, Summary.markdown, Tag.name, Tag.category, Tag.description,
    Chapter.title, Anchor.text, Comment.body, TranscriptSegment.text, TranscriptSegment.speaker, SegmentRevision.text,
    AuditEvent.reason, GlossaryTerm.term, GlossaryTerm.category, GlossaryTerm.mishearings,
    MediaFile.filename, Reflection.text, Voice.name, AudioNotes.source_title, AudioNotes.source_authors,
    SpokenTerm.term, SpokenTerm.say,
)
guard_user_text(*USER_WRITTEN)
