"""The Flask application factory."""

from __future__ import annotations

import logging

from flask import Flask, g

from pipeline.errors import ClinexError
from pipeline.settings import ensure_instance, load_settings


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings (defaults, env, instance/config.py, then ``test_config``), then
    extensions, then blueprints. Nothing is created at import time."""
    settings = ensure_instance(load_settings(test_config))
    app = Flask(__name__, instance_path=str(settings.instance_path), instance_relative_config=True)
    app.config.update(
        SECRET_KEY=settings.SECRET_KEY,
        CLINEX=settings,
        MAX_CONTENT_LENGTH=settings.MAX_UPLOAD_BYTES + 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.BASE_URL.startswith("https://"),
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
    )
    from .context import web_context

    app.extensions["clinex"] = web_context(settings)
    app.extensions["clinex_dispatcher"] = None  # created on first use, so tests can swap it

    from . import audio_notes, auth, community, errors, members, rendering, security
    from .uploads import UploadRequest

    app.request_class = UploadRequest  # file parts spool to named files on disk, never to memory
    app.config.setdefault("COMMENT_EDIT_WINDOW", 15 * 60)
    auth.init_app(app)
    errors.init_app(app)
    rendering.init_app(app)
    security.init_app(app)
    members.init_app(app)
    community.init_app(app)
    audio_notes.init_app(app)

    from .views import (accounts, admin, api, calls, covers, discussion, feeds, follows, learning, listening, media,
                        moderation, notifications, profiles, public, reports, review, search, stats, studio, summaries)

    for module in (public, feeds, media, accounts, review, discussion, search, studio, moderation, admin, stats, api,
                   listening, learning, covers, profiles, notifications, follows, reports, calls, summaries):
        app.register_blueprint(module.bp)

    @app.teardown_appcontext
    def close_db(_exc) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def dispatcher(app: Flask):
    """How this app delivers jobs: Celery on the configured broker unless replaced."""
    if app.extensions.get("clinex_dispatcher") is None:
        from .celery_app import create_celery
        from .context import CeleryDispatcher

        app.extensions["clinex_dispatcher"] = CeleryDispatcher(create_celery(app.config["CLINEX"]))
    return app.extensions["clinex_dispatcher"]


__all__ = ["create_app", "dispatcher", "ClinexError"]
