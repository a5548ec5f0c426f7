"""Each department's number of active people, kept by database triggers on `person`.

The departments page counted every active person per department on each view: 40 ms
at 100,000 people, and growing with the org. `department.active_people` is kept
instead, as the reviews' counters are (reviews.cycles.counters): whichever way a
person is written (a form, the org import, SCIM, the synthetic org), the triggers
move the count in the same transaction, so it cannot drift from the people.

A person counts in their department while active. On PostgreSQL the inserts and
deletes are added up a statement at a time (transition tables): a statement that
writes many people (the synthetic org's insert) changes each department's row once.
A change of `active` or `department_id` moves the count row by row, and any other
change of a person (a new session version, a new org path) does not even call the
trigger's function. SQLite has only row triggers. Migration 6f3168a729f4 adds the
column, counts the people already there and creates the triggers; the tests'
`create_all` installs them through `install` below. Changing the SQL needs a new
migration that drops and recreates them.

A writer of many people in one transaction, one statement each (the org import),
holds the counts back with `deferred`: on PostgreSQL a department's row updated
thousands of times in one transaction walks its earlier versions on every update
(importing 20,000 people took 13.7 s instead of 8.7 s). While a transaction has
`reviews.headcount_deferred` set, the triggers write each change as a row of a
temporary table instead, and `deferred` adds them up into the departments once, at the
end of its block. The sums are added, not recounted, so people written meanwhile by
other transactions still count. SQLite updates a row in place: nothing is held back.

The triggers write `department`: a SQLite batch migration that rebuilds `department`
(or `person`) must drop them first and create them again after (`drop_sql`,
`create_triggers`), as SQLite checks every trigger that names a table it renames.
"""

# The SQL is assembled from this module's constants only: no value from outside.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Table

from reviews.db import create_with, execute_all

# a person row (alias {p}) that counts in its department
COUNTS = "{p}.active AND {p}.department_id IS NOT NULL"
# PostgreSQL: what one statement's inserted people add to each department, or its
# deleted people take away (over the transition table of the event that fired)
SIDES = {
    "INSERT": ["SELECT department_id, 1 AS n FROM new_rows p WHERE {counts_p}"],
    "DELETE": ["SELECT department_id, -1 AS n FROM old_rows p WHERE {counts_p}"],
}
# an UPDATE that changes either moves the count (checked before the function is called)
MOVED = (
    "OLD.active IS DISTINCT FROM NEW.active OR OLD.department_id IS DISTINCT FROM NEW.department_id"
)
CHANGE = "UPDATE department SET active_people = active_people {} 1 WHERE id = {}.department_id"
# PostgreSQL: a transaction that holds the counts back (`deferred`), and the table its
# changes wait in until the end of the block
SETTING = "reviews.headcount_deferred"
DEFERRED = f"current_setting('{SETTING}', true) = 'on'"
WAITING = "pg_temp.headcount_change"


def _sums(changes: str) -> str:
    """UPDATE adding each department's sum of `changes` (rows of department_id, n)."""
    return (
        "UPDATE department d SET active_people = d.active_people + c.n "
        f"FROM (SELECT department_id, sum(n) AS n FROM ({changes}) x "
        "GROUP BY department_id) c WHERE d.id = c.department_id AND c.n <> 0"
    )


def _statement_branch(event_name: str) -> str:
    changes = " UNION ALL ".join(
        side.format(counts_p=COUNTS.format(p="p")) for side in SIDES[event_name]
    )
    return (
        f"IF {DEFERRED} THEN INSERT INTO {WAITING} (department_id, n) {changes}; "
        f"ELSE {_sums(changes)}; END IF"
    )


def trigger_sql(dialect: str) -> list[str]:
    """CREATE statements of the triggers (and PostgreSQL's functions) on `person`."""
    plus, minus = CHANGE.format("+", "NEW"), CHANGE.format("-", "OLD")
    if dialect != "postgresql":
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
    # the branch that reads `old_rows`, which its trigger does not have.
    branches = "\n  ".join(
        f"{'ELSIF' if i else 'IF'} TG_OP = '{name}' THEN {_statement_branch(name)};"
        for i, name in enumerate(SIDES)
    )
    moved = (
        f"INSERT INTO {WAITING} (department_id, n) "
        f"SELECT OLD.department_id, -1 WHERE {COUNTS.format(p='OLD')} "
        f"UNION ALL SELECT NEW.department_id, 1 WHERE {COUNTS.format(p='NEW')}"
    )
    return [
        "CREATE FUNCTION person_headcount() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  {branches}\n  END IF;\n  RETURN NULL;\nEND $$",
        "CREATE TRIGGER person_headcount_insert AFTER INSERT ON person "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_headcount()",
        "CREATE TRIGGER person_headcount_delete AFTER DELETE ON person "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION person_headcount()",
        "CREATE FUNCTION person_headcount_move() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  IF {DEFERRED} THEN {moved}; RETURN NULL; END IF;\n"
        f"  IF {COUNTS.format(p='OLD')} THEN {minus}; END IF;\n"
        f"  IF {COUNTS.format(p='NEW')} THEN {plus}; END IF;\n  RETURN NULL;\nEND $$",
        "CREATE TRIGGER person_headcount_update AFTER UPDATE OF active, department_id ON person "
        f"FOR EACH ROW WHEN ({MOVED}) EXECUTE FUNCTION person_headcount_move()",
    ]


def drop_sql(dialect: str) -> list[str]:
    names = [f"person_headcount_{e}" for e in ("insert", "delete", "update")]
    if dialect != "postgresql":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in names]
    return [f"DROP TRIGGER IF EXISTS {name} ON person" for name in names] + [
        "DROP FUNCTION IF EXISTS person_headcount()",
        "DROP FUNCTION IF EXISTS person_headcount_move()",
    ]


# every department's count from its people (the migration's backfill; tests/test_headcount
# compares the triggers' counts with it)
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


@contextmanager
def deferred(connection: Any) -> Iterator[None]:
    """Hold the counts back while the block writes people, then add each department's
    changes at once (module docstring). Inside the caller's transaction; if the block
    raises, nothing is added and the transaction is the caller's to roll back (which
    ends the setting and the table with it)."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {WAITING.removeprefix('pg_temp.')} "
        "(department_id integer NOT NULL, n integer NOT NULL) ON COMMIT DROP"
    )
    connection.exec_driver_sql(f"SELECT set_config('{SETTING}', 'on', true)")
    yield
    connection.exec_driver_sql(f"SELECT set_config('{SETTING}', 'off', true)")
    connection.exec_driver_sql(_sums(f"SELECT department_id, n FROM {WAITING}"))
    connection.exec_driver_sql(f"DROP TABLE {WAITING}")
