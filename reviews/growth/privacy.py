"""Growth plans: exported inside each review (`cycles.privacy`); their texts forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from reviews.cycles.models import Review
from reviews.extensions import db
from reviews.growth.models import GrowthPlan, GrowthPlanItem
from reviews.privacy import ANONYMISED_TEXT, Forgetting, holding, iso

SYNC: dict[str, Any] = {"synchronize_session": False}


def plan_of(review: Review) -> dict[str, Any] | None:
    plan = db.session.scalar(select(GrowthPlan).where(GrowthPlan.review_id == review.id))
    if plan is None:
        return None
    return {
        "mode": plan.mode.value,
        "target_level": plan.target_level_key,
        "focus": plan.focus,
        "notes": plan.notes,
        "employee_comment": plan.employee_comment,
        "manager_agreed_at": iso(plan.manager_agreed_at),
        "employee_agreed_at": iso(plan.employee_agreed_at),
        "items": [
            {
                "title": i.title,
                "description": i.description,
                "competencies": i.competencies,
                "start": i.start_date.isoformat(),
                "end": i.end_date.isoformat(),
                "check_ins": i.checkins,
                "notes": i.notes,
            }
            for i in plan.items
        ],
    }


def _forget(f: Forgetting) -> None:
    reviews = select(Review.id).where(Review.subject_id == f.person.id)
    plans = select(GrowthPlan.id).where(GrowthPlan.review_id.in_(reviews))
    db.session.execute(
        update(GrowthPlan)
        .where(GrowthPlan.review_id.in_(reviews))
        .values(employee_comment="", notes=""),
        execution_options=SYNC,
    )
    db.session.execute(
        update(GrowthPlanItem).where(GrowthPlanItem.plan_id.in_(plans)).values(notes=""),
        execution_options=SYNC,
    )
    db.session.execute(
        update(GrowthPlanItem)
        .where(GrowthPlanItem.plan_id.in_(plans), GrowthPlanItem.opportunity_key.is_(None))
        .values(title=ANONYMISED_TEXT, description=""),
        execution_options=SYNC,
    )


holding(
    "growth",
    columns=(),
    forget=_forget,
    keeps="Plans from the catalogue keep their opportunities and dates; notes, comments and "
    "free-text items go.",
)
