"""Each review's completion counters (kept by triggers) always equal a count of its rows,
whichever way the parts and peer requests are written."""

from __future__ import annotations

from cycle_helpers import part, review_of
from flask import current_app
from populated import cycle_in
from sqlalchemy import delete, func, text, update

from reviews.cycles import counters
from reviews.cycles import operations as ops
from reviews.cycles.models import Assessment, PartKind, PartState, PeerRequest, RequestState
from reviews.cycles.workflow import CycleState
from reviews.extensions import db

COLUMNS = ", ".join(["id", *counters.COUNTER_COLUMNS])


def stored() -> dict[int, tuple]:
    db.session.commit()
    with db.engine.connect() as conn:
        return {r[0]: tuple(r[1:]) for r in conn.execute(text(f"SELECT {COLUMNS} FROM review"))}


def recounted() -> dict[int, tuple]:
    """What the counters should hold, counted from the rows (in a transaction rolled back)."""
    with db.engine.connect() as conn:
        conn.exec_driver_sql(counters.recount_sql())
        found = {r[0]: tuple(r[1:]) for r in conn.execute(text(f"SELECT {COLUMNS} FROM review"))}
        conn.rollback()
    return found


def test_counters_follow_a_whole_cycle_written_through_the_operations(app, make_person):
    org = cycle_in(make_person, CycleState.RELEASED)
    now = stored()
    assert now == recounted()
    reviews = [review_of(org["cycle"], p) for p in org["team"]]
    for i, review in enumerate(reviews):
        # self submitted, one approved peer who answered, the manager's review with its
        # overall rating (2 + i % 3 in populated.cycle_in), nobody declined
        assert now[review.id] == (1, 1, 1, 1, 0, 2 + i % 3)
    # the boss's own review: nothing submitted, no manager part to count
    assert now[review_of(org["cycle"], org["boss"]).id][:5] == (0, 0, 0, 0, 0)


def test_reopening_the_manager_review_takes_back_its_count_and_rating(app, make_person):
    org = cycle_in(make_person, CycleState.MANAGER_REVIEW)
    review = review_of(org["cycle"], org["team"][0])
    assert stored()[review.id] == (1, 1, 1, 1, 0, 2)
    with current_app.test_request_context():
        ops.reopen_part(org["hr"], part(review, PartKind.MANAGER))
        db.session.commit()
    assert stored()[review.id] == (1, 0, 1, 1, 0, None)
    assert stored() == recounted()


def test_reopen_decline_and_writes_outside_the_operations_change_the_counts(app, make_person):
    org = cycle_in(make_person, CycleState.PEER_FEEDBACK)
    hr, boss, team = org["hr"], org["boss"], org["team"]
    review = review_of(org["cycle"], team[0])
    assert stored()[review.id][:3] == (1, 0, 1)
    with current_app.test_request_context():
        ops.reopen_part(hr, part(review, PartKind.SELF))
        db.session.commit()
    assert stored()[review.id][:3] == (0, 0, 1)

    # a second peer, added by the manager, declines
    other = review_of(org["cycle"], team[1])
    with current_app.test_request_context():
        declined = ops.add_peer(boss, other, team[3])
        db.session.commit()
    assert stored()[other.id][3:5] == (2, 0)
    with current_app.test_request_context():
        ops.decline_request(team[3], declined, "On leave all month.")
        db.session.commit()
    assert stored()[other.id][3:5] == (1, 1)

    # bulk writes outside the operations count too, and so do deletes
    db.session.execute(
        update(Assessment)
        .where(Assessment.review_id == other.id, Assessment.kind == PartKind.PEER)
        .values(state=PartState.DRAFT, submitted_at=None)
    )
    db.session.execute(delete(PeerRequest).where(PeerRequest.state == RequestState.DECLINED))
    assert stored()[other.id][2:5] == (0, 1, 0)
    assert stored() == recounted()


def test_a_rolled_back_submission_leaves_the_counts_as_they_were(app, make_person):
    org = cycle_in(make_person, CycleState.SELF_REVIEW)
    before = stored()
    review = review_of(org["cycle"], org["boss"])  # the boss has not written theirs
    assert before[review.id][0] == 0
    db.session.execute(
        update(Assessment)
        .where(Assessment.review_id == review.id, Assessment.kind == PartKind.SELF)
        .values(state=PartState.SUBMITTED, submitted_at=func.now())
    )
    seen = db.session.scalar(text(f"SELECT self_done FROM review WHERE id = {review.id}"))
    assert seen == 1  # inside the transaction
    db.session.rollback()
    assert stored() == before
