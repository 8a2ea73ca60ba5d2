"""who is speaking: the diarized voice of each segment, and the voices of a transcript with names

Revision ID: 0009_diarization
Revises: 0008_community
"""
from alembic import op
import sqlalchemy as sa

revision = "0009_diarization"
down_revision = "0008_community"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segments") as batch:
        batch.add_column(sa.Column("voice", sa.Integer(), nullable=True))
    op.create_table(
        "voices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("transcript_id", sa.Integer(), sa.ForeignKey("transcripts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("named", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("first_start", sa.Float(), nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float(), nullable=False, server_default="0"),
        sa.UniqueConstraint("transcript_id", "number"),
    )
    op.create_index("ix_voices_transcript_id", "voices", ["transcript_id"])


def downgrade() -> None:
    op.drop_index("ix_voices_transcript_id", table_name="voices")
    op.drop_table("voices")
    with op.batch_alter_table("segments") as batch:
        batch.drop_column("voice")
