"""episode tags an editor dropped stay on record, so analysis does not suggest them again

Revision ID: 0004_dropped_tags
Revises: 0003_private_feeds
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_dropped_tags"
down_revision = "0003_private_feeds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("episode_tags", sa.Column("dropped", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("episode_tags", "dropped")
