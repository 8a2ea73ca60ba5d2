"""audio notes: the source a summary cites, notes-only episodes, the voice's pronunciations

Revision ID: 0010_audio_notes
Revises: 0009_diarization
"""
from alembic import op
import sqlalchemy as sa

revision = "0010_audio_notes"
down_revision = "0009_diarization"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audio_notes",
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("notes_only", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("source_title", sa.String(length=300), nullable=True),
        sa.Column("source_kind", sa.String(length=20), nullable=True),
        sa.Column("source_url", sa.String(length=500), nullable=True),
        sa.Column("source_authors", sa.JSON(), nullable=False),
        sa.Column("source_date", sa.Date(), nullable=True),
        sa.Column("voice", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["episode_id"], ["episodes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("episode_id"),
    )
    op.create_table(
        "pronunciations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", sa.String(length=120), nullable=False),
        sa.Column("phonemes", sa.String(length=200), nullable=True),
        sa.Column("say", sa.String(length=200), nullable=True),
        sa.Column("letters", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("term"),
    )


def downgrade() -> None:
    op.drop_table("pronunciations")
    op.drop_table("audio_notes")
