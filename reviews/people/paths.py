"""Each person's place in the org chart as a path of ids, kept by database triggers.

`person.org_path` is "/1/5/27/" for person 27 who reports to 5 who reports to 1: the
ids from the top of their line down to themselves. Everyone below a manager is then
one range of an index ("/1/5/" up to "/1/5/~": digits and "/" sort below "~"),
read in org-chart order, a page at a time, in time that does not grow with the size
of the org below. It replaces a recursive query over the whole subtree on every view
(the team page of a manager high in a 100,000-person org: 172 ms).

Triggers keep the paths, not the operations: a person inserted gets their manager's
path and their id; a person whose manager changes moves with everyone below them
(one UPDATE of their range). Each trigger reads the paths as they are when it runs,
not as they were when the statement began, so an UPDATE that moves several people
at once (an org import) ends with every path right in whatever order its rows are
written. The paths compare byte by byte: PostgreSQL's column has the "C" collation,
SQLite compares text that way already.

Migration 5a1e9c3f7b42 creates the triggers and fills the paths; the tests'
`create_all` installs the triggers through `install`. Changing the SQL needs a new
migration that drops and recreates them.
"""

# The SQL is assembled from this module's constants only: no value from outside.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table

from reviews.db import create_with, execute_all

END = "~"  # sorts after every digit and "/": the end of a path's range

_MANAGER_PATH = "COALESCE((SELECT m.org_path FROM person m WHERE m.id = NEW.manager_id), '/')"


def trigger_sql(dialect: str) -> list[str]:
    if dialect != "postgresql":
        here = "(SELECT h.org_path FROM person h WHERE h.id = NEW.id)"
        return [
            "CREATE TRIGGER person_path_insert AFTER INSERT ON person BEGIN "
            f"UPDATE person SET org_path = {_MANAGER_PATH} || NEW.id || '/' "
            "WHERE id = NEW.id; END",
            # `here` is the moved person's path when the trigger runs: SQLite reads an
            # uncorrelated subquery once per statement, before the first row changes.
            "CREATE TRIGGER person_path_update AFTER UPDATE OF manager_id ON person "
            "WHEN OLD.manager_id IS NOT NEW.manager_id BEGIN "
            f"UPDATE person SET org_path = {_MANAGER_PATH} || NEW.id || '/' "
            f"|| substr(org_path, length({here}) + 1) "
            f"WHERE org_path >= {here} AND org_path < {here} || '{END}'; END",
        ]
    return [
        "CREATE FUNCTION person_path_insert() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        f"  NEW.org_path := {_MANAGER_PATH} || NEW.id || '/';\n"
        "  RETURN NEW;\n"
        "END $$",
        "CREATE FUNCTION person_path_update() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "DECLARE here text; there text;\n"
        "BEGIN\n"
        "  SELECT org_path INTO here FROM person WHERE id = NEW.id;\n"
        f"  there := {_MANAGER_PATH} || NEW.id || '/';\n"
        "  UPDATE person SET org_path = there || substr(org_path, length(here) + 1)\n"
        f"  WHERE org_path >= here AND org_path < here || '{END}';\n"
        "  RETURN NULL;\n"
        "END $$",
        # set before the row is written: no second write of each new person
        "CREATE TRIGGER person_path_insert BEFORE INSERT ON person "
        "FOR EACH ROW EXECUTE FUNCTION person_path_insert()",
        "CREATE TRIGGER person_path_update AFTER UPDATE OF manager_id ON person "
        "FOR EACH ROW WHEN (OLD.manager_id IS DISTINCT FROM NEW.manager_id) "
        "EXECUTE FUNCTION person_path_update()",
    ]


def drop_sql(dialect: str) -> list[str]:
    if dialect != "postgresql":
        return [
            "DROP TRIGGER IF EXISTS person_path_insert",
            "DROP TRIGGER IF EXISTS person_path_update",
        ]
    return [
        "DROP TRIGGER IF EXISTS person_path_insert ON person",
        "DROP TRIGGER IF EXISTS person_path_update ON person",
        "DROP FUNCTION IF EXISTS person_path_insert()",
        "DROP FUNCTION IF EXISTS person_path_update()",
    ]


def fill_sql(dialect: str) -> list[str]:
    """Every person's path from the manager links (the migration's backfill; the tests
    compare the triggers' paths with it). Someone in a loop of managers, which the
    application never writes, gets a path of their own."""
    tree = (
        "WITH RECURSIVE tree(id, path) AS ("
        "SELECT id, '/' || id || '/' FROM person WHERE manager_id IS NULL "
        "UNION ALL SELECT p.id, t.path || p.id || '/' FROM person p "
        "JOIN tree t ON p.manager_id = t.id) "
    )
    if dialect == "postgresql":
        fill = f"{tree}UPDATE person SET org_path = tree.path FROM tree WHERE tree.id = person.id"
    else:
        fill = (
            f"{tree}UPDATE person SET org_path = (SELECT path FROM tree WHERE tree.id = person.id)"
        )
    return [
        fill,
        "UPDATE person SET org_path = '/' || id || '/' WHERE org_path IS NULL",
    ]


def fill(connection: Any) -> None:
    execute_all(connection, fill_sql(connection.dialect.name))


def below(path_column: Any, path: str) -> ColumnElement[bool]:
    """`path_column` is `path` or lies below it: everyone in the org of the person
    whose path is `path`, themselves included (one index range)."""
    return (path_column >= path) & (path_column < path + END)


def create_triggers(connection: Any) -> None:
    execute_all(connection, trigger_sql(connection.dialect.name))


def install(person: Table) -> None:
    """Create the triggers whenever the metadata creates the person table (the tests'
    create_all); the migrations create them with `create_triggers`."""
    create_with(person, lambda _table, dialect: trigger_sql(dialect))
