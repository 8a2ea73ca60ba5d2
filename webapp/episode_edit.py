"""Changing an episode's details and notes after upload (studio and review share it)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from pipeline.catalog import get_or_create_event, get_or_create_person, get_or_create_tag
from pipeline.models import Episode, EpisodePerson, EpisodeTag, Summary, User
from pipeline.ingest import cite_source
from pipeline.notes import meta_from_fields, parse_notes, source_front_matter
from pipeline.timeline import audio_notes_row
from pipeline.voicing import source_of


def fields_of(episode: Episode) -> dict:
    """The form's starting values for ``episode``."""
    return {"title": episode.title, "event": episode.event.name if episode.event else "",
            "speakers": ", ".join(p.person.name for p in episode.people),
            "recorded_on": episode.recorded_on.isoformat() if episode.recorded_on else "",
            "tags": ", ".join(et.tag.name for et in episode.tags if et.accepted),
            "notes": source_front_matter(source_of(episode)) + (episode.summary.markdown if episode.summary else "")}


def apply_fields(session: Session, episode: Episode, form, author: User) -> bool:
    """Write the form to the episode; notes that changed become a new summary version. Returns
    whether what a voice would say changed (the notes or their cited source).

    Raises InvalidUpload for a bad date or notes whose front matter does not parse."""

    meta = meta_from_fields(form.title.data, form.event.data, form.speakers.data, form.recorded_on.data,
                            form.tags.data)
    notes = parse_notes(form.notes.data or "")
    episode.title = meta.title or episode.title
    episode.recorded_on = meta.recorded_on
    episode.event = get_or_create_event(session, meta.event) if meta.event else None
    _set_people(session, episode, [s.name for s in meta.speakers], get_or_create_person)
    _set_tags(session, episode, meta.tags)
    cited = _set_source(session, episode, notes.meta.source)
    if notes.markdown.strip() == (episode.summary.markdown.strip() if episode.summary else ""):
        return cited
    version = (episode.summary.version if episode.summary else 0) + 1
    episode.summaries.append(Summary(episode_id=episode.id, version=version, markdown=notes.markdown,
                                     author_id=author.id))
    return True


def _set_source(session: Session, episode: Episode, source) -> bool:
    """The notes' ``source:`` (shown above them in the form): changed, added or, when the front
    matter no longer has it, removed. Returns whether it changed."""
    if source == source_of(episode):
        return False
    cite_source(audio_notes_row(session, episode), source)
    return True


def _set_people(session: Session, episode: Episode, names: list[str], get_person) -> None:
    roles = {p.person.name: p.role for p in episode.people}
    episode.people.clear()
    session.flush()
    for position, name in enumerate(names):
        episode.people.append(EpisodePerson(person=get_person(session, name), role=roles.get(name, "speaker"),
                                            position=position))


def _set_tags(session: Session, episode: Episode, names: list[str]) -> None:
    """The summarizer's tags replace the accepted ones; unreviewed suggestions stay for the editor,
    dropped ones stay dropped unless the summarizer names them again."""

    wanted = {get_or_create_tag(session, name).id: name for name in names}
    for et in list(episode.tags):
        if et.tag_id in wanted:
            et.accepted, et.dropped = True, False
        elif et.accepted:
            episode.tags.remove(et)
    have = {et.tag_id for et in episode.tags}
    for tag_id in wanted:
        if tag_id not in have:
            episode.tags.append(EpisodeTag(tag_id=tag_id, source="summarizer", accepted=True))
