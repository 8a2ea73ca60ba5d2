"""Tables of the community (migration 0008_community); they share ``pipeline.models``' Base."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..models import Base, Comment, Episode, TZDateTime, User, utcnow

VISIBILITIES = ("public", "members", "private")
CREDENTIALS = ("MD", "DO", "NP", "PA", "RN", "other")


class Profile(Base):
    """What a member says about themselves; each optional field has its own visibility."""

    __tablename__ = "profiles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)  # what @mentions name
    credentials: Mapped[Optional[str]] = mapped_column(String(10))
    credentials_visibility: Mapped[str] = mapped_column(String(10), default="public")
    specialty: Mapped[Optional[str]] = mapped_column(String(120))
    specialty_visibility: Mapped[str] = mapped_column(String(10), default="public")
    practice: Mapped[Optional[str]] = mapped_column(String(160))
    practice_visibility: Mapped[str] = mapped_column(String(10), default="members")
    city: Mapped[Optional[str]] = mapped_column(String(120))
    city_visibility: Mapped[str] = mapped_column(String(10), default="members")
    bio: Mapped[Optional[str]] = mapped_column(Text)
    avatar_key: Mapped[Optional[str]] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)
    user: Mapped[User] = relationship(lazy="joined")


class HelpfulMark(Base):
    __tablename__ = "helpful_marks"
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Notification(Base):
    """One thing to tell one member. ``email`` says what mail owes it: none | instant | daily |
    weekly | sent (instant ones get an outbox message at once, the rest wait for a digest)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),
                      Index("ix_notifications_email_created", "email", "created_at"),
                      Index("ix_notifications_episode_kind", "episode_id", "kind"),
                      Index("ix_notifications_comment", "comment_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(String(400))
    link: Mapped[str] = mapped_column(String(500))
    episode_id: Mapped[Optional[int]] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    comment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(10), default="none")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    read_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    episode: Mapped[Optional[Episode]] = relationship()


class NotificationPref(Base):
    """A member's choice for one kind: shown on the site or not, and how it is mailed."""

    __tablename__ = "notification_prefs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    site: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str] = mapped_column(String(10), default="instant")  # instant | daily | weekly | off


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("user_id", "target_kind", "target_id"),
                      Index("ix_follows_target", "target_kind", "target_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    target_kind: Mapped[str] = mapped_column(String(20))  # tag | event | summarizer
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (UniqueConstraint("comment_id", "reporter_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(20))
    details: Mapped[Optional[str]] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    resolved_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    comment: Mapped[Comment] = relationship(lazy="joined")


class ModerationAction(Base):
    """The moderation audit log: who hid, warned, suspended or dismissed what, and why."""

    __tablename__ = "moderation_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))  # hide | restore | warn | suspend | reinstate | dismiss
    target_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    note: Mapped[Optional[str]] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    actor: Mapped[Optional[User]] = relationship(foreign_keys=[actor_id], lazy="joined")
    target: Mapped[Optional[User]] = relationship(foreign_keys=[target_user_id], lazy="joined")


class OutboxMessage(Base):
    """An email waiting to be sent, with its own retry columns: a dead mail server leaves it
    queued (``next_attempt_at`` moves on), never lost."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[Optional[str]] = mapped_column(String(800))
    state: Mapped[str] = mapped_column(String(10), default="queued")  # queued | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    claimed_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)


class Meeting(Base):
    """An upcoming conference or webinar listed so that its sessions get summarized."""

    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    place: Mapped[Optional[str]] = mapped_column(String(200))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    url: Mapped[Optional[str]] = mapped_column(String(500))
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    sessions: Mapped[list["MeetingSession"]] = relationship(
        order_by="MeetingSession.starts_at", cascade="all, delete-orphan", back_populates="meeting")


class MeetingSession(Base):
    __tablename__ = "meeting_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(TZDateTime)
    ends_at: Mapped[datetime] = mapped_column(TZDateTime)
    claimed_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    reminded_at: Mapped[Optional[datetime]] = mapped_column(TZDateTime)
    episode_id: Mapped[Optional[int]] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    meeting: Mapped[Meeting] = relationship(back_populates="sessions")
    claimed_by: Mapped[Optional[User]] = relationship(lazy="joined")
    episode: Mapped[Optional[Episode]] = relationship()
