"""Where a signed-in listener is in an episode: read on page load, saved by the player.

JSON in and out. Saving is a POST protected by the CSRF token the page carries (sent as the
``X-CSRFToken`` header), so another site cannot move someone's place or inflate what they heard.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, abort, jsonify, request
from flask_login import current_user

from pipeline.listening import listen_info, parse_report, record_listen

from ..db import db

bp = Blueprint("listening", __name__)


def _signed_in_id() -> int:
    if not current_user.is_authenticated:
        abort(401, "Sign in to keep your place across devices; signed out, the browser keeps it.")
    return current_user.id


def _as_json(info) -> dict:
    body = asdict(info)
    body["updated_at"] = info.updated_at.isoformat() if info.updated_at else None
    return body


@bp.get("/episodes/<slug>/listen")
def show(slug: str):
    from .public import published_or_404

    user_id = _signed_in_id()
    return jsonify(_as_json(listen_info(db(), user_id, published_or_404(slug).id)))


@bp.post("/episodes/<slug>/listen")
def save(slug: str):
    """``{"position": seconds, "heard": seconds played since the last save}``; 400 with a
    message for anything else, 401 when signed out."""
    from .public import published_or_404

    user_id = _signed_in_id()
    episode = published_or_404(slug)
    report = parse_report(request.get_json(silent=True))
    info = record_listen(db(), user_id, episode, report)
    db().commit()
    return jsonify(_as_json(info))
