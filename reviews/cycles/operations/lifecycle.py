"""A cycle's life: creating and changing a draft, launching it, moving it from phase to
phase with each transition's effects (reviews, notifications, audit)."""

from __future__ import annotations

import typing
from typing import Any

from sqlalchemy import (
    Select,
    case,
    delete,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm.exc import StaleDataError

from reviews.audit.operations import record
from reviews.cycles import figures
from reviews.cycles.inputs import FIELD_NAMES, CycleFields, check_cycle
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
from reviews.cycles.operations.reminders import due_day
from reviews.cycles.snapshot import take_snapshot
from reviews.cycles.workflow import (
    LABELS,
    CycleFacts,
    CycleState,
    TransitionRefused,
    check_transition,
)
from reviews.db import utcnow
from reviews.errors import Conflict, PhaseClosed, merge
from reviews.extensions import db
from reviews.framework.models import Level, Scale
from reviews.framework.queries import ladder, scale
from reviews.languages import gettext, in_sentence, lazy_gettext, lazy_ngettext
from reviews.links import Link
from reviews.notifications.operations import Message, notify_each, notify_many
from reviews.people.models import Department, Person

# Settings copied onto the cycle as they are (the lists are relationships, below).
# the statistics target of launch's ANALYZE (see _refresh_statistics)
LAUNCH_STATISTICS = 10
PLAIN_SETTINGS = tuple(
    n for n in FIELD_NAMES if n not in ("department_ids", "participant_ids", "template_ids")
)


def _apply_fields(cycle: Cycle, f: CycleFields) -> None:
    errors = check_cycle(f)
    if errors:
        raise merge(errors)
    for name in PLAIN_SETTINGS:
        setattr(cycle, name, getattr(f, name))
    cycle.departments = list(
        db.session.scalars(select(Department).where(Department.id.in_(f.department_ids or [-1])))
    )
    cycle.participants = list(
        db.session.scalars(select(Person).where(Person.id.in_(f.participant_ids or [-1])))
    )


def _choose_templates(cycle: Cycle, template_ids: dict[str, int]) -> None:
    """The templates a draft cycle will freeze at launch, one row per part chosen."""
    from reviews.review_templates.models import CycleTemplate, TemplatePart

    db.session.execute(delete(CycleTemplate).where(CycleTemplate.cycle_id == cycle.id))
    db.session.add_all(
        CycleTemplate(cycle_id=cycle.id, part=TemplatePart(part), template_id=template_id)
        for part, template_id in sorted(template_ids.items())
    )


def create_cycle(actor: Person, f: CycleFields) -> Cycle:
    cycle = Cycle(created_by_id=actor.id, state=CycleState.DRAFT)
    db.session.add(cycle)
    _apply_fields(cycle, f)
    db.session.flush()
    _choose_templates(cycle, f.template_ids)
    db.session.flush()
    record("cycle.created", actor=actor, cycle_id=cycle.id, name=cycle.name)
    return cycle


def update_cycle(actor: Person, cycle: Cycle, expected_version: int, f: CycleFields) -> None:
    if cycle.state != CycleState.DRAFT:
        raise PhaseClosed(gettext("Only a draft cycle can be edited; this one is running."))
    if cycle.version != expected_version:
        raise _stale(cycle)
    _apply_fields(cycle, f)
    try:
        db.session.flush()
        _choose_templates(cycle, f.template_ids)
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(Cycle, cycle.id)
        raise _stale(current) from None
    record("cycle.updated", actor=actor, cycle_id=cycle.id)


def _stale(current: Cycle | None) -> Conflict:
    return Conflict(
        gettext("Someone else changed this cycle meanwhile; reload and edit again."),
        current=current,
        current_version=current.version if current else None,
    )


def delete_cycle(actor: Person, cycle: Cycle) -> None:
    if cycle.state != CycleState.DRAFT:
        raise PhaseClosed(
            gettext("Only a draft cycle can be deleted; a launched cycle holds reviews.")
        )
    record("cycle.deleted", actor=actor, name=cycle.name)
    db.session.delete(cycle)
    db.session.flush()


def participants_select(cycle: Cycle) -> Select[Any]:
    """Active people the cycle would review, as a select of person rows' columns."""
    stmt: Any = (
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
    return typing.cast(Select[Any], stmt)


def overlapping_cycles(cycle: Cycle) -> list[tuple[str, int]]:
    """Running cycles (launched, not closed) that already review some of this draft's
    participants: (name, how many), so HR is told before launching a second set of
    look-alike tasks for the same people."""
    people = participants_select(cycle).with_only_columns(Person.id)
    rows = db.session.execute(
        select(Cycle.name, func.count(Review.id))
        .join(Review, Review.cycle_id == Cycle.id)
        .where(
            Cycle.id != cycle.id,
            Cycle.state.not_in([CycleState.DRAFT, CycleState.CLOSED]),
            Review.subject_id.in_(people),
        )
        .group_by(Cycle.id, Cycle.name)
        .order_by(Cycle.name)
    ).all()
    return [(name, count) for name, count in rows]


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
        raise PhaseClosed(
            gettext(
                "Cannot move to %(phase)s: %(reason)s.",
                phase=in_sentence(LABELS[target]),
                reason=str(exc),
            )
        ) from exc
    if target == CycleState.SELF_REVIEW:
        _launch(cycle)
    cycle.state = target
    db.session.flush()
    if target == CycleState.RELEASED:
        from reviews.growth.operations import propose_plans

        propose_plans(cycle)
    _phase_notifications(cycle, target)
    event = record(
        "cycle.advanced", actor=actor, cycle_id=cycle.id, source=source.value, target=target.value
    )
    event.details = {**event.details, **_closing_counts(cycle, target)}


def _closing_counts(cycle: Cycle, target: CycleState) -> dict[str, int]:
    """What a closing phase collected, in the transition's audit record: peer feedback
    and upward answers are audited only so, in aggregate, never one by one (an event per
    submission would tell who wrote about whom, and when)."""
    counts: dict[str, int] = {}
    if target == CycleState.MANAGER_REVIEW:
        counts["peer_feedback_submitted"] = (
            db.session.scalar(
                select(func.sum(Review.peers_done)).where(Review.cycle_id == cycle.id)
            )
            or 0
        )
    if target == CycleState.CALIBRATION and cycle.upward_feedback:
        from reviews.upward.queries import response_count

        counts["upward_answers"] = response_count(cycle)
    return counts


def _launch(cycle: Cycle) -> None:
    """Freeze the framework and create every review and its parts, set-based."""
    from reviews.review_templates.queries import freeze

    cycle.framework_snapshot = take_snapshot(
        ladder(), scale(Scale.PROFICIENCY), scale(Scale.PERFORMANCE)
    )
    cycle.templates = freeze(cycle)
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
    # Every review's two drafts in one statement, from one read of the new reviews. The
    # planner takes the new cycle for a few rows and reads each review once, writing its
    # two parts together: the indexes led by the review's id take them at their end,
    # where a second statement's manager parts went back through every page the self
    # parts had filled (0.3 s of a 100,000-person launch).
    kinds = union_all(
        select(literal(PartKind.SELF.value).label("kind")),
        select(literal(PartKind.MANAGER.value).label("kind")),
    ).subquery("kinds")
    author = case((kinds.c.kind == PartKind.SELF.value, Review.subject_id), else_=Review.manager_id)
    empty: Any = literal_column("'{}'")
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
    db.session.execute(
        insert(Assessment).from_select(
            columns,
            select(
                Review.id,
                kinds.c.kind,
                author,
                literal(PartState.DRAFT.value),
                empty,
                empty,
                empty,
                false(),
                literal(1),
                literal(now, type_=Assessment.created_at.type),
                literal(now, type_=Assessment.updated_at.type),
            )
            .join(kinds, true())
            .where(Review.cycle_id == cycle.id, author.is_not(None)),
        )
    )
    # statistics first: the figures' rebuild groups the new reviews, and a planner that
    # takes them for a few rows sorts 100,000 of them on disk
    _refresh_statistics("review", "assessment")
    # HR's figures of the cycle, which the triggers on review keep from now on
    figures.rebuild(db.session.connection(), cycle.id)


def _refresh_statistics(*tables: str) -> None:
    """Let PostgreSQL's planner see the rows a launch has just written.

    Until autovacuum's next pass (a minute or more) the planner would take a
    10,000-review cycle for a few dozen rows, and pick plans that read it
    thousands of times over: a manager's team page took 1.8 s instead of 20 ms
    right after launch. ANALYZE in this transaction counts its own uncommitted
    rows and its statistics commit, or roll back, with the launch. SQLite keeps no
    statistics here, and its planner does not need them for these queries.

    The planner needs the new row counts and the common values (which cycle, which
    kind of part), not fine histograms: a sample of 3,000 rows (statistics target 10)
    gives them at a tenth of the default sample's cost (25 ms against 250 ms for
    300,000 new rows). Autovacuum's next ANALYZE takes the full sample once the
    cycle's first changes come in."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL default_statistics_target = {LAUNCH_STATISTICS}"))
        db.session.execute(text(f"ANALYZE {', '.join(tables)}"))
        db.session.execute(text("SET LOCAL default_statistics_target TO DEFAULT"))


def _phase_notifications(cycle: Cycle, state: CycleState) -> None:
    """Tell everyone the phase asks something of, in one statement whatever their number;
    each message in its recipient's language (lazy texts, `notifications.operations`)."""
    due = cycle.due(state)
    day = due_day(due) if due else None
    if state == CycleState.SELF_REVIEW:
        notify_each(
            "self_review_open",
            lazy_gettext("%(cycle)s: your self-review is open", cycle=cycle.name),
            lazy_gettext("Write your self-review and nominate peers by %(date)s.", date=day)
            if due
            else lazy_gettext("Write your self-review and nominate peers."),
            "cycles.self_part",
            select(Review.subject_id, Review.id).where(Review.cycle_id == cycle.id),
        )
    elif state == CycleState.PEER_FEEDBACK:
        notify_each(
            "peer_feedback_open",
            lazy_gettext("%(cycle)s: peer feedback is due", cycle=cycle.name),
            lazy_gettext("Colleagues are waiting for your feedback by %(date)s.", date=day)
            if due
            else lazy_gettext("Colleagues are waiting for your feedback."),
            "cycles.peer_request",
            select(PeerRequest.reviewer_id, PeerRequest.id)
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
            lazy_gettext("%(cycle)s: your review is released", cycle=cycle.name),
            lazy_gettext("Read your review and acknowledge that you have read it."),
            "cycles.review",
            select(Review.subject_id, Review.id).where(Review.cycle_id == cycle.id),
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
                lazy_gettext("%(cycle)s: write your team's reviews", cycle=cycle.name),
                lazy_ngettext(
                    "%(num)d review to write by %(date)s.",
                    "%(num)d reviews to write by %(date)s.",
                    n,
                    date=day,
                )
                if due
                else lazy_ngettext("%(num)d review to write.", "%(num)d reviews to write.", n),
                Link("cycles.team", cycle.id),
            )
            for manager_id, n in rows
            if manager_id is not None
        )
