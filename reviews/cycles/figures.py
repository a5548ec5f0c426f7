"""HR's figures of each cycle, per group, kept by database triggers on the reviews.

The dashboard and the cycle page show completion by phase, department and manager,
and the rating distributions. Adding up every review of the cycle on each view read
100,000 rows at 100,000 people (67-246 ms a view). Each review already carries its
own counts (reviews.cycles.counters); the same sums are kept one level up:

- `cycle_group_figures`: one row per department, level and rating of a cycle (the
  rating is the final one, else the manager's proposal, 0 for none): a few hundred
  rows whatever the size of the org;
- `cycle_manager_figures`: one row per frozen manager of a cycle (0 for the reviews
  without one), which the dashboard reads 25 at a time, least complete first, from an
  index on their share of tasks done.

Reviews are written only by a cycle's launch, and their department, level and
manager never change after it: launch writes every group's row (`rebuild`), six per
department and level so that a review whose rating changes always finds its row.
After that, triggers on `review` move each change of a counter, rating, lock or
acknowledgement into the two tables in the same transaction, whichever way the
review was written (the parts' triggers, calibration, bulk updates): the figures
cannot drift from the reviews. Deleting a cycle deletes its figures (cascade).

On PostgreSQL one trigger per statement adds up the statement's changed rows
(transition tables), so a bulk update of 100,000 reviews changes each figure row
once; SQLite has only row triggers. Migration 7d2b8e4f1c90 creates the tables and
triggers and fills them; the tests' `create_all` installs the triggers through
`install` below. Changing the SQL needs a new migration that drops and recreates
them.
"""

# The SQL is assembled from this module's constants only: no value from outside.
# ruff: noqa: S608

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, text

from reviews.db import create_with, execute_all

# figure -> what one review (row alias {r}) adds to it, in the order of
# reviews.reports.queries.Completion's fields after its label
FIGURES = {
    "reviews": "1",
    "self_done": "{r}.self_done",
    "nominated": "CASE WHEN {r}.peers_approved >= {peer_min} THEN 1 ELSE 0 END",
    "peer_done": "{r}.peers_done",
    "peer_total": "{r}.peers_approved",
    "manager_done": "{r}.manager_done",
    # launch gives every review with a manager a manager part
    "manager_total": "CASE WHEN {r}.manager_id IS NOT NULL THEN 1 ELSE 0 END",
    "calibrated": "CASE WHEN {r}.final_locked THEN 1 ELSE 0 END",
    "acknowledged": "CASE WHEN {r}.acknowledged_at IS NOT NULL THEN 1 ELSE 0 END",
    "declined": "{r}.peers_declined",
}
RATINGS = range(6)  # 0: no rating yet; 1-5
GROUP_KEYS = {
    "department_key": "COALESCE({r}.department_id, 0)",
    "level_key": "COALESCE({r}.level_key, '')",
    "rating": "COALESCE({r}.final_rating, {r}.manager_overall, 0)",
}
# A group's share of its tasks done: self, peer and manager parts, and
# acknowledgements (Completion.share). The dashboard orders managers by it from an
# index on this very expression, so the query must use this text unchanged.
SHARE_DONE = (
    "(CAST(self_done + peer_done + manager_done + acknowledged AS FLOAT) / "
    "NULLIF(CAST(2 * reviews + peer_total + manager_total AS FLOAT), 0))"
)
MANAGER_KEYS = {"manager_key": "COALESCE({r}.manager_id, 0)"}
TABLES = {"cycle_group_figures": GROUP_KEYS, "cycle_manager_figures": MANAGER_KEYS}
# the review columns a figure or a group's key reads
WATCHED = (
    "self_done, manager_done, peers_done, peers_approved, peers_declined, "
    "manager_overall, final_rating, final_locked, acknowledged_at"
)


# The cycle's minimum of approved peers, read for one review (the triggers) or from the
# cycle joined as `c` (the rebuild, which reads a whole cycle's reviews at once).
PEER_MIN = "(SELECT c.peer_min FROM cycle c WHERE c.id = {r}.cycle_id)"


def _of(template: str, row: str, peer_min: str = PEER_MIN) -> str:
    return template.format(r=row, peer_min=peer_min.format(r=row))


def _row_update(table: str, row: str, sign: str) -> str:
    """UPDATE of the figure row that review `row` (OLD or NEW) counts in: plus or
    minus what it adds (SQLite's row triggers)."""
    keys = TABLES[table]
    sets = ", ".join(f"{name} = {name} {sign} ({_of(e, row)})" for name, e in FIGURES.items())
    where = " AND ".join(f"{key} = {_of(e, row)}" for key, e in keys.items())
    return f"UPDATE {table} SET {sets} WHERE cycle_id = {row}.cycle_id AND {where}"


def _statement_update(table: str) -> str:
    """UPDATE of every figure row the statement's changed reviews count in, by the sum
    of what they add now less what they added before (PostgreSQL's statement
    triggers, over the transition tables `old_rows` and `new_rows`)."""
    keys = TABLES[table]

    def side(alias: str, sign: str) -> str:
        columns = [f"{alias}.cycle_id"]
        columns += [f"{_of(e, alias)} AS {key}" for key, e in keys.items()]
        columns += [f"{sign}({_of(e, alias)}) AS {name}" for name, e in FIGURES.items()]
        table_name = "old_rows" if alias == "o" else "new_rows"
        return f"SELECT {', '.join(columns)} FROM {table_name} {alias}"

    key_list = ", ".join(["cycle_id", *keys])
    sums = ", ".join(f"sum({name}) AS {name}" for name in FIGURES)
    changed = " OR ".join(f"d.{name} <> 0" for name in FIGURES)
    sets = ", ".join(f"{name} = f.{name} + d.{name}" for name in FIGURES)
    match = " AND ".join(f"f.{key} = d.{key}" for key in ["cycle_id", *keys])
    return (
        f"UPDATE {table} f SET {sets} FROM ("
        f"SELECT {key_list}, {sums} FROM ({side('o', '-')} UNION ALL {side('n', '')}) x "
        f"GROUP BY {key_list}) d WHERE {match} AND ({changed})"
    )


def trigger_sql(dialect: str) -> list[str]:
    """CREATE statements of the triggers (and PostgreSQL's function) on `review`."""
    if dialect != "postgresql":
        body = "; ".join(
            _row_update(table, row, sign)
            for table in TABLES
            for row, sign in (("OLD", "-"), ("NEW", "+"))
        )
        return [
            f"CREATE TRIGGER review_figures_update AFTER UPDATE OF {WATCHED} ON review "
            f"BEGIN {body}; END"
        ]
    body = ";\n  ".join(_statement_update(table) for table in TABLES)
    return [
        "CREATE FUNCTION review_figures() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n  {body};\n  RETURN NULL;\nEND $$",
        # PostgreSQL allows no column list beside transition tables: every UPDATE of
        # review calls it, and a statement that changed no figure writes no row.
        "CREATE TRIGGER review_figures_update AFTER UPDATE ON review "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT EXECUTE FUNCTION review_figures()",
    ]


def drop_sql(dialect: str) -> list[str]:
    if dialect != "postgresql":
        return ["DROP TRIGGER IF EXISTS review_figures_update"]
    return [
        "DROP TRIGGER IF EXISTS review_figures_update ON review",
        "DROP FUNCTION IF EXISTS review_figures()",
    ]


def rebuild_sql(table: str, *, every_cycle: bool = False) -> list[str]:
    """Statements that write a cycle's figure rows of `table` from its reviews (bind
    :cycle_id; with `every_cycle`, for every cycle with reviews): the sums per group,
    then, for the groups by rating, a zero row for each rating a group has none of."""
    keys = TABLES[table]
    key_names = ", ".join(keys)
    names = ", ".join(FIGURES)
    which = "" if every_cycle else "WHERE r.cycle_id = :cycle_id "
    group_by = ", ".join(["r.cycle_id", *(_of(e, "r") for e in keys.values())])
    key_values = ", ".join(_of(e, "r") for e in keys.values())
    # the cycle joined once, not read again for each of its 100,000 reviews
    sums = ", ".join(f"sum({_of(e, 'r', 'c.peer_min')})" for e in FIGURES.values())
    statements = [
        f"INSERT INTO {table} (cycle_id, {key_names}, {names}) "
        f"SELECT r.cycle_id, {key_values}, {sums} FROM review r "
        f"JOIN cycle c ON c.id = r.cycle_id {which}GROUP BY {group_by}"
    ]
    if table == "cycle_group_figures":
        ratings = " UNION ALL ".join(f"SELECT {n} AS rating" for n in RATINGS)
        zeros = ", ".join("0" for _ in FIGURES)
        which_groups = "" if every_cycle else "WHERE g.cycle_id = :cycle_id "
        statements.append(
            f"INSERT INTO {table} (cycle_id, department_key, level_key, rating, {names}) "
            f"SELECT g.cycle_id, g.department_key, g.level_key, n.rating, {zeros} "
            f"FROM (SELECT DISTINCT cycle_id, department_key, level_key FROM {table} g "
            f"{which_groups}) g CROSS JOIN ({ratings}) n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {table} e WHERE e.cycle_id = g.cycle_id "
            "AND e.department_key = g.department_key AND e.level_key = g.level_key "
            "AND e.rating = n.rating)"
        )
    return statements


def rebuild(connection: Any, cycle_id: int) -> None:
    """Write the figures of a cycle just launched (its reviews are all new)."""
    for table in TABLES:
        for statement in rebuild_sql(table):
            connection.execute(text(statement), {"cycle_id": cycle_id})


def rebuild_all(connection: Any) -> None:
    """Recount every cycle's figures from its reviews (the migration's backfill; the
    tests compare the triggers' figures with it)."""
    for table in TABLES:
        connection.exec_driver_sql(f"DELETE FROM {table}")
        for statement in rebuild_sql(table, every_cycle=True):
            connection.exec_driver_sql(statement)


def create_triggers(connection: Any) -> None:
    execute_all(connection, trigger_sql(connection.dialect.name))


def install(review: Table) -> None:
    """Create the triggers whenever the metadata creates the review table (the tests'
    create_all); the migrations create them with `create_triggers`."""
    create_with(review, lambda _table, dialect: trigger_sql(dialect))
