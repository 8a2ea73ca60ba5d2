"""Sign-in (Flask-Login), CSRF on every state change (Flask-WTF), role checks."""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import wraps

from flask import Flask, abort, current_app, request
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from pipeline.accounts import user_for_token
from pipeline.models import Role, User

from .db import db

login_manager = LoginManager()
csrf = CSRFProtect()


def session_stamp(user: User) -> str:
    """A keyed digest of the password hash: a session carries it, so changing or resetting the
    password ends every other session (the cookie is signed, not secret, hence no raw hash)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{user.id}:{user.password_hash}".encode(), hashlib.sha256).hexdigest()[:24]


class SessionUser(UserMixin):
    """What Flask-Login keeps: a snapshot of the account, not a live ORM object."""

    def __init__(self, user: User):
        self.id, self.email, self.display_name = user.id, user.email, user.display_name
        self.role, self.trusted = user.role, user.trusted
        self.stamp = session_stamp(user)

    def get_id(self) -> str:
        return f"{self.id}:{self.stamp}"

    def has_role(self, role: Role | str) -> bool:
        return Role(self.role).rank >= Role(role).rank


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    csrf.init_app(app)

    @login_manager.user_loader
    def load_user(user_id: str):
        number, _, stamp = user_id.partition(":")
        user = db().get(User, int(number)) if number.isdigit() else None
        if user is None or not user.active or not hmac.compare_digest(stamp, session_stamp(user)):
            return None  # a session from before the password changed (or a bare id) is signed out
        return SessionUser(user)

    @app.context_processor
    def roles():
        return {"Role": Role}


def role_required(role: Role | str):
    """Only signed-in users with at least ``role`` may call the view (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(role):
                abort(403, f"This page is for {Role(role).value}s.")
            return view(*args, **kwargs)

        wrapper.required_role = Role(role)
        return wrapper

    return decorator


# Browsers read a backslash in a URL as a slash and drop tabs and newlines, so /\evil.example and
# /<tab>/evil.example mean //evil.example: another site.
_OFF_SITE = re.compile(r"[\\\x00-\x1f\x7f]")


def next_url(default: str) -> str:
    """The ``next`` path to go to after signing in if it stays on this site, else ``default``."""
    target = request.args.get("next") or request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or _OFF_SITE.search(target):
        return default
    return target


def can_manage(episode) -> bool:
    """Summarizers work on their own episodes; editors and admins on every one."""
    if not current_user.is_authenticated:
        return False
    return current_user.has_role(Role.editor) or episode.created_by_id == current_user.id


def bearer_user() -> User | None:
    """The active account whose API token is in ``Authorization: Bearer cx_...``, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip().startswith("cx_"):
        return None
    return user_for_token(db(), token.strip())
