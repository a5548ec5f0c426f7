"""A partial index of the calibration changes that moved an overall rating

The HR dashboard counts moves up and down by session; it read every
calibration change of every cycle (finalising records an unchanged rating for
everyone), 6 ms at 100,000 people and growing with each cycle. The moves
alone are few.

Revision ID: e6a2c4b8d0f3
Revises: b3f1c7a9d2e4
Create Date: 2026-12-05 08:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e6a2c4b8d0f3"
down_revision = "b3f1c7a9d2e4"
branch_labels = None
depends_on = None

MOVED = "field = 'overall' AND old_value IS NOT NULL AND old_value <> new_value"


def upgrade():
    with op.batch_alter_table("calibration_change", schema=None) as batch_op:
        batch_op.create_index(
            "ix_calibration_change_moved",
            ["review_id"],
            unique=False,
            postgresql_where=sa.text(MOVED),
            sqlite_where=sa.text(MOVED),
        )


def downgrade():
    with op.batch_alter_table("calibration_change", schema=None) as batch_op:
        batch_op.drop_index("ix_calibration_change_moved")
