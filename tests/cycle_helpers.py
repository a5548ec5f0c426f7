"""Build cycles for tests through the real operations."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from reviews.cycles import operations as ops
from reviews.cycles.models import Assessment, PartKind, PeerRequest, Review
from reviews.cycles.workflow import ORDER, CycleState
from reviews.extensions import db
from reviews.people.models import Person


def cycle_fields(**overrides: Any) -> ops.CycleFields:
    fields = {"name": "2026 H2 review", "peer_min": 1, **overrides}
    name = fields.pop("name")
    return ops.CycleFields.for_everyone(name, date.today(), **fields)


def launched_cycle(hr: Person, state: CycleState = CycleState.SELF_REVIEW, **overrides: Any):
    """A cycle over every active person, advanced to `state`."""
    cycle = ops.create_cycle(hr, cycle_fields(**overrides))
    for target in ORDER[1 : ORDER.index(state) + 1]:
        ops.advance_cycle(hr, cycle, target)
    db.session.commit()
    return cycle


def advance(hr: Person, cycle, state: CycleState) -> None:
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
    calibration_ops.finalise_uncalibrated(hr, cycle)
    db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)


def calibrate_org(hr: Person, cycle, manager: Person):  # type: ignore[no-untyped-def]
    """Move the cycle to calibration and open a session of the manager's whole org."""

    from reviews.calibration import operations as cal
    from reviews.calibration.models import GroupKind

    advance(hr, cycle, CycleState.CALIBRATION)
    session = cal.open_session(
        hr,
        cycle,
        GroupKind.MANAGER_ORG,
        department=None,
        manager=manager,
        managers_calibrate=True,
    )
    db.session.commit()
    return session
