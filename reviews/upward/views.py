from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from reviews import access
from reviews.audit.operations import record
from reviews.cycles.models import Cycle
from reviews.cycles.views.parts import coach_findings, posted_values
from reviews.cycles.workflow import LABELS, CycleState
from reviews.documents.filenames import disposition, filename
from reviews.errors import DomainError
from reviews.extensions import db
from reviews.languages import gettext, ngettext, pgettext
from reviews.people.models import Person
from reviews.reports.spreadsheets import csv_stream
from reviews.upward import operations as ops
from reviews.upward import queries
from reviews.upward.aggregate import SPREAD_MINIMUM, QuestionAggregate

bp = Blueprint("upward", __name__)


def _cycle(cycle_id: int) -> Cycle:
    cycle = db.get_or_404(Cycle, cycle_id)
    if not cycle.upward_feedback or cycle.state == CycleState.DRAFT:
        abort(404)
    return cycle


@bp.route("/cycles/<int:cycle_id>/upward", methods=["GET", "POST"])
@access.signed_in
def give(cycle_id: int) -> Any:
    cycle = _cycle(cycle_id)
    review = ops.own_review(current_user, cycle)
    if review is None or review.manager is None:
        abort(403)
    template = queries.template(cycle)
    keys = queries.competencies(cycle, template)
    answered = ops.has_answered(current_user, cycle, review.manager_id or 0)
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = posted_values(template)
        ratings, answers, errors = ops.parse_answer(request.form, template, [k for k, _ in keys])
        if not errors:
            try:
                ops.submit(current_user, cycle, ratings, answers)
            except DomainError as exc:
                db.session.rollback()
                errors["form"] = exc.message
                status = exc.status
            else:
                flash(gettext("Thank you. Your answer is kept without your name."), "success")
                return redirect(url_for("home.index"))
        status = status if status != 200 else 400
    labels = {f"rating_{k}": name for k, name in keys} | {
        q.key: q.label for q in template.questions
    }
    return render_template(
        "upward/give.html",
        cycle=cycle,
        manager=review.manager,
        template=template,
        competencies=keys,
        answered=answered,
        open=cycle.state in ops.UPWARD_OPEN,
        values=values,
        errors=errors,
        coach=coach_findings(template, values) if errors else {},
        summary=[
            (name, labels.get(name, ""), message)
            for name, message in errors.items()
            if name != "form"
        ],
        threshold=queries.threshold(cycle),
    ), status


@bp.get("/cycles/<int:cycle_id>/upward/<int:person_id>")
@access.signed_in
def summary(cycle_id: int, person_id: int) -> Any:
    cycle = _cycle(cycle_id)
    manager = db.get_or_404(Person, person_id)
    if not access.can_view_upward_summary(current_user, manager):
        abort(403)
    return render_template(
        "upward/summary.html",
        cycle=cycle,
        manager=manager,
        summary=queries.summary_for(cycle, manager, current_user),
        labels=LABELS,
        spread_minimum=max(SPREAD_MINIMUM, queries.threshold(cycle)),
    )


def _figure(q: QuestionAggregate) -> Any:
    """One question's aggregate in a cell: a scale's mean, or the count per answer."""
    if q.responses is None:
        return ""
    if q.kind == "scale" and q.mean is not None and not q.tallies:
        return q.mean
    counts = "; ".join(f"{label}: {n}" for label, n in q.tallies or ())
    if q.kind == "scale" and q.mean is not None:
        return f"{q.mean} ({counts})"
    return counts or ngettext("%(num)d answer", "%(num)d answers", q.responses)


@bp.get("/cycles/<int:cycle_id>/upward.csv")
@access.hr_only
def summary_csv(cycle_id: int) -> Any:
    cycle = _cycle(cycle_id)
    template = queries.template(cycle)
    keys = queries.competencies(cycle, template)
    # Free text stays on the summary page; every other question gets a column.
    questions = [q for q in template.questions if q.kind != "text"]
    record("export.upward_summary", actor=current_user, cycle_id=cycle.id, format="csv")
    header = [
        "Manager",
        "Email",
        "Department",
        "Responses",
        *(f"{name} (mean)" for _, name in keys),
        *(q.label for q in questions),
    ]

    lines = []  # one row per manager: small enough to build before streaming
    for manager, summary in queries.summaries_for_cycle(cycle, current_user):
        means = {c.key: c.mean for c in summary.competencies}
        figures = {q.key: _figure(q) for q in summary.questions}
        if summary.shown:
            responses: Any = summary.responses
        else:
            responses = (
                gettext("fewer than %(threshold)s", threshold=summary.threshold)
                if summary.closed
                else gettext("collecting")
            )
        lines.append(
            [
                manager.name,
                manager.email,
                manager.department.name if manager.department else "",
                responses,
                *(means.get(k, "") if summary.shown else "" for k, _ in keys),
                *(figures.get(q.key, "") for q in questions),
            ]
        )
    return Response(
        csv_stream(header, lines),
        mimetype="text/csv; charset=utf-8",
        headers=disposition(
            filename(cycle.name, pgettext("file name", "upward feedback"), ext="csv")
        ),
    )
