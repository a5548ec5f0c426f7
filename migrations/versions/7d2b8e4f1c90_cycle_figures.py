"""HR's figures per cycle and group, kept by triggers on the reviews

The dashboard and the cycle page added up every review of the cycle on each
view. The sums now live one level up, per department, level and rating and per
frozen manager (reviews/cycles/figures.py), kept by triggers on `review`; this
creates the tables and triggers and fills them for every launched cycle. The
covering index on review that the old sums read goes: nothing reads it now,
and it made every counter update rewrite an index entry.

Revision ID: 7d2b8e4f1c90
Revises: 3ccffc4acf9c
Create Date: 2026-12-05 04:00:00

"""

import sqlalchemy as sa
from alembic import op

from reviews.cycles import figures

revision = "7d2b8e4f1c90"
down_revision = "3ccffc4acf9c"
branch_labels = None
depends_on = None

OLD_INDEX = [
    "cycle_id",
    "department_id",
    "manager_id",
    "level_key",
    "final_rating",
    "manager_overall",
    "self_done",
    "manager_done",
    "peers_done",
    "peers_approved",
    "peers_declined",
    "final_locked",
    "acknowledged_at",
]


def _sums():
    return [
        sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)
        for name in figures.FIGURES
    ]


def _cycle():
    return sa.Column(
        "cycle_id", sa.Integer(), sa.ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False
    )


def upgrade():
    op.create_table(
        "cycle_group_figures",
        _cycle(),
        sa.Column("department_key", sa.Integer(), nullable=False),
        sa.Column("level_key", sa.String(60), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("cycle_id", "department_key", "level_key", "rating"),
    )
    op.create_table(
        "cycle_manager_figures",
        _cycle(),
        sa.Column("manager_key", sa.Integer(), nullable=False),
        *_sums(),
        sa.PrimaryKeyConstraint("cycle_id", "manager_key"),
    )
    op.create_index(
        "ix_manager_figures_behind",
        "cycle_manager_figures",
        ["cycle_id", sa.text(figures.SHARE_DONE), sa.text("reviews DESC"), "manager_key"],
    )
    connection = op.get_bind()
    figures.rebuild_all(connection)
    figures.create_triggers(connection)
    op.drop_index("ix_review_cycle_figures", table_name="review")


def downgrade():
    op.create_index("ix_review_cycle_figures", "review", OLD_INDEX)
    connection = op.get_bind()
    for statement in figures.drop_sql(connection.dialect.name):
        connection.exec_driver_sql(statement)
    op.drop_index("ix_manager_figures_behind", table_name="cycle_manager_figures")
    op.drop_table("cycle_manager_figures")
    op.drop_table("cycle_group_figures")
