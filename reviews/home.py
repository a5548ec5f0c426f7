"""The home page: what each person needs to know and do first.

Its statements do not grow with the org: an employee's home reads the person's
manager and reports, their step on the ladder, their tasks and their due check-ins
in one statement each; a manager's adds their cycles, HR's the org's counts.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Any

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import bindparam, false, func, select, true
from sqlalchemy.orm import load_only

from reviews import access
from reviews.cycles.models import Cycle, Review
from reviews.cycles.queries import Task, tasks_for
from reviews.cycles.workflow import LABELS, CycleState
from reviews.extensions import db
from reviews.framework.queries import level_step
from reviews.goals.operations import due_checkins
from reviews.languages import gettext
from reviews.links import Link
from reviews.people.models import ACTIVE_NO_LEVEL, ACTIVE_NO_PASSWORD, Department, Person
from reviews.people.queries import manager_and_reports

bp = Blueprint("home", __name__)


def _checkin_tasks(me: Person, today: date) -> list[Task]:
    """Check-ins due on one's goals (1 statement)."""
    return [
        Task(
            gettext("Check in on “%(goal)s”", goal=due.title),
            gettext(
                "Note your progress and how confident you are; it becomes evidence for your "
                "next review."
            ),
            Link("goals.goal_page", due.goal_id),
            due.when,
            "",
        )
        for due in due_checkins(today, owner_id=me.id)
    ]


# HR's counts of the org stop at this many ("more than 1,000"): each is one range of an
# index read up to its end or this many entries, whatever the size of the org.
COUNT_LIMIT = 1000


def _org_counts() -> dict[str, int]:
    """HR's figures of the whole org, each counted up to COUNT_LIMIT + 1 from an index
    (1 statement)."""
    row = db.session.execute(_org_counts_statement()).one()
    return {key: value or 0 for key, value in row._mapping.items()}


def _bounded(*where: Any) -> Any:
    """The number of people matching, up to COUNT_LIMIT + 1."""
    matching = select(Person.id).where(*where).limit(COUNT_LIMIT + 1).subquery()
    return select(func.count()).select_from(matching).scalar_subquery()


@cache
def _org_counts_statement() -> Any:
    # the people from the (active, name, id) index; the others from partial indexes on
    # their very predicates (reviews.people.models)
    return select(
        _bounded(Person.active == true()).label("people"),
        select(func.count()).select_from(Department).scalar_subquery().label("departments"),
        _bounded(*ACTIVE_NO_PASSWORD).label("no_password"),
        _bounded(*ACTIVE_NO_LEVEL).label("no_level"),
        _bounded(Person.active == false()).label("inactive"),
    )


def _home_cycles(me: Person, hr: bool) -> list[tuple[Cycle, bool]]:
    """Cycles the home lists, newest first, each with whether `me` manages reviews in
    it: those, and for HR every cycle not closed (1 statement)."""
    rows = db.session.execute(_home_cycles_statement(hr), {"person_id": me.id})
    return [(cycle, bool(managed)) for cycle, managed in rows]


@cache
def _home_cycles_statement(hr: bool) -> Any:
    """Built once per kind of viewer: only :person_id changes."""
    mine = Cycle.id.in_(select(Review.cycle_id).where(Review.manager_id == bindparam("person_id")))
    return (
        select(Cycle, mine)
        .options(
            load_only(
                Cycle.name,
                Cycle.state,
                Cycle.upward_feedback,
                Cycle.created_at,
                Cycle.self_review_due,
                Cycle.peer_feedback_due,
                Cycle.manager_review_due,
                Cycle.calibration_due,
            )
        )
        .where(((Cycle.state != CycleState.CLOSED) | mine) if hr else mine)
        .order_by(Cycle.created_at.desc())
    )


@bp.get("/")
@access.signed_in
def index() -> Any:
    # the person itself, not the request's proxy the layout's `me` would go through
    me: Person = current_user._get_current_object()
    today = date.today()
    hr = access.is_hr(me)
    step = level_step(me.level_id) if me.level_id else None
    manager, team = manager_and_reports(me)
    cycles = _home_cycles(me, hr) if hr or team else []
    # newest first, the cycles reviewing `me`'s team
    mine = [c for c, managed in cycles if managed] if team else []
    tasks = tasks_for(me) + _checkin_tasks(me, today)
    return render_template(
        "home/index.html",
        me=me,
        step=step,
        manager=manager,
        team=team,
        org=_org_counts() if hr else None,
        count_limit=COUNT_LIMIT,
        tasks=sorted(tasks, key=lambda t: (t.due or date.max, t.title)),
        upward_cycles=[c for c in mine if c.upward_feedback and c.state != CycleState.DRAFT],
        today=today,
        running=[c for c, _ in cycles if c.state != CycleState.CLOSED] if hr else [],
        managed=[c for c in mine if c.state not in (CycleState.DRAFT, CycleState.CLOSED)],
        labels=LABELS,
    )
