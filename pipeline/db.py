"""Engine and session factory. SQLite gets WAL and foreign keys; PostgreSQL is used as is."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


_factories: dict[str, sessionmaker[Session]] = {}


def session_factory(url: str) -> sessionmaker[Session]:
    """One engine and session factory per database URL, shared by the process."""
    if url not in _factories:
        _factories[url] = sessionmaker(make_engine(url), expire_on_commit=False)
    return _factories[url]


def _forget_inherited_connections() -> None:
    # A forked child (a Celery prefork pool process) must not share its parent's connections:
    # drop them without closing, as SQLAlchemy advises, and open its own.
    for factory in _factories.values():
        factory.kw["bind"].dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def dispose_all() -> None:
    for factory in _factories.values():
        factory.kw["bind"].dispose()
    _factories.clear()
