"""Build cycles for tests through the real operations."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from reviews.cycles import operations as ops
from reviews.cycles.models import Assessment, ParticipantMode, PartKind, PeerRequest, Review
from reviews.cycles.workflow import ORDER, CycleState
from reviews.extensions import db
from reviews.people.models import Person


def cycle_fields(**overrides: Any) -> ops.CycleFields:
    today = date.today()
    fields = {
        "name": "2026 H2 review",
        "period_start": today - timedelta(days=180),
        "period_end": today,
        "participant_mode": ParticipantMode.ALL,
        "department_ids": [],
        "participant_ids": [],
        "self_review_due": today + timedelta(days=7),
        "peer_feedback_due": today + timedelta(days=14),
        "manager_review_due": today + timedelta(days=21),
        "calibration_due": today + timedelta(days=28),
        "peer_min": 1,
        "peer_max": 5,
        "peer_anonymous": True,
        "anonymity_threshold": 3,
        "peer_names_to_managers": True,
        "reviewer_load_cap": 5,
        "guidance": [5, 20, 50, 20, 5],
    }
    fields.update(overrides)
    return ops.CycleFields(**fields)


def launched_cycle(hr: Person, state: CycleState = CycleState.SELF_REVIEW, **overrides: Any):
    """A cycle over every active person, advanced to `state`."""
    with current_app.test_request_context():
        cycle = ops.create_cycle(hr, cycle_fields(**overrides))
        for target in ORDER[1 : ORDER.index(state) + 1]:
            ops.advance_cycle(hr, cycle, target)
        db.session.commit()
    return cycle


def advance(hr: Person, cycle, state: CycleState) -> None:
    with current_app.test_request_context():
        for target in ORDER[ORDER.index(cycle.state) + 1 : ORDER.index(state) + 1]:
            ops.advance_cycle(hr, cycle, target)
        db.session.commit()


def review_of(cycle, person: Person) -> Review:
    return db.session.scalar(
        select(Review).where(Review.cycle_id == cycle.id, Review.subject_id == person.id)
    )


def part(review: Review, kind: PartKind, author: Person | None = None) -> Assessment | None:
    stmt = select(Assessment).where(Assessment.review_id == review.id, Assessment.kind == kind)
    if author is not None:
        stmt = stmt.where(Assessment.author_id == author.id)
    return db.session.scalar(stmt)


def approved_peer(manager: Person, review: Review, peer: Person) -> PeerRequest:
    with current_app.test_request_context():
        request = ops.add_peer(manager, review, peer)
        db.session.commit()
    return request


def submit_manager_review(
    manager: Person,
    review: Review,
    overall: int,
    ratings: dict[str, int],
    potential: str = "medium",
) -> None:
    from reviews.cycles.parts import PartInput

    manager_part = part(review, PartKind.MANAGER)
    with current_app.test_request_context():
        ops.save_part(
            manager,
            manager_part,
            manager_part.version,
            PartInput(
                ratings=ratings,
                overall=overall,
                potential=potential,
                readiness="not_yet",
                answers={
                    "summary": f"Summary for {review.subject.name}.",
                    "strengths": "Ownership.",
                    "growth_areas": "Influence.",
                },
            ),
            submit=True,
        )
        db.session.commit()


def release_with_manager_ratings(hr: Person, cycle, ratings_for) -> None:  # type: ignore[no-untyped-def]
    """From manager review: every manager submits `ratings_for(review)`, HR finalises
    without sessions and releases (which proposes the growth plans)."""
    from reviews.calibration import operations as calibration_ops

    for review in db.session.scalars(
        select(Review).where(Review.cycle_id == cycle.id, Review.manager_id.is_not(None))
    ):
        overall, ratings = ratings_for(review)
        submit_manager_review(review.manager, review, overall, ratings)
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        calibration_ops.finalise_uncalibrated(hr, cycle)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
