"""The only code that changes growth plans."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from reviews.audit.operations import record
from reviews.cycles.models import Assessment, Cycle, PartKind, PartState, Review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.db import utcnow
from reviews.errors import Conflict, Invalid, NotFound
from reviews.extensions import db
from reviews.framework.models import Opportunity as OpportunityRow
from reviews.growth.inputs import MAX_TEXT, dates_problem, text_problem
from reviews.growth.models import GrowthPlan, GrowthPlanItem, PlanMode
from reviews.growth.planner import (
    CompetencyTarget,
    Opportunity,
    Plan,
    checkins_between,
    plan_growth,
)
from reviews.languages import force_locale, gettext, person_locale_of
from reviews.people.models import Person


def _stale(plan: GrowthPlan) -> Conflict:
    return Conflict(
        gettext(
            "The plan changed after you opened it (someone else edited it); it shows the "
            "current version now."
        ),
        current=plan,
        current_version=plan.version,
    )


def catalogue() -> list[Opportunity]:
    rows = db.session.scalars(select(OpportunityRow).where(OpportunityRow.active.is_(True))).all()
    return [
        Opportunity(
            o.key,
            o.title,
            o.description,
            tuple(c.key for c in o.competencies),
            tuple(lv.key for lv in o.levels),
            o.duration_weeks,
            o.track.value if o.track else None,
        )
        for o in rows
    ]


def target_for(
    snapshot: FrameworkSnapshot, level_key: str | None, desired: str | None
) -> str | None:
    """The level a plan aims at: the one chosen in the self-review if above, else the next."""
    ranks = {lv["key"]: lv["rank"] for lv in snapshot.levels}
    if desired and level_key in ranks and desired in ranks and ranks[desired] > ranks[level_key]:
        return desired
    return snapshot.next_level(level_key)


def propose(
    review: Review,
    snapshot: FrameworkSnapshot,
    ratings: dict[str, int],
    desired: str | None,
    opportunities: list[Opportunity],
    start: date,
) -> Plan:
    current = review.level_key or ""
    target = target_for(snapshot, review.level_key, desired)
    basis = target or current
    targets = []
    for c in snapshot.competencies:
        exp = snapshot.expectation(basis, c.key)
        if exp is not None:
            targets.append(CompetencyTarget(c.key, c.name, exp.expected, exp.weight))
    return plan_growth(
        ratings=ratings,
        current_level=current,
        target_level=target,
        targets=targets,
        catalogue=opportunities,
        start=start,
        catalogue_levels=snapshot.plan_levels(review.level_key, target or current),
        target_track=snapshot.track(target or current),
    )


def propose_plans(cycle: Cycle, start: date | None = None) -> int:
    """Create the proposed plan of every released review that has a final rating and a level."""
    snapshot = FrameworkSnapshot(cycle.framework_snapshot or {})
    opportunities = catalogue()
    start = start or date.today()
    rows = db.session.execute(
        select(Review, Assessment.desired_level_key, Person.locale)
        .join(Person, Person.id == Review.subject_id)
        .outerjoin(
            Assessment,
            (Assessment.review_id == Review.id)
            & (Assessment.kind == PartKind.SELF)
            & (Assessment.state == PartState.SUBMITTED),
        )
        .where(
            Review.cycle_id == cycle.id,
            Review.final_rating.is_not(None),
            Review.level_key.is_not(None),
            Review.id.not_in(select(GrowthPlan.review_id)),
        )
    ).all()
    now = utcnow()
    plans = []
    for review, desired, chosen in rows:
        # The planner's notes are kept as the plan's text: in the person's own language.
        with force_locale(person_locale_of(chosen)):
            plan = propose(
                review, snapshot, dict(review.final_ratings or {}), desired, opportunities, start
            )
        plans.append((review.id, plan))
    if not plans:
        return 0
    ids = dict(
        db.session.execute(
            insert(GrowthPlan).returning(
                GrowthPlan.review_id, GrowthPlan.id, sort_by_parameter_order=True
            ),
            [
                {
                    "review_id": rid,
                    "mode": PlanMode(p.mode),
                    "target_level_key": p.target_level,
                    "focus": [g.key for g in p.focus],
                    "notes": "\n".join(p.notes),
                    "employee_comment": "",
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for rid, p in plans
            ],
        ).all()
    )
    items = [
        {
            "plan_id": ids[rid],
            "position": n,
            "opportunity_key": i.opportunity_key,
            "title": i.title,
            "description": i.description,
            "competencies": list(i.competencies),
            "start_date": i.start,
            "end_date": i.end,
            "checkins": [d.isoformat() for d in i.checkins],
            "notes": "",
        }
        for rid, p in plans
        for n, i in enumerate(p.items)
    ]
    if items:
        db.session.execute(insert(GrowthPlanItem), items)
    record("growth.proposed", actor=None, cycle_id=cycle.id, plans=len(plans))
    return len(plans)


def _check(plan: GrowthPlan, version: int) -> None:
    if plan.version != version:
        raise _stale(plan)


def _touch(plan: GrowthPlan, *, reset_agreement: bool) -> None:
    plan.updated_at = utcnow()
    if reset_agreement:
        # The plan the two agreed on changed: they agree again.
        plan.manager_agreed_at = None
        plan.employee_agreed_at = None
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(GrowthPlan, plan.id)
        assert current is not None  # noqa: S101
        raise _stale(current) from None


def _text(value: str, field: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    """The text of `field` (title, description, notes or comment), stripped, or Invalid."""
    if problem := text_problem(value, field, required=required, limit=limit):
        raise Invalid(problem, field)
    return (value or "").strip()


def suitable_opportunities(plan: GrowthPlan) -> list[OpportunityRow]:
    """The catalogue a plan may draw on: active opportunities meant for the person's
    level, the plan's target or a level between (the planner's rule, `plan_levels`), so an
    engineer is not offered a director's stretch."""
    review = plan.review
    levels = FrameworkSnapshot(review.cycle.framework_snapshot or {}).plan_levels(
        review.level_key, plan.target_level_key
    )
    rows = db.session.scalars(
        select(OpportunityRow)
        .where(OpportunityRow.active.is_(True))
        .options(selectinload(OpportunityRow.levels))
        .order_by(OpportunityRow.title)
    )
    return [o for o in rows if levels & {lv.key for lv in o.levels}]


def add_item(
    actor: Person,
    plan: GrowthPlan,
    version: int,
    *,
    opportunity_key: str | None,
    title: str,
    description: str,
    start: date,
    weeks: int,
) -> GrowthPlanItem:
    _check(plan, version)
    if not 1 <= weeks <= 52:
        raise Invalid(gettext("Choose a duration from 1 to 52 weeks."), "weeks")
    competencies: list[str] = []
    if opportunity_key:
        found = next((o for o in suitable_opportunities(plan) if o.key == opportunity_key), None)
        if found is None:
            raise Invalid(
                gettext("Choose an opportunity from the catalogue for this level."), "opportunity"
            )
        if any(i.opportunity_key == opportunity_key for i in plan.items):
            raise Invalid(gettext("This opportunity is already in the plan."), "opportunity")
        title, description = found.title, found.description
        competencies = [c.key for c in found.competencies]
    else:
        title = _text(title, "title", required=True, limit=200)
        description = _text(description, "description")
    end = start + timedelta(weeks=weeks)
    item = GrowthPlanItem(
        plan=plan,
        position=len(plan.items),
        opportunity_key=opportunity_key,
        title=title,
        description=description,
        competencies=competencies,
        start_date=start,
        end_date=end,
        checkins=[d.isoformat() for d in checkins_between(start, end)],
    )
    db.session.add(item)
    _touch(plan, reset_agreement=True)
    record(
        "growth.item_added",
        actor=actor,
        subject=plan.review.subject,
        cycle_id=plan.review.cycle_id,
        title=title,
    )
    return item


def _item(plan: GrowthPlan, item_id: int) -> GrowthPlanItem:
    item = next((i for i in plan.items if i.id == item_id), None)
    if item is None:
        raise NotFound(gettext("That item is not in this plan."))
    return item


def remove_item(actor: Person, plan: GrowthPlan, version: int, item_id: int) -> None:
    _check(plan, version)
    item = _item(plan, item_id)
    plan.items.remove(item)
    for n, other in enumerate(plan.items):
        other.position = n
    _touch(plan, reset_agreement=True)
    record(
        "growth.item_removed",
        actor=actor,
        subject=plan.review.subject,
        cycle_id=plan.review.cycle_id,
        title=item.title,
    )


def move_item(actor: Person, plan: GrowthPlan, version: int, item_id: int, step: int) -> None:
    _check(plan, version)
    item = _item(plan, item_id)
    items = list(plan.items)
    i = items.index(item)
    j = i + step
    if not 0 <= j < len(items):
        raise Invalid(gettext("That item cannot move further."))
    items[i], items[j] = items[j], items[i]
    for n, other in enumerate(items):
        other.position = n
    _touch(plan, reset_agreement=True)


def update_item(
    actor: Person,
    plan: GrowthPlan,
    version: int,
    item_id: int,
    *,
    start: date,
    end: date,
    notes: str,
) -> None:
    _check(plan, version)
    item = _item(plan, item_id)
    if problem := dates_problem(start, end):
        raise Invalid(problem, "end")
    item.start_date, item.end_date = start, end
    item.checkins = [d.isoformat() for d in checkins_between(start, end)]
    item.notes = _text(notes, "notes")
    _touch(plan, reset_agreement=True)
    record(
        "growth.item_updated",
        actor=actor,
        subject=plan.review.subject,
        cycle_id=plan.review.cycle_id,
        title=item.title,
    )


def set_notes(actor: Person, plan: GrowthPlan, version: int, notes: str) -> None:
    _check(plan, version)
    plan.notes = _text(notes, "notes", limit=4000)
    _touch(plan, reset_agreement=True)


def comment(actor: Person, plan: GrowthPlan, version: int, text: str) -> None:
    _check(plan, version)
    plan.employee_comment = _text(text, "comment", limit=4000)
    _touch(plan, reset_agreement=False)
    record(
        "growth.commented", actor=actor, subject=plan.review.subject, cycle_id=plan.review.cycle_id
    )


def agree(actor: Person, plan: GrowthPlan, version: int, *, as_manager: bool) -> None:
    _check(plan, version)
    now = utcnow()
    if as_manager:
        plan.manager_agreed_at = now
    else:
        plan.employee_agreed_at = now
    _touch(plan, reset_agreement=False)
    record(
        "growth.agreed",
        actor=actor,
        subject=plan.review.subject,
        cycle_id=plan.review.cycle_id,
        side="manager" if as_manager else "employee",
    )


def plan_for(review: Review) -> GrowthPlan | None:
    return db.session.scalar(select(GrowthPlan).where(GrowthPlan.review_id == review.id))
