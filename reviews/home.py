"""The home page: what each person needs to know and do first."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import func, select

from reviews import access
from reviews.cycles.models import Cycle, Review
from reviews.cycles.queries import Task, tasks_for
from reviews.cycles.workflow import LABELS, CycleState
from reviews.extensions import db
from reviews.framework.queries import ladder
from reviews.links import Link
from reviews.people.models import Department, Person, Role
from reviews.people.queries import direct_reports

bp = Blueprint("home", __name__)


def _upward_cycles(me: Person) -> list[Cycle]:
    """Launched cycles that asked `me`'s reports for upward feedback, newest first."""
    return list(
        db.session.scalars(
            select(Cycle)
            .where(
                Cycle.upward_feedback.is_(True),
                Cycle.state != CycleState.DRAFT,
                Cycle.id.in_(select(Review.cycle_id).where(Review.manager_id == me.id)),
            )
            .order_by(Cycle.created_at.desc())
        )
    )


def _between_cycles_tasks(me: Person) -> list[Task]:
    """Check-ins due on one's goals, and upward feedback a cycle asks of one (2 statements)."""
    from reviews.goals.operations import due_checkins
    from reviews.upward.queries import pending_for

    today = date.today()
    tasks = [
        Task(
            f"Check in on “{goal.title}”",
            "Note your progress and how confident you are; it becomes evidence for your "
            "next review.",
            Link("goals.goal_page", goal.id),
            when,
            "",
        )
        for goal, when in due_checkins(today, owner_id=me.id)
    ]
    tasks += [
        Task(
            f"Give {manager_name} upward feedback",
            "Anonymous; they see only averages once enough of their reports answered.",
            Link("upward.give", cycle.id),
            cycle.manager_review_due,
            cycle.name,
        )
        for cycle, manager_name in pending_for(me)
    ]
    return tasks


@bp.get("/")
@access.signed_in
def index() -> Any:
    me: Person = current_user
    framework = ladder(lean=True, level_id=me.level_id)
    by_id = {lv.id: lv for lv in framework.levels}
    level = by_id.get(me.level_id) if me.level_id else None
    next_level = by_id.get(level.next_level_id) if level and level.next_level_id else None
    team = direct_reports([me.id])[me.id]
    org: dict[str, int] | None = None
    if access.is_hr(me):
        active = Person.active.is_(True)
        org = {
            "people": db.session.scalar(select(func.count()).where(active)) or 0,
            "departments": db.session.scalar(select(func.count()).select_from(Department)) or 0,
            "no_password": db.session.scalar(
                select(func.count()).where(active, Person.password_hash.is_(None))
            )
            or 0,
            "no_level": db.session.scalar(
                select(func.count()).where(
                    active, Person.level_id.is_(None), Person.role != Role.HR
                )
            )
            or 0,
            "inactive": db.session.scalar(select(func.count()).where(Person.active.is_(False)))
            or 0,
        }
    running: list[Cycle] = []
    if access.is_hr(me):
        running = list(
            db.session.scalars(
                select(Cycle)
                .where(Cycle.state != CycleState.CLOSED)
                .order_by(Cycle.created_at.desc())
            )
        )
    managed: list[Cycle] = []
    if team:
        managed = list(
            db.session.scalars(
                select(Cycle).where(
                    Cycle.state.not_in([CycleState.DRAFT, CycleState.CLOSED]),
                    Cycle.id.in_(select(Review.cycle_id).where(Review.manager_id == me.id)),
                )
            )
        )
    tasks = tasks_for(me) + _between_cycles_tasks(me)
    return render_template(
        "home/index.html",
        framework=framework,
        level=level,
        next_level=next_level,
        team=team,
        org=org,
        tasks=sorted(tasks, key=lambda t: (t.due or date.max, t.title)),
        upward_cycles=_upward_cycles(me) if team else [],
        today=date.today(),
        running=running,
        managed=managed,
        labels=LABELS,
    )
