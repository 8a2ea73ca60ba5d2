"""Pages anyone can read: home, episode, topic and event pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import func, select

from pipeline.models import Comment, CommentState, Episode, EpisodeStatus, EpisodeTag, Event, Tag

from ..db import db
from ..feed_data import media_url, published_episodes

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    session = db()
    topics = session.execute(
        select(Tag, func.count(EpisodeTag.episode_id)).join(EpisodeTag).join(Episode)
        .where(Episode.status == EpisodeStatus.published.value, EpisodeTag.accepted.is_(True))
        .group_by(Tag.id).order_by(Tag.name)).all()
    return render_template("home.html", episodes=published_episodes(session)[:30], topics=topics)


@bp.get("/episodes/<slug>")
def episode(slug: str):
    session = db()
    ep = session.scalars(select(Episode).where(Episode.slug == slug)).first()
    if ep is None or ep.status != EpisodeStatus.published.value:
        abort(404, "No such episode.")
    media = ep.media_of("published")
    comments = list(session.scalars(select(Comment).where(
        Comment.episode_id == ep.id, Comment.state == CommentState.visible.value).order_by(Comment.created_at)))
    return render_template("episode.html", episode=ep, audio_url=media_url(current_app.config["CLINEX"], media.storage_key),
                           transcript=ep.transcript, comments=comments)


@bp.get("/tags/<slug>")
def tag(slug: str):
    found = db().scalars(select(Tag).where(Tag.slug == slug)).first() or abort(404, "No such topic.")
    return render_template("listing.html", heading=found.name, feed_path=f"/tags/{slug}/feed.xml",
                           episodes=published_episodes(db(), tag=found))


@bp.get("/events/<slug>")
def event(slug: str):
    found = db().scalars(select(Event).where(Event.slug == slug)).first() or abort(404, "No such event.")
    return render_template("listing.html", heading=found.name, feed_path=f"/events/{slug}/feed.xml",
                           episodes=published_episodes(db(), event_id=found.id))
