"""listening positions: where each account is in each episode and how much it has heard

Revision ID: 0006_listens
Revises: 0005_sign_in_events
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_listens"
down_revision = "0005_sign_in_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "listens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("position_seconds", sa.Float(), nullable=False),
        sa.Column("heard_seconds", sa.Float(), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "episode_id", name="uq_listens_user_episode"),
    )
    op.create_index("ix_listens_user_id", "listens", ["user_id"])
    op.create_index("ix_listens_episode_id", "listens", ["episode_id"])


def downgrade() -> None:
    op.drop_index("ix_listens_episode_id", table_name="listens")
    op.drop_index("ix_listens_user_id", table_name="listens")
    op.drop_table("listens")
