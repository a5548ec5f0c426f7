"""Read side of cycles: tasks, progress and team overviews, in bounded statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    Date,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
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
from reviews.languages import gettext, ngettext
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


# Where each kind of task leads.
TASK_ENDPOINTS: dict[str, str] = {
    "self": "cycles.self_part",
    "nominate": "cycles.nominations",
    "peer": "cycles.peer_request",
    "approve": "cycles.nominations",
    "manager": "cycles.manager_part",
    "read": "cycles.review",
    "calibrate": "calibration.session_page",
    "upward": "upward.give",
}


def task_text(kind: str, name: str | None, n: int | None) -> tuple[str, str]:
    """What a task of `kind` says, its title and its detail, in the reader's language:
    `name` is a person's or a calibration session's name, `n` a count."""
    count = n or 0
    if kind == "self":
        title = gettext("Write your self-review")
        detail = gettext("Rate yourself against your level and note what you achieved.")
    elif kind == "nominate":
        title = gettext("Nominate peers")
        detail = ngettext(
            "Ask %(num)d more colleague for feedback.",
            "Ask %(num)d more colleagues for feedback.",
            count,
        )
    elif kind == "peer":
        title = gettext("Give feedback to %(name)s", name=name)
        detail = gettext("Peer feedback: strengths, growth areas and one concrete suggestion.")
    elif kind == "approve":
        title = gettext("Approve %(name)s's peers", name=name)
        detail = ngettext(
            "%(num)d nomination waiting for you.", "%(num)d nominations waiting for you.", count
        )
    elif kind == "manager":
        title = gettext("Write %(name)s's review", name=name)
        detail = gettext("Ratings, overall performance, potential and summary.")
    elif kind == "read":
        title = gettext("Read your review")
        detail = gettext("Your results are released; acknowledge that you have read them.")
    elif kind == "calibrate":
        title = gettext("Calibrate %(name)s", name=name)
        detail = gettext("Review the proposed final ratings with HR.")
    elif kind == "upward":
        title = gettext("Give %(name)s upward feedback", name=name)
        detail = gettext("Anonymous; they see only averages once enough of their reports answered.")
    else:
        raise ValueError(f"no task of kind {kind!r}")
    return str(title), str(detail)


def tasks_for(person: Person) -> list[Task]:
    """What `person` has to do now, across cycles, overdue first (1 statement)."""
    tasks = []
    rows = db.session.execute(_task_rows(), {"person_id": person.id})
    for kind, link_id, name, cycle, due, n in rows:
        title, detail = task_text(kind, name, n)
        tasks.append(Task(title, detail, Link(TASK_ENDPOINTS[kind], link_id), due, cycle))
    return sorted(tasks, key=lambda t: (t.due or date.max, t.title))


@cache
def _task_rows() -> Any:
    """Every kind of task of :person_id as rows of (kind, link id, name, cycle, due,
    count) in one UNION ALL of narrow selects. Built once: only the person changes."""
    from reviews.calibration.models import CalibrationMember, CalibrationSession, SessionState
    from reviews.upward.queries import pending

    me = bindparam("person_id", type_=Integer)
    subject = aliased(Person)
    no_name, no_due, no_count = cast(null(), String), cast(null(), Date), cast(null(), Integer)
    running = Cycle.state.not_in([CycleState.DRAFT, CycleState.CLOSED])
    self_part = (Assessment.review_id == Review.id) & (Assessment.kind == PartKind.SELF)
    live_requests = (
        select(func.count())
        .where(
            PeerRequest.review_id == Review.id,
            PeerRequest.state.in_([RequestState.PROPOSED, RequestState.APPROVED]),
        )
        .scalar_subquery()
    )
    # Own self-reviews (open phase, or reopened by HR) and nominations.
    write_self = (
        select(
            literal("self").label("kind"),
            Review.id.label("link_id"),
            no_name.label("name"),
            Cycle.name.label("cycle"),
            Cycle.self_review_due.label("due"),
            no_count.label("n"),
        )
        .select_from(Review)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(Assessment, self_part)
        .where(
            Review.subject_id == me,
            running,
            Assessment.state == PartState.DRAFT,
            Cycle.state.in_(SELF_OPEN) | Assessment.reopened.is_(True),
        )
    )
    nominate = (
        select(
            literal("nominate"),
            Review.id,
            no_name,
            Cycle.name,
            Cycle.self_review_due,
            Cycle.peer_min - live_requests,
        )
        .select_from(Review)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(Assessment, self_part)
        .where(Review.subject_id == me, Cycle.state.in_(SELF_OPEN), live_requests < Cycle.peer_min)
    )
    # Peer requests to answer.
    give_feedback = (
        select(
            literal("peer"),
            PeerRequest.id,
            subject.name,
            Cycle.name,
            Cycle.peer_feedback_due,
            no_count,
        )
        .select_from(PeerRequest)
        .join(Review, PeerRequest.review_id == Review.id)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(subject, Review.subject_id == subject.id)
        .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
        .where(
            PeerRequest.reviewer_id == me,
            PeerRequest.state == RequestState.APPROVED,
            Cycle.state.in_(PEER_OPEN),
            Assessment.state.is_(None) | (Assessment.state != PartState.SUBMITTED),
        )
    )
    # As a manager: nominations to approve and reviews to write.
    approve = (
        select(
            literal("approve"),
            Review.id,
            subject.name,
            Cycle.name,
            Cycle.self_review_due,
            func.count(PeerRequest.id),
        )
        .select_from(Review)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(subject, Review.subject_id == subject.id)
        .join(
            PeerRequest,
            (PeerRequest.review_id == Review.id) & (PeerRequest.state == RequestState.PROPOSED),
        )
        .where(Review.manager_id == me, Cycle.state.in_(APPROVAL_OPEN))
        .group_by(Review.id, subject.name, Cycle.name, Cycle.self_review_due)
    )
    write_review = (
        select(
            literal("manager"),
            Review.id,
            subject.name,
            Cycle.name,
            Cycle.manager_review_due,
            no_count,
        )
        .select_from(Review)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .join(subject, Review.subject_id == subject.id)
        .join(
            Assessment, (Assessment.review_id == Review.id) & (Assessment.kind == PartKind.MANAGER)
        )
        .where(
            Review.manager_id == me,
            Assessment.state == PartState.DRAFT,
            running,
            Cycle.state.in_(MANAGER_OPEN) | Assessment.reopened.is_(True),
        )
    )
    # Released results to acknowledge, and calibration sessions to take part in.
    read = (
        select(literal("read"), Review.id, no_name, Cycle.name, no_due, no_count)
        .select_from(Review)
        .join(Cycle, Review.cycle_id == Cycle.id)
        .where(
            Review.subject_id == me,
            Review.acknowledged_at.is_(None),
            Cycle.state.in_([CycleState.RELEASED, CycleState.CLOSED]),
        )
    )
    in_group = (
        select(CalibrationMember.session_id)
        .join(Review, Review.id == CalibrationMember.review_id)
        .where(Review.manager_id == me)
    )
    calibrate = (
        select(
            literal("calibrate"),
            CalibrationSession.id,
            CalibrationSession.name,
            Cycle.name,
            Cycle.calibration_due,
            no_count,
        )
        .select_from(CalibrationSession)
        .join(Cycle, CalibrationSession.cycle_id == Cycle.id)
        .where(
            CalibrationSession.state == SessionState.OPEN,
            CalibrationSession.managers_calibrate.is_(True),
            (CalibrationSession.manager_id == me) | CalibrationSession.id.in_(in_group),
        )
    )
    # Upward feedback the cycle asks of one about one's manager.
    upward = pending().subquery()
    give_upward = select(
        literal("upward"),
        upward.c.id,
        upward.c.manager,
        upward.c.name,
        upward.c.manager_review_due,
        no_count,
    )
    return union_all(
        write_self, nominate, give_feedback, approve, write_review, read, calibrate, give_upward
    )


def org_manager_ids(manager_id: int) -> Any:
    """Select of the manager's id and every id below them in the org chart now (one
    range of the org-path index: reviews.people.paths)."""
    from reviews.cycles.org import people_below

    return people_below(manager_id)


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
