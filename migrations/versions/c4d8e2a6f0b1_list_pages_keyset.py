"""List pages from an index: the audit log by (at, id), managers by name, HR's counts

The audit log pages newest first after an (at, id) key: its index on `at` gains
the id, so that a page is one range of the index whatever the length of the log.
HR's completion by manager pages by (name, id) after a given manager: people get
an index on (name, id) (the directory's own starts with `active`, and a manager
frozen in a cycle may since have left), each manager's figures fetched by key.
HR's home counts active people without a password, and without a level, up to a
limit: each from a partial index on its predicate, not by reading everyone.

Revision ID: c4d8e2a6f0b1
Revises: 5a1e9c3f7b42
Create Date: 2026-12-05 07:15:00

"""

import sqlalchemy as sa
from alembic import op

revision = "c4d8e2a6f0b1"
down_revision = "5a1e9c3f7b42"
branch_labels = None
depends_on = None


# reviews.people.models.ACTIVE_NO_PASSWORD and ACTIVE_NO_LEVEL, as each database writes them
NO_PASSWORD = {
    "postgresql": "active = true AND password_hash IS NULL",
    "sqlite": "active = 1 AND password_hash IS NULL",
}
NO_LEVEL = {
    "postgresql": "active = true AND level_id IS NULL AND role != 'hr'",
    "sqlite": "active = 1 AND level_id IS NULL AND role != 'hr'",
}


def _partial(name, predicate):
    op.create_index(
        name,
        "person",
        ["id"],
        postgresql_where=sa.text(predicate["postgresql"]),
        sqlite_where=sa.text(predicate["sqlite"]),
    )


def upgrade():
    op.drop_index("ix_audit_event_at", table_name="audit_event")
    op.create_index("ix_audit_event_at_id", "audit_event", ["at", "id"])
    op.create_index("ix_person_name_id", "person", ["name", "id"])
    _partial("ix_person_no_password", NO_PASSWORD)
    _partial("ix_person_no_level", NO_LEVEL)


def downgrade():
    op.drop_index("ix_person_no_level", table_name="person")
    op.drop_index("ix_person_no_password", table_name="person")
    op.drop_index("ix_person_name_id", table_name="person")
    op.drop_index("ix_audit_event_at_id", table_name="audit_event")
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
