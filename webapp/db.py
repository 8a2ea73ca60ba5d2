"""Request-scoped database session and the job context for views."""

from __future__ import annotations

from flask import abort, current_app, g
from sqlalchemy.orm import Session

from pipeline.jobs import JobContext


def ctx() -> JobContext:
    return current_app.extensions["clinex"]


def db() -> Session:
    if "db" not in g:
        g.db = ctx().sessions()
    return g.db


def get_or_404(model, ident):
    obj = db().get(model, ident)
    if obj is None:
        abort(404)
    return obj
