"""Download counts for editors: every published episode, last 7 and 30 days and in all."""

from __future__ import annotations

from flask import Blueprint, render_template

from pipeline.downloads import download_counts
from pipeline.models import Role

from ..auth import role_required
from ..db import db

bp = Blueprint("stats", __name__, url_prefix="/stats")


@bp.get("/downloads")
@role_required(Role.editor)
def downloads():
    rows = download_counts(db())
    totals = [sum(getattr(r, f) for r in rows) for f in ("last_7_days", "last_30_days", "total")]
    return render_template("stats_downloads.html", rows=rows, totals=totals)
