"""The bell: notifications in the site, opening one, per-kind settings, and the signed links in
mail that change a setting without signing in."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from pipeline.community.notifications import mark_read, notices, open_notice
from pipeline.community.prefs import EMAIL_MODES, KINDS, apply_settings_token, prefs_of, read_settings_token, set_pref
from pipeline.models import Role, User

from ..auth import csrf, role_required
from ..db import db
from ..forms import ActionForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@role_required(Role.listener)
def index():
    user = db().get(User, current_user.id)
    return render_template("notifications.html", notices=notices(db(), user), form=ActionForm())


@bp.get("/<int:notification_id>/open")
@role_required(Role.listener)
def open_one(notification_id: int):
    """Where a notification (or a link in its mail) points; another member's id is a 404."""
    link = open_notice(db(), current_user.id, notification_id) or abort(404, "No such notification.")
    db().commit()
    return redirect(link)


@bp.post("/read")
@role_required(Role.listener)
def read_all():
    if not ActionForm().validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    mark_read(db(), current_user.id)
    db().commit()
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@role_required(Role.listener)
def settings():
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400, "The form expired; reload the page and try again.")
        for kind in KINDS:
            set_pref(db(), current_user.id, kind, site=request.form.get(f"site_{kind}") == "on",
                     email=request.form.get(f"email_{kind}", "instant"))
        db().commit()
        flash("Notification settings saved.")
        return redirect(url_for("notifications.settings"))
    return render_template("notification_settings.html", prefs=prefs_of(db(), current_user.id), kinds=KINDS,
                           modes=EMAIL_MODES, form=ActionForm())


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential: mail apps POST here (RFC 8058) without a page
def unsubscribe(token: str):
    """GET shows what the link will change and one button; POST (that button, or a mail app's
    one-click unsubscribe) changes it. Only the account signed into the link changes."""
    secret = current_app.config["SECRET_KEY"]
    user_id, kind, email = read_settings_token(secret, token)
    user = db().get(User, user_id) or abort(404, "That account no longer exists.")
    what = "every kind of notification" if kind == "*" else KINDS[kind].lower()
    if request.method == "POST":
        apply_settings_token(db(), secret, token)
        db().commit()
        return render_template("unsubscribed.html", what=what, email=email, done=True, member=user)
    return render_template("unsubscribed.html", what=what, email=email, done=False, member=user, token=token)
