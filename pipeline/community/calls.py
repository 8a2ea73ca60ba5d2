"""Calls for summaries: upcoming meetings and their sessions, claims ("I'll summarize this"),
reminders after a claimed session ends, notes linked to the session, and an iCalendar feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ClinexError, NotFound
from ..models import Episode, EpisodeStatus, Role, User, utcnow
from ..text import slugify
from .models import Meeting, MeetingSession
from .notifications import notify_many
from .profiles import clean_text

MAX_SESSIONS = 200
#: A meeting may be listed this far ahead at most, and stays listed this long after it ends.
HORIZON_DAYS, KEPT_DAYS = 3 * 365, 30


class CallError(ClinexError):
    """A meeting, session or claim cannot be saved as given; the message says which line."""


@dataclass
class SessionInput:
    title: str
    starts_at: datetime
    ends_at: datetime


@dataclass
class MeetingInput:
    name: str
    starts_on: date
    ends_on: date
    place: str = ""
    url: str = ""
    sessions: list[SessionInput] | None = None


def session_status(s: MeetingSession) -> str:
    """summarized (a published episode), submitted (notes in review), claimed, or needs volunteer."""
    if s.episode is not None and s.episode.status == EpisodeStatus.published.value:
        return "summarized"
    if s.episode is not None:
        return "submitted"
    return "claimed" if s.claimed_by_id else "needs volunteer"


def parse_sessions(text: str, tz: timezone = timezone.utc) -> list[SessionInput]:
    """Lines ``YYYY-MM-DD HH:MM-HH:MM Title`` (times UTC). Raises CallError naming the line."""
    out = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(None, 2)
        try:
            day = date.fromisoformat(parts[0])
            start, end = (datetime.strptime(t, "%H:%M").time() for t in parts[1].split("-", 1))
            title = parts[2].strip()
        except (IndexError, ValueError):
            raise CallError(f"Session line {number}: write 2027-03-14 09:00-10:30 Title.") from None
        starts, ends = datetime.combine(day, start, tz), datetime.combine(day, end, tz)
        if ends <= starts:
            raise CallError(f"Session line {number}: the session must end after it starts.")
        out.append(SessionInput(title, starts, ends))
    return out


def _check(data: MeetingInput) -> None:
    for name, value in (("name", data.name), ("place", data.place)):
        clean_text(name, value)  # raises for markup or control characters
    if not (data.name or "").strip() or len(data.name) > 200 or len(data.place or "") > 200:
        raise CallError("A meeting needs a name (up to 200 characters); the place may have up to 200.")
    if data.ends_on < data.starts_on:
        raise CallError("The meeting must end on or after the day it starts.")
    if data.ends_on < date.today() or data.starts_on > date.today() + timedelta(days=HORIZON_DAYS):
        raise CallError("List meetings that are upcoming (within three years).")
    if data.url and (urlsplit(data.url).scheme not in ("http", "https") or len(data.url) > 500 or " " in data.url):
        raise CallError("The link must be an http(s) address.")
    sessions = data.sessions or []
    if len(sessions) > MAX_SESSIONS:
        raise CallError(f"A meeting may have {MAX_SESSIONS} sessions at most.")
    for n, s in enumerate(sessions, start=1):
        clean_text("session title", s.title)
        if not s.title or len(s.title) > 300:
            raise CallError(f"Session {n}: needs a title of up to 300 characters.")
        if not data.starts_on <= s.starts_at.date() <= data.ends_on:
            raise CallError(f"Session {n} (“{s.title[:60]}”) is outside the meeting's dates.")


def _slug(session: Session, name: str, starts_on: date) -> str:
    base = slugify(f"{name} {starts_on.year}", 200)
    slug, n = base, 1
    while session.scalar(select(Meeting.id).where(Meeting.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_meeting(session: Session, author: User, data: MeetingInput) -> Meeting:
    """List a meeting with its sessions; summarizers and editors may. Everything is checked
    before anything is stored (CallError, or ProfileError for markup in a name)."""
    if not author.has_role(Role.summarizer):
        raise ClinexError("Summarizers and editors list meetings.")
    _check(data)
    meeting = Meeting(name=" ".join(data.name.split()), slug=_slug(session, data.name, data.starts_on),
                      place=(data.place or "").strip() or None, starts_on=data.starts_on, ends_on=data.ends_on,
                      url=data.url or None, created_by_id=author.id)
    meeting.sessions = [MeetingSession(title=" ".join(s.title.split()), starts_at=s.starts_at, ends_at=s.ends_at)
                        for s in data.sessions or []]
    session.add(meeting)
    session.flush()
    return meeting


def upcoming_meetings(session: Session, today: date | None = None) -> list[Meeting]:
    today = today or date.today()
    return list(session.scalars(select(Meeting).where(Meeting.ends_on >= today - timedelta(days=KEPT_DAYS))
                                .order_by(Meeting.starts_on, Meeting.id)))


def meeting_by_slug(session: Session, slug: str) -> Meeting:
    meeting = session.scalars(select(Meeting).where(Meeting.slug == slug[:220])).first()
    if meeting is None:
        raise NotFound("No such meeting.")
    return meeting


def _session(session: Session, session_id: int) -> MeetingSession:
    found = session.get(MeetingSession, session_id)
    if found is None:
        raise NotFound("No such session.")
    return found


def claim_session(session: Session, session_id: int, user: User) -> MeetingSession:
    """"I'll summarize this": the session is the member's until they let it go. Raises ClinexError
    when someone else claimed it or it already has notes."""
    s = _session(session, session_id)
    if s.episode_id is not None:
        raise ClinexError("This session already has notes.")
    if s.claimed_by_id not in (None, user.id):
        raise ClinexError("Someone else is summarizing this session.")
    s.claimed_by_id, s.claimed_at = user.id, s.claimed_at or utcnow()
    session.flush()
    return s


def release_session(session: Session, session_id: int, user: User) -> MeetingSession:
    s = _session(session, session_id)
    if s.claimed_by_id != user.id:
        raise ClinexError("You have not claimed this session.")
    if s.episode_id is not None:
        raise ClinexError("Your notes are linked to this session; it stays yours.")
    s.claimed_by_id, s.claimed_at, s.reminded_at = None, None, None
    session.flush()
    return s


def claimed_sessions(session: Session, user_id: int) -> list[MeetingSession]:
    """Sessions the member claimed that have no notes yet (the studio's choice list)."""
    return list(session.scalars(select(MeetingSession).where(MeetingSession.claimed_by_id == user_id,
                                                             MeetingSession.episode_id.is_(None))
                                .order_by(MeetingSession.starts_at)))


def check_session_for_notes(session: Session, session_id: int, user: User) -> MeetingSession:
    """Before an upload stores anything: the session exists, is free or the member's, and has no
    notes. Raises NotFound or ClinexError with the reason."""
    s = _session(session, session_id)
    if s.episode_id is not None:
        raise ClinexError("That session already has notes; choose another or none.")
    if s.claimed_by_id not in (None, user.id):
        raise ClinexError("Someone else claimed that session; choose another or none.")
    return s


def link_notes(session: Session, session_id: int, episode: Episode, user: User) -> MeetingSession:
    """Link the notes just uploaded to the session (claiming it if it was free)."""
    s = check_session_for_notes(session, session_id, user)
    s.episode_id, s.claimed_by_id, s.claimed_at = episode.id, user.id, s.claimed_at or utcnow()
    session.flush()
    return s


def send_reminders(session: Session, now: datetime | None = None) -> int:
    """Remind each claimer whose session ended without notes (once per claim); returns how many."""
    now = now or utcnow()
    due = session.scalars(select(MeetingSession).where(
        MeetingSession.claimed_by_id.is_not(None), MeetingSession.episode_id.is_(None),
        MeetingSession.reminded_at.is_(None), MeetingSession.ends_at <= now)).all()
    for s in due:
        notify_many(session, [s.claimed_by_id], "reminder",
                    f"“{s.title}” at {s.meeting.name} has ended: upload your notes when you are ready",
                    f"/studio/upload?session={s.id}")
        s.reminded_at = now
    session.flush()
    return len(due)


def meetings_ics(meetings: list[Meeting], base_url: str, name: str) -> bytes:
    """An RFC 5545 calendar: one all-day VEVENT per meeting and a timed one per session."""
    from icalendar import Calendar, Event as IcsEvent

    cal = Calendar()
    cal.add("prodid", "-//Clinical Exchange//calls for summaries//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"{name}: meetings to summarize")
    stamp = utcnow().replace(microsecond=0)
    host = urlsplit(base_url).hostname or "clinex.local"
    for m in meetings:
        url = f"{base_url}/calls/{m.slug}"
        cal.add_component(_vevent(IcsEvent(), f"meeting-{m.id}@{host}", m.name, m.starts_on,
                                  m.ends_on + timedelta(days=1), stamp, m.place, url))
        for s in m.sessions:
            summary = f"{s.title} ({m.name})"
            event = _vevent(IcsEvent(), f"session-{s.id}@{host}", summary, _utc(s.starts_at), _utc(s.ends_at),
                            stamp, m.place, f"{url}#s{s.id}")
            event.add("description", f"{session_status(s).capitalize()}. {url}#s{s.id}")
            cal.add_component(event)
    return cal.to_ical()


def _vevent(event, uid, summary, start, end, stamp, place, url):
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("dtstamp", stamp)
    event.add("url", url)
    if place:
        event.add("location", place)
    return event


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
