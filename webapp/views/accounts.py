"""Sign in and out."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import login_user, logout_user

from pipeline.accounts import check_password, find_user

from ..auth import SessionUser, next_url
from ..db import db
from ..forms import LoginForm

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = find_user(db(), form.email.data)
        if user and user.active and check_password(user, form.password.data):
            login_user(SessionUser(user))
            return redirect(next_url(url_for("public.home")))
        form.password.errors.append("That email and password do not match an account.")
    return render_template("login.html", form=form), 200 if not form.errors else 400


@bp.post("/logout")
def logout():
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("public.home"))
