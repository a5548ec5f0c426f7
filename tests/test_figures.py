"""HR's figures per cycle and group (kept by triggers on the reviews) always equal a
recount from the reviews, whichever way the reviews change, and the dashboard and
cycle page read them in a number of statements and rows that does not grow with the
cycle."""

from __future__ import annotations

from cycle_helpers import part, review_of
from flask import current_app
from populated import cycle_in
from sqlalchemy import event, func, select, text, update

from reviews.cycles import figures
from reviews.cycles import operations as ops
from reviews.cycles.models import Assessment, PartKind, PartState, Review
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.reports import queries as q


def stored() -> dict[str, set[tuple]]:
    db.session.commit()
    with db.engine.connect() as conn:
        return {
            table: {tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))}
            for table in figures.TABLES
        }


def recounted() -> dict[str, set[tuple]]:
    """What the figures should hold, recounted from the reviews (rolled back)."""
    with db.engine.connect() as conn:
        figures.rebuild_all(conn)
        found = {
            table: {tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}"))}
            for table in figures.TABLES
        }
        conn.rollback()
    return found


def test_figures_follow_a_whole_cycle_written_through_the_operations(app, make_person):
    org = cycle_in(make_person, CycleState.RELEASED)
    now = stored()
    assert now == recounted()
    total, _ = q.completion(org["cycle"], "department")
    team = len(org["team"])
    # everyone in the team wrote and was written about; calibration locked them all
    assert (total.self_done, total.manager_done, total.peer_done) == (team, team, team)
    assert total.calibrated == total.manager_total == team
    # launch wrote a row for each rating of each department and level, so a review
    # whose rating changes always finds its row
    groups = {(r[1], r[2]) for r in now["cycle_group_figures"]}
    assert len(now["cycle_group_figures"]) == 6 * len(groups)


def test_reopening_a_manager_review_takes_back_its_count_and_proposal(app, make_person):
    org = cycle_in(make_person, CycleState.MANAGER_REVIEW)
    hr, cycle = org["hr"], org["cycle"]
    review = review_of(cycle, org["team"][0])
    before = q.department_figures(cycle)
    with current_app.test_request_context():
        ops.reopen_part(hr, part(review, PartKind.MANAGER))
        db.session.commit()
    after = q.department_figures(cycle)
    assert after[0].manager_done == before[0].manager_done - 1
    # the reopened review's proposal no longer counts in the distribution
    assert sum(after[2].overall) == sum(before[2].overall) - 1
    assert stored() == recounted()


def test_bulk_updates_and_a_rollback_keep_the_figures_true(app, make_person):
    org = cycle_in(make_person, CycleState.MANAGER_REVIEW)
    cycle = org["cycle"]
    before = stored()
    # a bulk write of every self-review in one statement (one trigger call on
    # PostgreSQL for all the rows it changed), then rolled back
    db.session.execute(
        update(Assessment)
        .where(Assessment.kind == PartKind.SELF)
        .values(state=PartState.SUBMITTED, submitted_at=func.now())
    )
    inside = q.completion(cycle, "department")[0]
    assert inside.self_done == inside.reviews
    db.session.rollback()
    assert stored() == before
    # final ratings set for every review at once, then locked: ratings move between
    # the groups by rating, and the calibrated count follows
    db.session.execute(update(Review).where(Review.cycle_id == cycle.id).values(final_rating=5))
    db.session.execute(update(Review).where(Review.cycle_id == cycle.id).values(final_locked=True))
    total, _, dists = q.department_figures(cycle)
    assert dists.overall == [0, 0, 0, 0, total.reviews]
    assert total.calibrated == total.reviews
    assert stored() == recounted()


def test_deleting_a_cycle_deletes_its_figures(app, make_person):
    org = cycle_in(make_person, CycleState.SELF_REVIEW)
    assert all(stored().values())
    db.session.delete(org["cycle"])
    db.session.commit()
    assert not any(stored().values())


def _statements_of(client, url: str):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *args):
        if not statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "COMMIT")):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        answer = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert answer.status_code == 200
    return len(seen), answer


def test_the_dashboard_and_cycle_page_read_the_figures(app, make_person, login_as):
    """The pages' figures come from the figure tables (ten times the people in them
    show as ten times the participants), in as many statements whatever their size."""
    org = cycle_in(make_person, CycleState.CALIBRATION)
    cycle = org["cycle"]
    client = login_as(org["hr"])
    small = {
        url: _statements_of(client, url)[0]
        for url in (f"/cycles/{cycle.id}", f"/cycles/{cycle.id}/dashboard")
    }
    # ten times the people in the same cycle's figures: as if the org were bigger
    db.session.execute(
        text(
            "UPDATE cycle_group_figures SET reviews = reviews * 10, "
            "self_done = self_done * 10 WHERE cycle_id = :c"
        ),
        {"c": cycle.id},
    )
    db.session.commit()
    total = db.session.scalar(select(func.count()).where(Review.cycle_id == cycle.id))
    for url, n in small.items():
        statements, _answer = _statements_of(client, url)
        assert statements == n, url
    page = client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert str(total * 10) in page  # the participants come from the figures


def test_the_managers_furthest_behind_come_from_the_index(app, make_person):
    """The dashboard's "furthest behind" query is answered by walking the index on the
    share of tasks done, not by sorting every manager."""
    org = cycle_in(make_person, CycleState.MANAGER_REVIEW)
    cycle = org["cycle"]
    statements: list[str] = []

    def keep(_conn, _cursor, statement, parameters, *args):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        q.manager_completion(cycle, limit=25)
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    statement, parameters = next(s for s in statements if "ORDER BY" in s[0])
    db.session.commit()
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # the tiny table would be scanned
            plan = " ".join(
                str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters)
            )
        else:
            plan = " ".join(
                str(r[-1])
                for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
    assert "ix_manager_figures_behind" in plan, plan


def test_launch_writes_the_figures_of_every_review(app, make_person):
    org = cycle_in(make_person, CycleState.SELF_REVIEW)
    cycle = org["cycle"]
    reviews = db.session.scalar(select(func.count()).where(Review.cycle_id == cycle.id))
    total, _ = q.completion(cycle, "department")
    assert total.reviews == reviews
    managers, count = q.manager_completion(cycle)
    assert sum(m.reviews for m in managers) == reviews
    assert count == len(managers)
    with current_app.test_request_context():
        ops.advance_cycle(org["hr"], cycle, CycleState.PEER_FEEDBACK)
        db.session.commit()
    assert stored() == recounted()
