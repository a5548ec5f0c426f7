"""Read side of goals: lists, one goal's history, and seeds from the growth plan."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from reviews.cycles.models import Review
from reviews.extensions import db
from reviews.goals.models import Goal, GoalCheckIn, GoalComment, GoalSource
from reviews.goals.operations import next_checkin
from reviews.growth.models import GrowthPlan
from reviews.languages import gettext
from reviews.people.models import Person


@dataclass(frozen=True)
class GoalRow:
    goal: Goal
    checkins: int
    last_checkin: date | None
    next_checkin: date


def goals_of(owner: Person) -> list[GoalRow]:
    """Every goal of `owner`, current period first, with check-in counts (one statement)."""
    stats = (
        select(
            GoalCheckIn.goal_id,
            func.count(GoalCheckIn.id).label("n"),
            func.max(GoalCheckIn.created_at).label("at"),
        )
        .group_by(GoalCheckIn.goal_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Goal, stats.c.n, stats.c.at)
        .outerjoin(stats, stats.c.goal_id == Goal.id)
        .where(Goal.owner_id == owner.id)
        .order_by(Goal.period_end.desc(), Goal.due_date, Goal.id)
    ).all()
    out = []
    for goal, n, at in rows:
        last = at.date() if at is not None else None
        out.append(GoalRow(goal, n or 0, last, next_checkin(goal, last)))
    return out


def history(goal: Goal) -> tuple[list[GoalCheckIn], dict[int | None, list[GoalComment]]]:
    """Check-ins newest first, and comments by the check-in they answer (None: the goal)."""
    checkins = list(
        db.session.scalars(
            select(GoalCheckIn)
            .where(GoalCheckIn.goal_id == goal.id)
            .options(joinedload(GoalCheckIn.author))
            .order_by(GoalCheckIn.created_at.desc(), GoalCheckIn.id.desc())
        )
    )
    comments: dict[int | None, list[GoalComment]] = {}
    for c in db.session.scalars(
        select(GoalComment)
        .where(GoalComment.goal_id == goal.id)
        .options(joinedload(GoalComment.author))
        .order_by(GoalComment.created_at, GoalComment.id)
    ):
        comments.setdefault(c.checkin_id, []).append(c)
    return checkins, comments


@dataclass(frozen=True)
class Seed:
    """A goal proposed from a growth plan: a focus competency or a stretch opportunity."""

    key: str  # "focus:<competency key>" or "item:<plan item id>"
    title: str
    outcome: str
    competencies: list[str]
    source: GoalSource
    plan_id: int
    due: date | None


def latest_plan(owner: Person) -> GrowthPlan | None:
    return db.session.scalar(
        select(GrowthPlan)
        .join(Review, GrowthPlan.review_id == Review.id)
        .where(Review.subject_id == owner.id)
        .options(selectinload(GrowthPlan.items))
        .order_by(GrowthPlan.created_at.desc(), GrowthPlan.id.desc())
        .limit(1)
    )


def seeds_for(owner: Person, names: dict[str, str]) -> list[Seed]:
    """Goals the latest growth plan suggests, minus those already taken up as goals.

    A plan's item is taken when a goal of the plan has its title; a focus competency when
    a goal of the plan grows that competency from its focus, whatever language either
    title was written in (a focus title is written in the reader's language, its
    competency's name through HR's translations)."""
    plan = latest_plan(owner)
    if plan is None:
        return []
    goals = db.session.execute(
        select(Goal.title, Goal.source, Goal.competencies).where(
            Goal.owner_id == owner.id, Goal.growth_plan_id == plan.id
        )
    ).all()
    taken = {title for title, _source, _keys in goals}
    focused = {
        key for _title, source, keys in goals if source == GoalSource.FOCUS for key in keys or []
    }
    seeds = [
        Seed(
            f"item:{item.id}",
            item.title,
            item.description
            or gettext("Complete “%(title)s” and share what you learned.", title=item.title),
            [c for c in item.competencies if c in names],
            GoalSource.OPPORTUNITY,
            plan.id,
            item.end_date,
        )
        for item in plan.items
    ]
    seeds += [
        Seed(
            f"focus:{key}",
            gettext("Grow %(competency)s", competency=names[key]),
            gettext(
                "Show %(competency)s at the level your growth plan targets, with examples your "
                "manager can point to.",
                competency=names[key],
            ),
            [key],
            GoalSource.FOCUS,
            plan.id,
            None,
        )
        for key in plan.focus
        if key in names and key not in focused
    ]
    return [s for s in seeds if s.title not in taken]
