"""Search across published titles, summaries and transcripts."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from pipeline.text import strip_bidi_controls

from ..db import db
from ..members import is_member
from ..search import MAX_QUERY, search

bp = Blueprint("search", __name__)


@bp.get("/search")
def results():
    query = strip_bidi_controls(request.args.get("q", ""))  # echoed in the box; stored text has none
    if len(query) > MAX_QUERY:
        return render_template("search.html", q=query[:MAX_QUERY], hits=[],
                               error=f"Searches may be at most {MAX_QUERY} characters."), 400
    hits = search(db(), query, include_members_only=is_member())
    return render_template("search.html", q=query, hits=hits, error=None)
