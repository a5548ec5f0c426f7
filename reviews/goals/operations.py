"""Goals: the only code that changes them. Each change is guarded, flushed and audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Date, bindparam, func, select
from sqlalchemy.orm.exc import StaleDataError

from reviews import access
from reviews.audit.operations import record
from reviews.dates import LocalDate
from reviews.db import utcnow
from reviews.errors import Conflict, Forbidden, Invalid, NotFound, PhaseClosed, merge
from reviews.extensions import db
from reviews.goals.inputs import GoalFields, goal_problems
from reviews.goals.models import Goal, GoalCheckIn, GoalComment, GoalSource, GoalStatus
from reviews.languages import gettext, lazy_gettext
from reviews.links import Link
from reviews.notifications.operations import Message, notify_many
from reviews.people.models import Person


def _stale(current: Goal) -> Conflict:
    return Conflict(
        gettext(
            "This goal was saved elsewhere after you opened it; it shows the saved version now."
        ),
        current=current,
        current_version=current.version,
    )


def _check(fields: GoalFields, known_competencies: set[str]) -> None:
    problems = goal_problems(vars(fields), known_competencies)
    if problems:
        raise merge(problems)


def create_goal(
    actor: Person,
    owner: Person,
    fields: GoalFields,
    *,
    known_competencies: set[str],
    source: GoalSource = GoalSource.OWN,
    growth_plan_id: int | None = None,
) -> Goal:
    if not access.can_set_goals(actor, owner):
        raise Forbidden(gettext("You can set goals for yourself and your direct reports."))
    _check(fields, known_competencies)
    goal = Goal(
        owner_id=owner.id,
        title=fields.title.strip(),
        outcome=fields.outcome.strip(),
        competencies=list(dict.fromkeys(fields.competencies)),
        period_start=fields.period_start,
        period_end=fields.period_end,
        due_date=fields.due_date,
        status=fields.status,
        progress=fields.progress,
        checkin_every_days=fields.checkin_every_days,
        source=source if growth_plan_id is not None else GoalSource.OWN,
        growth_plan_id=growth_plan_id,
        created_by_id=actor.id,
    )
    db.session.add(goal)
    db.session.flush()
    record("goal.created", actor=actor, subject=owner, goal_id=goal.id, source=goal.source.value)
    return goal


def update_goal(
    actor: Person,
    goal: Goal,
    expected_version: int,
    fields: GoalFields,
    *,
    known_competencies: set[str],
) -> None:
    """Save over exactly the version the writer loaded; a stale save raises Conflict."""
    if not access.can_edit_goal(actor, goal):
        raise Forbidden(gettext("Only the owner and their manager edit a goal."))
    if goal.version != expected_version:
        raise _stale(goal)
    _check(fields, known_competencies)
    before = {"status": goal.status.value, "progress": goal.progress}
    goal.title = fields.title.strip()
    goal.outcome = fields.outcome.strip()
    goal.competencies = list(dict.fromkeys(fields.competencies))
    goal.period_start = fields.period_start
    goal.period_end = fields.period_end
    goal.due_date = fields.due_date
    goal.status = fields.status
    goal.progress = fields.progress
    goal.checkin_every_days = fields.checkin_every_days
    goal.updated_at = utcnow()
    _flush(goal)
    record(
        "goal.updated",
        actor=actor,
        subject=goal.owner,
        goal_id=goal.id,
        before=before,
        after={"status": goal.status.value, "progress": goal.progress},
    )


def _flush(goal: Goal) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(Goal, goal.id)
        assert current is not None  # noqa: S101
        raise _stale(current) from None


def check_in(
    actor: Person, goal: Goal, *, note: str, confidence: int, progress: int
) -> GoalCheckIn:
    if not access.can_check_in(actor, goal):
        raise Forbidden(gettext("Only the goal's owner checks in."))
    if goal.status in (GoalStatus.DONE, GoalStatus.DROPPED):
        raise PhaseClosed(gettext("This goal is closed; reopen it by changing its status first."))
    if not note.strip():
        raise Invalid(gettext("Write what moved since the last check-in."))
    if not 1 <= confidence <= 5 or not 0 <= progress <= 100:
        raise Invalid(gettext("Confidence is 1 to 5 and progress 0 to 100."))
    entry = GoalCheckIn(
        goal_id=goal.id,
        author_id=actor.id,
        note=note.strip(),
        confidence=confidence,
        progress=progress,
    )
    db.session.add(entry)
    goal.progress = progress
    if goal.status == GoalStatus.NOT_STARTED:
        goal.status = GoalStatus.ON_TRACK
    goal.updated_at = utcnow()
    _flush(goal)
    record(
        "goal.checked_in",
        actor=actor,
        subject=goal.owner,
        goal_id=goal.id,
        checkin_id=entry.id,
        confidence=confidence,
        progress=progress,
    )
    if goal.owner.manager_id is not None:
        notify_many(
            [
                Message(
                    goal.owner.manager_id,
                    "goal_checkin",
                    lazy_gettext(
                        "%(name)s checked in on “%(goal)s”", name=goal.owner.name, goal=goal.title
                    ),
                    lazy_gettext(
                        "Progress %(progress)s%%, confidence %(confidence)s of 5. "
                        "Comment if it helps.",
                        progress=progress,
                        confidence=confidence,
                    ),
                    Link("goals.goal_page", goal.id),
                )
            ]
        )
    return entry


def comment(
    actor: Person, goal: Goal, *, body: str, checkin: GoalCheckIn | None = None
) -> GoalComment:
    if not access.can_comment_on_goal(actor, goal):
        raise Forbidden(gettext("Managers up the owner's line comment on goals."))
    if checkin is not None and checkin.goal_id != goal.id:
        raise NotFound(gettext("That check-in belongs to another goal."))
    if not body.strip():
        raise Invalid(gettext("Write a comment."))
    entry = GoalComment(
        goal_id=goal.id,
        checkin_id=checkin.id if checkin else None,
        author_id=actor.id,
        body=body.strip(),
    )
    db.session.add(entry)
    db.session.flush()
    record("goal.commented", actor=actor, subject=goal.owner, goal_id=goal.id, comment_id=entry.id)
    notify_many(
        [
            Message(
                goal.owner_id,
                "goal_comment",
                lazy_gettext("%(name)s commented on “%(goal)s”", name=actor.name, goal=goal.title),
                lazy_gettext("Read the comment on your goal's page."),
                Link("goals.goal_page", goal.id),
            )
        ]
    )
    return entry


def next_checkin(goal: Goal, last: date | None) -> date:
    """When the next check-in is due: an interval after the last one (or the start)."""
    return checkin_due(goal.period_start, goal.created_at, goal.checkin_every_days, last)


def checkin_due(
    period_start: date, created_at: datetime, every_days: int, last: date | None
) -> date:
    """`next_checkin` from the goal's columns (for reads of plain rows)."""
    base = last or max(period_start, created_at.date())
    return base + timedelta(days=every_days)


class DueCheckin(NamedTuple):
    goal_id: int
    owner_id: int
    title: str
    when: date


def due_checkins(today: date, owner_id: int | None = None) -> list[DueCheckin]:
    """Open goals, in their period, whose next check-in is today or earlier (1 statement)."""
    rows = db.session.execute(
        _due_checkins(by_owner=owner_id is not None), {"today": today, "owner_id": owner_id}
    )
    due = []
    for goal_id, owner, title, start, created_at, every, at in rows:
        when = checkin_due(start, created_at, every, at.date() if at is not None else None)
        if when <= today:
            due.append(DueCheckin(goal_id, owner, title, when))
    return due


@cache
def _due_checkins(*, by_owner: bool) -> Any:
    """The statement of `due_checkins`, built once: only :today and :owner_id change."""
    today = bindparam("today", type_=Date)
    last = (
        select(func.max(GoalCheckIn.created_at))
        .where(GoalCheckIn.goal_id == Goal.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            Goal.id,
            Goal.owner_id,
            Goal.title,
            Goal.period_start,
            Goal.created_at,
            Goal.checkin_every_days,
            last,
        )
        .join(Person, Goal.owner_id == Person.id)
        .where(
            Goal.status.not_in([GoalStatus.DONE, GoalStatus.DROPPED]),
            Goal.period_start <= today,
            Goal.period_end >= today,
            Person.active.is_(True),
        )
        .order_by(Goal.due_date, Goal.id)
    )
    return stmt.where(Goal.owner_id == bindparam("owner_id")) if by_owner else stmt


def remind_checkins(today: date) -> int:
    """Queue one reminder per goal and due date: running it again the same day, or the
    next, queues nothing new until another check-in falls due. Each is written in its
    recipient's language (lazy texts, `notifications.operations.notify_many`)."""
    messages = [
        Message(
            due.owner_id,
            "goal_checkin_due",
            lazy_gettext("Check in on “%(goal)s”", goal=due.title),
            lazy_gettext(
                "A check-in on your goal was due %(date)s: note your progress and "
                "how confident you are.",
                date=LocalDate(due.when),
            ),
            Link("goals.goal_page", due.goal_id),
            dedupe_key=f"goal-checkin:{due.goal_id}:{due.when.isoformat()}",
        )
        for due in due_checkins(today)
    ]
    before = _outbox_size()
    notify_many(messages)
    return _outbox_size() - before


def _outbox_size() -> int:
    from reviews.notifications.models import Notification

    return db.session.scalar(select(func.count()).select_from(Notification)) or 0
