"""Search results grouped per episode: each episode once, its matching moments in context
(the lines before and after), with filters by topic, event, speaker and recording date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.errors import ClinexError
from pipeline.models import Episode, EpisodePerson, EpisodeTag, Event, Person, TranscriptSegment, Tag

from .search import SearchHit, search


class BadFilter(ClinexError):
    """A search filter that names nothing we have, or a date we cannot read."""


@dataclass(frozen=True)
class SearchFilters:
    topic: str = ""  # tag slug
    event: str = ""  # event slug
    speaker: str = ""  # person slug
    recorded_from: date | None = None
    recorded_to: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.topic or self.event or self.speaker or self.recorded_from or self.recorded_to)


@dataclass(frozen=True)
class Moment:
    """A matching transcript line with the lines either side, for reading it in context."""

    hit: SearchHit
    before: str
    after: str


@dataclass
class EpisodeResults:
    episode: Episode
    title_hit: bool = False
    summary: SearchHit | None = None
    moments: list[Moment] = field(default_factory=list)


def parse_filters(args) -> SearchFilters:
    """From the query string; raises BadFilter naming a date it cannot read."""
    return SearchFilters(topic=args.get("topic", "")[:100], event=args.get("event", "")[:100],
                         speaker=args.get("speaker", "")[:100],
                         recorded_from=_day(args.get("from", ""), "from"), recorded_to=_day(args.get("to", ""), "to"))


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"The '{name}' date must be written 2026-05-14, not {value[:20]!r}.") from None


def grouped_search(session: Session, query: str, filters: SearchFilters, include_members_only: bool,
                   per_episode: int = 5) -> list[EpisodeResults]:
    """Episodes matching ``query`` (best first, as search ranks them) that pass ``filters``."""
    allowed = _filtered_ids(session, filters) if filters.active else None
    # With a speaker, only the moments that person's voice speaks (diarized transcripts name voices).
    voice = _speaker(session, filters.speaker).name if filters.speaker else None
    groups: dict[int, EpisodeResults] = {}
    hits = search(session, query, limit=200, include_members_only=include_members_only)
    if voice:
        hits = [h for h in hits if h.kind != "segment"] + search(
            session, query, limit=200, include_members_only=include_members_only, speaker=voice)
    for hit in hits:
        if allowed is not None and hit.episode_id not in allowed:
            continue
        group = groups.get(hit.episode_id)
        if group is None:
            group = groups[hit.episode_id] = EpisodeResults(session.get(Episode, hit.episode_id))
        _add(session, group, hit, per_episode)
    return list(groups.values())


def _add(session: Session, group: EpisodeResults, hit: SearchHit, per_episode: int) -> None:
    if hit.kind == "title":
        group.title_hit = True
    elif hit.kind == "summary":
        group.summary = group.summary or hit
    elif len(group.moments) < per_episode:
        group.moments.append(_in_context(session, group.episode, hit))


def _in_context(session: Session, episode: Episode, hit: SearchHit) -> Moment:
    transcript = episode.transcript
    if transcript is None or hit.start is None:
        return Moment(hit, "", "")
    # the hit may open on a word inside its line: the lines around it are told from the line's start
    line = session.get(TranscriptSegment, hit.segment_id) if hit.segment_id is not None else None
    at = line.start if line is not None else hit.start
    before = session.scalars(select(TranscriptSegment.text).where(TranscriptSegment.transcript_id == transcript.id,
                                                        TranscriptSegment.start < at)
                             .order_by(TranscriptSegment.start.desc()).limit(1)).first()
    after = session.scalars(select(TranscriptSegment.text).where(TranscriptSegment.transcript_id == transcript.id,
                                                       TranscriptSegment.start > at)
                            .order_by(TranscriptSegment.start).limit(1)).first()
    return Moment(hit, before or "", after or "")


def _filtered_ids(session: Session, filters: SearchFilters) -> set[int]:
    query = select(Episode.id)
    if filters.topic:
        tag = _named(session, Tag, filters.topic, "topic")
        query = query.join(EpisodeTag).where(EpisodeTag.tag_id == tag.id, EpisodeTag.accepted.is_(True))
    if filters.event:
        query = query.where(Episode.event_id == _named(session, Event, filters.event, "event").id)
    if filters.speaker:
        person = _speaker(session, filters.speaker)
        query = query.join(EpisodePerson).where(EpisodePerson.person_id == person.id)
    if filters.recorded_from:
        query = query.where(Episode.recorded_on >= filters.recorded_from)
    if filters.recorded_to:
        query = query.where(Episode.recorded_on <= filters.recorded_to)
    return set(session.scalars(query))


def _speaker(session: Session, value: str) -> Person:
    """A speaker by slug (the filter's list) or by name, in any case (a typed or shared link)."""
    by_name = session.scalars(select(Person).where(func.lower(Person.name) == value.lower())).first()
    return by_name or _named(session, Person, value, "speaker")


def _named(session: Session, model, slug: str, what: str):
    found = session.scalars(select(model).where(model.slug == slug)).first()
    if found is None:
        raise BadFilter(f"There is no {what} called {slug!r}; pick one from the list.")
    return found


def filter_choices(session: Session) -> dict[str, list[tuple[str, str]]]:
    """(slug, name) pairs for the filter menus."""
    return {"topic": [(t.slug, t.name) for t in session.scalars(select(Tag).order_by(Tag.name))],
            "event": [(e.slug, e.name) for e in session.scalars(select(Event).order_by(Event.name))],
            "speaker": [(p.slug, p.name) for p in session.scalars(select(Person).order_by(Person.name))]}
