"""Episode cover art: served to pages, feeds and lock screens; uploaded by editors.

A cover upload that fails leaves the earlier cover (or the generated one) in place and says why.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for

from pipeline.artwork import (episode_cover_bytes, episode_cover_thumbnail, remove_uploaded_cover,
                              store_uploaded_cover)
from pipeline.cover import MAX_UPLOAD_BYTES
from pipeline.errors import InvalidUpload
from pipeline.models import Episode, Role

from feeds import feed_etag

from ..auth import role_required
from ..db import ctx, get_or_404
from ..forms import ActionForm
from .feeds import conditional, published_or_404

bp = Blueprint("covers", __name__)
DAY = 86400


@bp.get("/episodes/<slug>/cover.jpg")
def cover(slug: str):
    """Full size (for podcast apps and ID3), or ``?size=`` 160, 320 or 640 for pages."""
    episode = published_or_404(slug)
    size = request.args.get("size", type=int)
    body = episode_cover_thumbnail(ctx(), episode, size) if size else episode_cover_bytes(ctx(), episode)
    return conditional(body, feed_etag(body), "image/jpeg", max_age=DAY, private=episode.members_only)


@bp.post("/review/<int:episode_id>/cover")
@role_required(Role.editor)
def upload(episode_id: int):
    episode = get_or_404(Episode, episode_id)
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    if request.form.get("remove"):
        remove_uploaded_cover(ctx(), episode)
        flash("The cover is the generated one again.")
    else:
        store_uploaded_cover(ctx(), episode, _uploaded_bytes())
        flash("Cover saved: pages and feeds show it now; the MP3's own art changes when the episode is next published.")
    return redirect(url_for("review.episode", episode_id=episode.id) + "#cover")


def _uploaded_bytes() -> bytes:
    part = request.files.get("cover")
    if part is None or not part.filename:
        raise InvalidUpload("Choose a JPEG or PNG file for the cover.")
    data = part.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidUpload(f"The cover may be at most {MAX_UPLOAD_BYTES // 1024 ** 2} MB.")
    return data
