"""Search across published titles, summaries and transcripts, grouped per episode."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from pipeline.text import strip_bidi_controls

from ..db import db
from ..members import is_member
from ..search import MAX_QUERY
from ..search_groups import BadFilter, SearchFilters, filter_choices, grouped_search, parse_filters

bp = Blueprint("search", __name__)
MAX_SPEAKER = 200  # as long as a voice's name may be


@bp.get("/search")
def results():
    query = strip_bidi_controls(request.args.get("q", ""))  # echoed in the box; stored text has none
    error, filters, groups = None, SearchFilters(), []
    if len(query) > MAX_QUERY:
        query, error = query[:MAX_QUERY], f"Searches may be at most {MAX_QUERY} characters."
    else:
        try:
            filters = parse_filters(request.args)
            groups = grouped_search(db(), query, filters, include_members_only=is_member())
        except BadFilter as exc:  # shown beside the filters, the query kept
            error = str(exc)
    return render_template("search.html", q=query, groups=groups, error=error, filters=filters,
                           choices=filter_choices(db())), 400 if error else 200
