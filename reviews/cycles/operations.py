"""The only code that changes cycles, reviews and their parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import url_for
from sqlalchemy import (
    Select,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from reviews.audit.operations import record
from reviews.cycles.models import (
    Assessment,
    Cycle,
    ParticipantMode,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
    cycle_department,
    cycle_participant,
)
from reviews.cycles.parts import PartInput
from reviews.cycles.snapshot import take_snapshot
from reviews.cycles.workflow import (
    APPROVAL_OPEN,
    LABELS,
    MANAGER_OPEN,
    NOMINATION_OPEN,
    PEER_OPEN,
    SELF_OPEN,
    CycleFacts,
    CycleState,
    TransitionRefused,
    check_transition,
)
from reviews.db import utcnow
from reviews.extensions import db
from reviews.framework.models import Level, Scale
from reviews.framework.queries import ladder, scale
from reviews.notifications.operations import (
    Message,
    link_of,
    notify,
    notify_each,
    notify_many,
)
from reviews.people.models import Person


class CycleError(ValueError):
    """A refused change; `field` names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class PartConflict(Exception):
    """The part changed since the writer loaded it; `current` is what is stored now."""

    def __init__(self, current: Assessment) -> None:
        super().__init__("this part was saved elsewhere in the meantime")
        self.current = current


# Cycles --------------------------------------------------------------------


@dataclass
class CycleFields:
    name: str
    period_start: date
    period_end: date
    participant_mode: ParticipantMode
    department_ids: list[int]
    participant_ids: list[int]
    self_review_due: date | None
    peer_feedback_due: date | None
    manager_review_due: date | None
    calibration_due: date | None
    peer_min: int
    peer_max: int
    peer_anonymous: bool
    anonymity_threshold: int
    peer_names_to_managers: bool
    reviewer_load_cap: int
    guidance: list[int]
    upward_feedback: bool = False

    @classmethod
    def for_everyone(cls, name: str, today: date, **overrides: Any) -> CycleFields:
        """The usual cycle: everyone, the half ending `today`, a phase a week, the
        new-cycle page's defaults (demo data, the benchmark and tests start here)."""
        from datetime import timedelta

        fields: dict[str, Any] = {
            "name": name,
            "period_start": today - timedelta(days=180),
            "period_end": today,
            "participant_mode": ParticipantMode.ALL,
            "department_ids": [],
            "participant_ids": [],
            "self_review_due": today + timedelta(days=7),
            "peer_feedback_due": today + timedelta(days=14),
            "manager_review_due": today + timedelta(days=21),
            "calibration_due": today + timedelta(days=28),
            "peer_min": 2,
            "peer_max": 5,
            "peer_anonymous": True,
            "anonymity_threshold": 3,
            "peer_names_to_managers": True,
            "reviewer_load_cap": 5,
            "guidance": [5, 20, 50, 20, 5],
        }
        return cls(**{**fields, **overrides})


def _apply_fields(cycle: Cycle, f: CycleFields) -> None:
    if f.period_start > f.period_end:
        raise CycleError("The period must end after it starts.", "period_end")
    if f.peer_min > f.peer_max:
        raise CycleError("The minimum cannot be above the maximum.", "peer_min")
    if len(f.guidance) != 5 or any(not 0 <= g <= 100 for g in f.guidance) or sum(f.guidance) != 100:
        raise CycleError("The five guidance percentages must add up to 100.", "guidance")
    deadlines = [f.self_review_due, f.peer_feedback_due, f.manager_review_due, f.calibration_due]
    known = [d for d in deadlines if d is not None]
    if known != sorted(known):
        raise CycleError(
            "Phase deadlines must follow the order of the phases.", "peer_feedback_due"
        )
    for name in (
        "name",
        "period_start",
        "period_end",
        "participant_mode",
        "self_review_due",
        "peer_feedback_due",
        "manager_review_due",
        "calibration_due",
        "peer_min",
        "peer_max",
        "peer_anonymous",
        "anonymity_threshold",
        "peer_names_to_managers",
        "reviewer_load_cap",
        "guidance",
        "upward_feedback",
    ):
        setattr(cycle, name, getattr(f, name))
    from reviews.people.models import Department

    cycle.departments = list(
        db.session.scalars(select(Department).where(Department.id.in_(f.department_ids or [-1])))
    )
    cycle.participants = list(
        db.session.scalars(select(Person).where(Person.id.in_(f.participant_ids or [-1])))
    )
    if f.participant_mode == ParticipantMode.DEPARTMENTS and not cycle.departments:
        raise CycleError("Choose at least one department.", "department_ids")
    if f.participant_mode == ParticipantMode.LIST and not cycle.participants:
        raise CycleError("List at least one participant.", "participant_emails")


def create_cycle(actor: Person, f: CycleFields) -> Cycle:
    cycle = Cycle(created_by_id=actor.id, state=CycleState.DRAFT)
    db.session.add(cycle)
    _apply_fields(cycle, f)
    db.session.flush()
    record("cycle.created", actor=actor, cycle_id=cycle.id, name=cycle.name)
    return cycle


def update_cycle(actor: Person, cycle: Cycle, expected_version: int, f: CycleFields) -> None:
    if cycle.state != CycleState.DRAFT:
        raise CycleError("Only a draft cycle can be edited; this one is running.")
    if cycle.version != expected_version:
        raise CycleError("Someone else changed this cycle meanwhile; reload and edit again.")
    _apply_fields(cycle, f)
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise CycleError(
            "Someone else changed this cycle meanwhile; reload and edit again."
        ) from exc
    record("cycle.updated", actor=actor, cycle_id=cycle.id)


def delete_cycle(actor: Person, cycle: Cycle) -> None:
    if cycle.state != CycleState.DRAFT:
        raise CycleError("Only a draft cycle can be deleted; a launched cycle holds reviews.")
    record("cycle.deleted", actor=actor, name=cycle.name)
    db.session.delete(cycle)
    db.session.flush()


def participants_select(cycle: Cycle) -> Select[Any]:
    """Active people the cycle would review, as a select of person rows' columns."""
    stmt = (
        select(Person.id, Person.manager_id, Level.key, Person.department_id)
        .outerjoin(Level, Person.level_id == Level.id)
        .where(Person.active.is_(True))
    )
    if cycle.participant_mode == ParticipantMode.DEPARTMENTS:
        stmt = stmt.where(
            Person.department_id.in_(
                select(cycle_department.c.department_id).where(
                    cycle_department.c.cycle_id == cycle.id
                )
            )
        )
    elif cycle.participant_mode == ParticipantMode.LIST:
        stmt = stmt.where(
            Person.id.in_(
                select(cycle_participant.c.person_id).where(
                    cycle_participant.c.cycle_id == cycle.id
                )
            )
        )
    return stmt


def count_participants(cycle: Cycle) -> int:
    return (
        db.session.scalar(select(func.count()).select_from(participants_select(cycle).subquery()))
        or 0
    )


def cycle_facts(cycle: Cycle) -> CycleFacts:
    from reviews.calibration.models import CalibrationSession, SessionState

    open_sessions = 0
    unfinalised = 0
    if cycle.state == CycleState.CALIBRATION:
        open_sessions = (
            db.session.scalar(
                select(func.count()).where(
                    CalibrationSession.cycle_id == cycle.id,
                    CalibrationSession.state == SessionState.OPEN,
                )
            )
            or 0
        )
        unfinalised = (
            db.session.scalar(
                select(func.count())
                .select_from(Review)
                .join(Assessment)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.MANAGER,
                    Assessment.state == PartState.SUBMITTED,
                    Review.final_locked.is_(False),
                )
            )
            or 0
        )
    return CycleFacts(
        participants=count_participants(cycle) if cycle.state == CycleState.DRAFT else 0,
        has_deadlines=all(
            cycle.due(s)
            for s in (
                CycleState.SELF_REVIEW,
                CycleState.PEER_FEEDBACK,
                CycleState.MANAGER_REVIEW,
                CycleState.CALIBRATION,
            )
        ),
        framework_ready=bool(db.session.scalar(select(func.count()).select_from(Level))),
        open_calibration_sessions=open_sessions,
        unfinalised_reviews=unfinalised,
    )


def advance_cycle(actor: Person, cycle: Cycle, target: CycleState) -> None:
    """Move the cycle to its next phase, with the transition's effects, or refuse."""
    source = cycle.state
    try:
        check_transition(source, target, cycle_facts(cycle))
    except TransitionRefused as exc:
        raise CycleError(f"Cannot move to {LABELS[target].lower()}: {exc}.") from exc
    if target == CycleState.SELF_REVIEW:
        _launch(cycle)
    cycle.state = target
    db.session.flush()
    if target == CycleState.RELEASED:
        from reviews.growth.operations import propose_plans

        propose_plans(cycle)
    _phase_notifications(cycle, target)
    record(
        "cycle.advanced", actor=actor, cycle_id=cycle.id, source=source.value, target=target.value
    )


def _launch(cycle: Cycle) -> None:
    """Freeze the framework and create every review and its parts, set-based."""
    cycle.framework_snapshot = take_snapshot(
        ladder(), scale(Scale.PROFICIENCY), scale(Scale.PERFORMANCE)
    )
    now = utcnow()
    cycle.launched_at = now
    db.session.flush()
    people = participants_select(cycle).subquery()
    db.session.execute(
        insert(Review).from_select(
            ["cycle_id", "subject_id", "manager_id", "level_key", "department_id", "created_at"],
            select(
                literal(cycle.id),
                people.c.id,
                people.c.manager_id,
                people.c.key,
                people.c.department_id,
                literal(now, type_=Review.created_at.type),
            ),
        )
    )
    empty = literal_column("'{}'")
    columns = [
        "review_id",
        "kind",
        "author_id",
        "state",
        "ratings",
        "comments",
        "answers",
        "reopened",
        "version",
        "created_at",
        "updated_at",
    ]
    for kind, author in ((PartKind.SELF, Review.subject_id), (PartKind.MANAGER, Review.manager_id)):
        db.session.execute(
            insert(Assessment).from_select(
                columns,
                select(
                    Review.id,
                    literal(kind.value),
                    author,
                    literal(PartState.DRAFT.value),
                    empty,
                    empty,
                    empty,
                    false(),
                    literal(1),
                    literal(now, type_=Assessment.created_at.type),
                    literal(now, type_=Assessment.updated_at.type),
                ).where(Review.cycle_id == cycle.id, author.is_not(None)),
            )
        )
    _refresh_statistics("review", "assessment")


def _refresh_statistics(*tables: str) -> None:
    """Let PostgreSQL's planner see the rows a launch has just written.

    Until autovacuum's next pass (a minute or more) the planner would take a
    10,000-review cycle for a few dozen rows, and pick plans that read it
    thousands of times over: a manager's team page took 1.8 s instead of 20 ms
    right after launch. ANALYZE in this transaction counts its own uncommitted
    rows and its statistics commit, or roll back, with the launch. SQLite keeps no
    statistics here, and its planner does not need them for these queries."""
    if db.session.get_bind().dialect.name == "postgresql":
        for table in tables:
            db.session.execute(text(f"ANALYZE {table}"))


def _phase_notifications(cycle: Cycle, state: CycleState) -> None:
    """Tell everyone the phase asks something of, in one statement whatever their number."""
    due = cycle.due(state)
    due_text = f" by {due:%-d %B %Y}" if due else ""
    if state == CycleState.SELF_REVIEW:
        notify_each(
            "self_review_open",
            f"{cycle.name}: your self-review is open",
            f"Write your self-review and nominate peers{due_text}.",
            select(Review.subject_id, link_of("cycles.self_part", "review_id", Review.id)).where(
                Review.cycle_id == cycle.id
            ),
        )
    elif state == CycleState.PEER_FEEDBACK:
        notify_each(
            "peer_feedback_open",
            f"{cycle.name}: peer feedback is due",
            f"Colleagues are waiting for your feedback{due_text}.",
            select(
                PeerRequest.reviewer_id,
                link_of("cycles.peer_request", "request_id", PeerRequest.id),
            )
            .join(Review)
            .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
            .where(
                Review.cycle_id == cycle.id,
                PeerRequest.state == RequestState.APPROVED,
                or_(Assessment.id.is_(None), Assessment.state == PartState.DRAFT),
            ),
        )
    elif state == CycleState.RELEASED:
        notify_each(
            "review_released",
            f"{cycle.name}: your review is released",
            "Read your review and acknowledge that you have read it.",
            select(Review.subject_id, link_of("cycles.review", "review_id", Review.id)).where(
                Review.cycle_id == cycle.id
            ),
        )
    elif state == CycleState.MANAGER_REVIEW:
        rows = db.session.execute(
            select(Review.manager_id, func.count())
            .where(Review.cycle_id == cycle.id, Review.manager_id.is_not(None))
            .group_by(Review.manager_id)
        ).all()
        notify_many(
            Message(
                manager_id,
                "manager_review_open",
                f"{cycle.name}: write your team's reviews",
                f"{n} review{'s' if n != 1 else ''} to write{due_text}.",
                url_for("cycles.team", cycle_id=cycle.id),
            )
            for manager_id, n in rows
        )


# Peer nominations -----------------------------------------------------------


def _requests_of(review: Review) -> list[PeerRequest]:
    return list(db.session.scalars(select(PeerRequest).where(PeerRequest.review_id == review.id)))


def reviewer_load(cycle_id: int, reviewer_ids: list[int]) -> dict[int, int]:
    """How many live requests each reviewer holds in the cycle."""
    if not reviewer_ids:
        return {}
    rows = db.session.execute(
        select(PeerRequest.reviewer_id, func.count())
        .join(Review)
        .where(
            Review.cycle_id == cycle_id,
            PeerRequest.reviewer_id.in_(reviewer_ids),
            PeerRequest.state.in_([RequestState.PROPOSED, RequestState.APPROVED]),
        )
        .group_by(PeerRequest.reviewer_id)
    ).all()
    return dict(rows)


def _add_request(
    actor: Person, review: Review, reviewer: Person, state: RequestState
) -> PeerRequest:
    if reviewer.id == review.subject_id:
        raise CycleError("Nobody can give peer feedback on their own review.", "email")
    if not reviewer.active:
        raise CycleError(f"{reviewer.name} is deactivated.", "email")
    live = [
        r for r in _requests_of(review) if r.state in (RequestState.PROPOSED, RequestState.APPROVED)
    ]
    existing = next((r for r in _requests_of(review) if r.reviewer_id == reviewer.id), None)
    if existing is not None and existing.state in (RequestState.PROPOSED, RequestState.APPROVED):
        raise CycleError(f"{reviewer.name} is already asked.", "email")
    if existing is not None and existing.state == RequestState.DECLINED:
        raise CycleError(f"{reviewer.name} declined: {existing.decline_reason}", "email")
    if len(live) >= review.cycle.peer_max:
        raise CycleError(f"This cycle allows at most {review.cycle.peer_max} peers.", "email")
    now = utcnow()
    if existing is not None:  # a removed request comes back
        request = existing
        request.state = state
        request.decline_reason = None
    else:
        request = PeerRequest(
            review_id=review.id,
            reviewer_id=reviewer.id,
            state=state,
            proposed_by_id=actor.id,
            created_at=now,
        )
        db.session.add(request)
    if state == RequestState.APPROVED:
        request.decided_by_id, request.decided_at = actor.id, now
    db.session.flush()
    return request


def propose_peer(actor: Person, review: Review, reviewer: Person) -> PeerRequest:
    if review.cycle.state not in NOMINATION_OPEN:
        raise CycleError("Peers are nominated during the self-review phase.")
    request = _add_request(actor, review, reviewer, RequestState.PROPOSED)
    record(
        "peer.proposed",
        actor=actor,
        subject=review.subject,
        cycle_id=review.cycle_id,
        reviewer=reviewer.email,
    )
    if review.manager_id:
        notify(
            Message(
                review.manager_id,
                "nomination_to_approve",
                f"{review.cycle.name}: approve {review.subject.name}'s peers",
                f"{review.subject.name} nominated {reviewer.name} for peer feedback.",
                url_for("cycles.nominations", review_id=review.id),
            )
        )
    return request


def _notify_reviewer(request: PeerRequest) -> None:
    review = request.review
    notify(
        Message(
            request.reviewer_id,
            "peer_request",
            f"{review.cycle.name}: feedback for {review.subject.name}",
            f"You are asked for peer feedback on {review.subject.name}.",
            url_for("cycles.peer_request", request_id=request.id),
        )
    )


def add_peer(actor: Person, review: Review, reviewer: Person) -> PeerRequest:
    """The manager (or HR) adds a peer, approved at once."""
    if review.cycle.state not in APPROVAL_OPEN:
        raise CycleError("Peers can be added until the peer-feedback phase ends.")
    request = _add_request(actor, review, reviewer, RequestState.APPROVED)
    record(
        "peer.added",
        actor=actor,
        subject=review.subject,
        cycle_id=review.cycle_id,
        reviewer=reviewer.email,
    )
    _notify_reviewer(request)
    return request


def decide_request(actor: Person, request: PeerRequest, approve: bool) -> None:
    review = request.review
    if review.cycle.state not in APPROVAL_OPEN:
        raise CycleError("Nominations are decided until the peer-feedback phase ends.")
    if request.state not in (RequestState.PROPOSED, RequestState.APPROVED):
        raise CycleError("This request is no longer open.")
    if not approve and _submitted_feedback(request):
        raise CycleError("This peer already submitted feedback; it stays part of the review.")
    if approve and request.state == RequestState.APPROVED:
        return
    request.state = RequestState.APPROVED if approve else RequestState.REMOVED
    request.decided_by_id, request.decided_at = actor.id, utcnow()
    if not approve:
        db.session.execute(delete(Assessment).where(Assessment.peer_request_id == request.id))
    db.session.flush()
    record(
        "peer.approved" if approve else "peer.removed",
        actor=actor,
        subject=review.subject,
        cycle_id=review.cycle_id,
        reviewer=request.reviewer.email,
    )
    if approve:
        _notify_reviewer(request)


def withdraw_proposal(actor: Person, request: PeerRequest) -> None:
    if request.state != RequestState.PROPOSED or request.review.subject_id != actor.id:
        raise CycleError("Only your own nominations that are not yet approved can be withdrawn.")
    if request.review.cycle.state not in NOMINATION_OPEN:
        raise CycleError("Nominations are closed.")
    request.state = RequestState.REMOVED
    db.session.flush()
    record(
        "peer.withdrawn",
        actor=actor,
        subject=request.review.subject,
        cycle_id=request.review.cycle_id,
        reviewer=request.reviewer.email,
    )


def decline_request(actor: Person, request: PeerRequest, reason: str) -> None:
    if request.reviewer_id != actor.id:
        raise CycleError("Only the person asked can decline.")
    if request.state != RequestState.APPROVED or _submitted_feedback(request):
        raise CycleError("This request can no longer be declined.")
    if request.review.cycle.state not in PEER_OPEN:
        raise CycleError("Peer feedback is closed for this cycle.")
    reason = reason.strip()
    if not reason:
        raise CycleError(
            "Say briefly why you decline, so that a replacement can be found.", "reason"
        )
    request.state = RequestState.DECLINED
    request.decline_reason = reason[:1000]
    request.decided_at = utcnow()
    db.session.execute(delete(Assessment).where(Assessment.peer_request_id == request.id))
    db.session.flush()
    record(
        "peer.declined",
        actor=actor,
        subject=request.review.subject,
        cycle_id=request.review.cycle_id,
    )
    if request.review.manager_id:
        notify(
            Message(
                request.review.manager_id,
                "peer_declined",
                f"{request.review.cycle.name}: a peer declined",
                f"{actor.name} declined to give feedback on {request.review.subject.name}.",
                url_for("cycles.nominations", review_id=request.review_id),
            )
        )


def _submitted_feedback(request: PeerRequest) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).where(
                Assessment.peer_request_id == request.id, Assessment.state == PartState.SUBMITTED
            )
        )
    )


# Parts ------------------------------------------------------------------------


def part_for(review: Review, kind: PartKind) -> Assessment:
    """The self or manager part of a review."""
    found = db.session.scalar(
        select(Assessment).where(Assessment.review_id == review.id, Assessment.kind == kind)
    )
    if found is None:
        raise CycleError(f"this review has no {kind.value} part")
    return found


def peer_assessment(request: PeerRequest) -> Assessment:
    """The feedback a peer writes for a request, created on first use."""
    mine = select(Assessment).where(Assessment.peer_request_id == request.id)
    found = db.session.scalar(mine)
    if found is not None:
        return found
    created = Assessment(
        review_id=request.review_id,
        kind=PartKind.PEER,
        author_id=request.reviewer_id,
        peer_request_id=request.id,
        ratings={},
        comments={},
        answers={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(created)
    except IntegrityError:
        # Created at the same moment by another request (the page open in two tabs):
        # that one is committed now, and it is the one to write.
        found = db.session.scalar(mine.execution_options(populate_existing=True))
        if found is None:
            raise
        return found
    return created


def part_lock_reason(part: Assessment, actor: Person) -> str | None:
    """Why `actor` may not write `part` now, or None."""
    if part.author_id != actor.id:
        return "Only its author can write this part."
    if part.state == PartState.SUBMITTED:
        return "This part is submitted and can no longer be changed."
    state = part.review.cycle.state
    if part.reopened:
        return None
    if part.kind == PartKind.PEER:
        request = part.peer_request
        if request is None or request.state != RequestState.APPROVED:
            return "This peer request is no longer open."
        if state not in PEER_OPEN:
            return "Peer feedback for this cycle is closed."
    elif part.kind == PartKind.SELF and state not in SELF_OPEN:
        return "The self-review phase is over; ask HR to reopen your self-review if needed."
    elif part.kind == PartKind.MANAGER and state not in MANAGER_OPEN:
        return (
            "Manager reviews are written in the manager-review phase."
            if state in (CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK)
            else "The manager-review phase is over; ask HR to reopen this review if needed."
        )
    return None


def save_part(
    actor: Person, part: Assessment, expected_version: int, data: PartInput, *, submit: bool
) -> None:
    """Save a draft (or submit it) over exactly the version the writer loaded."""
    reason = part_lock_reason(part, actor)
    if reason:
        raise CycleError(reason)
    if part.version != expected_version:
        raise PartConflict(part)
    part.ratings = dict(data.ratings)
    part.comments = dict(data.comments)
    part.answers = dict(data.answers)
    if data.evidence is not None and part.kind in (PartKind.SELF, PartKind.MANAGER):
        part.evidence = {k: list(v) for k, v in data.evidence.items()}
    if part.kind == PartKind.SELF:
        part.desired_level_key = data.desired_level
    if part.kind == PartKind.MANAGER:
        from reviews.cycles.models import Potential, Readiness

        part.overall_rating = data.overall
        part.potential = Potential(data.potential) if data.potential else None
        part.promotion_readiness = Readiness(data.readiness) if data.readiness else None
    now = utcnow()
    part.updated_at = now
    if submit:
        part.state = PartState.SUBMITTED
        part.submitted_at = now
        part.reopened = False  # the coach's figures are stored by a flush event (models)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(Assessment, part.id)
        assert current is not None  # noqa: S101
        raise PartConflict(current) from None
    if submit:
        record(
            "part.submitted",
            actor=actor,
            subject=part.review.subject,
            cycle_id=part.review.cycle_id,
            part=part.kind.value,
        )


def reopen_part(actor: Person, part: Assessment) -> None:
    if part.review.subject_id == actor.id:
        raise CycleError("Parts of your own review are reopened by another HR admin.")
    if part.state != PartState.SUBMITTED:
        raise CycleError("Only a submitted part can be reopened.")
    if part.review.cycle.state in (CycleState.RELEASED, CycleState.CLOSED):
        raise CycleError("Results are released; parts can no longer be reopened.")
    part.state = PartState.DRAFT
    part.submitted_at = None
    part.reopened = True
    db.session.flush()
    record(
        "part.reopened",
        actor=actor,
        subject=part.review.subject,
        cycle_id=part.review.cycle_id,
        part=part.kind.value,
        author=part.author.email,
    )
    notify(
        Message(
            part.author_id,
            "part_reopened",
            f"{part.review.cycle.name}: a review part was reopened for you",
            "HR reopened a part you had submitted; you can edit and submit it again.",
            url_for("cycles.review", review_id=part.review_id),
        )
    )


def reciprocal_pairs(cycle_id: int, subject_ids: list[int]) -> set[tuple[int, int]]:
    """(a, b) where a reviews b and b reviews a in this cycle, for the given subjects."""
    if not subject_ids:
        return set()
    rows = db.session.execute(
        select(Review.subject_id, PeerRequest.reviewer_id)
        .join(PeerRequest)
        .where(
            Review.cycle_id == cycle_id,
            PeerRequest.state.in_([RequestState.PROPOSED, RequestState.APPROVED]),
        )
    ).all()
    pairs = {(s, r) for s, r in rows}
    return {(s, r) for s, r in pairs if (r, s) in pairs and s in subject_ids}


# Reminders ---------------------------------------------------------------------------

REMIND_DAYS_BEFORE = 3


def remind_due(today: date, cycle_id: int | None = None) -> int:
    """Queue reminders for work due within a few days or overdue; once per person, task, day.

    Returns how many new reminders were queued (a second run the same day queues none).
    With `cycle_id`, only that cycle (HR's one-click reminder on the dashboard).
    """
    from reviews.notifications.models import Notification

    before = db.session.scalar(select(func.count()).select_from(Notification)) or 0
    messages: list[Message] = []
    stmt = select(Cycle).where(
        Cycle.state.in_(
            [CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK, CycleState.MANAGER_REVIEW]
        )
    )
    if cycle_id is not None:
        stmt = stmt.where(Cycle.id == cycle_id)
    cycles = db.session.scalars(stmt).all()
    for cycle in cycles:
        due = cycle.due(cycle.state)
        if due is None or (due - today).days > REMIND_DAYS_BEFORE:
            continue
        when = "was due" if due < today else "is due"
        text = f"{when} on {due:%-d %B %Y}"
        if cycle.state == CycleState.SELF_REVIEW:
            rows = db.session.execute(
                select(Review.id, Review.subject_id)
                .join(Assessment)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.SELF,
                    Assessment.state == PartState.DRAFT,
                )
            ).all()
            messages += [
                Message(
                    pid,
                    "reminder",
                    f"{cycle.name}: your self-review {text}",
                    f"Your self-review {text}.",
                    url_for("cycles.self_part", review_id=rid),
                    f"remind:{cycle.id}:self:{pid}:{today}",
                )
                for rid, pid in rows
            ]
        if cycle.state in (CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK):
            rows = db.session.execute(
                select(PeerRequest.id, PeerRequest.reviewer_id)
                .join(Review)
                .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
                .where(
                    Review.cycle_id == cycle.id,
                    PeerRequest.state == RequestState.APPROVED,
                    or_(Assessment.id.is_(None), Assessment.state == PartState.DRAFT),
                )
            ).all()
            if cycle.state == CycleState.PEER_FEEDBACK:
                messages += [
                    Message(
                        pid,
                        "reminder",
                        f"{cycle.name}: peer feedback {text}",
                        f"Feedback you were asked for {text}.",
                        url_for("cycles.peer_request", request_id=rid),
                        f"remind:{cycle.id}:peer:{rid}:{today}",
                    )
                    for rid, pid in rows
                ]
        if cycle.state == CycleState.MANAGER_REVIEW:
            rows = db.session.execute(
                select(Review.manager_id, func.count())
                .join(Assessment)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.MANAGER,
                    Assessment.state == PartState.DRAFT,
                )
                .group_by(Review.manager_id)
            ).all()
            messages += [
                Message(
                    mid,
                    "reminder",
                    f"{cycle.name}: {n} review{'s' if n != 1 else ''} to write ({text})",
                    f"Your team's reviews {text}.",
                    url_for("cycles.team", cycle_id=cycle.id),
                    f"remind:{cycle.id}:manager:{mid}:{today}",
                )
                for mid, n in rows
            ]
    notify_many(messages)
    db.session.flush()
    after = db.session.scalar(select(func.count()).select_from(Notification)) or 0
    return after - before
