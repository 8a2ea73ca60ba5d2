"""Rows for web tests without running the audio pipeline: users of each role and episodes in
any state, with a transcript, summary, chapters, tags and stored (tiny, fake) media files."""

from __future__ import annotations

import functools
from datetime import date, timedelta

from pipeline.accounts import hash_password
from pipeline.models import (Chapter, Episode, EpisodePerson, EpisodeTag, Event, MediaFile, Person, TranscriptSegment, Summary,
                             Tag, Transcript, User, utcnow)
from pipeline.keys import transcript_key

PASSWORD = "correct horse battery"
ROLES = ("listener", "summarizer", "editor", "admin")
SENTENCES = ("Picosecond lasers shatter pigment with photoacoustic energy.",
             "We treat melasma conservatively and protect the skin from sunlight.",
             "Hyaluronic acid fillers can be dissolved with hyaluronidase.",
             "Intense pulsed light helps with rosacea and redness.")
NOTES = "# Picosecond lasers\n- Fewer sessions than nanosecond devices\n\n# Melasma\nGo gently with *tranexamic acid*.\n"


@functools.lru_cache(maxsize=1)
def password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose; hash the shared password once


def make_user(session, role: str, name: str | None = None, trusted: bool | None = None) -> User:
    name = name or role
    user = User(email=f"{name}@example.org", display_name=name.title(), role=role, password_hash=password_hash(),
                trusted=role in ("editor", "admin") if trusted is None else trusted, active=True)
    session.add(user)
    session.flush()
    return user


def make_episode(ctx, session, *, title="Picosecond lasers for melasma", status="published", segments=12,
                 author: User | None = None, seconds_per_segment=4.8) -> Episode:
    """An episode in ``status`` with ``segments`` transcript lines and fake stored media."""
    n = session.query(Episode).count() + 1
    event = session.query(Event).filter_by(slug="aesthetic-lasers-summit").first() or Event(
        name="Aesthetic Lasers Summit", slug="aesthetic-lasers-summit", place="Lisbon")
    ep = Episode(title=title, slug=f"episode-{n}", status=status, event=event, recorded_on=date(2026, 5, 14),
                 duration=max(segments * seconds_per_segment, 60.0), created_by_id=author.id if author else None,
                 published_at=utcnow() - timedelta(minutes=n) if status in ("published", "unpublished") else None)
    session.add(ep)
    session.flush()
    _people_and_tags(session, ep)
    session.add(Summary(episode_id=ep.id, version=1, markdown=NOTES, author_id=author.id if author else None))
    session.add_all([Chapter(episode_id=ep.id, start=0.0, title="Picosecond lasers"),
                     Chapter(episode_id=ep.id, start=min(30.0, ep.duration / 2), title="Melasma")])
    _media(ctx, session, ep)
    _transcript(ctx, session, ep, segments, seconds_per_segment)
    session.commit()
    return ep


def _people_and_tags(session, ep: Episode) -> None:
    person = session.query(Person).filter_by(slug="ana-ribeiro").first() or Person(name="Dr. Ana Ribeiro",
                                                                                   slug="ana-ribeiro")
    ep.people.append(EpisodePerson(person=person, role="speaker", position=0))
    for name, accepted in (("Melasma", True), ("Picosecond laser", True), ("Rosacea", False)):
        slug = name.lower().replace(" ", "-")
        tag = session.query(Tag).filter_by(slug=slug).first() or Tag(name=name, slug=slug)
        ep.tags.append(EpisodeTag(tag=tag, source="summarizer" if accepted else "suggested", accepted=accepted,
                                  score=None if accepted else 0.7))


def _media(ctx, session, ep: Episode) -> None:
    body = b"ID3" + bytes(2000)
    for kind, key in (("audio", f"audio/{ep.uuid}/a.mp3"), ("published", f"published/{ep.uuid}/p.mp3")):
        ctx.storage.put_bytes(key, body, content_type="audio/mpeg")
        session.add(MediaFile(episode_id=ep.id, kind=kind, storage_key=key, content_type="audio/mpeg",
                              size=len(body), sha256="0" * 64, duration=ep.duration))


def _transcript(ctx, session, ep: Episode, count: int, step: float) -> None:
    transcript = Transcript(episode_id=ep.id, engine="faster-whisper", model="tiny.en", status="complete",
                            duration=ep.duration, completed_at=utcnow(),
                            corrections=[{"original": "pico second", "corrected": "picosecond"}])
    session.add(transcript)
    session.flush()
    session.add_all([TranscriptSegment(transcript_id=transcript.id, index=i, start=i * step, end=(i + 1) * step - 0.2,
                             text=SENTENCES[i % len(SENTENCES)]) for i in range(count)])
    for ext in ("vtt", "srt", "json", "txt"):
        ctx.storage.put_bytes(transcript_key(ep.uuid, transcript.id, ext), b"WEBVTT\n\n", content_type="text/plain")
