"""Pages anyone can read: home, episode, topic, event and speaker pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from pipeline.models import Anchor, Episode, EpisodePerson, EpisodeStatus, EpisodeTag, Event, Person, Tag
from pipeline.pairing import MIN_CONFIDENCE, strip_front_matter

from ..db import db
from ..feed_data import media_url, published_episodes
from ..members import is_member
from ..forms import ActionForm, CommentForm
from ..rendering import ListenPoint, render_summary
from ..search import query_words
from .discussion import comment_tree, editable_ids

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    session = db()
    topics = session.execute(
        select(Tag, func.count(EpisodeTag.episode_id)).join(EpisodeTag).join(Episode)
        .where(Episode.status == EpisodeStatus.published.value, EpisodeTag.accepted.is_(True))
        .group_by(Tag.id).order_by(Tag.name)).all()
    return render_template("home.html", episodes=published_episodes(session, include_members_only=is_member())[:30], topics=topics)


def published_or_404(slug: str) -> Episode:
    episode = db().scalars(select(Episode).where(Episode.slug == slug)).first()
    if episode is None or episode.status != EpisodeStatus.published.value:
        abort(404, "No such episode.")
    return episode


@bp.get("/episodes/<slug>")
def episode(slug: str):
    ep = published_or_404(slug)
    media = ep.media_of("published")
    words = [w.lower() for w in query_words(request.args.get("q", ""))]
    viewer = current_user.id if current_user.is_authenticated else None
    start = request.args.get("t", type=int)
    return render_template(
        "episode.html", episode=ep, audio_url=media_url(current_app.config["CLINEX"], media.storage_key),
        start=start if start and start > 0 else None, summary_html=summary_html(ep),
        transcript=ep.transcript, comments=comment_tree(db(), ep, viewer), words=words,
        comment_form=CommentForm(formdata=None), action_form=ActionForm(), q=request.args.get("q", "")[:200],
        can_edit=editable_ids(db(), ep, viewer))


def summary_html(ep: Episode) -> Markup | None:
    """The current summary with "listen at" links where pairing placed its parts confidently
    (the threshold chapters use). Without JavaScript a link reloads the page with ``?t=``, which
    starts the player there."""
    if ep.summary is None:
        return None
    anchors = db().scalars(select(Anchor).where(
        Anchor.episode_id == ep.id, Anchor.summary_version == ep.summary.version,
        Anchor.start.is_not(None), Anchor.confidence >= MIN_CONFIDENCE))
    points = [ListenPoint(a.kind, a.position, a.start) for a in anchors]
    return render_summary(strip_front_matter(ep.summary.markdown), points,
                          lambda t: url_for("public.episode", slug=ep.slug, t=int(t)) + "#player")


@bp.get("/tags/<slug>")
def tag(slug: str):
    found = db().scalars(select(Tag).where(Tag.slug == slug)).first() or abort(404, "No such topic.")
    return render_template("listing.html", heading=found.name, kind="Topic", description=found.description,
                           feed_path=f"/tags/{slug}/feed.xml", follow=("tag", found.id), tag=found, episodes=published_episodes(db(), tag=found, include_members_only=is_member()))


@bp.get("/events/<slug>")
def event(slug: str):
    found = db().scalars(select(Event).where(Event.slug == slug)).first() or abort(404, "No such event.")
    return render_template("listing.html", heading=found.name, kind="Event", description=found.description,
                           place=found.place, feed_path=f"/events/{slug}/feed.xml", follow=("event", found.id),
                           episodes=published_episodes(db(), event_id=found.id, include_members_only=is_member()))


@bp.get("/speakers/<slug>")
def speaker(slug: str):
    found = db().scalars(select(Person).where(Person.slug == slug)).first() or abort(404, "No such speaker.")
    episodes = db().scalars(
        select(Episode).join(EpisodePerson).where(EpisodePerson.person_id == found.id,
                                                   Episode.status == EpisodeStatus.published.value)
        .order_by(Episode.published_at.desc())).all()
    return render_template("listing.html", heading=found.name, kind="Speaker", feed_path=None, episodes=episodes)
