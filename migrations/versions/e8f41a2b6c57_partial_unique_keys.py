"""Unique keys that most rows leave empty are partial indexes

`assessment.peer_request_id` (set on peer parts only) and `notification.dedupe_key`
(set on reminders only) were unique constraints, whose indexes held an entry for every
row: launch wrote 200,000 empty request ids and 100,000 empty keys into them at
100,000 people. They become unique indexes of the rows that have a value, which
refuse the same duplicates (empty values never clashed).

On SQLite a constraint goes only with its table: both tables are rebuilt (batch
mode, with foreign keys off, as env.py runs every migration there), and the part
counters' triggers on `assessment`, which go with the old table, are read before and
created again after, as they were.

Revision ID: e8f41a2b6c57
Revises: c5e1a7b3d920
Create Date: 2026-12-05 23:40:00

"""

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "e8f41a2b6c57"
down_revision = "c5e1a7b3d920"
branch_labels = None
depends_on = None

KEYS = {"assessment": "peer_request_id", "notification": "dedupe_key"}


def _name(table: str) -> str:
    return f"uq_{table}_{KEYS[table]}"


@contextmanager
def _rebuilt(table: str) -> Iterator[Any]:
    """A batch operation on `table`. SQLite rebuilds the table and drops its triggers
    with it (the part counters' on `assessment`): they are read before and created again
    after, exactly as they were. Reflecting the tables it refers to meets person's
    expression index, which SQLAlchemy skips with a warning (that table is not rebuilt)."""
    connection = op.get_bind()
    triggers: list[str] = []
    if connection.dialect.name == "sqlite":
        triggers = list(
            connection.scalars(
                sa.text(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"
                ),
                {"table": table},
            )
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        with op.batch_alter_table(table) as batch:
            yield batch
    for statement in triggers:
        connection.exec_driver_sql(statement)


def upgrade() -> None:
    for table, column in KEYS.items():
        with _rebuilt(table) as batch:
            batch.drop_constraint(_name(table), type_="unique")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            _name(table),
            table,
            [column],
            unique=True,
            postgresql_where=where,
            sqlite_where=where,
        )


def downgrade() -> None:
    for table, column in KEYS.items():
        op.drop_index(_name(table), table_name=table)
        with _rebuilt(table) as batch:
            batch.create_unique_constraint(_name(table), [column])
