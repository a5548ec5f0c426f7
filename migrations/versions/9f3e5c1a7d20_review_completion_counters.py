"""Completion counters on each review, kept by triggers

HR's cycle progress and dashboard counted every part and peer request of the
cycle on each view. Each review now carries its submitted self, manager and
peer parts, its approved and declined requests and the manager's submitted
overall rating; triggers on the parts and requests keep them
(reviews/cycles/counters.py), and this fills them in for existing reviews.

Revision ID: 9f3e5c1a7d20
Revises: c3d58e0f7b21
Create Date: 2026-11-30 17:00:00

"""
import sqlalchemy as sa
from alembic import op

from reviews.cycles import counters

revision = "9f3e5c1a7d20"
down_revision = "c3d58e0f7b21"
branch_labels = None
depends_on = None

COUNTS = ["self_done", "manager_done", "peers_done", "peers_approved", "peers_declined"]


def upgrade():
    with op.batch_alter_table("review") as batch:
        for name in COUNTS:
            batch.add_column(
                sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
            )
        batch.add_column(sa.Column("manager_overall", sa.Integer(), nullable=True))
    connection = op.get_bind()
    connection.exec_driver_sql(counters.recount_sql())
    counters.create_triggers(connection)


def downgrade():
    connection = op.get_bind()
    for statement in counters.drop_sql(connection.dialect.name):
        connection.exec_driver_sql(statement)
    with op.batch_alter_table("review") as batch:
        batch.drop_column("manager_overall")
        for name in reversed(COUNTS):
            batch.drop_column(name)
