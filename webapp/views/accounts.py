"""Sign up, sign in and out, password reset, and one's own account (password, API token,
private feeds)."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user

from pipeline.accounts import check_password, create_user, find_user, issue_api_token
from pipeline.errors import ClinexError
from pipeline.models import Role, User
from pipeline.private_feeds import feed_tokens_of, issue_feed_token, revoke_feed_tokens
from pipeline.sign_in import say_wait

from ..auth import SessionUser, next_url, role_required
from ..db import db
from ..feed_data import private_feed_path
from ..forms import ActionForm, ChangePasswordForm, ForgotForm, LoginForm, ResetForm, SignupForm
from ..passwords import mail_reset_link, reset_link, set_password, user_for_reset_token
from ..security import client_ip, enforce
from ..sign_in_guard import attempt_for, count_failure, count_success, refuse_if_waiting

bp = Blueprint("accounts", __name__)
log = logging.getLogger(__name__)


def _page(template: str, form, status: int | None = None, **extra):
    return render_template(template, form=form, **extra), status or (400 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in. Failures slow the account down (429 with Retry-After while it waits) rather than
    lock it, and never the browsers that signed in to it before (see ``sign_in_guard``)."""
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = find_user(db(), email)
        attempt = attempt_for(email, user)
        refuse_if_waiting(attempt)
        if user and user.active and check_password(user, form.password.data):
            login_user(SessionUser(user))
            return count_success(attempt, user, redirect(next_url(url_for("public.home"))))
        wait = count_failure(attempt, user)
        form.password.errors.append("That email and password do not match an account." +
                                    (f" Wait {say_wait(wait)} before trying again." if wait else ""))
    return _page("login.html", form)


@bp.post("/logout")
def logout():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("public.home"))
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("public.home"))


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        enforce("signup", client_ip())
        try:
            user, _ = create_user(db(), form.email.data, form.display_name.data, Role.listener.value,
                                  form.password.data)
            db().commit()
        except ClinexError as exc:
            db().rollback()
            form.email.errors.append(str(exc))
            return _page("signup.html", form)
        login_user(SessionUser(user))
        flash("Welcome! Your first comments will appear once an editor has seen them.")
        return redirect(next_url(url_for("public.home")))
    return _page("signup.html", form)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot():
    form = ForgotForm()
    if form.validate_on_submit():
        enforce("reset", client_ip())
        user = find_user(db(), form.email.data)
        if user and user.active:
            _send_reset(user)
        # the same answer either way, so the form does not reveal who has an account
        flash("If that address has an account, a reset link is on its way. No mail? Ask an editor for a link.")
        return redirect(url_for("accounts.login"))
    return _page("forgot.html", form)


def _send_reset(user: User) -> None:
    link = reset_link(current_app.config["CLINEX"], user)
    try:
        mail_reset_link(current_app.config, user.email, link)
    except OSError as exc:
        log.warning("could not mail a reset link to user %s: %s", user.id, exc)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset(token: str):
    user = user_for_reset_token(db(), token, current_app.config["SECRET_KEY"])
    form = ResetForm()
    if form.validate_on_submit():
        set_password(user, form.password.data)
        db().commit()
        logout_user()
        flash("Your password is changed; sign in with it now.")
        return redirect(url_for("accounts.login"))
    return _page("reset.html", form, email=user.email)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form, token = ChangePasswordForm(), None
    user = db().get(User, current_user.id)
    if form.validate_on_submit():
        if not check_password(user, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            set_password(user, form.password.data)
            db().commit()
            login_user(SessionUser(user))  # this session goes on; every other one ends
            flash("Your password is changed; other signed-in browsers are signed out.")
            return redirect(url_for("accounts.account"))
    return _account_page(form, user)


def _account_page(form, user: User, *, token: str | None = None, feed_url: str | None = None):
    """The account page; ``token`` and ``feed_url`` are shown once, right after they are made."""
    return _page("account.html", form, user=user, token=token, token_form=ActionForm(), feed_url=feed_url,
                 feed_tokens=feed_tokens_of(db(), user.id))


@bp.post("/account/api-token")
@role_required(Role.summarizer)
def api_token():
    if not ActionForm().validate_on_submit():
        return redirect(url_for("accounts.account"))
    user = db().get(User, current_user.id)
    token = issue_api_token(db(), user)
    db().commit()
    return _account_page(ChangePasswordForm(formdata=None), user, token=token)


@bp.post("/account/private-feeds")
@login_required
def create_private_feed():
    """A new private feed address (every published episode, members-only ones too), shown once."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("accounts.account"))
    user = db().get(User, current_user.id)
    try:
        token = issue_feed_token(db(), user)
    except ClinexError as exc:
        flash(str(exc))
        return redirect(url_for("accounts.account") + "#private-feeds")
    db().commit()
    feed_url = current_app.config["CLINEX"].BASE_URL + private_feed_path(token)
    return _account_page(ChangePasswordForm(formdata=None), user, feed_url=feed_url)


@bp.post("/account/private-feeds/<int:token_id>/revoke")
@login_required
def revoke_private_feed(token_id: int):
    """Stop one of one's own private feed addresses at once (someone else's is a 404)."""
    if not ActionForm().validate_on_submit():
        return redirect(url_for("accounts.account"))
    if not revoke_feed_tokens(db(), current_user.id, token_id):
        abort(404, "You have no such private feed, or it is revoked already.")
    db().commit()
    flash("That private feed address no longer works.")
    return redirect(url_for("accounts.account") + "#private-feeds")
