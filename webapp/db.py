"""Request-scoped database session and the job context for views."""

from __future__ import annotations

from flask import abort, current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.jobs import JobContext
from pipeline.models import Episode, EpisodeStatus


def ctx() -> JobContext:
    return current_app.extensions["clinex"]


def db() -> Session:
    if "db" not in g:
        g.db = ctx().sessions()
    return g.db


def get_or_404(model, ident):
    obj = db().get(model, ident)
    if obj is None:
        abort(404)
    return obj


def published_or_404(slug: str) -> Episode:
    """The published episode with this slug, else a 404 page."""
    episode = db().scalars(select(Episode).where(Episode.slug == slug)).first()
    if episode is None or episode.status != EpisodeStatus.published.value:
        abort(404, "No such episode.")
    return episode
