"""Upward feedback as others may see it: through these functions only, aggregated.

For the JSON API (and any other output): call `summary_for(cycle, manager, reader)`
or `summaries_for_cycle(cycle, reader)` (HR's). Both return `aggregate.UpwardSummary`, which
has no author, no per-answer row, nothing below the cycle's threshold, and only the
questions of the cycle's upward template the reader may read (`audiences`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import aliased, joinedload

from reviews import access
from reviews.cycles.models import Cycle, Review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import CycleState, reached
from reviews.extensions import db
from reviews.people.models import Person
from reviews.review_templates.answers import audiences_for
from reviews.review_templates.definition import Question, Template
from reviews.review_templates.queries import template_of
from reviews.upward.aggregate import (
    UPWARD_COMPETENCIES,
    UPWARD_MINIMUM,
    UpwardSummary,
    summarise,
)
from reviews.upward.models import UpwardAnswer, UpwardParticipation
from reviews.upward.operations import UPWARD_OPEN


def template(cycle: Cycle) -> Template:
    """What the cycle asks of reports about their manager (frozen at launch)."""
    return template_of(cycle, "upward")


def competencies(cycle: Cycle, template_: Template | None = None) -> list[tuple[str, str]]:
    """(key, name) of the management competencies in the cycle's framework snapshot, if
    the cycle's upward template rates them."""
    if (template_ or template(cycle)).competencies is None:
        return []
    snapshot = (
        FrameworkSnapshot(cycle.framework_snapshot or {}) if cycle.framework_snapshot else None
    )
    if snapshot is None:
        return []
    by_key = {c.key: c.name for c in snapshot.competencies}
    return [(k, by_key[k]) for k in UPWARD_COMPETENCIES if k in by_key]


def threshold(cycle: Cycle) -> int:
    """How many answers a manager's results need: the cycle's threshold, never below
    `UPWARD_MINIMUM`."""
    return max(cycle.anonymity_threshold, UPWARD_MINIMUM)


def results_closed(cycle: Cycle) -> bool:
    return reached(cycle.state, CycleState.CALIBRATION)


def audiences(reader: Any, manager: Person) -> frozenset[str]:
    """Which questions' answers `reader` reads about `manager`: the manager those meant
    for everyone who reads the results; their managers up the line the line's too; HR
    every one, except about themselves (a note for HR is never read by its subject)."""
    if getattr(reader, "id", None) == manager.id:
        return audiences_for(author=False, line=False, hr=False)
    return audiences_for(
        author=False, line=access.is_in_line_above(reader, manager), hr=access.is_hr(reader)
    )


def readable(template_: Template, seen: frozenset[str]) -> list[Question]:
    return [q for q in template_.questions if q.audience in seen]


def summary_for(cycle: Cycle, manager: Person, reader: Any) -> UpwardSummary:
    """What `reader` may be shown about one manager in one cycle (2 statements)."""
    answers = db.session.execute(
        select(UpwardAnswer.ratings, UpwardAnswer.answers).where(
            UpwardAnswer.cycle_id == cycle.id, UpwardAnswer.manager_id == manager.id
        )
    ).all()
    template_ = template(cycle)
    return summarise(
        manager.id,
        [(a.ratings, a.answers) for a in answers],
        competencies(cycle, template_),
        readable(template_, audiences(reader, manager)),
        threshold=threshold(cycle),
        closed=results_closed(cycle),
    )


def summaries_for_cycle(cycle: Cycle, reader: Any) -> list[tuple[Person, UpwardSummary]]:
    """Every manager rated in the cycle with their summary as `reader` (HR) reads it, by
    name (2 statements)."""
    managers = list(
        db.session.scalars(
            select(Person)
            .where(Person.id.in_(select(Review.manager_id).where(Review.cycle_id == cycle.id)))
            .options(joinedload(Person.department))
            .order_by(Person.name, Person.id)
        )
    )
    answers: dict[int, list[tuple[dict[str, int], dict[str, Any]]]] = {}
    for manager_id, ratings, answered in db.session.execute(
        select(UpwardAnswer.manager_id, UpwardAnswer.ratings, UpwardAnswer.answers).where(
            UpwardAnswer.cycle_id == cycle.id
        )
    ):
        answers.setdefault(manager_id, []).append((ratings, answered))
    template_ = template(cycle)
    keys = competencies(cycle, template_)
    closed = results_closed(cycle)
    # HR reads every question about everyone but themselves (no walk up each line)
    others = readable(template_, audiences_for(author=False, line=True, hr=access.is_hr(reader)))
    mine = readable(template_, audiences(reader, reader))
    return [
        (
            m,
            summarise(
                m.id,
                answers.get(m.id, []),
                keys,
                mine if m.id == getattr(reader, "id", None) else others,
                threshold=threshold(cycle),
                closed=closed,
            ),
        )
        for m in managers
    ]


def rated_in(manager: Person) -> list[Cycle]:
    """The launched cycles that asked `manager`'s reports about them, newest first (one
    statement): where their managers and HR find the results."""
    return list(
        db.session.scalars(
            select(Cycle)
            .where(
                Cycle.upward_feedback.is_(True),
                Cycle.state != CycleState.DRAFT,
                select(Review.id)
                .where(Review.cycle_id == Cycle.id, Review.manager_id == manager.id)
                .exists(),
            )
            .order_by(Cycle.period_start.desc(), Cycle.id.desc())
        )
    )


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
