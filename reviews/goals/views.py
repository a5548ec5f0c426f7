from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from reviews import access
from reviews.errors import BadParameter, Conflict, DomainError
from reviews.extensions import db
from reviews.framework.queries import competency_names
from reviews.goals import operations as ops
from reviews.goals import queries
from reviews.goals.forms import (
    CONFIDENCE_LABELS,
    STATUS_LABELS,
    CheckInForm,
    CommentForm,
    GoalForm,
)
from reviews.goals.models import Goal, GoalCheckIn, GoalSource, GoalStatus
from reviews.people.models import Person

bp = Blueprint("goals", __name__)


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _goal_form(names: dict[str, str], **kwargs: Any) -> GoalForm:
    form = GoalForm(**kwargs)
    form.competencies.choices = [SelectChoice(k, v) for k, v in names.items()]
    return form


def _fields(form: GoalForm) -> ops.GoalFields:
    return ops.GoalFields(
        title=form.title.data or "",
        outcome=form.outcome.data or "",
        period_start=form.period_start.data,  # type: ignore[arg-type]
        period_end=form.period_end.data,  # type: ignore[arg-type]
        due_date=form.due_date.data,  # type: ignore[arg-type]
        status=GoalStatus(form.status.data),
        progress=form.progress.data or 0,
        checkin_every_days=form.checkin_every_days.data or 14,
        competencies=list(form.competencies.data or []),
    )


def _list(person: Person) -> Any:
    names = competency_names()
    today = date.today()
    rows = queries.goals_of(person)
    current = [r for r in rows if r.goal.period_end >= today]
    past = [r for r in rows if r.goal.period_end < today]
    return render_template(
        "goals/list.html",
        person=person,
        current=current,
        past=past,
        names=names,
        statuses=STATUS_LABELS,
        today=today,
        can_set=access.can_set_goals(current_user, person),
        seeds=queries.seeds_for(person, names)
        if access.can_set_goals(current_user, person)
        else [],
    )


@bp.get("/goals")
@access.signed_in
def mine() -> Any:
    return _list(current_user)


@bp.get("/people/<int:person_id>/goals")
@access.signed_in
def person_goals(person_id: int) -> Any:
    person = db.get_or_404(Person, person_id)
    if not access.can_view_goals(current_user, person):
        abort(403)
    return _list(person)


@bp.route("/goals/new", methods=["GET", "POST"])
@access.signed_in
def new() -> Any:
    raw_owner = request.values.get("for")
    owner_id = _id(raw_owner)
    if raw_owner and owner_id is None:
        raise BadParameter("The parameter “for” must be a person's id.", "for")
    owner = db.session.get(Person, owner_id) if owner_id else current_user
    if owner is None:
        abort(404)
    if not access.can_set_goals(current_user, owner):
        abort(403)
    names = competency_names()
    seeds = {s.key: s for s in queries.seeds_for(owner, names)}
    form = _goal_form(names)
    seed = seeds.get(request.values.get("seed", ""))
    if request.values.get("seed") and seed is None:
        raise BadParameter("The parameter “seed” names no suggestion for this person.", "seed")
    if request.method == "GET":
        today = date.today()
        form.period_start.data = today
        form.period_end.data = today + timedelta(days=182)
        form.due_date.data = today + timedelta(days=182)
        if seed is not None:
            form.seed.data = seed.key
            form.title.data = seed.title
            form.outcome.data = seed.outcome
            form.competencies.data = seed.competencies
            if seed.due and today <= seed.due <= today + timedelta(days=365):
                form.due_date.data = seed.due
                form.period_end.data = max(seed.due, form.period_end.data)
    status = 200
    if form.validate_on_submit():
        try:
            goal = ops.create_goal(
                current_user,
                owner,
                _fields(form),
                known_competencies=set(names),
                source=seed.source if seed else GoalSource.OWN,
                growth_plan_id=seed.plan_id if seed else None,
            )
        except DomainError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
        else:
            flash("Goal added.", "success")
            return redirect(url_for("goals.goal_page", goal_id=goal.id))
    if request.method == "POST":
        status = 400
    return render_template("goals/new.html", form=form, owner=owner, seed=seed, names=names), status


def _goal_or_404(goal_id: int) -> Goal:
    goal = db.get_or_404(Goal, goal_id)
    if not access.can_view_goals(current_user, goal.owner):
        abort(403)
    return goal


def _page(
    goal: Goal,
    *,
    form: GoalForm | None = None,
    checkin_form: CheckInForm | None = None,
    comment_form: CommentForm | None = None,
    status: int = 200,
) -> Any:
    names = competency_names()
    if form is None:
        form = _goal_form(names, obj=goal, formdata=None)
        form.status.data = goal.status.value
        form.version.data = str(goal.version)
    checkins, comments = queries.history(goal)
    last = checkins[0].created_at.date() if checkins else None
    return render_template(
        "goals/goal.html",
        goal=goal,
        form=form,
        checkin_form=checkin_form or CheckInForm(progress=goal.progress, formdata=None),
        comment_form=comment_form or CommentForm(formdata=None),
        checkins=checkins,
        comments=comments,
        names=names,
        statuses=STATUS_LABELS,
        confidence=CONFIDENCE_LABELS,
        next_checkin=ops.next_checkin(goal, last),
        today=date.today(),
        can_edit=access.can_edit_goal(current_user, goal),
        can_check_in=access.can_check_in(current_user, goal),
        can_comment=access.can_comment_on_goal(current_user, goal),
    ), status


@bp.get("/goals/<int:goal_id>")
@access.signed_in
def goal_page(goal_id: int) -> Any:
    return _page(_goal_or_404(goal_id))


@bp.post("/goals/<int:goal_id>/edit")
@access.signed_in
def edit_goal(goal_id: int) -> Any:
    goal = _goal_or_404(goal_id)
    if not access.can_edit_goal(current_user, goal):
        abort(403)
    names = competency_names()
    form = _goal_form(names)
    if not form.validate_on_submit():
        return _page(goal, form=form, status=400)
    version = _id(form.version.data) or -1
    try:
        ops.update_goal(current_user, goal, version, _fields(form), known_competencies=set(names))
    except Conflict as conflict:
        db.session.rollback()
        fresh = _goal_form(names, obj=conflict.current, formdata=None)
        fresh.status.data = conflict.current.status.value
        fresh.version.data = str(conflict.current.version)
        fresh.form_errors.append(
            "Your changes were not saved: this goal was changed elsewhere after you opened "
            "it. The saved version is shown now; make your changes again."
        )
        return _page(conflict.current, form=fresh, status=409)
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _page(goal, form=form, status=400)
    flash("Goal saved.", "success")
    return redirect(url_for("goals.goal_page", goal_id=goal.id))


@bp.post("/goals/<int:goal_id>/checkins")
@access.signed_in
def add_checkin(goal_id: int) -> Any:
    goal = _goal_or_404(goal_id)
    if not access.can_check_in(current_user, goal):
        abort(403)
    form = CheckInForm()
    if not form.validate_on_submit():
        return _page(goal, checkin_form=form, status=400)
    try:
        ops.check_in(
            current_user,
            goal,
            note=form.note.data or "",
            confidence=int(form.confidence.data or 0),
            progress=form.progress.data or 0,
        )
    except Conflict as conflict:
        db.session.rollback()
        form.form_errors.append("The goal changed meanwhile; check in again.")
        return _page(conflict.current or goal, checkin_form=form, status=409)
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _page(goal, checkin_form=form, status=409)
    flash("Check-in saved.", "success")
    return redirect(url_for("goals.goal_page", goal_id=goal.id))


@bp.post("/goals/<int:goal_id>/comments")
@access.signed_in
def add_comment(goal_id: int) -> Any:
    goal = _goal_or_404(goal_id)
    if not access.can_comment_on_goal(current_user, goal):
        abort(403)
    form = CommentForm()
    if not form.validate_on_submit():
        return _page(goal, comment_form=form, status=400)
    checkin = None
    checkin_id = _id(form.checkin_id.data)
    if form.checkin_id.data:
        checkin = db.session.scalar(
            select(GoalCheckIn).where(GoalCheckIn.id == checkin_id, GoalCheckIn.goal_id == goal.id)
        )
        if checkin is None:
            form.form_errors.append("That check-in is not part of this goal.")
            return _page(goal, comment_form=form, status=400)
    try:
        ops.comment(current_user, goal, body=form.body.data or "", checkin=checkin)
    except DomainError as exc:
        db.session.rollback()
        form.form_errors.append(exc.message)
        return _page(goal, comment_form=form, status=400)
    flash("Comment added.", "success")
    return redirect(url_for("goals.goal_page", goal_id=goal.id))
