"""Map errors to pages (or JSON for API and fetch requests); no tracebacks for users."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from pipeline.community.calls import CallError
from pipeline.community.mail import MailError
from pipeline.community.profiles import ProfileError
from pipeline.errors import (AudioError, ClinexError, ConfigError, InvalidUpload, NotFound, StorageError,
                             TranscriptionError, WorkflowError)

from .db import db

log = logging.getLogger(__name__)

# The core's errors as HTTP answers; a class not listed answers as its nearest listed base.
STATUS: dict[type[ClinexError], int] = {
    ClinexError: 400, InvalidUpload: 422, AudioError: 422, NotFound: 404, WorkflowError: 409,
    StorageError: 503, TranscriptionError: 500, ConfigError: 500,
    ProfileError: 422, CallError: 422, MailError: 503,
}


def status_of(exc: ClinexError) -> int:
    return next(STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _respond(status: int, title: str, message: str):
    if _wants_json():
        return jsonify(error=title, message=message), status
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(ClinexError)
    def clinex_error(exc: ClinexError):
        db().rollback()
        return _respond(status_of(exc), type(exc).__name__, str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:
            limit = app.config["CLINEX"].MAX_UPLOAD_BYTES
            return _respond(413, "Too large", f"That upload is larger than the {limit // 1024**2} MB limit.")
        body, status = _respond(exc.code or 500, exc.name, exc.description or exc.name)
        # a 429 or 503 says how long to wait; the page replaces the exception's own response
        retry_after = dict(exc.get_headers()).get("Retry-After")
        return body, status, ({"Retry-After": retry_after} if retry_after else {})

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s", request.path)
        return _respond(500, "Server error", "Something went wrong on our side; the error was logged.")
