"""spoken extras: a recording's spoken intro and summary, chosen per episode

Revision ID: 0011_spoken_extras
Revises: 0010_audio_notes
"""
from alembic import op
import sqlalchemy as sa

revision = "0011_spoken_extras"
down_revision = "0010_audio_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audio_notes") as batch:
        batch.add_column(sa.Column("spoken_intro", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("spoken_summary", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("intro_seconds", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("summary_start", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audio_notes") as batch:
        batch.drop_column("summary_start")
        batch.drop_column("intro_seconds")
        batch.drop_column("spoken_summary")
        batch.drop_column("spoken_intro")
