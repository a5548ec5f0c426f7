"""A manager's active reports by name from one index

The home page and the org chart list a manager's active reports by name. With
indexes on manager_id and on (active, name), SQLite (which keeps no statistics
here) chose the second and read every active person in name order. One index on
(manager_id, active, name) serves that list and every lookup by manager_id (the
org chart's recursive queries), so it replaces the plain manager_id index.

Revision ID: a4d2b8e61c37
Revises: 9f3e5c1a7d20
Create Date: 2026-11-30 16:40:00

"""
from alembic import op

revision = "a4d2b8e61c37"
down_revision = "9f3e5c1a7d20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_person_manager_active_name", "person", ["manager_id", "active", "name"])
    op.drop_index("ix_person_manager_id", table_name="person")


def downgrade():
    op.create_index("ix_person_manager_id", "person", ["manager_id"])
    op.drop_index("ix_person_manager_active_name", table_name="person")
