"""A stretch opportunity may be meant for one career track

The catalogue's "Take on a trial people-leadership scope" suits senior engineers
and tech leads, but only those aiming at engineering management: a growth plan
that stays on the IC track proposed it anyway. An opportunity now carries the
track it serves ('ic', 'management', or none for anyone); the shipped trial is
marked 'management' where it exists.

Revision ID: b7d2e4f6a813
Revises: f550874beaea
Create Date: 2026-12-04 21:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b7d2e4f6a813"
down_revision = "f550874beaea"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("opportunity") as batch:
        batch.add_column(sa.Column("track", sa.String(20), nullable=True))
        batch.create_check_constraint("opportunity_track", "track IN ('ic', 'management')")
    op.execute(
        "UPDATE opportunity SET track = 'management' WHERE key = 'try-management-trial'"
    )


def downgrade():
    with op.batch_alter_table("opportunity") as batch:
        batch.drop_constraint("opportunity_track", type_="check")
        batch.drop_column("track")
