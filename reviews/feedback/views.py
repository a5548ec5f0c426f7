from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from reviews import access
from reviews.extensions import db
from reviews.feedback import operations as ops
from reviews.feedback import queries
from reviews.feedback.forms import GiveFeedbackForm
from reviews.feedback.models import FeedbackKind, FeedbackVisibility
from reviews.framework.queries import competency_names
from reviews.people.models import Person

bp = Blueprint("feedback", __name__)


@bp.route("/feedback/give", methods=["GET", "POST"])
@access.signed_in
def give() -> Any:
    names = competency_names()
    form = GiveFeedbackForm()
    form.competencies.choices = [SelectChoice(k, v) for k, v in names.items()]
    status = 200
    if request.method == "GET":
        to = request.args.get("to", "")
        recipient = db.session.get(Person, int(to)) if to.isdigit() and len(to) < 10 else None
        if recipient is not None:
            form.email.data = recipient.email
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        recipient = db.session.scalar(select(Person).where(func.lower(Person.email) == email))
        try:
            if recipient is None:
                raise ops.FeedbackError(f"Nobody has the email {email}.", "email")
            ops.give_feedback(
                current_user,
                recipient,
                kind=FeedbackKind(form.kind.data),
                visibility=FeedbackVisibility(form.visibility.data),
                body=form.body.data or "",
                competencies=list(form.competencies.data or []),
                known_competencies=set(names),
            )
        except ops.FeedbackError as exc:
            db.session.rollback()
            field = getattr(form, exc.field or "", None)
            if field is not None:
                field.errors = [*field.errors, str(exc)]
            else:
                form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Your feedback to {recipient.name} is saved, with your name on it.", "success")
            return redirect(url_for("feedback.mine"))
    if request.method == "POST":
        status = 400
    return render_template("feedback/give.html", form=form), status


@bp.get("/feedback")
@access.signed_in
def mine() -> Any:
    me: Person = current_user
    return render_template(
        "feedback/timeline.html",
        person=me,
        notes=queries.timeline(me, me),
        given=queries.given_by(me),
        names=competency_names(),
    )


@bp.get("/people/<int:person_id>/feedback")
@access.signed_in
def timeline(person_id: int) -> Any:
    person = db.get_or_404(Person, person_id)
    if not access.can_view_feedback_timeline(current_user, person):
        abort(403)
    if person.id == current_user.id:
        return redirect(url_for("feedback.mine"))
    return render_template(
        "feedback/timeline.html",
        person=person,
        notes=queries.timeline(current_user, person),
        given=None,
        names=competency_names(),
    )
