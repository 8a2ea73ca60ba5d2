"""The community's hooks into every page: the bell's unread count, what the discussion shows
beside each comment (profile links, standing, helpful marks, order), and sending mail soon
after a request committed the notifications that owe it."""

from __future__ import annotations

import logging
import threading

from flask import Flask, current_app, request
from flask_login import current_user
from sqlalchemy import select

from pipeline.community.delivery import deliver_mail
from pipeline.community.follows import is_following
from pipeline.community.models import Profile
from pipeline.community.notifications import notify_comment, unread_count
from pipeline.community.profiles import initials
from pipeline.community.standing import helpful_counts, marked_by, standings
from pipeline.models import Comment

from .db import db

log = logging.getLogger(__name__)
SORTS = ("oldest", "newest", "helpful")


class DiscussionExtras:
    """Per comment: helpful count, whether the viewer marked it, the author's handle and standing."""

    def __init__(self, session, nodes, viewer_id: int | None, sort: str):
        comments = list(_walk(nodes))
        ids = [c.id for c in comments]
        authors = sorted({c.author_id for c in comments})
        self.helpful = helpful_counts(session, ids)
        self.marked = marked_by(session, viewer_id, ids)
        self.standing = standings(session, authors)
        self.handles = dict(session.execute(select(Profile.user_id, Profile.handle)
                                            .where(Profile.user_id.in_(authors))).all()) if authors else {}
        self.sort = sort if sort in SORTS else "oldest"

    def ordered(self, nodes):
        if self.sort == "newest":
            return sorted(nodes, key=lambda n: -n.comment.id)
        if self.sort == "helpful":
            return sorted(nodes, key=lambda n: (-self.helpful.get(n.comment.id, 0), n.comment.id))
        return nodes


def _walk(nodes):
    for node in nodes:
        yield node.comment
        yield from _walk(node.children)


def discussion_extras(nodes) -> DiscussionExtras:
    viewer = current_user.id if current_user.is_authenticated else None
    return DiscussionExtras(db(), nodes, viewer, request.args.get("sort", "oldest"))


def deliver_soon() -> None:
    """Send the mail the request's notifications owe, after the request committed them: inline
    under TESTING (so tests see it), else in a thread so a slow mail server never slows a page.
    A failure stays in the outbox for the worker's next round."""
    ctx = current_app.extensions["clinex"]
    if current_app.testing:
        deliver_mail(ctx.sessions, ctx.settings, digests=False)
        return
    threading.Thread(target=_deliver_quietly, args=(ctx,), name="clinex-mail", daemon=True).start()


def _deliver_quietly(ctx) -> None:
    try:
        deliver_mail(ctx.sessions, ctx.settings, digests=False)
    except Exception:  # the database may be busy; the worker's mail round sends it later
        log.exception("mail delivery after a request failed; the worker retries")


def comment_now_visible(comment: Comment) -> None:
    """Tell the people a newly visible comment answers or mentions; the caller has committed it."""
    if notify_comment(db(), comment):
        db().commit()
        deliver_soon()


def _viewer_follows(kind: str, target_id: int) -> bool:
    return current_user.is_authenticated and is_following(db(), current_user.id, kind, target_id)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(discussion_extras=discussion_extras, initials=initials,
                                 is_following=_viewer_follows)

    @app.context_processor
    def bell():
        if not current_user.is_authenticated:
            return {"unread_notifications": 0}
        return {"unread_notifications": unread_count(db(), current_user.id)}
