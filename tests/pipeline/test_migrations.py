"""Migrations and models agree, on SQLite and on PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pipeline.db import make_engine
from pipeline import schema
from pipeline.migrate import current_revision, upgrade_database


def _diff(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    engine.dispose()
    return [d for d in diff if not _ignorable(d)]


def _ignorable(item) -> bool:
    # Full-text search tables (SQLite FTS5) and expression indexes (PostgreSQL) are created by
    # migrations on purpose and are not ORM models.
    text = repr(item)
    return ("remove_table" in text or "remove_index" in text) and ("_fts" in text or "search" in text)


def test_sqlite_schema_matches_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.sqlite'}"
    upgrade_database(url)
    assert current_revision(url) is not None
    assert _diff(url) == []
    upgrade_database(url)  # running again is harmless


def test_postgresql_schema_matches_models(pg_url):
    upgrade_database(pg_url)
    assert _diff(pg_url) == []
