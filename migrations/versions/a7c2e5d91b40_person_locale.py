"""Each person's language

`person.locale`: the language a person chose for pages, e-mails and PDFs
(reviews/languages.py); empty for everyone already there, who follow their
browser and then the deployment's default, as before.

Revision ID: a7c2e5d91b40
Revises: 6f3168a729f4
Create Date: 2026-12-06 01:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a7c2e5d91b40"
down_revision = "6f3168a729f4"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("person", sa.Column("locale", sa.String(length=35), nullable=True))


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.drop_column("person", "locale")
        return
    # SQLite drops a column in place (3.35+) unless an index or trigger names it;
    # none names this one, so the person table's triggers stay as they are
    connection.exec_driver_sql("ALTER TABLE person DROP COLUMN locale")
