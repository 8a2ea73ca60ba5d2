"""Profiles (who a member is, with their summaries, comments, topics and standing), avatars,
"helpful" marks on comments, and each topic's top contributors."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from pipeline.community.follows import is_following
from pipeline.community.models import Profile
from pipeline.community.profiles import (ProfileInput, active_topics, comments_of, ensure_profile, save_avatar,
                                         shown_fields, summaries_of, update_profile)
from pipeline.community.standing import mark_helpful, standings, top_contributors
from pipeline.models import Comment, Episode, Role, Tag, User

from ..auth import role_required
from ..community_forms import ProfileForm
from ..db import ctx, db, get_or_404
from ..forms import ActionForm
from ..members import is_member
from ..security import enforce

bp = Blueprint("profiles", __name__)
FIELDS = ("credentials", "specialty", "practice", "city")


def _viewer() -> User | None:
    return db().get(User, current_user.id) if current_user.is_authenticated else None


@bp.get("/members/<int:user_id>")
def show(user_id: int):
    user = get_or_404(User, user_id)
    if not user.active:
        abort(404, "No such member.")
    profile, members = db().get(Profile, user.id), is_member()
    viewer, comments = _viewer(), comments_of(db(), user.id, members)
    slugs = dict(db().execute(select(Episode.id, Episode.slug).where(
        Episode.id.in_({c.episode_id for c in comments}))).all()) if comments else {}
    return render_template(
        "profile.html", member=user, profile=profile, fields=shown_fields(profile, viewer),
        standing=standings(db(), [user.id])[user.id], summaries=summaries_of(db(), user.id, members),
        comments=comments, episode_slugs=slugs, topics=active_topics(db(), user.id),
        following=is_following(db(), viewer.id if viewer else None, "summarizer", user.id),
        action_form=ActionForm())


@bp.get("/members/<int:user_id>/avatar.png")
def avatar(user_id: int):
    profile = db().get(Profile, user_id)
    if profile is None or not profile.avatar_key or not profile.user.active:
        abort(404, "This member has no avatar.")
    body = ctx().storage.get_bytes(profile.avatar_key)
    return Response(body, content_type="image/png", headers={"Cache-Control": "public, max-age=3600"})


@bp.route("/account/profile", methods=["GET", "POST"])
@role_required(Role.listener)
def edit():
    user = db().get(User, current_user.id)
    profile = ensure_profile(db(), user)
    form = ProfileForm(obj=None if request.method == "POST" else _defaults(user, profile))
    if not form.validate_on_submit():
        db().commit()  # the profile row (and its handle) exists from the first visit on
        return render_template("profile_edit.html", form=form, profile=profile), 400 if form.errors else 200
    update_profile(db(), user, _input(form))
    upload = request.files.get("avatar")
    if upload is not None and upload.filename:
        save_avatar(db(), ctx().storage, user, upload.read())
    db().commit()
    flash("Your profile is saved.")
    return redirect(url_for("profiles.show", user_id=user.id))


def _defaults(user: User, profile: Profile):
    from types import SimpleNamespace

    values = {f: getattr(profile, f) or "" for f in FIELDS}
    values.update({f"{f}_visibility": getattr(profile, f"{f}_visibility") for f in FIELDS})
    return SimpleNamespace(display_name=user.display_name, handle=profile.handle, bio=profile.bio or "", **values)


def _input(form: ProfileForm) -> ProfileInput:
    return ProfileInput(display_name=form.display_name.data, handle=form.handle.data or "", bio=form.bio.data or "",
                        visibility={f: form[f"{f}_visibility"].data for f in FIELDS},
                        **{f: form[f].data or "" for f in FIELDS})


@bp.post("/comments/<int:comment_id>/helpful")
@role_required(Role.listener)
def helpful(comment_id: int):
    """Mark (or with ``undo``, unmark) a comment helpful; one mark per reader, not on one's own."""
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    comment = get_or_404(Comment, comment_id)
    enforce("helpful", str(current_user.id))
    count = mark_helpful(db(), comment_id, current_user.id, helpful=request.form.get("undo") != "1")
    db().commit()
    if request.accept_mimetypes.best == "application/json":
        return {"comment": comment_id, "helpful": count}
    episode = db().get(Episode, comment.episode_id)
    return redirect(url_for("public.episode", slug=episode.slug, sort=request.form.get("sort") or None)
                    + f"#c{comment_id}")


@bp.get("/tags/<slug>/contributors")
def contributors(slug: str):
    tag = db().scalars(select(Tag).where(Tag.slug == slug)).first() or abort(404, "No such topic.")
    return render_template("contributors.html", tag=tag, contributors=top_contributors(db(), tag.id))
