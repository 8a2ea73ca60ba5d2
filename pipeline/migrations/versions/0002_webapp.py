"""web app: rate limit hits and full-text search

SQLite gets an FTS5 table kept in step with episodes, summaries and segments by triggers (so any
writer, CLI or worker, keeps search current). A row's rowid encodes what it indexes:
id * 4 + 1 a segment, + 2 a summary, + 3 an episode title. PostgreSQL gets GIN expression
indexes for to_tsvector('english', ...) queries on the tables themselves.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SOURCES = (  # (table, text column, rowid offset)
    ("segments", "text", 1),
    ("summaries", "markdown", 2),
    ("episodes", "title", 3),
)


def upgrade() -> None:
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rate_limit_hits_key_created", "rate_limit_hits", ["key", "created_at"])
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_fts_up()
    elif op.get_bind().dialect.name == "postgresql":
        for table, column, _ in _SOURCES:
            op.execute(f"CREATE INDEX ix_{table}_fts ON {table} USING gin (to_tsvector('english', {column}))")


def _sqlite_fts_up() -> None:
    op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(body, tokenize='porter unicode61')")
    for table, column, offset in _SOURCES:
        rowid = f"id * 4 + {offset}"
        op.execute(f"INSERT INTO search_fts(rowid, body) SELECT {rowid}, {column} FROM {table}")
        op.execute(f"CREATE TRIGGER {table}_fts_insert AFTER INSERT ON {table} BEGIN "
                   f"INSERT INTO search_fts(rowid, body) VALUES (new.{rowid}, new.{column}); END")
        op.execute(f"CREATE TRIGGER {table}_fts_update AFTER UPDATE OF {column} ON {table} BEGIN "
                   f"DELETE FROM search_fts WHERE rowid = old.{rowid}; "
                   f"INSERT INTO search_fts(rowid, body) VALUES (new.{rowid}, new.{column}); END")
        op.execute(f"CREATE TRIGGER {table}_fts_delete AFTER DELETE ON {table} BEGIN "
                   f"DELETE FROM search_fts WHERE rowid = old.{rowid}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, _column, _ in _SOURCES:
            for what in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{what}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif op.get_bind().dialect.name == "postgresql":
        for table, _column, _ in _SOURCES:
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_fts")
    op.drop_index("ix_rate_limit_hits_key_created", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
