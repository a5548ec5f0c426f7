"""Each department's number of active people, kept by database triggers on `person`.

The departments page counted every active person per department on each view: 40 ms
at 100,000 people, and growing with the org. `department.active_people` is kept
instead, as the reviews' counters are (reviews.cycles.counters): whichever way a
person is written (a form, the org import, SCIM, the synthetic org), the triggers
move the count in the same transaction, so it cannot drift from the people.

A person counts in their department while active. On PostgreSQL one trigger per
statement adds up the statement's changed rows (transition tables): an import of
100,000 people changes each department's row once, not once per person. SQLite has
only row triggers. Migration b41d7e9a2c16 adds the column, counts the people already
there and creates the triggers; the tests' `create_all` installs them through
`install` below. Changing the SQL needs a new migration that drops and recreates
them.
"""

# The SQL is assembled from this module's constants only: no value from outside.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from sqlalchemy import Table

from reviews.db import create_with, execute_all

# a person row (alias {p}) that counts in its department
COUNTS = "{p}.active AND {p}.department_id IS NOT NULL"
# PostgreSQL: what one statement's changed people add to each department, less what
# they added before (over the transition tables of the event that fired)
SIDES = {
    "INSERT": ["SELECT department_id, 1 AS n FROM new_rows p WHERE {counts_p}"],
    "DELETE": ["SELECT department_id, -1 AS n FROM old_rows p WHERE {counts_p}"],
    "UPDATE": [
        "SELECT department_id, -1 AS n FROM old_rows p WHERE {counts_p}",
        "SELECT department_id, 1 AS n FROM new_rows p WHERE {counts_p}",
    ],
}


def _statement_update(event_name: str) -> str:
    changes = " UNION ALL ".join(
        side.format(counts_p=COUNTS.format(p="p")) for side in SIDES[event_name]
    )
    return (
        "UPDATE department d SET active_people = d.active_people + c.n "
        f"FROM (SELECT department_id, sum(n) AS n FROM ({changes}) x "
        "GROUP BY department_id) c WHERE d.id = c.department_id AND c.n <> 0"
    )


def trigger_sql(dialect: str) -> list[str]:
    """CREATE statements of the triggers (and PostgreSQL's function) on `person`."""
    if dialect != "postgresql":
        change = (
            "UPDATE department SET active_people = active_people {} 1 WHERE id = {}.department_id"
        )
        plus, minus = change.format("+", "NEW"), change.format("-", "OLD")
        return [
            f"CREATE TRIGGER person_headcount_insert AFTER INSERT ON person "
            f"WHEN {COUNTS.format(p='NEW')} BEGIN {plus}; END",
            f"CREATE TRIGGER person_headcount_delete AFTER DELETE ON person "
            f"WHEN {COUNTS.format(p='OLD')} BEGIN {minus}; END",
            "CREATE TRIGGER person_headcount_update AFTER UPDATE OF active, department_id "
            f"ON person WHEN ({COUNTS.format(p='OLD')}) OR ({COUNTS.format(p='NEW')}) BEGIN "
            f"{minus} AND {COUNTS.format(p='OLD')}; {plus} AND {COUNTS.format(p='NEW')}; END",
        ]
    # PL/pgSQL plans a statement when it first runs it: an INSERT's call never plans
    # the branches that read `old_rows`, which its trigger does not have.
    branches = "\n  ".join(
        f"{'ELSIF' if i else 'IF'} TG_OP = '{name}' THEN {_statement_update(name)};"
        for i, name in enumerate(SIDES)
    )
    statements = [
        "CREATE FUNCTION person_headcount() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  {branches}\n  END IF;\n  RETURN NULL;\nEND $$"
    ]
    # PostgreSQL allows no column list beside transition tables: every UPDATE of person
    # calls it, and a statement that moved nobody in or out of a department writes no row.
    for event_name, tables in (
        ("INSERT", "NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
    ):
        statements.append(
            f"CREATE TRIGGER person_headcount_{event_name.lower()} AFTER {event_name} ON person "
            f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION person_headcount()"
        )
    return statements


def drop_sql(dialect: str) -> list[str]:
    names = [f"person_headcount_{e}" for e in ("insert", "delete", "update")]
    if dialect != "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in names]
    return [f"DROP TRIGGER IF EXISTS {name} ON person" for name in names] + [
        "DROP FUNCTION IF EXISTS person_headcount()"
    ]


# every department's count from its people (the migration's backfill; the tests compare
# the triggers' counts with it)
RECOUNT = (
    "UPDATE department SET active_people = (SELECT count(*) FROM person p "
    f"WHERE p.department_id = department.id AND {COUNTS.format(p='p')})"
)


def recount(connection: Any) -> None:
    connection.exec_driver_sql(RECOUNT)


def create_triggers(connection: Any) -> None:
    execute_all(connection, trigger_sql(connection.dialect.name))


def install(person: Table) -> None:
    """Create the triggers whenever the metadata creates the person table (the tests'
    create_all); the migration creates them with `create_triggers`."""
    create_with(person, lambda _table, dialect: trigger_sql(dialect))
