"""members-only episodes, private feed tokens, download counts

``feed_tokens`` keeps only the sha256 of each token. ``downloads`` holds one row per counted
download (a keyed hash of IP and User-Agent, never the address); its index serves the "same client,
same episode, last 24 hours" lookup made on every media request.

The old, never used ``users.feed_token`` column stays: dropping a UNIQUE column on SQLite rebuilds
``users``, and with foreign keys on that would cascade into comments and episodes.

Revision ID: 0003_private_feeds
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_private_feeds"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("episodes", sa.Column("members_only", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "feed_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_feed_tokens_user_id", "feed_tokens", ["user_id"])
    op.create_table(
        "downloads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_downloads_episode_client_created", "downloads", ["episode_id", "client_hash", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_downloads_episode_client_created", table_name="downloads")
    op.drop_table("downloads")
    op.drop_index("ix_feed_tokens_user_id", table_name="feed_tokens")
    op.drop_table("feed_tokens")
    # a plain ALTER TABLE DROP COLUMN (SQLite 3.35+): a batch rebuild of episodes would cascade
    op.drop_column("episodes", "members_only")
