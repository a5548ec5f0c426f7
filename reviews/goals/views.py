from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from reviews import access
from reviews.errors import BadParameter, Conflict, DomainError, Invalid
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
from reviews.goals.inputs import parse_checkin, parse_comment, parse_goal
from reviews.goals.models import Goal, GoalCheckIn, GoalSource
from reviews.inputs import Fields
from reviews.languages import gettext
from reviews.people.models import Person

bp = Blueprint("goals", __name__)


def _id(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _goal_form(names: dict[str, str], **kwargs: Any) -> GoalForm:
    form = GoalForm(**kwargs)
    form.competencies.choices = [SelectChoice(k, v) for k, v in names.items()]
    return form


def _show(form: Any, exc: DomainError) -> None:
    """A refusal on the form: each problem beside its field, the rest above it."""
    for name, message in (exc.fields or {"": exc.message}).items():
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


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
        raise BadParameter(
            gettext("The parameter “%(name)s” must be a person's id.", name="for"), "for"
        )
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
        raise BadParameter(
            gettext("The parameter “%(name)s” names no suggestion for this person.", name="seed"),
            "seed",
        )
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
    if request.method == "POST":
        try:
            goal = ops.create_goal(
                current_user,
                owner,
                parse_goal(Fields.of_form(request.form), set(names)),
                known_competencies=set(names),
                source=seed.source if seed else GoalSource.OWN,
                growth_plan_id=seed.plan_id if seed else None,
            )
        except DomainError as exc:
            _show(form, exc)
            status = 400 if exc.status == 422 else exc.status
        else:
            flash(gettext("Goal added."), "success")
            return redirect(url_for("goals.goal_page", goal_id=goal.id))
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
    version = _id(form.version.data) or -1
    try:
        fields = parse_goal(Fields.of_form(request.form), set(names))
        ops.update_goal(current_user, goal, version, fields, known_competencies=set(names))
    except Conflict as conflict:
        current = conflict.current
        form.version.data = str(current.version)
        form.form_errors.append(
            gettext(
                "Your changes were not saved: this goal was changed elsewhere after you "
                "opened it (it is now “%(title)s”, %(progress)s%%, %(status)s).",
                title=current.title,
                progress=current.progress,
                status=str(STATUS_LABELS[current.status.value]).lower(),
            )
            + " "
            + gettext(
                "What you typed is kept below; save again to replace the other change with it."
            )
        )
        return _page(current, form=form, status=409)
    except DomainError as exc:
        _show(form, exc)
        return _page(goal, form=form, status=400 if exc.status == 422 else exc.status)
    flash(gettext("Goal saved."), "success")
    return redirect(url_for("goals.goal_page", goal_id=goal.id))


@bp.post("/goals/<int:goal_id>/checkins")
@access.signed_in
def add_checkin(goal_id: int) -> Any:
    goal = _goal_or_404(goal_id)
    if not access.can_check_in(current_user, goal):
        abort(403)
    form = CheckInForm()
    try:
        given = parse_checkin(Fields.of_form(request.form))
        ops.check_in(
            current_user,
            goal,
            note=given.note,
            confidence=given.confidence,
            progress=given.progress,
        )
    except Conflict as conflict:
        form.form_errors.append(gettext("The goal changed meanwhile; check in again."))
        return _page(conflict.current or goal, checkin_form=form, status=409)
    except DomainError as exc:
        _show(form, exc)
        return _page(goal, checkin_form=form, status=400 if exc.status == 422 else exc.status)
    flash(gettext("Check-in saved."), "success")
    return redirect(url_for("goals.goal_page", goal_id=goal.id))


@bp.post("/goals/<int:goal_id>/comments")
@access.signed_in
def add_comment(goal_id: int) -> Any:
    goal = _goal_or_404(goal_id)
    if not access.can_comment_on_goal(current_user, goal):
        abort(403)
    form = CommentForm()
    try:
        body, checkin_id = parse_comment(Fields.of_form(request.form))
        checkin = None
        if checkin_id is not None:
            checkin = db.session.scalar(
                select(GoalCheckIn).where(
                    GoalCheckIn.id == checkin_id, GoalCheckIn.goal_id == goal.id
                )
            )
            if checkin is None:
                raise Invalid(gettext("That check-in is not part of this goal."))
        ops.comment(current_user, goal, body=body, checkin=checkin)
    except DomainError as exc:
        _show(form, exc)
        return _page(goal, comment_form=form, status=400)
    flash(gettext("Comment added."), "success")
    return redirect(url_for("goals.goal_page", goal_id=goal.id))
