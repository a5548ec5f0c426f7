"""Upward feedback as others may see it: through these functions only, aggregated.

For the JSON API (and any other output): call `summary_for(cycle, manager)` or
`summaries_for_cycle(cycle)`. Both return `aggregate.UpwardSummary`, which has
no author, no per-answer row and nothing below the cycle's threshold.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased, joinedload

from reviews.cycles.models import Cycle, Review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import CycleState, reached
from reviews.extensions import db
from reviews.people.models import Person
from reviews.upward.aggregate import UPWARD_COMPETENCIES, UpwardSummary, summarise
from reviews.upward.models import UpwardAnswer, UpwardParticipation
from reviews.upward.operations import UPWARD_OPEN


def competencies(cycle: Cycle) -> list[tuple[str, str]]:
    """(key, name) of the management competencies in the cycle's framework snapshot."""
    snapshot = (
        FrameworkSnapshot(cycle.framework_snapshot or {}) if cycle.framework_snapshot else None
    )
    if snapshot is None:
        return []
    by_key = {c.key: c.name for c in snapshot.competencies}
    return [(k, by_key[k]) for k in UPWARD_COMPETENCIES if k in by_key]


def results_closed(cycle: Cycle) -> bool:
    return reached(cycle.state, CycleState.CALIBRATION)


def summary_for(cycle: Cycle, manager_id: int) -> UpwardSummary:
    """What may be shown about one manager in one cycle (2 statements)."""
    answers = db.session.execute(
        select(UpwardAnswer.ratings, UpwardAnswer.comment).where(
            UpwardAnswer.cycle_id == cycle.id, UpwardAnswer.manager_id == manager_id
        )
    ).all()
    return summarise(
        manager_id,
        [a.ratings for a in answers],
        [a.comment for a in answers],
        competencies(cycle),
        threshold=cycle.anonymity_threshold,
        closed=results_closed(cycle),
    )


def summaries_for_cycle(cycle: Cycle) -> list[tuple[Person, UpwardSummary]]:
    """Every manager rated in the cycle with their summary, by name (2 statements)."""
    managers = list(
        db.session.scalars(
            select(Person)
            .where(Person.id.in_(select(Review.manager_id).where(Review.cycle_id == cycle.id)))
            .options(joinedload(Person.department))
            .order_by(Person.name, Person.id)
        )
    )
    answers: dict[int, list[tuple[dict[str, int], str]]] = {}
    for manager_id, ratings, comment in db.session.execute(
        select(UpwardAnswer.manager_id, UpwardAnswer.ratings, UpwardAnswer.comment).where(
            UpwardAnswer.cycle_id == cycle.id
        )
    ):
        answers.setdefault(manager_id, []).append((ratings, comment))
    keys = competencies(cycle)
    closed = results_closed(cycle)
    return [
        (
            m,
            summarise(
                m.id,
                [r for r, _ in answers.get(m.id, [])],
                [c for _, c in answers.get(m.id, [])],
                keys,
                threshold=cycle.anonymity_threshold,
                closed=closed,
            ),
        )
        for m in managers
    ]


def pending() -> Select[int, str, date | None, str]:
    """Cycles asking the person bound as :person_id for upward feedback they have not
    given yet: the cycle's id, name and manager-review due date, and the manager's name."""
    answered = select(UpwardParticipation.id).where(
        UpwardParticipation.cycle_id == Cycle.id,
        UpwardParticipation.author_id == bindparam("person_id"),
        UpwardParticipation.manager_id == Review.manager_id,
    )
    manager = aliased(Person)
    return (
        select(Cycle.id, Cycle.name, Cycle.manager_review_due, manager.name.label("manager"))
        .join(Review, Review.cycle_id == Cycle.id)
        .join(manager, manager.id == Review.manager_id)
        .where(
            Review.subject_id == bindparam("person_id"),
            Cycle.upward_feedback.is_(True),
            Cycle.state.in_(UPWARD_OPEN),
            ~answered.exists(),
        )
    )


def response_count(cycle: Cycle) -> int:
    """How many reports answered across the cycle: a progress figure for HR only."""
    return (
        db.session.scalar(select(func.count()).where(UpwardParticipation.cycle_id == cycle.id)) or 0
    )
