"""Each department keeps its number of active people

The departments page counted every active person per department on each view (40 ms
at 100,000 people). `department.active_people` is kept by triggers on person
(reviews/people/headcount.py); this adds the column, counts the people already
there and creates the triggers. Downgrading drops both.

Revision ID: 6f3168a729f4
Revises: e8f41a2b6c57
Create Date: 2026-12-06 01:40:00

"""

import sqlalchemy as sa
from alembic import op

from reviews.people import headcount

revision = "6f3168a729f4"
down_revision = "e8f41a2b6c57"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "department",
        sa.Column("active_people", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        # no person written between the count and the triggers (on a live database):
        # writers wait for the migration's commit; readers go on
        connection.exec_driver_sql("LOCK TABLE person IN SHARE ROW EXCLUSIVE MODE")
    headcount.recount(connection)
    headcount.create_triggers(connection)


def downgrade() -> None:
    connection = op.get_bind()
    for statement in headcount.drop_sql(connection.dialect.name):
        connection.exec_driver_sql(statement)
    with op.batch_alter_table("department") as batch:
        batch.drop_column("active_people")
