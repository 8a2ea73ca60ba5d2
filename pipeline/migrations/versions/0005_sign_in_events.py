"""sign-in events: the audit log of sign-ins and the per-account slow-down's count

Revision ID: 0005_sign_in_events
Revises: 0004_dropped_tags
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_sign_in_events"
down_revision = "0004_dropped_tags"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("device", sa.String(length=32), nullable=True),
        sa.Column("wait_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_events_email_created", "sign_in_events", ["email", "created_at"])
    op.create_index("ix_sign_in_events_created_at", "sign_in_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_events_created_at", table_name="sign_in_events")
    op.drop_index("ix_sign_in_events_email_created", table_name="sign_in_events")
    op.drop_table("sign_in_events")
