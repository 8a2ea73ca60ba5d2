"""Threaded comments on episode pages: post, reply, edit within a window, delete one's own.

Comments by accounts editors have not marked trusted wait in the moderation queue (pending).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import timedelta, timezone

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from pipeline.models import Comment, CommentState, Episode, Role, User, utcnow
from pipeline.text import format_timestamp, parse_timestamp

from pipeline.community.profiles import ensure_profile

from ..auth import role_required
from ..community import comment_now_visible
from ..db import db, get_or_404, published_or_404
from ..forms import ActionForm, CommentEditForm, CommentForm
from ..security import enforce

bp = Blueprint("discussion", __name__)
EDIT_WINDOW_SECONDS = 15 * 60
MAX_DEPTH = 6


@dataclass
class Node:
    comment: Comment
    shown: bool  # False: a placeholder kept so its replies stay in place
    children: list["Node"] = field(default_factory=list)


def comment_tree(session, episode: Episode, viewer_id: int | None) -> list[Node]:
    """Visible comments (and the viewer's own pending ones) as a tree, oldest first."""
    rows = session.scalars(select(Comment).where(Comment.episode_id == episode.id).order_by(Comment.id)).all()
    nodes = {c.id: Node(c, _shown(c, viewer_id)) for c in rows}
    roots: list[Node] = []
    for node in nodes.values():
        parent = nodes.get(node.comment.parent_id)
        (parent.children if parent else roots).append(node)
    return _prune(roots)


def _shown(comment: Comment, viewer_id: int | None) -> bool:
    if comment.state == CommentState.visible.value:
        return True
    return comment.state == CommentState.pending.value and comment.author_id == viewer_id


def _prune(nodes: list[Node]) -> list[Node]:
    kept = []
    for node in nodes:
        node.children = _prune(node.children)
        if node.shown or node.children:
            kept.append(node)
    return kept


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def can_edit_comment(comment: Comment) -> bool:
    window = current_app.config.get("COMMENT_EDIT_WINDOW", EDIT_WINDOW_SECONDS)
    return (comment.state in (CommentState.visible.value, CommentState.pending.value)
            and utcnow() - _aware(comment.created_at) <= timedelta(seconds=window))


def editable_ids(session, episode: Episode, viewer_id: int | None) -> set[int]:
    if viewer_id is None:
        return set()
    own = session.scalars(select(Comment).where(Comment.episode_id == episode.id, Comment.author_id == viewer_id))
    return {c.id for c in own if can_edit_comment(c)}


def _timestamp(form, episode: Episode) -> float | None:
    raw = (form.timestamp.data or "").strip()
    if not raw:
        return None
    seconds = parse_timestamp(raw)
    if episode.duration and seconds > episode.duration:
        form.timestamp.errors = [f"The episode is only {int(episode.duration // 60)} minutes long."]
        return -1.0
    return seconds


def _parent(form, episode: Episode) -> Comment | None:
    raw = (form.parent_id.data or "").strip()
    if not raw:
        return None
    parent = db().get(Comment, int(raw)) if raw.isdigit() else None
    if parent is None or parent.episode_id != episode.id or parent.state != CommentState.visible.value:
        abort(400, "The comment you replied to is no longer there.")
    return parent


@bp.post("/episodes/<slug>/comments")
@role_required(Role.listener)
def post(slug: str):
    episode = published_or_404(slug)
    form = CommentForm()
    if not form.validate_on_submit():
        return _rejected(episode, form)
    seconds = _timestamp(form, episode)
    if seconds == -1.0:
        return _rejected(episode, form)
    parent = _parent(form, episode)
    enforce("comment", str(current_user.id))
    author = db().get(User, current_user.id)
    comment = Comment(episode_id=episode.id, parent_id=parent.id if parent else None, author_id=author.id,
                      body=form.body.data.strip(), timestamp=seconds,
                      state=CommentState.visible.value if author.trusted else CommentState.pending.value)
    db().add(comment)
    ensure_profile(db(), author)  # so others can @mention the author from now on
    db().commit()
    comment_now_visible(comment)
    if not author.trusted:
        flash("Thanks! Your comment will appear once an editor has seen it.")
    return redirect(url_for("public.episode", slug=episode.slug) + f"#c{comment.id}")


def _rejected(episode: Episode, form):
    """Bad input: nothing is stored; the episode page comes back with the reason beside the
    field and the text still in the box."""
    from .public import render_episode

    return render_episode(episode, comment_form=form, status=400)


def _own_comment(comment_id: int) -> Comment:
    comment = get_or_404(Comment, comment_id)
    if comment.author_id != current_user.id or comment.state == CommentState.deleted.value:
        abort(403, "You can only change your own comments.")
    return comment


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@role_required(Role.listener)
def edit(comment_id: int):
    comment = _own_comment(comment_id)
    episode = db().get(Episode, comment.episode_id)
    if not can_edit_comment(comment):
        abort(403, f"Comments can be edited for {EDIT_WINDOW_SECONDS // 60} minutes after posting.")
    form = CommentEditForm(obj=None if request.method == "POST" else _edit_defaults(comment))
    if form.validate_on_submit():
        seconds = _timestamp(form, episode)
        if seconds != -1.0:
            comment.body, comment.timestamp, comment.edited_at = form.body.data.strip(), seconds, utcnow()
            db().commit()
            return redirect(url_for("public.episode", slug=episode.slug) + f"#c{comment.id}")
    return render_template("comment_edit.html", form=form, comment=comment, episode=episode), \
        400 if form.errors else 200


def _edit_defaults(comment: Comment):
    stamp = format_timestamp(comment.timestamp) if comment.timestamp is not None else ""
    return SimpleNamespace(body=comment.body, timestamp=stamp)


@bp.post("/comments/<int:comment_id>/delete")
@role_required(Role.listener)
def delete(comment_id: int):
    comment = _own_comment(comment_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    comment.state = CommentState.deleted.value
    db().commit()
    episode = db().get(Episode, comment.episode_id)
    flash("Your comment is deleted.")
    return redirect(url_for("public.episode", slug=episode.slug) + "#discussion")
