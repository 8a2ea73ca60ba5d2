"""learning record: episodes fetched through a member's private feed, and reflection notes

Revision ID: 0007_learning_record
Revises: 0006_listens
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_learning_record"
down_revision = "0006_listens"
branch_labels = None
depends_on = None


def _per_user_episode(name: str, *columns: sa.Column) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "episode_id", name=f"uq_{name}_user_episode"),
    )
    op.create_index(f"ix_{name}_user_id", name, ["user_id"])
    op.create_index(f"ix_{name}_episode_id", name, ["episode_id"])


def upgrade() -> None:
    _per_user_episode(
        "feed_downloads",
        sa.Column("feed_token_id", sa.Integer(), sa.ForeignKey("feed_tokens.id", ondelete="SET NULL"), nullable=True),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
    )
    _per_user_episode(
        "reflections",
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for name in ("reflections", "feed_downloads"):
        op.drop_index(f"ix_{name}_episode_id", table_name=name)
        op.drop_index(f"ix_{name}_user_id", table_name=name)
        op.drop_table(name)
