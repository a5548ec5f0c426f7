"""Figures and rows for HR reports, each in a bounded number of statements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from operator import add
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import aliased

from reviews.calibration.models import CalibrationChange, CalibrationSession
from reviews.cycles.figures import FIGURES, SHARE_DONE
from reviews.cycles.models import (
    Assessment,
    Cycle,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
    cycle_group_figures,
    cycle_manager_figures,
)
from reviews.cycles.queries import org_manager_ids
from reviews.cycles.reading import cycle_policy
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.languages import gettext, lazy_gettext, ngettext
from reviews.people.models import Department, Person

CHUNK = 1000
NO_DEPARTMENT = lazy_gettext("No department")  # str() where used: a label and a dict key


@dataclass
class Completion:
    # built positionally from the figures (reviews.cycles.figures.FIGURES), in this order
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


def _sums(table: Any) -> list[Any]:
    """The sums of a Completion's figures, in the order of its fields, over rows of a
    figures table (reviews.cycles.figures)."""
    return [func.sum(table.c[name]).label(name) for name in FIGURES]


def completion(cycle: Cycle, by: str) -> tuple[Completion, list[Completion]]:
    """Totals and one row per department (by="department", by name) or per frozen
    manager (by="manager", by name), from the cycle's figures: a few hundred rows
    whatever the size of the cycle."""
    g = cycle_group_figures
    rows = (
        db.session.connection()  # plain rows: no ORM result to build
        .execute(
            select(g.c.department_key, *_sums(g))
            .where(g.c.cycle_id == cycle.id)
            .group_by(g.c.department_key)
        )
        .all()
    )
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
    """Totals and one Completion per department (by name) from (department key,
    figures in Completion's order) rows, several rows of a department added up; a
    department with no review in the cycle has none."""
    sums: dict[Any, list[int]] = {}
    for department_key, figures in rows:
        if not figures[0]:
            continue
        found = sums.get(department_key)
        sums[department_key] = figures if found is None else list(map(add, found, figures))
    none = str(NO_DEPARTMENT)
    departments = sorted(
        (Completion(names.get(d, none) if d else none, *figures) for d, figures in sums.items()),
        key=lambda r: r.label,
    )
    total = Completion(
        gettext("All"), *(sum(column) for column in zip(*sums.values(), strict=True))
    )
    return total, departments


def manager_completion(
    cycle: Cycle, *, order: str = "behind", limit: int | None = None, offset: int = 0
) -> tuple[list[Completion], int]:
    """Completion per frozen manager, ordered and cut in SQL: the least complete first
    (order="behind": share of tasks done, then most reviews, then the manager's id, so
    that a page's order is stable) or by name; with the number of managers (the
    reviews without a manager count as one more).

    The dashboard shows 25 of some 15,000 managers at 100,000 people: it reads them
    from an index in the "behind" order (figures.SHARE_DONE), not by sorting every
    manager (ties broken by name needed every manager's name first: 40 ms). Names
    sort in the database's collation, ties by the manager's id. HR's managers page
    reads a page at a time after a given manager: reports.managers.managers_page."""
    m = cycle_manager_figures
    connection = db.session.connection()
    total = (
        connection.scalar(select(func.count()).select_from(m).where(m.c.cycle_id == cycle.id)) or 0
    )
    person = aliased(Person)
    label = func.coalesce(person.name, gettext("No manager"))
    ordering = (
        (label, m.c.manager_key)  # as the managers page (reports.managers) pages them
        if order == "name"
        else (text(SHARE_DONE), m.c.reviews.desc(), m.c.manager_key)
    )
    stmt = (
        select(label, *(m.c[name] for name in FIGURES))
        .select_from(m)
        .outerjoin(person, person.id == m.c.manager_key)
        .where(m.c.cycle_id == cycle.id)
        .order_by(*ordering)
        .offset(offset)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = connection.execute(stmt).all()
    return [Completion(name, *values) for name, *values in rows], total


@dataclass
class Distributions:
    overall: list[int] = field(default_factory=lambda: [0] * 5)
    by_department: dict[str, list[int]] = field(default_factory=dict)
    by_level: dict[str, list[int]] = field(default_factory=dict)


def department_figures(cycle: Cycle) -> tuple[Completion, list[Completion], Distributions]:
    """The dashboard's totals, completion by department and rating distributions
    (overall, by department, by level), from the cycle's figures by department, level
    and rating: some hundreds of rows whatever the size of the cycle."""
    g = cycle_group_figures
    rows = (
        db.session.connection()
        .execute(
            select(
                g.c.department_key, g.c.level_key, g.c.rating, *(g.c[name] for name in FIGURES)
            ).where(g.c.cycle_id == cycle.id, g.c.reviews > 0)
        )
        .all()
    )
    names = _department_names()
    snapshot = (
        FrameworkSnapshot(cycle.framework_snapshot or {}) if cycle.framework_snapshot else None
    )
    figures_by_department = []
    dists = Distributions()
    no_department, no_level = str(NO_DEPARTMENT), gettext("No level")
    for department_key, level, value, *figures in rows:
        figures_by_department.append((department_key, figures))
        if not value:
            continue
        n = figures[0]  # reviews
        department = names.get(department_key, no_department) if department_key else no_department
        dists.overall[value - 1] += n
        dists.by_department.setdefault(department, [0] * 5)[value - 1] += n
        level_name = snapshot.level_name(level or None) if snapshot else (level or no_level)
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
    """Overall ratings moved up and down in calibration, by session: counted by the
    database per (session, from, to), so Python sees a few dozen groups, not one row
    per person (finalising a cycle records an unchanged rating for everyone)."""
    session_name = CalibrationSession.name
    rows = db.session.execute(
        select(
            session_name,
            CalibrationChange.old_value,
            CalibrationChange.new_value,
            func.count(),
        )
        .join(Review, Review.id == CalibrationChange.review_id)
        .outerjoin(CalibrationSession, CalibrationSession.id == CalibrationChange.session_id)
        .where(
            Review.cycle_id == cycle.id,
            CalibrationChange.field == "overall",
            CalibrationChange.old_value.is_not(None),
            CalibrationChange.old_value != CalibrationChange.new_value,
        )
        .group_by(session_name, CalibrationChange.old_value, CalibrationChange.new_value)
    ).all()
    result = CalibrationChanges()
    unsessioned = gettext("Finalised")  # the changes no session made
    for session, old, new, count in rows:
        if not (old and new and old.isdigit() and new.isdigit()) or int(old) == int(new):
            continue
        up = int(new) > int(old)
        result.total += count
        result.up += count if up else 0
        result.down += 0 if up else count
        u, d = result.by_session.get(session or unsessioned, (0, 0))
        result.by_session[session or unsessioned] = (
            u + (count if up else 0),
            d + (0 if up else count),
        )
    return result


@dataclass(frozen=True)
class Overdue:
    name: str
    email: str
    task: str
    due: date
    link_review: int | None


def overdue_count(cycle: Cycle, today: date, total: Completion) -> int:
    """How many tasks of the current phase are past its deadline, from the cycle's
    figures (`total`): the parts and approved requests not yet submitted."""
    due = cycle.due(cycle.state)
    if due is None or due >= today:
        return 0
    return {
        CycleState.SELF_REVIEW: total.reviews - total.self_done,
        CycleState.PEER_FEEDBACK: total.peer_total - total.peer_done,
        CycleState.MANAGER_REVIEW: total.manager_total - total.manager_done,
    }.get(cycle.state, 0)


def overdue(
    cycle: Cycle, today: date, scope: Scope | None = None, limit: int | None = None
) -> list[Overdue]:
    """Who is late in the current phase (its deadline has passed), by name, the first
    `limit` of them. Late peers in a cycle that keeps peer authors from HR are one line
    each with how many requests they owe: who owes feedback on whom would tell, by
    elimination, who wrote on whom."""
    scope = scope or Scope()
    due = cycle.due(cycle.state)
    if due is None or due >= today:
        return []
    subject = aliased(Person)

    def first(stmt: Any) -> Any:
        return db.session.execute(stmt if limit is None else stmt.limit(limit))

    late: list[Overdue] = []
    if cycle.state == CycleState.SELF_REVIEW:
        for name, email, rid in first(
            scope.apply(
                select(subject.name, subject.email, Review.id)
                .join(subject, subject.id == Review.subject_id)
                .join(Assessment, Assessment.review_id == Review.id)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.SELF,
                    Assessment.state == PartState.DRAFT,
                )
            ).order_by(subject.name, Review.id)
        ):
            late.append(Overdue(name, email, gettext("self-review"), due, rid))
    elif cycle.state == CycleState.PEER_FEEDBACK:
        reviewer = aliased(Person)
        requests = scope.apply(
            select(PeerRequest.id)
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
        )
        if cycle_policy(cycle).names_to_staff:
            for name, email, who in first(
                requests.with_only_columns(reviewer.name, reviewer.email, subject.name).order_by(
                    reviewer.name, subject.name, PeerRequest.id
                )
            ):
                task = gettext("peer feedback for %(name)s", name=who)
                late.append(Overdue(name, email, task, due, None))
        else:
            for name, email, n in first(
                requests.with_only_columns(reviewer.name, reviewer.email, func.count())
                .group_by(reviewer.id, reviewer.name, reviewer.email)
                .order_by(reviewer.name, reviewer.id)
            ):
                task = ngettext(
                    "peer feedback (%(num)d request)", "peer feedback (%(num)d requests)", n
                )
                late.append(Overdue(name, email, task, due, None))
    elif cycle.state == CycleState.MANAGER_REVIEW:
        manager = aliased(Person)
        for name, email, who, rid in first(
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
            ).order_by(manager.name, subject.name, Review.id)
        ):
            late.append(Overdue(name, email, gettext("review of %(name)s", name=who), due, rid))
    return late
