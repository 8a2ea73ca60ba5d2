"""Pages anyone can read: home, episode, topic, event and speaker pages."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from pipeline.listening import listen_info
from pipeline.models import (Anchor, Episode, EpisodeStatus, EpisodeTag, Event, Person, Summary, Tag,
                             User)
from pipeline.pairing import MIN_CONFIDENCE, strip_front_matter

from ..db import db, published_or_404
from ..feed_data import media_url, published_episodes
from ..members import is_member
from ..forms import ActionForm, CommentForm
from ..rendering import ListenPoint, first_paragraph, render_summary, without_title_heading
from ..search import query_words
from ..security import content_security_policy
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


@bp.get("/episodes/<slug>")
def episode(slug: str):
    return render_episode(published_or_404(slug))


def render_episode(ep: Episode, comment_form: CommentForm | None = None, status: int = 200):
    """The episode page; a comment form that failed comes back with its errors beside the fields
    and the text kept (``status`` 400 then)."""
    media = ep.media_of("published")
    words = [w.lower() for w in query_words(request.args.get("q", ""))]
    viewer = current_user.id if current_user.is_authenticated else None
    start = request.args.get("t", type=int)
    audio_url = media_url(current_app.config["CLINEX"], media.storage_key)
    return render_template(
        "episode.html", episode=ep, audio_url=audio_url, **dock_values(ep, audio_url, viewer),
        start=start if start and start > 0 else None, summary_html=summary_html(ep),
        transcript=ep.transcript, comments=comment_tree(db(), ep, viewer), words=words,
        comment_form=comment_form or CommentForm(formdata=None), action_form=ActionForm(),
        q=request.args.get("q", "")[:200], can_edit=editable_ids(db(), ep, viewer)), status


def dock_values(ep: Episode, audio_url: str, viewer: int | None) -> dict:
    """What the bottom player needs for this episode; a signed-in listener resumes where their
    last device left off."""
    resume = listen_info(db(), viewer, ep.id).position_seconds if viewer else None
    return {"dock_episode": ep, "dock_src": audio_url, "share": share_card(ep, audio_url), "dock_art": url_for("covers.cover", slug=ep.slug, size=640),
            "dock_chapters": [{"start": c.start, "title": c.title} for c in ep.chapters],
            "dock_resume": resume}


def share_card(ep: Episode, audio_url: str) -> dict:
    """Open Graph and Twitter card values: a shared link shows the cover, title and first lines,
    and Twitter can play the embed page in place."""
    base = current_app.config["CLINEX"].BASE_URL
    excerpt = first_paragraph(ep.summary.markdown) if ep.summary else ""
    return {"url": f"{base}/episodes/{ep.slug}", "image": f"{base}/episodes/{ep.slug}/cover.jpg",
            "description": (excerpt[:197] + "…") if len(excerpt) > 200 else excerpt, "audio": audio_url,
            "player": None if ep.members_only else f"{base}/episodes/{ep.slug}/embed"}


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
    html = render_summary(strip_front_matter(ep.summary.markdown), points,
                          lambda t: url_for("public.episode", slug=ep.slug, t=int(t)) + "#player")
    return without_title_heading(html, ep.title)


@bp.get("/summarizers/<int:user_id>")
def summarizer(user_id: int):
    """The episodes whose current notes this colleague wrote."""
    person = db().get(User, user_id)
    if person is None or not person.has_role("summarizer"):
        abort(404, "No such summarizer.")
    latest = select(Summary.episode_id, func.max(Summary.version).label("version")).group_by(Summary.episode_id).subquery()
    episodes = db().scalars(
        select(Episode).join(latest, latest.c.episode_id == Episode.id)
        .join(Summary, (Summary.episode_id == Episode.id) & (Summary.version == latest.c.version))
        .where(Summary.author_id == user_id, Episode.status == EpisodeStatus.published.value)
        .order_by(Episode.published_at.desc())).all()
    return render_template("listing.html", heading=person.display_name, kind="Summarizer", feed_path=None,
                           episodes=episodes)


@bp.get("/episodes/<slug>/embed")
def embed(slug: str):
    """A small player other sites may put in an iframe (``?t=`` starts it at a moment)."""
    ep = published_or_404(slug)
    if ep.members_only:
        abort(404, "Members-only episodes cannot be embedded on other sites.")
    start = request.args.get("t", type=int)
    html = render_template("embed.html", episode=ep, start=start if start and start > 0 else None,
                           audio_url=media_url(current_app.config["CLINEX"], ep.media_of("published").storage_key))
    # the one page meant for other sites' frames: let any site frame it, still nothing else inline
    csp = content_security_policy(current_app.config["CLINEX"]).replace("frame-ancestors 'none'", "frame-ancestors *")
    return html, 200, {"Content-Security-Policy": csp, "X-Frame-Options": ""}


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer instead of a 404 on every page."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/x-icon", max_age=86400)


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
    return render_template("listing.html", heading=found.name, kind="Speaker", feed_path=f"/speakers/{slug}/feed.xml",
                           episodes=published_episodes(db(), person_id=found.id, include_members_only=is_member()))
