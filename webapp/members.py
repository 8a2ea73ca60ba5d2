"""Members-only episodes: who may hear them, and hiding them from anonymous visitors.

Feeds, search and media check explicitly (see ``may_hear``). The public pages' queries are many
and spread over one blueprint, so for an anonymous visitor of that blueprint the request's
session gets a global criterion (SQLAlchemy's ``with_loader_criteria``): every SELECT that loads
or joins episodes leaves members-only ones out, so listings, counts and the episode page agree.
"""

from __future__ import annotations

from flask import Flask, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session, with_loader_criteria

from pipeline.models import Episode, FeedToken
from pipeline.private_feeds import MEMBER_ROLE, live_feed_token

from .db import db

#: Blueprints whose pages anonymous visitors see without members-only episodes.
HIDING_BLUEPRINTS = frozenset({"public"})


def init_app(app: Flask) -> None:
    @app.before_request
    def hide_members_only_from_anonymous() -> None:
        if request.blueprint in HIDING_BLUEPRINTS and not is_member():
            hide_members_only(db())


def is_member() -> bool:
    """Whether the signed-in visitor hears members-only episodes without a token."""
    return current_user.is_authenticated and current_user.has_role(MEMBER_ROLE)


def request_token() -> FeedToken | None:
    """The live private feed token in the request's ``?token=``, if any."""
    return live_feed_token(db(), request.args.get("token"))


def may_hear(episode: Episode) -> bool:
    """Public episodes: anyone. Members-only ones: members, or a live token in ``?token=``."""
    return not episode.members_only or is_member() or request_token() is not None


def hide_members_only(session: Session) -> None:
    """From now on, SELECTs in ``session`` (and the relationship loads they lead to) skip
    members-only episodes."""

    @event.listens_for(session, "do_orm_execute")
    def _skip(state) -> None:
        if state.is_select and not state.is_column_load and not state.is_relationship_load:
            state.statement = state.statement.options(
                with_loader_criteria(Episode, Episode.members_only.is_(False), include_aliases=True))
