from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.audit.operations import record
from reviews.charts import ratings_svg
from reviews.cycles.models import Review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import CycleState, reached
from reviews.documents.filenames import disposition, filename
from reviews.documents.pdf import render_pdf, stylesheet
from reviews.errors import Conflict, DomainError
from reviews.extensions import db
from reviews.growth import operations as ops
from reviews.growth.inputs import parse_item_change, parse_item_id, parse_new_item, parse_note
from reviews.growth.models import GrowthPlan
from reviews.inputs import Fields
from reviews.languages import gettext, pgettext

bp = Blueprint("growth", __name__)


def _plan_context(review_id: int) -> tuple[Review, GrowthPlan, set[str]]:
    review = db.session.scalar(
        select(Review)
        .where(Review.id == review_id)
        .options(joinedload(Review.subject), joinedload(Review.manager), joinedload(Review.cycle))
    )
    if review is None:
        abort(404)
    relations = access.review_relations(current_user, review)
    if not relations:
        abort(403)
    if not reached(review.cycle.state, CycleState.RELEASED):
        abort(404)  # plans exist from release on; nothing to show or leak before
    plan = ops.plan_for(review)
    if plan is None:
        abort(404)
    return review, plan, relations


def plan_view_model(review: Review, plan: GrowthPlan) -> dict[str, Any]:
    """Everything the page and the PDF show, computed once (the same chart for both)."""
    snapshot = FrameworkSnapshot(review.cycle.framework_snapshot or {})
    ratings = dict(review.final_ratings or {})
    rows = []
    for c in snapshot.competencies:
        exp = snapshot.expectation(plan.target_level_key, c.key)
        if exp is None:
            continue
        rating = ratings.get(c.key)
        rows.append(
            {
                "key": c.key,
                "name": c.name,
                "rating": rating,
                "expected": exp.expected,
                "gap": max(0, exp.expected - rating) if rating is not None else None,
                "description": exp.description,
                "group": c.group,
            }
        )
    names = {c.key: c.name for c in snapshot.competencies}
    chart = ratings_svg(
        [(r["name"], r["rating"], r["expected"]) for r in rows],
        gettext(
            "%(name)s: final ratings against %(level)s",
            name=review.subject.name,
            level=snapshot.level_name(plan.target_level_key),
        ),
    )
    return {
        "snapshot": snapshot,
        "rows": rows,
        "chart": chart,
        "names": names,
        "strengths": [r for r in rows if r["rating"] is not None and r["rating"] >= r["expected"]],
        "focus": [r for key in plan.focus for r in rows if r["key"] == key],
        "level_name": snapshot.level_name(review.level_key),
        "target_name": snapshot.level_name(plan.target_level_key),
    }


@bp.route("/reviews/<int:review_id>/plan", methods=["GET", "POST"])
@access.signed_in
def plan_page(review_id: int) -> Any:
    review, plan, relations = _plan_context(review_id)
    is_manager = access.can_write_manager_part(current_user, review)
    is_subject = "subject" in relations
    status = 200
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.form.get("action", "")
        if action not in {"agree", "comment", "add", "remove", "up", "down", "update", "notes"}:
            abort(400)
        version = request.form.get("version", "")
        version_n = int(version) if version.isdigit() and len(version) < 10 else -1
        data = Fields.of_form(request.form)
        try:
            if action == "agree" and (is_manager or is_subject):
                ops.agree(current_user, plan, version_n, as_manager=is_manager)
            elif action == "comment" and is_subject:
                comment = parse_note(data, "comment")
                ops.comment(current_user, plan, version_n, comment)
            elif not is_manager:
                abort(403)
            elif action == "add":
                item = parse_new_item(data, date.today())
                ops.add_item(
                    current_user,
                    plan,
                    version_n,
                    opportunity_key=item.opportunity_key,
                    title=item.title,
                    description=item.description,
                    start=item.start,
                    weeks=item.weeks,
                )
            elif action == "update":
                change = parse_item_change(data)
                ops.update_item(
                    current_user,
                    plan,
                    version_n,
                    change.item_id,
                    start=change.start,
                    end=change.end,
                    notes=change.notes,
                )
            elif action == "remove":
                ops.remove_item(current_user, plan, version_n, parse_item_id(data))
            elif action in ("up", "down"):
                step = -1 if action == "up" else 1
                ops.move_item(current_user, plan, version_n, parse_item_id(data), step)
            elif action == "notes":
                ops.set_notes(current_user, plan, version_n, parse_note(data, "notes"))
            else:
                abort(400)
        except Conflict:
            db.session.rollback()
            plan = ops.plan_for(review)  # type: ignore[assignment]
            errors["form"] = gettext(
                "Not saved: the plan changed since you opened it (someone else "
                "edited it). The page shows the current plan; what you typed is kept "
                "in the form. Check it and save again."
            )
            status = 409
        except DomainError as exc:
            db.session.rollback()
            errors = dict(exc.fields) or {}
            errors["form"] = exc.message
            status = 409 if exc.status == 409 else 400  # a form's refusal, whatever it was
        else:
            flash(gettext("The plan is saved."), "success")
            return redirect(url_for("growth.plan_page", review_id=review.id))
    catalogue = ops.suitable_opportunities(plan)
    return render_template(
        "growth/plan.html",
        review=review,
        plan=plan,
        is_manager=is_manager,
        is_subject=is_subject,
        errors=errors,
        # A refused post keeps what was typed in the form it came from (by its action,
        # and item for an item's form); the rest of the page shows the current plan.
        typed=request.form if status >= 400 else {},
        catalogue=catalogue,
        today=date.today(),
        **plan_view_model(review, plan),
    ), status


def growth_plan_html(review: Review, plan: GrowthPlan) -> str:
    return render_template(
        "documents/growth_plan.html",
        review=review,
        plan=plan,
        generated=date.today(),
        **plan_view_model(review, plan),
    )


@bp.get("/reviews/<int:review_id>/plan.pdf")
@access.signed_in
def plan_pdf(review_id: int) -> Any:
    review, plan, _relations = _plan_context(review_id)
    pdf = render_pdf(growth_plan_html(review, plan), stylesheet())
    record(
        "export.growth_plan_pdf",
        actor=current_user,
        subject=review.subject,
        cycle_id=review.cycle_id,
    )
    name = filename(
        review.subject.name, review.cycle.name, pgettext("file name", "growth plan"), ext="pdf"
    )
    return Response(pdf, mimetype="application/pdf", headers=disposition(name, inline=True))
