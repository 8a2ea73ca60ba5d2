"""Editors keep the glossary, the tag vocabulary and the accounts (admins alone grant admin)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from pipeline.errors import ConfigError
from pipeline.models import EpisodeTag, FeedToken, GlossaryTerm, Role, SpokenTerm, Tag, User
from pipeline.voice.lexicon import check_phonemes
from pipeline.private_feeds import revoke_feed_tokens
from pipeline.sign_in import failures_by_email, recent_events, say_wait
from pipeline.text import slugify

from ..auth import role_required
from ..db import db, get_or_404
from ..forms import ActionForm, GlossaryForm, PronunciationForm, TagForm, UserForm
from ..passwords import reset_link

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _checked() -> None:
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")


def _saved(message: str, field) -> bool:
    """Commit; a name clash becomes a message on ``field`` instead of an error page."""
    try:
        db().commit()
    except IntegrityError:
        db().rollback()
        field.errors = [f"“{field.data}” already exists."]
        return False
    flash(message)
    return True


@bp.route("/glossary", methods=["GET", "POST"])
@role_required(Role.editor)
def glossary():
    form = GlossaryForm()
    if form.validate_on_submit():
        heard = [m.strip() for m in (form.mishearings.data or "").split(",") if m.strip()]
        db().add(GlossaryTerm(term=form.term.data.strip(), category=form.category.data.strip(), mishearings=heard))
        if _saved(f"Added “{form.term.data.strip()}”.", form.term):
            return redirect(url_for("admin.glossary"))
    return _glossary_page(form, PronunciationForm(formdata=None))


def _glossary_page(form, spoken_form):
    terms = db().scalars(select(GlossaryTerm).order_by(func.lower(GlossaryTerm.term))).all()
    spoken = db().scalars(select(SpokenTerm).order_by(func.lower(SpokenTerm.term))).all()
    return render_template("admin_glossary.html", form=form, terms=terms, action_form=ActionForm(),
                           spoken_form=spoken_form, spoken=spoken), \
        400 if form.errors or spoken_form.errors else 200


@bp.post("/glossary/pronunciations")
@role_required(Role.editor)
def add_pronunciation():
    """How the voice says a term in audio notes; wins over the bundled lexicon's entry."""
    form = PronunciationForm()
    if form.validate_on_submit():
        term = form.term.data.strip()
        try:
            phonemes = check_phonemes(term, form.phonemes.data or "")
        except ConfigError as exc:
            form.phonemes.errors = [str(exc)]
        else:
            if not (phonemes or (form.say.data or "").strip() or form.letters.data):
                form.phonemes.errors = ["Give phonemes, words to say instead, or tick 'letter by letter'."]
            else:
                db().add(SpokenTerm(term=term, phonemes=phonemes or None, say=(form.say.data or "").strip() or None,
                                    letters=bool(form.letters.data)))
                if _saved(f"The voice will say “{term}” that way.", form.term):
                    return redirect(url_for("admin.glossary") + "#pronunciations")
    return _glossary_page(GlossaryForm(formdata=None), form)


@bp.post("/glossary/pronunciations/<int:pronunciation_id>/delete")
@role_required(Role.editor)
def delete_pronunciation(pronunciation_id: int):
    _checked()
    entry = get_or_404(SpokenTerm, pronunciation_id)
    db().delete(entry)
    db().commit()
    flash(f"Removed the pronunciation of “{entry.term}”.")
    return redirect(url_for("admin.glossary") + "#pronunciations")


@bp.post("/glossary/<int:term_id>/delete")
@role_required(Role.editor)
def delete_term(term_id: int):
    _checked()
    term = get_or_404(GlossaryTerm, term_id)
    db().delete(term)
    db().commit()
    flash(f"Removed “{term.term}”.")
    return redirect(url_for("admin.glossary"))


@bp.route("/tags", methods=["GET", "POST"])
@role_required(Role.editor)
def tags():
    form = TagForm()
    if form.validate_on_submit():
        name = " ".join(form.name.data.split())
        db().add(Tag(name=name, slug=slugify(name), category=form.category.data.strip(),
                     description=(form.description.data or "").strip() or None))
        if _saved(f"Added the tag “{name}”.", form.name):
            return redirect(url_for("admin.tags"))
    rows = db().execute(select(Tag, func.count(EpisodeTag.episode_id)).outerjoin(EpisodeTag)
                        .group_by(Tag.id).order_by(func.lower(Tag.name))).all()
    return render_template("admin_tags.html", form=form, rows=rows, action_form=ActionForm()), \
        400 if form.errors else 200


@bp.route("/tags/<int:tag_id>", methods=["GET", "POST"])
@role_required(Role.editor)
def edit_tag(tag_id: int):
    tag = get_or_404(Tag, tag_id)
    form = TagForm(obj=None if request.method == "POST" else tag)
    if form.validate_on_submit():
        tag.name, tag.category = " ".join(form.name.data.split()), form.category.data.strip()
        tag.description = (form.description.data or "").strip() or None
        if _saved("Tag saved.", form.name):
            return redirect(url_for("admin.tags"))
    return render_template("admin_tag_edit.html", form=form, tag=tag), 400 if form.errors else 200


@bp.post("/tags/<int:tag_id>/delete")
@role_required(Role.editor)
def delete_tag(tag_id: int):
    _checked()
    tag = get_or_404(Tag, tag_id)
    db().delete(tag)
    db().commit()
    flash(f"Removed the tag “{tag.name}” from the vocabulary and its episodes.")
    return redirect(url_for("admin.tags"))


@bp.get("/users")
@role_required(Role.editor)
def users():
    return _users_page(link=None)


def _users_page(link):
    rows = db().scalars(select(User).order_by(User.id)).all()
    live_feeds = dict(db().execute(select(FeedToken.user_id, func.count(FeedToken.id))
                                   .where(FeedToken.revoked_at.is_(None)).group_by(FeedToken.user_id)).all())
    return render_template("admin_users.html", users=rows, forms={u.id: UserForm(formdata=None, obj=u, prefix=f"u{u.id}")
                                                                  for u in rows},
                           action_form=ActionForm(), link=link, live_feeds=live_feeds,
                           failures=failures_by_email(db(), current_app.config["SIGNIN_DELAY"]), say_wait=say_wait)


@bp.get("/sign-ins")
@role_required(Role.editor)
def sign_ins():
    """The sign-in audit log: failures, slow-downs, address limits and sign-ins, newest first."""
    email = (request.args.get("email") or "").strip().lower()[:254]
    return render_template("admin_sign_ins.html", events=recent_events(db(), email or None), email=email,
                           say_wait=say_wait)


@bp.post("/users/<int:user_id>")
@role_required(Role.editor)
def update_user(user_id: int):
    """Change a role, trust or activity; only admins grant admin or change an admin."""
    user = get_or_404(User, user_id)
    form = UserForm(prefix=f"u{user.id}")
    if not form.validate_on_submit():
        abort(400, "Not saved: " + " ".join(e for es in form.errors.values() for e in es))
    touches_admin = Role.admin.value in (user.role, form.role.data)
    if touches_admin and not current_user.has_role(Role.admin):
        abort(403, "Only an admin can grant the admin role or change an admin's account.")
    if user.id == current_user.id and (form.role.data != user.role or not form.active.data):
        abort(409, "You cannot change your own role or deactivate yourself; ask another editor.")
    user.role, user.trusted, user.active = form.role.data, form.trusted.data, form.active.data
    revoked = 0 if user.active else revoke_feed_tokens(db(), user.id)  # re-enabling must not revive them
    db().commit()
    flash(f"Saved {user.display_name}." + (f" Revoked {revoked} private feed(s)." if revoked else ""))
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/revoke-feeds")
@role_required(Role.editor)
def revoke_user_feeds(user_id: int):
    """Stop every private feed address of an account at once (a leaked address, a departure)."""
    _checked()
    user = get_or_404(User, user_id)
    revoked = revoke_feed_tokens(db(), user.id)
    db().commit()
    flash(f"Revoked {revoked} private feed(s) of {user.display_name}.")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-link")
@role_required(Role.editor)
def user_reset_link(user_id: int):
    """Show a one-time password reset link to pass on to the person."""
    _checked()
    user = get_or_404(User, user_id)
    if user.role == Role.admin.value and not current_user.has_role(Role.admin):
        abort(403, "Only an admin can reset an admin's password.")
    return _users_page(link=(user, reset_link(current_app.config["CLINEX"], user)))
