"""The only code that changes calibration sessions, final values and acknowledgements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, and_, cast, func, insert, literal, select, true, update
from sqlalchemy.orm import aliased

from reviews.audit.operations import record
from reviews.calibration.inputs import MAX_RATIONALE, FinalChange, rationale_problem
from reviews.calibration.models import (
    CalibrationChange,
    CalibrationMember,
    CalibrationSession,
    GroupKind,
    SessionState,
)
from reviews.cycles.models import Assessment, Cycle, PartKind, PartState, Potential, Review
from reviews.cycles.workflow import CycleState, reached
from reviews.db import utcnow
from reviews.errors import Conflict, Forbidden, Invalid, PhaseClosed
from reviews.extensions import db
from reviews.languages import gettext, lazy_gettext, ngettext
from reviews.links import Link
from reviews.notifications.operations import Message, notify
from reviews.people.models import Department, Person

# The rationale recorded for a review finalised without a session: stored as text, in the
# language of the person who finalised (str() at the insert).
FINALISED_WITHOUT_SESSION = lazy_gettext(
    "Finalised with the manager's rating (no calibration session)."
)


def _stale(review: Review) -> Conflict:
    return Conflict(
        gettext(
            "Not saved: another calibrator changed this person's final values first. "
            "The final rating is now %(rating)s; review it and save again.",
            rating=review.final_rating,
        ),
        current=review,
        current_version=review.final_version,
    )


def _below(manager_id: int) -> Any:
    """Recursive CTE of everyone below a manager in the current org chart."""
    below = select(Person.id).where(Person.manager_id == manager_id).cte("below", recursive=True)
    child = aliased(Person)
    return below.union(select(child.id).join(below, child.manager_id == below.c.id))


def group_reviews(
    cycle: Cycle, kind: GroupKind, department: Department | None, manager: Person | None
) -> Any:
    """Select of review ids in a group: a department, or a manager's whole org."""
    stmt = select(Review.id).where(Review.cycle_id == cycle.id)
    if kind == GroupKind.DEPARTMENT:
        assert department is not None  # noqa: S101
        return stmt.where(Review.department_id == department.id)
    assert manager is not None  # noqa: S101
    below = _below(manager.id)
    return stmt.where(
        Review.manager_id.in_(select(below.c.id).union(select(cast(literal(manager.id), Integer))))
    )


def open_session(
    actor: Person,
    cycle: Cycle,
    kind: GroupKind,
    *,
    department: Department | None,
    manager: Person | None,
    managers_calibrate: bool,
) -> CalibrationSession:
    if cycle.state != CycleState.CALIBRATION:
        raise PhaseClosed(gettext("Calibration sessions are opened during the calibration phase."))
    if kind == GroupKind.DEPARTMENT and department is None:
        raise Invalid(gettext("Choose a department."), "department_id")
    if kind == GroupKind.MANAGER_ORG and manager is None:
        raise Invalid(gettext("Choose a manager by name or email."), "manager_email")
    candidates = group_reviews(cycle, kind, department, manager).where(
        Review.id.not_in(select(CalibrationMember.review_id)), Review.final_locked.is_(False)
    )
    available = db.session.scalar(select(func.count()).select_from(candidates.subquery())) or 0
    if not available:
        raise PhaseClosed(
            gettext(
                "Everyone in this group is already in a calibration session, or the "
                "group holds no reviews."
            )
        )
    # Stored: a manager's org is named in the language of the person who opens it.
    owner = manager.name if manager else ""
    name = department.name if department else gettext("%(name)s's org", name=owner)
    session = CalibrationSession(
        cycle_id=cycle.id,
        name=name,
        group_kind=kind,
        department_id=department.id if department else None,
        manager_id=manager.id if manager else None,
        managers_calibrate=managers_calibrate,
        opened_by_id=actor.id,
        state=SessionState.OPEN,
    )
    db.session.add(session)
    db.session.flush()
    db.session.execute(
        insert(CalibrationMember).from_select(
            ["session_id", "review_id"], select(literal(session.id), candidates.subquery().c.id)
        )
    )
    # The proposal is the manager's review: overall, potential and competency ratings.
    manager_part = select(Assessment).where(
        Assessment.review_id == Review.id,
        Assessment.kind == PartKind.MANAGER,
        Assessment.state == PartState.SUBMITTED,
    )
    members = select(CalibrationMember.review_id).where(CalibrationMember.session_id == session.id)
    db.session.execute(
        update(Review)
        .where(Review.id.in_(members), Review.final_locked.is_(False))
        .values(
            final_rating=manager_part.with_only_columns(
                Assessment.overall_rating
            ).scalar_subquery(),
            final_potential=manager_part.with_only_columns(Assessment.potential).scalar_subquery(),
            final_ratings=manager_part.with_only_columns(Assessment.ratings).scalar_subquery(),
        ),
        execution_options={"synchronize_session": False},
    )
    record(
        "calibration.opened",
        actor=actor,
        cycle_id=cycle.id,
        session=session.name,
        reviews=available,
    )
    return session


def members(session: CalibrationSession) -> list[int]:
    return list(
        db.session.scalars(
            select(CalibrationMember.review_id).where(CalibrationMember.session_id == session.id)
        )
    )


def calibrator_ids(session: CalibrationSession) -> set[int]:
    """Managers who may calibrate this session (HR always may)."""
    if not session.managers_calibrate:
        return set()
    ids = set(
        db.session.scalars(
            select(Review.manager_id)
            .join(CalibrationMember, CalibrationMember.review_id == Review.id)
            .where(CalibrationMember.session_id == session.id, Review.manager_id.is_not(None))
            .distinct()
        )
    )
    if session.manager_id:
        ids.add(session.manager_id)
    return {i for i in ids if i is not None}


def change_final(
    actor: Person,
    session: CalibrationSession,
    review: Review,
    expected_version: int,
    change: FinalChange,
    rationale: str,
) -> list[CalibrationChange]:
    """Apply a calibrator's change of final values over exactly the version they saw."""
    if session.state != SessionState.OPEN:
        raise PhaseClosed(gettext("This calibration session is finished; its ratings are locked."))
    if review.subject_id == actor.id:
        raise Forbidden(gettext("Nobody calibrates their own review."))
    if review.final_locked:
        raise PhaseClosed(gettext("This review's final values are locked."))
    if problem := rationale_problem(rationale):
        raise Invalid(problem, "rationale")
    rationale = rationale.strip()
    if review.final_version != expected_version:
        raise _stale(review)
    values: dict[str, object] = {}
    ledger: list[tuple[str, str | None, str]] = []
    if change.overall is not None and change.overall != review.final_rating:
        values["final_rating"] = change.overall
        ledger.append(("overall", _text(review.final_rating), str(change.overall)))
    if change.potential is not None and change.potential != _text(review.final_potential):
        values["final_potential"] = Potential(change.potential)
        ledger.append(("potential", _text(review.final_potential), change.potential))
    current = dict(review.final_ratings or {})
    new_ratings = dict(current)
    for key, value in change.ratings.items():
        if current.get(key) != value:
            new_ratings[key] = value
            ledger.append((key, _text(current.get(key)), str(value)))
    if not ledger:
        raise Invalid(gettext("Nothing changed: choose a different value to record a change."))
    if new_ratings != current:
        values["final_ratings"] = new_ratings
    # Compare-and-set: the later of two concurrent saves updates no row and is told.
    result = db.session.execute(
        update(Review)
        .where(
            Review.id == review.id,
            Review.final_version == expected_version,
            Review.final_locked.is_(False),
        )
        .values(final_version=Review.final_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.session.rollback()
        fresh = db.session.get(Review, review.id, populate_existing=True)
        assert fresh is not None  # noqa: S101
        raise _stale(fresh)
    now = utcnow()
    changes = [
        CalibrationChange(
            session_id=session.id,
            review_id=review.id,
            actor_id=actor.id,
            at=now,
            field=field,
            old_value=old,
            new_value=new,
            rationale=rationale,
        )
        for field, old, new in ledger
    ]
    db.session.add_all(changes)
    db.session.flush()
    db.session.refresh(review)
    record(
        "calibration.changed",
        actor=actor,
        subject=review.subject,
        cycle_id=review.cycle_id,
        session=session.name,
        fields=[c.field for c in changes],
    )
    return changes


def _text(value: object) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def finish_session(actor: Person, session: CalibrationSession) -> None:
    if session.state != SessionState.OPEN:
        raise PhaseClosed(gettext("This session is already finished."))
    missing = db.session.scalar(
        select(func.count())
        .select_from(CalibrationMember)
        .join(Review, Review.id == CalibrationMember.review_id)
        .join(
            Assessment,
            and_(
                Assessment.review_id == Review.id,
                Assessment.kind == PartKind.MANAGER,
                Assessment.state == PartState.SUBMITTED,
            ),
        )
        .where(CalibrationMember.session_id == session.id, Review.final_rating.is_(None))
    )
    if missing:
        raise PhaseClosed(
            ngettext(
                "%(num)d reviewed person has no final rating yet.",
                "%(num)d reviewed people have no final rating yet.",
                missing,
            )
        )
    session.state = SessionState.FINISHED
    session.finished_at = utcnow()
    db.session.execute(
        update(Review)
        .where(
            Review.id.in_(
                select(CalibrationMember.review_id).where(
                    CalibrationMember.session_id == session.id
                )
            ),
            Review.final_rating.is_not(None),
        )
        .values(final_locked=true()),
        execution_options={"synchronize_session": False},
    )
    db.session.flush()
    record("calibration.finished", actor=actor, cycle_id=session.cycle_id, session=session.name)


def uncalibrated(cycle: Cycle) -> Any:
    """Reviews with a submitted manager part that no session holds and nothing locked."""
    return (
        select(Review.id)
        .join(
            Assessment,
            and_(
                Assessment.review_id == Review.id,
                Assessment.kind == PartKind.MANAGER,
                Assessment.state == PartState.SUBMITTED,
            ),
        )
        .where(
            Review.cycle_id == cycle.id,
            Review.final_locked.is_(False),
            # one probe of the member index per review, not a hash of every member of
            # every cycle built first
            ~select(CalibrationMember.review_id)
            .where(CalibrationMember.review_id == Review.id)
            .exists(),
        )
    )


def finalise_uncalibrated(actor: Person, cycle: Cycle) -> int:
    """Lock the manager's rating as final for reviews no session holds; recorded per review."""
    if cycle.state != CycleState.CALIBRATION:
        raise PhaseClosed(gettext("Reviews are finalised during the calibration phase."))
    rows = db.session.execute(
        uncalibrated(cycle).with_only_columns(
            Review.id, Assessment.overall_rating, Assessment.potential, Assessment.ratings
        )
    ).all()
    if not rows:
        raise PhaseClosed(gettext("Every submitted review is already calibrated or finalised."))
    now = utcnow()
    rationale = str(FINALISED_WITHOUT_SESSION)
    db.session.execute(
        update(Review),
        [
            {
                "id": rid,
                "final_rating": overall,
                "final_potential": potential,
                "final_ratings": ratings,
                "final_locked": True,
                "final_version": 1,
            }
            for rid, overall, potential, ratings in rows
        ],
    )
    db.session.execute(
        insert(CalibrationChange),
        [
            {
                "session_id": None,
                "review_id": rid,
                "actor_id": actor.id,
                "at": now,
                "field": "overall",
                "old_value": None,
                "new_value": str(overall),
                "rationale": rationale,
            }
            for rid, overall, _p, _r in rows
        ],
    )
    record("calibration.finalised", actor=actor, cycle_id=cycle.id, reviews=len(rows))
    return len(rows)


def acknowledge(actor: Person, review: Review, comment: str) -> None:
    if review.subject_id != actor.id:
        raise Forbidden(gettext("Only the person reviewed acknowledges their review."))
    if not reached(review.cycle.state, CycleState.RELEASED):
        raise PhaseClosed(gettext("The review is not released yet."))
    if review.acknowledged_at is not None:
        raise PhaseClosed(gettext("You already acknowledged this review."))
    comment = comment.strip()
    if len(comment) > MAX_RATIONALE:
        raise Invalid(
            gettext("Keep the comment under %(max)d characters.", max=MAX_RATIONALE), "comment"
        )
    review.acknowledged_at = utcnow()
    review.acknowledgement_comment = comment or None
    db.session.flush()
    record("review.acknowledged", actor=actor, subject=actor, cycle_id=review.cycle_id)
    if review.manager_id:
        notify(
            Message(
                review.manager_id,
                "review_acknowledged",
                # lazy: written in the recipient's language when it is stored
                lazy_gettext(
                    "%(cycle)s: %(name)s read their review",
                    cycle=review.cycle.name,
                    name=actor.name,
                ),
                lazy_gettext(
                    "%(name)s acknowledged their review and left a comment.", name=actor.name
                )
                if comment
                else lazy_gettext("%(name)s acknowledged their review.", name=actor.name),
                Link("cycles.review", review.id),
            )
        )
