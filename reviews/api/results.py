"""API: acknowledgement, growth plans, exports and the audit log.

PDFs and spreadsheets are the pages' own views called as they are, so the API
serves byte for byte what people download, under the same checks and audit.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user

from reviews import access
from reviews.api.core import (
    PAGE_PARAMETERS,
    ApiError,
    body,
    bp,
    expected_version,
    operation,
    page_of,
    paged,
    with_etag,
)
from reviews.api.result_schemas import ACKNOWLEDGE, AGREE, AUDIT_EVENT, PLAN
from reviews.api.reviews import review_or_404, visible_review
from reviews.api.schemas import iso
from reviews.calibration import operations as cal_ops
from reviews.cycles.workflow import CycleState, reached
from reviews.growth import operations as growth_ops
from reviews.languages import gettext

# Acknowledgement and growth plans ------------------------------------------------------


@bp.post("/reviews/<int:review_id>/acknowledge")
@access.signed_in
@operation(
    "The person acknowledges their released review, with an optional comment",
    {
        "type": "object",
        "required": ["acknowledged_at"],
        "properties": {
            "acknowledged_at": {"type": "string"},
            "comment": {"type": ["string", "null"]},
        },
    },
    body=ACKNOWLEDGE,
    errors=(409,),
)
def acknowledge(review_id: int) -> Any:
    review = review_or_404(review_id)
    if not access.can_acknowledge(current_user, review):
        raise ApiError(
            403, "forbidden", gettext("Only the person reviewed acknowledges their review.")
        )
    cal_ops.acknowledge(current_user, review, body().get("comment", ""))
    return jsonify(
        acknowledged_at=iso(review.acknowledged_at), comment=review.acknowledgement_comment
    )


def _plan(review_id: int) -> tuple[Any, Any, set[str]]:
    review, relations = visible_review(review_id)
    if not reached(review.cycle.state, CycleState.RELEASED):
        raise ApiError(404, "not_found", gettext("Growth plans exist once the review is released."))
    plan = growth_ops.plan_for(review)
    if plan is None:
        raise ApiError(404, "not_found", gettext("This review has no growth plan."))
    return review, plan, relations


def plan_json(review: Any, plan: Any) -> dict[str, Any]:
    from reviews.growth.views import plan_view_model

    model = plan_view_model(review, plan)
    return {
        "review_id": review.id,
        "version": plan.version,
        "mode": plan.mode.value,
        "level": review.level_key,
        "target_level": plan.target_level_key,
        "focus": list(plan.focus),
        "notes": plan.notes,
        "employee_comment": plan.employee_comment,
        "manager_agreed_at": iso(plan.manager_agreed_at),
        "employee_agreed_at": iso(plan.employee_agreed_at),
        "competencies": [
            {k: row[k] for k in ("key", "name", "rating", "expected", "gap")}
            for row in model["rows"]
        ],
        "items": [
            {
                "id": item.id,
                "title": item.title,
                "description": item.description,
                "opportunity": item.opportunity_key,
                "competencies": list(item.competencies),
                "start": iso(item.start_date),
                "end": iso(item.end_date),
                "checkins": list(item.checkins),
                "notes": item.notes,
            }
            for item in plan.items
        ],
    }


@bp.get("/reviews/<int:review_id>/plan")
@access.signed_in
@operation("The growth plan of a released review; ETag is its version", PLAN)
def plan(review_id: int) -> Any:
    review, found, _relations = _plan(review_id)
    return with_etag(jsonify(plan_json(review, found)), found.version)


@bp.post("/reviews/<int:review_id>/plan/agree")
@access.signed_in
@operation(
    "The person or their manager agrees to the plan version they read",
    PLAN,
    body=AGREE,
    errors=(409, 428),
)
def plan_agree(review_id: int) -> Any:
    review, found, relations = _plan(review_id)
    is_manager = access.can_write_manager_part(current_user, review)
    if not (is_manager or "subject" in relations):
        raise ApiError(
            403, "forbidden", gettext("Only the person and their manager agree to a plan.")
        )
    version = expected_version(body())
    growth_ops.agree(current_user, found, version, as_manager=is_manager)
    return with_etag(jsonify(plan_json(review, found)), found.version)


@bp.get("/reviews/<int:review_id>/plan.pdf")
@access.signed_in
@operation("The growth plan as the PDF people download", content_type="application/pdf")
def plan_pdf(review_id: int) -> Any:
    from reviews.growth.views import plan_pdf as page_pdf

    return page_pdf(review_id)


# Exports and audit ------------------------------------------------------------------------

SCOPE_PARAMETERS = [
    {
        "name": name,
        "in": "query",
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        "description": "A malformed value is refused with 400 naming it",
    }
    for name in ("department", "manager")
]


@bp.get("/cycles/<int:cycle_id>/report.csv")
@access.signed_in
@operation(
    "The cycle report as CSV (HR: everyone; managers: their org), streamed",
    parameters=SCOPE_PARAMETERS,
    content_type="text/csv",
)
def report_csv(cycle_id: int) -> Any:
    from reviews.reports.views import report_csv as page_csv

    return page_csv(cycle_id)


@bp.get("/cycles/<int:cycle_id>/report.xlsx")
@access.signed_in
@operation(
    "The cycle report as XLSX (HR: everyone; managers: their org)",
    parameters=SCOPE_PARAMETERS,
    content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)
def report_xlsx(cycle_id: int) -> Any:
    from reviews.reports.views import report_xlsx as page_xlsx

    return page_xlsx(cycle_id)


@bp.get("/audit")
@access.hr_only
@operation(
    "The audit log (HR), oldest first, in pages",
    page_of(AUDIT_EVENT),
    parameters=[
        *PAGE_PARAMETERS,
        *[
            {"name": name, "in": "query", "schema": {"type": "string", "maxLength": 254}}
            for name in ("person", "actor")
        ],
        {"name": "event", "in": "query", "schema": {"type": "string", "maxLength": 60}},
        *[
            {"name": name, "in": "query", "schema": {"type": "string", "format": "date"}}
            for name in ("from", "to")
        ],
        {
            "name": "cycle",
            "in": "query",
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
        },
    ],
)
def audit() -> Any:
    from reviews import params
    from reviews.audit.models import AuditEvent
    from reviews.audit.reading import views_of
    from reviews.audit.views import FILTERS, filtered_events

    params.only(*FILTERS, "cursor", "limit")  # as the page: a misspelt filter is refused
    stmt, _filters = filtered_events()
    return paged(
        stmt,
        AuditEvent.id,
        render_page=lambda events: [
            {
                "id": e.id,
                "at": iso(e.at),
                "event": e.event,
                "actor": e.actor,
                "subject": e.subject,
                "cycle_id": e.cycle_id,
                "details": e.details,
            }
            for e in views_of(events)
        ],
    )
