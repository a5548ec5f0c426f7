"""Each cycle's tolerance around the guidance distribution

Calibration flagged a rating's share as off the guidance when it was more than
5 percentage points away; HR now sets that band per cycle (0 to 25 whole
points). Existing cycles keep the 5 points they were judged by.

Revision ID: f550874beaea
Revises: c4e7a1b9d203
Create Date: 2026-12-04 21:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = "f550874beaea"
down_revision = "c4e7a1b9d203"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cycle") as batch:
        batch.add_column(
            sa.Column(
                "guidance_tolerance", sa.Integer(), server_default=sa.text("5"), nullable=False
            )
        )
        batch.create_check_constraint(
            "guidance_tolerance_range", "guidance_tolerance BETWEEN 0 AND 25"
        )


def downgrade():
    with op.batch_alter_table("cycle") as batch:
        batch.drop_constraint("guidance_tolerance_range", type_="check")
        batch.drop_column("guidance_tolerance")
