"""Each person's path down the org chart, kept by triggers; the directory by name and id

The team page and every "everyone below this manager" read walked the subtree
with a recursive query on each view. Each person now carries the ids down their
line ("/1/5/27/"), kept by triggers on person (reviews/people/paths.py), so
everyone below a manager is one range of an index. This adds the column (the
"C" collation on PostgreSQL, so paths compare byte by byte), fills it for
everyone, and creates the index and the triggers. The directory pages by
(name, id) after a given person: its index on (active, name) gains the id.
On PostgreSQL, where the pg_trgm extension is available (it ships with
PostgreSQL and database owners may create it), a trigram index answers the
directory's "name or email holds ..." search without reading every person;
without it the search works as before, reading them.

Revision ID: 5a1e9c3f7b42
Revises: 7d2b8e4f1c90
Create Date: 2026-12-05 04:10:00

"""

import sqlalchemy as sa
from alembic import op

from reviews.people import paths

revision = "5a1e9c3f7b42"
down_revision = "7d2b8e4f1c90"
branch_labels = None
depends_on = None


def _trigram_schema(connection):
    """The schema pg_trgm lives in, if the database has it (wherever it was created)."""
    return connection.exec_driver_sql(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    ).scalar()


def upgrade():
    connection = op.get_bind()
    path_type = sa.Text(collation="C") if connection.dialect.name == "postgresql" else sa.Text()
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("org_path", path_type, nullable=True))
    paths.fill(connection)
    op.create_index("ix_person_org_path", "person", ["org_path"])
    paths.create_triggers(connection)
    op.drop_index("ix_person_active_name", table_name="person")
    op.create_index("ix_person_active_name", "person", ["active", "name", "id"])
    if (
        connection.dialect.name == "postgresql"
        and connection.exec_driver_sql(
            "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"
        ).first()
    ):
        schema = _trigram_schema(connection)
        if schema is None:
            connection.exec_driver_sql("CREATE EXTENSION pg_trgm")
            schema = _trigram_schema(connection)
        # the text reviews.people.queries.SEARCH_TEXT matches, spelled as it spells it
        connection.exec_driver_sql(
            "CREATE INDEX ix_person_search ON person USING gin "
            f"((lower(person.name) || ' ' || person.email) \"{schema}\".gin_trgm_ops)"
        )


def downgrade():
    op.execute("DROP INDEX IF EXISTS ix_person_search")
    op.drop_index("ix_person_active_name", table_name="person")
    op.create_index("ix_person_active_name", "person", ["active", "name"])
    connection = op.get_bind()
    for statement in paths.drop_sql(connection.dialect.name):
        connection.exec_driver_sql(statement)
    op.drop_index("ix_person_org_path", table_name="person")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("org_path")
