"""Search across published titles, summaries and transcripts."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..db import db
from ..members import is_member
from ..search import MAX_QUERY, search

bp = Blueprint("search", __name__)
MAX_SPEAKER = 200  # as long as a voice's name may be


@bp.get("/search")
def results():
    query = request.args.get("q", "")
    speaker = " ".join(request.args.get("speaker", "").split())
    if len(query) > MAX_QUERY or len(speaker) > MAX_SPEAKER:
        return render_template("search.html", q=query[:MAX_QUERY], speaker=speaker[:MAX_SPEAKER], hits=[],
                               error=f"Searches may be at most {MAX_QUERY} characters, speaker names "
                                     f"{MAX_SPEAKER}."), 400
    hits = search(db(), query, include_members_only=is_member(), speaker=speaker or None)
    return render_template("search.html", q=query, speaker=speaker, hits=hits, error=None)
