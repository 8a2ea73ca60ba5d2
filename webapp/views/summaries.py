"""Feeds of just the spoken summaries (notes-only episodes), for listeners who want the short
version: all of them, one topic's, one event's. Served like every feed (ETag, 304, gzip)."""

from __future__ import annotations

from flask import Blueprint, abort
from sqlalchemy import select

from pipeline.models import Event, Tag

from ..audio_notes import is_notes_only
from ..db import db
from ..feed_data import published_episodes
from .feeds import _serve_feed

bp = Blueprint("summaries", __name__)
DESCRIPTION = "Colleagues' written summaries of articles, guides, webinars and sessions, read aloud."


def _spoken(**filters):
    return lambda: [ep for ep in published_episodes(db(), **filters) if is_notes_only(ep)]


@bp.get("/summaries/feed.xml")
def summaries_feed():
    return _serve_feed(("summaries",), _spoken(), path="/summaries/feed.xml", title_suffix="Spoken summaries",
                       description=DESCRIPTION)


@bp.get("/tags/<slug>/summaries.xml")
def tag_summaries_feed(slug: str):
    tag = db().scalars(select(Tag).where(Tag.slug == slug)).first() or abort(404, "No such topic.")
    return _serve_feed(("summaries-tag", slug), _spoken(tag=tag), path=f"/tags/{slug}/summaries.xml",
                       title_suffix=f"{tag.name}: spoken summaries", description=DESCRIPTION)


@bp.get("/events/<slug>/summaries.xml")
def event_summaries_feed(slug: str):
    event = db().scalars(select(Event).where(Event.slug == slug)).first() or abort(404, "No such event.")
    return _serve_feed(("summaries-event", slug), _spoken(event_id=event.id), path=f"/events/{slug}/summaries.xml",
                       title_suffix=f"{event.name}: spoken summaries", description=DESCRIPTION)
