"""Following topics, events and summarizers: the button, the "Following" page of new episodes and
replies, and a personal feed of followed topics for podcast apps (a private feed token)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from feeds import build_feed
from pipeline.community.follows import follow, followed_episodes, follows_of, target_names, unfollow
from pipeline.community.notifications import notices
from pipeline.models import Role, User
from pipeline.private_feeds import live_feed_token, note_use

from ..auth import next_url, role_required
from ..db import db
from ..feed_data import TOKEN_PLACEHOLDER, episode_item, private_feed_body, show_info
from ..forms import ActionForm
from ..members import is_member
from ..security import enforce

bp = Blueprint("follows", __name__)


@bp.post("/follow/<kind>/<int:target_id>")
@role_required(Role.listener)
def toggle(kind: str, target_id: int):
    """Follow, or with ``undo=1`` unfollow; then back where the button was."""
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    if request.form.get("undo") == "1":
        unfollow(db(), current_user.id, kind, target_id)
        flash("Unfollowed.")
    else:
        enforce("follow", str(current_user.id))
        if follow(db(), current_user.id, kind, target_id):
            flash("Following: new episodes will be in your notifications and on your Following page.")
    db().commit()
    return redirect(next_url(url_for("follows.following")))


@bp.get("/following")
@role_required(Role.listener)
def following():
    return render_template("following.html", episodes=followed_episodes(db(), current_user.id, is_member()),
                           replies=[n for n in notices(db(), db().get(User, current_user.id), 100)
                                    if n.kind in ("reply", "mention")][:30],
                           follows=target_names(db(), follows_of(db(), current_user.id)), form=ActionForm())


@bp.get("/feeds/private/<token>/following.xml")
def following_feed(token: str):
    """The token holder's followed topics, events and summarizers as a podcast feed; members-only
    episodes carry the token, as in the private feed."""
    session, settings = db(), current_app.config["CLINEX"]
    row = live_feed_token(session, token) or abort(404, "No such feed.")
    if note_use(row):
        session.commit()
    episodes = followed_episodes(session, row.user_id, include_members_only=True)
    # Built with the placeholder, as the private feed is: the feed's podcast:guid is kept per
    # path, and a token must never be stored in the clear.
    items = [item for ep in episodes if (item := episode_item(settings, ep, TOKEN_PLACEHOLDER)) is not None]
    show = show_info(session, settings, path=f"/feeds/private/{TOKEN_PLACEHOLDER}/following.xml",
                     title_suffix="Following", private=True)
    body = private_feed_body(build_feed(show, items), token)
    response = Response(body, content_type="application/rss+xml; charset=utf-8")
    response.headers.update({"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"})
    return response


__all__ = ["bp"]
