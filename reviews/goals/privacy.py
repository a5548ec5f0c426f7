"""Personal goals, their check-ins and the comments on them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from reviews.extensions import db
from reviews.goals.models import Goal, GoalCheckIn, GoalComment
from reviews.people.models import Person
from reviews.privacy import ANONYMISED_TEXT, Forgetting, holding

SYNC: dict[str, Any] = {"synchronize_session": False}


def _export(person: Person) -> list[dict[str, Any]]:
    goals = list(
        db.session.scalars(
            select(Goal).where(Goal.owner_id == person.id).order_by(Goal.period_start, Goal.id)
        )
    )
    ids = [g.id for g in goals] or [-1]
    checkins: dict[int, list[GoalCheckIn]] = {}
    for c in db.session.scalars(
        select(GoalCheckIn).where(GoalCheckIn.goal_id.in_(ids)).order_by(GoalCheckIn.created_at)
    ):
        checkins.setdefault(c.goal_id, []).append(c)
    comments: dict[int, list[GoalComment]] = {}
    for m in db.session.scalars(
        select(GoalComment)
        .where(GoalComment.goal_id.in_(ids))
        .options(joinedload(GoalComment.author))
        .order_by(GoalComment.created_at)
    ):
        comments.setdefault(m.goal_id, []).append(m)
    return [
        {
            "title": g.title,
            "outcome": g.outcome,
            "period": [g.period_start.isoformat(), g.period_end.isoformat()],
            "due": g.due_date.isoformat(),
            "status": g.status.value,
            "progress": g.progress,
            "check_ins": [
                {
                    "at": c.created_at.isoformat(),
                    "note": c.note,
                    "confidence": c.confidence,
                    "progress": c.progress,
                }
                for c in checkins.get(g.id, [])
            ],
            "comments": [
                {"at": m.created_at.isoformat(), "by": m.author.name, "text": m.body}
                for m in comments.get(g.id, [])
            ],
        }
        for g in goals
    ]


def _forget(f: Forgetting) -> None:
    person = f.person
    goals = select(Goal.id).where(Goal.owner_id == person.id)
    db.session.execute(
        update(Goal)
        .where(Goal.owner_id == person.id)
        .values(title=ANONYMISED_TEXT, outcome=ANONYMISED_TEXT),
        execution_options=SYNC,
    )
    db.session.execute(
        update(GoalCheckIn)
        .where(or_(GoalCheckIn.goal_id.in_(goals), GoalCheckIn.author_id == person.id))
        .values(note=ANONYMISED_TEXT),
        execution_options=SYNC,
    )
    db.session.execute(
        update(GoalComment)
        .where(or_(GoalComment.goal_id.in_(goals), GoalComment.author_id == person.id))
        .values(body=ANONYMISED_TEXT),
        execution_options=SYNC,
    )


holding(
    "goals",
    section="goals",
    columns=(
        "goal.owner_id",
        "goal.created_by_id",
        "goal_checkin.author_id",
        "goal_comment.author_id",
    ),
    export=_export,
    forget=_forget,
    keeps="Goals' dates, status and progress; titles, outcomes, check-in notes and "
    "comments by or about them go.",
)
