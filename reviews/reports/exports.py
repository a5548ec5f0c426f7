"""The cycle report (CSV and XLSX) and the calibration ledger, streamed a chunk at a time:
plain rows, never ORM objects, so memory stays flat whatever the size of the cycle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Float, String, cast, func, select, true, type_coerce
from sqlalchemy.orm import aliased

from reviews.calibration.models import CalibrationChange, CalibrationSession
from reviews.calibration.scoring import mean
from reviews.cycles.models import (
    Assessment,
    Cycle,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.parts import POTENTIAL, READINESS
from reviews.cycles.reading import cycle_policy
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.visibility import Viewer, peer_figures_shown
from reviews.extensions import db
from reviews.people.models import Department, Person
from reviews.reports.queries import CHUNK, Scope
from reviews.reports.spreadsheets import Column

# The report's columns (SPEC 7), headed as people read them.
REPORT_FIXED = [
    Column("Employee", 24),
    Column("Email", 30),
    Column("Department", 20),
    Column("Level", 20),
    Column("Manager", 24),
    Column("Self-review", 12),
    Column("Peers approved", 10),
    Column("Peer feedback received", 11),
    Column("Manager review", 12),
    Column("Calibrated", 11),
    Column("Self average", 10),
    Column("Peer average", 10),
    Column("Manager average", 10),
    Column("Manager overall rating", 11),
    Column("Final rating", 10),
]
REPORT_TAIL = [
    Column("Potential", 11),
    Column("Promotion readiness", 14),
    Column("Acknowledged on", 14),
]
PART_STATES = {None: "Not started", "draft": "Draft", "submitted": "Submitted"}


def _snapshot(cycle: Cycle) -> FrameworkSnapshot | None:
    """The framework the cycle froze at launch (None for a cycle without one)."""
    return FrameworkSnapshot(cycle.framework_snapshot) if cycle.framework_snapshot else None


def report_header(cycle: Cycle) -> list[Column]:
    """The fixed columns, one "Final: <competency>" per competency of the cycle's
    framework, then potential, readiness and acknowledgement."""
    snapshot = _snapshot(cycle)
    competencies = snapshot.competencies if snapshot else []
    finals = [Column(f"Final: {c.name}", max(12, min(28, len(c.name) + 8))) for c in competencies]
    return REPORT_FIXED + finals + REPORT_TAIL


def _avg(values: dict[str, int] | None) -> float | None:
    return round(mean(list(values.values())), 2) if values else None


def rating_values(column: Any) -> Any:
    """The values of a JSON object column as rows of a table-valued function (one
    column, `value`), on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.json_each_text(column).table_valued("key", "value")
    return func.json_each(column).table_valued("key", "value")


def report_rows(cycle: Cycle, scope: Scope | None = None) -> Iterator[list[Any]]:
    """One row per review, fetched a chunk at a time: memory stays flat with the cycle.

    No peer identity is in any column: peers appear only as counts and an average, and
    the average only where the cycle shows authors to managers and HR or at least its
    threshold of peers responded (`visibility.peer_figures_shown`).
    """
    scope = scope or Scope()
    snapshot = _snapshot(cycle)
    keys = snapshot.keys if snapshot else []
    policy = cycle_policy(cycle)
    last = 0
    subject, manager = aliased(Person), aliased(Person)
    connection = db.session.connection()
    values = rating_values(Assessment.ratings)
    while True:
        chunk = connection.execute(
            scope.apply(
                # Columns, not entities: plain rows are several times cheaper than
                # ORM objects, and an export of 10,000 reviews reads every one.
                select(
                    Review.id,
                    Review.level_key,
                    Review.final_locked,
                    Review.final_rating,
                    Review.final_ratings,
                    type_coerce(Review.final_potential, String),
                    Review.acknowledged_at,
                    subject.name,
                    subject.email,
                    Department.name,
                    manager.name,
                )
                .join(subject, subject.id == Review.subject_id)
                .outerjoin(manager, manager.id == Review.manager_id)
                .outerjoin(Department, Department.id == Review.department_id)
                .where(Review.cycle_id == cycle.id, Review.id > last)
            )
            .order_by(Review.id)
            .limit(CHUNK)
        ).all()
        if not chunk:
            return
        ids = [r[0] for r in chunk]
        # The chunk is a run of review ids: a range, not a list of 1,000 parameters
        # (rows of another cycle's reviews inside the range are skipped below).
        in_chunk = set(ids)
        first, final = ids[0], ids[-1]
        parts: dict[int, dict[str, Any]] = {}
        submitted = PartState.SUBMITTED.value
        for (
            review_id,
            kind,
            state,
            ratings,
            overall,
            potential,
            readiness,
        ) in connection.execute(
            select(
                Assessment.review_id,
                type_coerce(Assessment.kind, String),  # enums as their strings
                type_coerce(Assessment.state, String),
                Assessment.ratings,
                Assessment.overall_rating,
                type_coerce(Assessment.potential, String),
                type_coerce(Assessment.promotion_readiness, String),
            ).where(
                Assessment.review_id.between(first, final),
                Assessment.kind.in_((PartKind.SELF, PartKind.MANAGER)),
            )
        ):
            if review_id in in_chunk:
                parts.setdefault(review_id, {})[kind] = (
                    state,
                    ratings,
                    overall,
                    potential,
                    readiness,
                )
        # Peers only as a count and the mean of all their ratings: the database
        # averages the JSON values, no peer part is read into Python.
        peers = {
            review_id: (n, average)
            for review_id, n, average in connection.execute(
                select(
                    Assessment.review_id,
                    func.count(func.distinct(Assessment.id)),
                    func.avg(cast(values.c.value, Float)),
                )
                .select_from(Assessment)
                .outerjoin(values, true())
                .where(
                    Assessment.review_id.between(first, final),
                    Assessment.kind == PartKind.PEER,
                    Assessment.state == PartState.SUBMITTED,
                )
                .group_by(Assessment.review_id)
            )
        }
        approved = dict(
            connection.execute(
                select(PeerRequest.review_id, func.count())
                .where(
                    PeerRequest.review_id.between(first, final),
                    PeerRequest.state == RequestState.APPROVED,
                )
                .group_by(PeerRequest.review_id)
            ).all()
        )
        for (
            review_id,
            level_key,
            final_locked,
            final_rating,
            final_ratings,
            final_potential,
            acknowledged_at,
            name,
            email,
            department,
            manager_name,
        ) in chunk:
            own = parts.get(review_id, {})
            self_part, manager_part = own.get("self"), own.get("manager")
            manager_state = manager_part[0] if manager_part else ""
            if manager_part and manager_part[0] != submitted:
                manager_part = None  # a draft is not a result
            peer_count, peer_average = peers.get(review_id, (0, None))
            if not peer_figures_shown(Viewer.HR, policy, peer_count):
                peer_average = None  # an average of fewer peers than the threshold
            finals = final_ratings or (manager_part[1] if manager_part else {}) or {}
            yield [
                name,
                email,
                department or "",
                snapshot.level_name(level_key) if snapshot else level_key or "",
                manager_name or "",
                PART_STATES[self_part[0] if self_part else None],
                approved.get(review_id, 0),
                peer_count,  # a number: "2/3" would become a date in a spreadsheet
                PART_STATES[manager_state or None],
                "Yes" if final_locked else "No",
                _avg(self_part[1]) if self_part and self_part[0] == submitted else None,
                round(float(peer_average), 2) if peer_average is not None else None,
                _avg(manager_part[1]) if manager_part else None,
                manager_part[2] if manager_part else None,
                final_rating,
                *[finals.get(k) for k in keys],
                POTENTIAL.get(final_potential, "")
                if final_potential
                else (POTENTIAL.get(manager_part[3], "") if manager_part else ""),
                READINESS.get(manager_part[4], "") if manager_part else "",
                acknowledged_at.date() if acknowledged_at else None,
            ]
        last = ids[-1]


LEDGER_HEADER = [
    Column("When (UTC)", 19),
    Column("Employee", 24),
    Column("Email", 30),
    Column("Session", 24),
    Column("What changed", 24),
    Column("From", 10),
    Column("To", 10),
    Column("By", 24),
    Column("Rationale", 60),
]


def _field_label(field_name: str, snapshot: FrameworkSnapshot | None) -> str:
    """The ledger's field keys as people read them: "overall" -> "Overall rating",
    a competency's key -> "Rating: <competency>"."""
    if field_name == "overall":
        return "Overall rating"
    if field_name == "potential":
        return "Potential"
    if snapshot is not None:
        for competency in snapshot.competencies:
            if competency.key == field_name:
                return f"Rating: {competency.name}"
    return field_name


def _ledger_value(field_name: str, value: str | None) -> Any:
    if value is None or value == "":
        return None
    if field_name == "potential":
        return POTENTIAL.get(value, value)
    return int(value) if value.isdigit() else value


def ledger_rows(cycle: Cycle, scope: Scope | None = None) -> Iterator[list[Any]]:
    scope = scope or Scope()
    snapshot = _snapshot(cycle)
    subject, actor = aliased(Person), aliased(Person)
    rows = db.session.execute(
        scope.apply(
            select(
                CalibrationChange.at,
                subject.name,
                subject.email,
                CalibrationSession.name,
                CalibrationChange.field,
                CalibrationChange.old_value,
                CalibrationChange.new_value,
                actor.name,
                CalibrationChange.rationale,
            )
            .select_from(CalibrationChange)
            .join(Review, Review.id == CalibrationChange.review_id)
            .join(subject, subject.id == Review.subject_id)
            .outerjoin(actor, actor.id == CalibrationChange.actor_id)
            .outerjoin(CalibrationSession, CalibrationSession.id == CalibrationChange.session_id)
            .where(Review.cycle_id == cycle.id)
        ).order_by(CalibrationChange.at, CalibrationChange.id)
    ).yield_per(CHUNK)
    for at, name, email, session, field_name, old, new, by, why in rows:
        yield [
            at.replace(tzinfo=None, microsecond=0),  # UTC, as the heading says
            name,
            email,
            session or "Finalised without a session",
            _field_label(field_name, snapshot),
            _ledger_value(field_name, old),
            _ledger_value(field_name, new),
            by or "Reviews (automatic)",
            why,
        ]
