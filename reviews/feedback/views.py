from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import SelectChoice

from reviews import access, params
from reviews.errors import DomainError
from reviews.extensions import db
from reviews.feedback import operations as ops
from reviews.feedback import queries
from reviews.feedback.forms import GiveFeedbackForm
from reviews.feedback.inputs import parse_feedback, parse_recipient
from reviews.framework.queries import competency_names
from reviews.inputs import Fields
from reviews.languages import gettext
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
        to = params.integer("to")
        recipient = db.session.get(Person, to) if to is not None else None
        if recipient is not None:
            form.email.data = recipient.email
    else:
        data = Fields.of_form(request.form)
        try:
            recipient = parse_recipient(data)
            note = parse_feedback(data, set(names))  # every problem, the email's included
            assert recipient is not None  # noqa: S101  (parse_feedback raised otherwise)
            ops.give_feedback(
                current_user,
                recipient,
                kind=note.kind,
                visibility=note.visibility,
                body=note.body,
                competencies=note.competencies,
                known_competencies=set(names),
            )
        except DomainError as exc:
            for name, message in (exc.fields or {"": exc.message}).items():
                field = getattr(form, name, None) if name else None
                if field is not None:
                    field.errors = [*field.errors, message]
                else:
                    form.form_errors.append(message)
        else:
            flash(
                gettext(
                    "Your feedback to %(name)s is saved, with your name on it.",
                    name=recipient.name,
                ),
                "success",
            )
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
