"""Read side of cycles: tasks, progress and team overviews, in bounded statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.orm import aliased, joinedload

from reviews.cycles.models import (
    Assessment,
    Cycle,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.workflow import APPROVAL_OPEN, MANAGER_OPEN, PEER_OPEN, SELF_OPEN, CycleState
from reviews.extensions import db
from reviews.links import Link
from reviews.people.models import Person


@dataclass(frozen=True)
class Task:
    title: str
    detail: str
    link: Link
    due: date | None
    cycle: str

    def overdue(self, today: date) -> bool:
        return self.due is not None and self.due < today


def tasks_for(person: Person) -> list[Task]:
    """What `person` has to do now, across running cycles, overdue first."""
    tasks: list[Task] = []
    # Own self-reviews (open phase, or reopened by HR) and nominations.
    own_rows = db.session.execute(
        select(Review, Assessment, Cycle)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(Assessment, (Assessment.review_id == Review.id) & (Assessment.kind == PartKind.SELF))
        .where(
            Review.subject_id == person.id,
            Cycle.state.not_in([CycleState.DRAFT, CycleState.CLOSED]),
        )
    ).all()
    live_counts = _live_request_counts([r.id for r, _, _ in own_rows])
    for review, part, cycle in own_rows:
        if part.state == PartState.DRAFT and (cycle.state in SELF_OPEN or part.reopened):
            tasks.append(
                Task(
                    "Write your self-review",
                    "Rate yourself against your level and note what you achieved.",
                    Link("cycles.self_part", review.id),
                    cycle.self_review_due,
                    cycle.name,
                )
            )
        if cycle.state in SELF_OPEN and live_counts.get(review.id, 0) < cycle.peer_min:
            need = cycle.peer_min - live_counts.get(review.id, 0)
            tasks.append(
                Task(
                    "Nominate peers",
                    f"Ask {need} more colleague{'s' if need != 1 else ''} for feedback.",
                    Link("cycles.nominations", review.id),
                    cycle.self_review_due,
                    cycle.name,
                )
            )
    # Peer requests to answer.
    subject = aliased(Person)
    request_rows = db.session.execute(
        select(PeerRequest.id, subject.name, Cycle, Assessment.state)
        .join(Review, PeerRequest.review_id == Review.id)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(subject, Review.subject_id == subject.id)
        .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
        .where(
            PeerRequest.reviewer_id == person.id,
            PeerRequest.state == RequestState.APPROVED,
            Cycle.state.in_(PEER_OPEN),
        )
    ).all()
    for request_id, name, cycle, state in request_rows:
        if state != PartState.SUBMITTED:
            tasks.append(
                Task(
                    f"Give feedback to {name}",
                    "Peer feedback: strengths, growth areas and one concrete suggestion.",
                    Link("cycles.peer_request", request_id),
                    cycle.peer_feedback_due,
                    cycle.name,
                )
            )
    # As a manager: nominations to approve and reviews to write.
    nomination_rows = db.session.execute(
        select(Review.id, subject.name, Cycle, func.count(PeerRequest.id))
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(subject, Review.subject_id == subject.id)
        .join(
            PeerRequest,
            (PeerRequest.review_id == Review.id) & (PeerRequest.state == RequestState.PROPOSED),
        )
        .where(Review.manager_id == person.id, Cycle.state.in_(APPROVAL_OPEN))
        .group_by(Review.id, subject.name, Cycle.id)
    ).all()
    for review_id, name, cycle, n in nomination_rows:
        tasks.append(
            Task(
                f"Approve {name}'s peers",
                f"{n} nomination{'s' if n != 1 else ''} waiting for you.",
                Link("cycles.nominations", review_id),
                cycle.self_review_due,
                cycle.name,
            )
        )
    manager_rows = db.session.execute(
        select(Review.id, subject.name, Cycle, Assessment.reopened)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(subject, Review.subject_id == subject.id)
        .join(
            Assessment, (Assessment.review_id == Review.id) & (Assessment.kind == PartKind.MANAGER)
        )
        .where(
            Review.manager_id == person.id,
            Assessment.state == PartState.DRAFT,
            Cycle.state.not_in([CycleState.DRAFT, CycleState.CLOSED]),
        )
    ).all()
    for review_id, name, cycle, reopened in manager_rows:
        if cycle.state in MANAGER_OPEN or reopened:
            tasks.append(
                Task(
                    f"Write {name}'s review",
                    "Ratings, overall performance, potential and summary.",
                    Link("cycles.manager_part", review_id),
                    cycle.manager_review_due,
                    cycle.name,
                )
            )
    tasks.extend(_release_and_calibration_tasks(person))
    return sorted(tasks, key=lambda t: (t.due or date.max, t.title))


def _release_and_calibration_tasks(person: Person) -> list[Task]:
    from reviews.calibration.models import CalibrationMember, CalibrationSession, SessionState

    tasks = []
    rows = db.session.execute(
        select(Review.id, Cycle)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(
            Review.subject_id == person.id,
            Review.acknowledged_at.is_(None),
            Cycle.state.in_([CycleState.RELEASED, CycleState.CLOSED]),
        )
    ).all()
    for review_id, cycle in rows:
        tasks.append(
            Task(
                "Read your review",
                "Your results are released; acknowledge that you have read them.",
                Link("cycles.review", review_id),
                None,
                cycle.name,
            )
        )
    in_group = (
        select(CalibrationMember.session_id)
        .join(Review, Review.id == CalibrationMember.review_id)
        .where(Review.manager_id == person.id)
    )
    sessions = db.session.execute(
        select(CalibrationSession.id, CalibrationSession.name, Cycle)
        .join(Cycle, CalibrationSession.cycle_id == Cycle.id)
        .where(
            CalibrationSession.state == SessionState.OPEN,
            CalibrationSession.managers_calibrate.is_(True),
            (CalibrationSession.manager_id == person.id) | CalibrationSession.id.in_(in_group),
        )
    ).all()
    for session_id, name, cycle in sessions:
        tasks.append(
            Task(
                f"Calibrate {name}",
                "Review the proposed final ratings with HR.",
                Link("calibration.session_page", session_id),
                cycle.calibration_due,
                cycle.name,
            )
        )
    return tasks


def _live_request_counts(review_ids: list[int]) -> dict[int, int]:
    if not review_ids:
        return {}
    rows = db.session.execute(
        select(PeerRequest.review_id, func.count())
        .where(
            PeerRequest.review_id.in_(review_ids),
            PeerRequest.state.in_([RequestState.PROPOSED, RequestState.APPROVED]),
        )
        .group_by(PeerRequest.review_id)
    ).all()
    return dict(rows)


def org_manager_ids(manager_id: int) -> Any:
    """Select of the manager's id and every id below them in the org chart."""
    below = select(Person.id).where(Person.manager_id == manager_id).cte("below", recursive=True)
    child = aliased(Person)
    below = below.union(select(child.id).join(below, child.manager_id == below.c.id))
    return select(below.c.id).union(select(cast(literal(manager_id), Integer)))


ORG_PAGE = 100


@dataclass
class OrgPage:
    rows: list[tuple[Review, dict[str, Assessment]]]
    total: int  # reviews in the whole org
    page: int
    pages: int
    waiting: dict[int, int]  # review id -> nominations waiting for approval (page only)


def org_reviews(cycle: Cycle, manager: Person, page: int = 1, per_page: int = ORG_PAGE) -> OrgPage:
    """Reviews whose frozen manager is `manager` or anyone below them, with their
    parts: the direct reports first, then the rest of the org, one page at a time.

    The org is ordered by narrow rows (ids only) and only the page's reviews are read
    whole, with their people: sorting 2,800 reviews joined to two people each cost
    ten times more than sorting their ids."""
    managers = org_manager_ids(manager.id)
    scope = select(Review.id).where(Review.cycle_id == cycle.id, Review.manager_id.in_(managers))
    connection = db.session.connection()

    def ids(number: int) -> list[Any]:
        # The org's size rides along on every row (a window count): the org's
        # recursive query runs once, not once for the count and again for the page.
        return list(
            connection.execute(
                scope.add_columns(func.count().over())
                .order_by(Review.manager_id != manager.id, Review.manager_id, Review.id)
                .limit(per_page)
                .offset((number - 1) * per_page)
            )
        )

    page = max(page, 1)
    found = ids(page)
    if not found and page > 1:  # past the last page: show the last one
        total = connection.scalar(select(func.count()).select_from(scope.subquery())) or 0
        page = max(1, -(-total // per_page))
        found = ids(page)
    total = found[0][1] if found else 0
    pages = max(1, -(-total // per_page))
    order = [row[0] for row in found]
    loaded = {
        r.id: r
        for r in db.session.scalars(
            select(Review)
            .where(Review.id.in_(order or [-1]))
            .options(joinedload(Review.subject), joinedload(Review.manager))
        )
    }
    reviews = [loaded[i] for i in order]
    parts = db.session.scalars(
        select(Assessment).where(
            Assessment.review_id.in_(order or [-1]),
            Assessment.kind.in_((PartKind.SELF, PartKind.MANAGER)),
        )
    ).all()
    by_review: dict[int, dict[str, Assessment]] = {}
    for part in parts:
        by_review.setdefault(part.review_id, {})[part.kind.value] = part
    waiting = dict(
        connection.execute(
            select(PeerRequest.review_id, func.count())
            .where(
                PeerRequest.review_id.in_(order or [-1]),
                PeerRequest.state == RequestState.PROPOSED,
            )
            .group_by(PeerRequest.review_id)
        ).all()
    )
    rows = [(r, by_review.get(r.id, {})) for r in reviews]
    return OrgPage(rows, total, page, pages, waiting)


def inbox_requests(reviewer_id: int) -> Any:
    """Peer requests a person is asked to answer (or declined) in launched cycles."""
    return (
        select(PeerRequest)
        .join(Review, PeerRequest.review_id == Review.id)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(
            PeerRequest.reviewer_id == reviewer_id,
            PeerRequest.state.in_([RequestState.APPROVED, RequestState.DECLINED]),
            Cycle.state != CycleState.DRAFT,
        )
        .options(
            joinedload(PeerRequest.review).joinedload(Review.subject),
            joinedload(PeerRequest.review).joinedload(Review.cycle),
        )
    )
