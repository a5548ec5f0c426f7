from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from reviews import access
from reviews.audit.operations import record
from reviews.cycles.models import Cycle
from reviews.cycles.workflow import LABELS, CycleState
from reviews.documents.filenames import disposition, filename
from reviews.errors import DomainError
from reviews.extensions import db
from reviews.people.models import Person
from reviews.reports.spreadsheets import csv_stream
from reviews.upward import operations as ops
from reviews.upward import queries
from reviews.upward.aggregate import SPREAD_MINIMUM

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
    keys = queries.competencies(cycle)
    answered = ops.has_answered(current_user, cycle, review.manager_id or 0)
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        ratings, comment, errors = ops.parse_answer(request.form, [k for k, _ in keys])
        if not errors:
            try:
                ops.submit(current_user, cycle, ratings, comment)
            except DomainError as exc:
                db.session.rollback()
                errors["form"] = exc.message
                status = exc.status
            else:
                flash("Thank you. Your answer is kept without your name.", "success")
                return redirect(url_for("home.index"))
        status = status if status != 200 else 400
    return render_template(
        "upward/give.html",
        cycle=cycle,
        manager=review.manager,
        competencies=keys,
        answered=answered,
        open=cycle.state in ops.UPWARD_OPEN,
        values=values,
        errors=errors,
        threshold=cycle.anonymity_threshold,
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
        summary=queries.summary_for(cycle, manager.id),
        labels=LABELS,
        spread_minimum=max(SPREAD_MINIMUM, cycle.anonymity_threshold),
    )


@bp.get("/cycles/<int:cycle_id>/upward.csv")
@access.hr_only
def summary_csv(cycle_id: int) -> Any:
    cycle = _cycle(cycle_id)
    keys = queries.competencies(cycle)
    record("export.upward_summary", actor=current_user, cycle_id=cycle.id, format="csv")
    header = [
        "Manager",
        "Email",
        "Department",
        "Responses",
        *(f"{name} (mean)" for _, name in keys),
    ]

    lines = []  # one row per manager: small enough to build before streaming
    for manager, summary in queries.summaries_for_cycle(cycle):
        means = {c.key: c.mean for c in summary.competencies}
        if summary.shown:
            responses: Any = summary.responses
        else:
            responses = f"fewer than {summary.threshold}" if summary.closed else "collecting"
        lines.append(
            [
                manager.name,
                manager.email,
                manager.department.name if manager.department else "",
                responses,
                *(means.get(k, "") if summary.shown else "" for k, _ in keys),
            ]
        )
    return Response(
        csv_stream(header, lines),
        mimetype="text/csv; charset=utf-8",
        headers=disposition(filename(cycle.name, "upward feedback", ext="csv")),
    )
