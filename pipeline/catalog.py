"""The names episodes are filed under: tags, people and events, found or created by name, each
with a slug that no other row of its kind has."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Event, Person, Tag
from .text import slugify


def get_or_create_event(session: Session, ref) -> Event:
    event = session.scalars(select(Event).where(Event.name == ref.name)).first()
    if event is None:
        event = Event(name=ref.name, slug=free_slug(session, Event, ref.name), place=ref.place,
                      starts_on=ref.starts_on, ends_on=ref.ends_on)
        session.add(event)
        session.flush()
    return event


def get_or_create_person(session: Session, name: str) -> Person:
    person = session.scalars(select(Person).where(Person.name == name)).first()
    if person is None:
        person = Person(name=name, slug=free_slug(session, Person, name))
        session.add(person)
        session.flush()
    return person


def get_or_create_tag(session: Session, name: str, category: str = "topic") -> Tag:
    slug = slugify(name)
    tag = session.scalars(select(Tag).where(Tag.slug == slug)).first()
    if tag is None:
        tag = Tag(name=name, slug=slug, category=category)
        session.add(tag)
        session.flush()
    return tag


def free_slug(session: Session, model, name: str) -> str:
    """``name`` as a slug no row of ``model`` has yet (``-2``, ``-3``... appended as needed)."""
    base = slugify(name)
    taken = set(session.scalars(select(model.slug).where(model.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug
