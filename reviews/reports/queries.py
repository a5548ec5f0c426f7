"""Figures and rows for HR reports, each in a bounded number of statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from operator import add
from typing import Any

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import aliased

from reviews.calibration.models import CalibrationChange, CalibrationSession
from reviews.cycles.models import (
    Assessment,
    Cycle,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.queries import org_manager_ids
from reviews.cycles.reading import cycle_policy
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Department, Person

CHUNK = 1000
NO_DEPARTMENT = "No department"


@dataclass
class Completion:
    # built positionally from completion_figures, which lists the sums in this order
    label: str
    reviews: int = 0
    self_done: int = 0
    nominated: int = 0
    peer_done: int = 0
    peer_total: int = 0
    manager_done: int = 0
    manager_total: int = 0
    calibrated: int = 0
    acknowledged: int = 0
    declined: int = 0

    @property
    def share(self) -> float:
        """Share of the cycle's tasks done so far: self, peer and manager parts, and
        acknowledgements (calibration is HR's, not the group's)."""
        tasks = 2 * self.reviews + self.peer_total + self.manager_total
        done = self.self_done + self.peer_done + self.manager_done + self.acknowledged
        return done / tasks if tasks else 1.0


@dataclass
class Scope:
    """Which reviews a report covers: a department, a manager's org, or all."""

    department_id: int | None = None
    manager_id: int | None = None  # everyone whose frozen manager is in this manager's org

    def apply(self, stmt: Any) -> Any:
        if self.department_id:
            stmt = stmt.where(Review.department_id == self.department_id)
        if self.manager_id:
            stmt = stmt.where(Review.manager_id.in_(org_manager_ids(self.manager_id)))
        return stmt


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def completion_figures(cycle: Cycle) -> list[Any]:
    """The sums over reviews a Completion is built from, in the order of its fields:
    each review carries its counts of submitted parts and decided peer requests
    (reviews.cycles.counters)."""
    return [
        func.count().label("reviews"),
        func.sum(Review.self_done).label("self_done"),
        _count(Review.peers_approved >= cycle.peer_min).label("nominated"),
        func.sum(Review.peers_done).label("peer_done"),
        func.sum(Review.peers_approved).label("peer_total"),
        func.sum(Review.manager_done).label("manager_done"),
        # launch gives every review with a manager a manager part
        _count(Review.manager_id.is_not(None)).label("manager_total"),
        _count(Review.final_locked.is_(True)).label("calibrated"),
        _count(Review.acknowledged_at.is_not(None)).label("acknowledged"),
        func.sum(Review.peers_declined).label("declined"),
    ]


def completion(cycle: Cycle, by: str) -> tuple[Completion, list[Completion]]:
    """Totals and one row per department (by="department", by name) or per frozen
    manager (by="manager", by name), from each review's counters."""
    connection = db.session.connection()  # plain rows: no ORM result to build
    rows = connection.execute(
        select(Review.department_id, *completion_figures(cycle))
        .where(Review.cycle_id == cycle.id)
        .group_by(Review.department_id)
    ).all()
    total, departments = _by_department(
        [(d, [v or 0 for v in values]) for d, *values in rows], _department_names()
    )
    if by == "manager":
        return total, manager_completion(cycle, order="name")[0]
    return total, departments


def _department_names() -> dict[Any, str]:
    connection = db.session.connection()
    return dict(connection.execute(select(Department.id, Department.name)).all())


def _by_department(
    rows: list[tuple[Any, list[int]]], names: dict[Any, str]
) -> tuple[Completion, list[Completion]]:
    """Totals and one Completion per department (by name) from (department id,
    figures in Completion's order) rows, several rows of a department added up."""
    sums: dict[Any, list[int]] = {}
    for department_id, figures in rows:
        found = sums.get(department_id)
        sums[department_id] = figures if found is None else list(map(add, found, figures))
    departments = sorted(
        (
            Completion(names.get(d, NO_DEPARTMENT) if d else NO_DEPARTMENT, *figures)
            for d, figures in sums.items()
        ),
        key=lambda r: r.label,
    )
    total = Completion("All", *(sum(column) for column in zip(*sums.values(), strict=True)))
    return total, departments


def manager_completion(
    cycle: Cycle, *, order: str = "behind", limit: int | None = None, offset: int = 0
) -> tuple[list[Completion], int]:
    """Completion per frozen manager, ordered and cut in SQL: the least complete first
    (order="behind": share of tasks done, then most reviews, then name) or by name;
    with the number of managers (the reviews without a manager count as one more).

    The dashboard shows 25 of some 1,500 managers at 10,000 people: the database sorts
    them, and only the rows shown come back. Names sort in the database's collation."""
    figures = completion_figures(cycle)
    groups = (
        select(Review.manager_id.label("m"), *figures)
        .where(Review.cycle_id == cycle.id)
        .group_by(Review.manager_id)
        .subquery()
    )
    c = groups.c
    tasks = 2 * c.reviews + c.peer_total + c.manager_total
    done = c.self_done + c.peer_done + c.manager_done + c.acknowledged
    share = case((tasks > 0, cast(done, Float) / cast(tasks, Float)), else_=1.0)  # as .share
    person = aliased(Person)
    label = func.coalesce(person.name, "No manager")
    ordering = (
        (func.lower(label), c.m) if order == "name" else (share, c.reviews.desc(), label, c.m)
    )
    stmt = (
        select(label, func.count().over(), *(c[f.name] for f in figures))
        .select_from(groups)
        .outerjoin(person, person.id == c.m)
        .order_by(*ordering)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = db.session.connection().execute(stmt).all()
    total = rows[0][1] if rows else 0  # 0 too when `offset` is past the last row
    return [Completion(name, *(v or 0 for v in values)) for name, _n, *values in rows], total


@dataclass
class Distributions:
    overall: list[int] = field(default_factory=lambda: [0] * 5)
    by_department: dict[str, list[int]] = field(default_factory=dict)
    by_level: dict[str, list[int]] = field(default_factory=dict)


def department_figures(cycle: Cycle) -> tuple[Completion, list[Completion], Distributions]:
    """The dashboard's totals, completion by department and rating distributions
    (overall, by department, by level), from one pass over the cycle's reviews
    grouped by department, level and rating: some 200 groups at 10,000 people,
    where two passes (completion and distributions) cost twice the reading."""
    rating = func.coalesce(Review.final_rating, Review.manager_overall)
    rows = (
        db.session.connection()
        .execute(
            select(Review.department_id, Review.level_key, rating, *completion_figures(cycle))
            .where(Review.cycle_id == cycle.id)
            .group_by(Review.department_id, Review.level_key, rating)
        )
        .all()
    )
    names = _department_names()
    snapshot = (
        FrameworkSnapshot(cycle.framework_snapshot or {}) if cycle.framework_snapshot else None
    )
    figures_by_department = []
    dists = Distributions()
    for department_id, level, value, *values in rows:
        figures = [v or 0 for v in values]
        figures_by_department.append((department_id, figures))
        if value is None:
            continue
        n = figures[0]  # reviews
        department = names.get(department_id, NO_DEPARTMENT) if department_id else NO_DEPARTMENT
        dists.overall[value - 1] += n
        dists.by_department.setdefault(department, [0] * 5)[value - 1] += n
        level_name = snapshot.level_name(level) if snapshot else (level or "No level")
        dists.by_level.setdefault(level_name, [0] * 5)[value - 1] += n
    total, departments = _by_department(figures_by_department, names)
    return total, departments, dists


@dataclass
class CalibrationChanges:
    total: int = 0
    up: int = 0
    down: int = 0
    by_session: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (up, down)


def calibration_changes(cycle: Cycle) -> CalibrationChanges:
    rows = db.session.execute(
        select(CalibrationSession.name, CalibrationChange.old_value, CalibrationChange.new_value)
        .join(Review, Review.id == CalibrationChange.review_id)
        .outerjoin(CalibrationSession, CalibrationSession.id == CalibrationChange.session_id)
        .where(
            Review.cycle_id == cycle.id,
            CalibrationChange.field == "overall",
            CalibrationChange.old_value.is_not(None),
        )
    ).all()
    result = CalibrationChanges()
    for session, old, new in rows:
        if not (old and new and old.isdigit() and new.isdigit()) or old == new:
            continue
        up = int(new) > int(old)
        result.total += 1
        result.up += up
        result.down += not up
        u, d = result.by_session.get(session or "Finalised", (0, 0))
        result.by_session[session or "Finalised"] = (u + up, d + (not up))
    return result


@dataclass(frozen=True)
class Overdue:
    name: str
    email: str
    task: str
    due: date
    link_review: int | None


def _without_subjects(late: list[Overdue]) -> list[Overdue]:
    """Late peers, one line each with how many requests they owe: in a cycle that keeps
    peer authors from HR, who owes feedback on whom would tell, by elimination, who
    wrote on whom."""
    owed: dict[tuple[str, str], int] = {}
    for item in late:
        owed[(item.name, item.email)] = owed.get((item.name, item.email), 0) + 1
    return [
        Overdue(
            name, email, f"peer feedback ({n} request{'s' if n != 1 else ''})", late[0].due, None
        )
        for (name, email), n in owed.items()
    ]


def overdue(cycle: Cycle, today: date, scope: Scope | None = None) -> list[Overdue]:
    """Who is late in the current phase (its deadline has passed)."""
    scope = scope or Scope()
    due = cycle.due(cycle.state)
    if due is None or due >= today:
        return []
    subject = aliased(Person)
    late: list[Overdue] = []
    if cycle.state == CycleState.SELF_REVIEW:
        for name, email, rid in db.session.execute(
            scope.apply(
                select(subject.name, subject.email, Review.id)
                .join(subject, subject.id == Review.subject_id)
                .join(Assessment, Assessment.review_id == Review.id)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.SELF,
                    Assessment.state == PartState.DRAFT,
                )
            ).order_by(subject.name)
        ):
            late.append(Overdue(name, email, "self-review", due, rid))
    elif cycle.state == CycleState.PEER_FEEDBACK:
        reviewer = aliased(Person)
        for name, email, who in db.session.execute(
            scope.apply(
                select(reviewer.name, reviewer.email, subject.name)
                .select_from(PeerRequest)
                .join(Review, Review.id == PeerRequest.review_id)
                .join(reviewer, reviewer.id == PeerRequest.reviewer_id)
                .join(subject, subject.id == Review.subject_id)
                .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
                .where(
                    Review.cycle_id == cycle.id,
                    PeerRequest.state == RequestState.APPROVED,
                    (Assessment.id.is_(None)) | (Assessment.state == PartState.DRAFT),
                )
            ).order_by(reviewer.name, subject.name)
        ):
            late.append(Overdue(name, email, f"peer feedback for {who}", due, None))
        if not cycle_policy(cycle).names_to_staff:
            late = _without_subjects(late)
    elif cycle.state == CycleState.MANAGER_REVIEW:
        manager = aliased(Person)
        for name, email, who, rid in db.session.execute(
            scope.apply(
                select(manager.name, manager.email, subject.name, Review.id)
                .join(manager, manager.id == Review.manager_id)
                .join(subject, subject.id == Review.subject_id)
                .join(Assessment, Assessment.review_id == Review.id)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.MANAGER,
                    Assessment.state == PartState.DRAFT,
                )
            ).order_by(manager.name)
        ):
            late.append(Overdue(name, email, f"review of {who}", due, rid))
    return late
