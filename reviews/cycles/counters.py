"""Each review's completion counters, kept by database triggers.

HR's cycle progress and dashboard count, for every department and manager, the
submitted self, manager and peer parts and the approved and declined peer
requests. Counting the parts and requests on every view read every row of the
cycle (50,000 parts and 30,000 requests at 10,000 people: 90-250 ms a view).
Instead each review carries its own counts, and the pages add up the reviews.

Triggers keep the counts, not the operations: every way a part or a request is
written (the operations, the API, bulk updates, imports, deletes, a rolled-back
transaction) changes them in the same statement's transaction, so they cannot
drift from the rows. A part or request inserted as a draft or a proposal (as
launch inserts 20,000 of them) fires nothing.

The SQL here is the schema's: migration 9f3e5c1a7d20 creates it and the tests'
`create_all` runs it through `install` below. Changing it needs a new migration
that drops and recreates the triggers. A batch migration that rebuilds the
`assessment` or `peer_request` table on SQLite drops their triggers with the old
table: such a migration must run `create_triggers` again.
"""

# The SQL is assembled from this module's constants only: no value from outside.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from reviews.db import create_with, execute_all

# review column -> the rows that add one to it (while they are live: submitted parts,
# approved or declined requests)
PART_COUNTS = {
    "self_done": "kind = 'self'",
    "manager_done": "kind = 'manager'",
    "peers_done": "kind = 'peer'",
}
REQUEST_COUNTS = {
    "peers_approved": "state = 'approved'",
    "peers_declined": "state = 'declined'",
}
PART_LIVE = "state = 'submitted'"
REQUEST_LIVE = "state IN ('approved', 'declined')"


def _qualified(condition: str, row: str) -> str:
    return " ".join(
        f"{row}.{word}" if word in ("kind", "state") else word for word in condition.split(" ")
    )


def _change(table: str, row: str, sign: str) -> str:
    """UPDATE of the review that `row` (NEW or OLD) belongs to: its counts plus or
    minus what the row contributes (nothing unless the row is live)."""
    counts = PART_COUNTS if table == "assessment" else REQUEST_COUNTS
    sets = [
        f"{column} = {column} {sign} CASE WHEN {_qualified(cond, row)} THEN 1 ELSE 0 END"
        for column, cond in counts.items()
    ]
    if table == "assessment":
        # the submitted manager part's overall rating, for the rating distribution
        value = f"{row}.overall_rating" if sign == "+" else "NULL"
        sets.append(
            f"manager_overall = CASE WHEN {row}.kind = 'manager' THEN {value} "
            "ELSE manager_overall END"
        )
    live = PART_LIVE if table == "assessment" else REQUEST_LIVE
    return (
        f"UPDATE review SET {', '.join(sets)} "
        f"WHERE id = {row}.review_id AND {_qualified(live, row)}"
    )


WATCHED = {
    "assessment": "state, kind, review_id, overall_rating",
    "peer_request": "state, review_id",
}


def table_sql(table: str, dialect: str) -> list[str]:
    """CREATE statements for one table's triggers (and function) on `dialect`."""
    live = PART_LIVE if table == "assessment" else REQUEST_LIVE
    columns = WATCHED[table]
    added, removed = _change(table, "NEW", "+"), _change(table, "OLD", "-")
    if dialect != "postgresql":
        return [
            f"CREATE TRIGGER {table}_counts_insert AFTER INSERT ON {table} "
            f"WHEN {_qualified(live, 'NEW')} BEGIN {added}; END",
            f"CREATE TRIGGER {table}_counts_delete AFTER DELETE ON {table} "
            f"WHEN {_qualified(live, 'OLD')} BEGIN {removed}; END",
            f"CREATE TRIGGER {table}_counts_update AFTER UPDATE OF {columns} ON {table} "
            f"WHEN {_qualified(live, 'OLD')} OR {_qualified(live, 'NEW')} "
            f"BEGIN {removed}; {added}; END",
        ]
    function = f"{table}_review_counts"
    statements = [
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  IF TG_OP <> 'INSERT' THEN {removed}; END IF;\n"
        f"  IF TG_OP <> 'DELETE' THEN {added}; END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    ]
    # A WHEN clause on the trigger itself: rows that count for nothing (launch's
    # drafts) do not even call the function.
    for name, event_name, when in (
        ("insert", "INSERT", _qualified(live, "NEW")),
        ("delete", "DELETE", _qualified(live, "OLD")),
        (
            "update",
            f"UPDATE OF {columns}",
            f"{_qualified(live, 'OLD')} OR {_qualified(live, 'NEW')}",
        ),
    ):
        statements.append(
            f"CREATE TRIGGER {table}_counts_{name} AFTER {event_name} ON {table} "
            f"FOR EACH ROW WHEN ({when}) EXECUTE FUNCTION {function}()"
        )
    return statements


def trigger_sql(dialect: str) -> list[str]:
    return [s for table in WATCHED for s in table_sql(table, dialect)]


def drop_sql(dialect: str) -> list[str]:
    statements = []
    for table in WATCHED:
        for event_name in ("insert", "delete", "update"):
            name = f"{table}_counts_{event_name}"
            statements.append(
                f"DROP TRIGGER IF EXISTS {name} ON {table}"
                if dialect == "postgresql"
                else f"DROP TRIGGER IF EXISTS {name}"
            )
        if dialect == "postgresql":
            statements.append(f"DROP FUNCTION IF EXISTS {table}_review_counts()")
    return statements


def recount_sql() -> str:
    """Set every review's counts from its rows (the migration's backfill; the tests
    compare the triggers' counts with it)."""
    sets = [
        f"{column} = (SELECT count(*) FROM assessment a WHERE a.review_id = review.id "
        f"AND a.{PART_LIVE} AND a.{condition})"
        for column, condition in PART_COUNTS.items()
    ]
    sets += [
        f"{column} = (SELECT count(*) FROM peer_request r WHERE r.review_id = review.id "
        f"AND r.{condition})"
        for column, condition in REQUEST_COUNTS.items()
    ]
    sets.append(
        "manager_overall = (SELECT max(a.overall_rating) FROM assessment a "
        f"WHERE a.review_id = review.id AND a.{PART_LIVE} AND a.kind = 'manager')"
    )
    return f"UPDATE review SET {', '.join(sets)}"


COUNTER_COLUMNS = [*PART_COUNTS, *REQUEST_COUNTS, "manager_overall"]


def create_triggers(connection: Any) -> None:
    execute_all(connection, trigger_sql(connection.dialect.name))


def install(*tables: Table) -> None:
    """Create the triggers whenever the metadata creates the tables (the tests'
    create_all); the migrations create them with `create_triggers`."""
    for table in tables:
        create_with(table, lambda target, dialect: table_sql(target.name, dialect))
