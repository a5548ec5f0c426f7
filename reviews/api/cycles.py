"""API: review cycles (HR), through the same parser (`cycles.inputs.parse_cycle`) and
operations as the cycle pages."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

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
from reviews.api.schemas import (
    ADVANCE,
    CYCLE,
    CYCLE_CREATE,
    CYCLE_UPDATE,
    PROGRESS,
    TEMPLATES,
    cycle_json,
)
from reviews.cycles import operations as ops
from reviews.cycles.inputs import parse_cycle
from reviews.cycles.models import Cycle, PeerRequest, RequestState, Review
from reviews.cycles.queries import org_manager_ids
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext


def cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "not_found", gettext("There is no cycle with this id."))
    return cycle


@bp.get("/cycles")
@access.signed_in
@operation(
    "Cycles: HR sees all; others see launched cycles they take part in "
    "(as the person reviewed, a manager in the line, or a peer)",
    page_of(CYCLE),
    parameters=PAGE_PARAMETERS,
)
def cycles() -> Any:
    stmt = select(Cycle).options(selectinload(Cycle.departments), selectinload(Cycle.participants))
    if not access.is_hr(current_user):
        me = current_user.id
        involved = select(Review.cycle_id).where(
            or_(
                Review.subject_id == me,
                Review.manager_id.in_(org_manager_ids(me)),
                Review.id.in_(
                    select(PeerRequest.review_id).where(
                        PeerRequest.reviewer_id == me,
                        PeerRequest.state.in_([RequestState.APPROVED, RequestState.DECLINED]),
                    )
                ),
            )
        )
        stmt = stmt.where(Cycle.state != CycleState.DRAFT, Cycle.id.in_(involved))
    return paged(stmt, Cycle.id, cycle_json)


@bp.post("/cycles")
@access.hr_only
@operation(
    "Create a draft cycle. Settings left out take the new-cycle page's defaults; every "
    "invalid setting is named at once in `fields`; `warnings` lists settings that are "
    "allowed but probably not meant",
    CYCLE,
    body=CYCLE_CREATE,
    status=201,
)
def cycle_create() -> Any:
    cycle = ops.create_cycle(current_user, parse_cycle(Fields.of_json(body())))
    return with_etag(jsonify(cycle_json(cycle)), cycle.version), 201


@bp.get("/cycles/<int:cycle_id>")
@access.hr_only
@operation("One cycle with its settings; ETag is its version", CYCLE)
def cycle_read(cycle_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    return with_etag(jsonify(cycle_json(cycle)), cycle.version)


@bp.patch("/cycles/<int:cycle_id>")
@access.hr_only
@operation(
    "Change a draft cycle's settings: only the fields sent change, every other setting "
    "keeps its value. Needs If-Match or version; 409 with current_version when it changed",
    CYCLE,
    body=CYCLE_UPDATE,
    errors=(409, 428),
)
def cycle_update(cycle_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    data = body()
    version = expected_version(data)
    ops.update_cycle(current_user, cycle, version, parse_cycle(Fields.of_json(data), cycle))
    return with_etag(jsonify(cycle_json(cycle)), cycle.version)


@bp.delete("/cycles/<int:cycle_id>")
@access.hr_only
@operation("Delete a draft cycle", {"type": "object"}, errors=(409,))
def cycle_delete(cycle_id: int) -> Any:
    ops.delete_cycle(current_user, cycle_or_404(cycle_id))
    return jsonify(deleted=cycle_id)


@bp.post("/cycles/<int:cycle_id>/advance")
@access.hr_only
@operation(
    "Move a cycle to its next phase (launch: target self_review), with the same guards as the page",
    CYCLE,
    body=ADVANCE,
    errors=(409,),
)
def cycle_advance(cycle_id: int) -> Any:
    cycle = cycle_or_404(cycle_id)
    ops.advance_cycle(current_user, cycle, CycleState(body()["target"]))
    return with_etag(jsonify(cycle_json(cycle)), cycle.version)


@bp.get("/cycles/<int:cycle_id>/templates")
@access.hr_only
@operation("The questions each part of the cycle asks (frozen at launch)", TEMPLATES)
def cycle_templates(cycle_id: int) -> Any:
    from reviews.review_templates.queries import chosen, templates_of

    cycle = cycle_or_404(cycle_id)
    rows = chosen(cycle)
    return jsonify(
        {
            part: {
                "template_id": rows[part].id if part in rows else None,
                "document": template.as_json(),
            }
            for part, template in templates_of(cycle).items()
        }
    )


@bp.get("/cycles/<int:cycle_id>/progress")
@access.hr_only
@operation("Completion of each phase, in total and by department", PROGRESS)
def cycle_progress(cycle_id: int) -> Any:
    from reviews.reports.queries import completion

    cycle = cycle_or_404(cycle_id)
    total, departments = completion(cycle, "department")
    return jsonify(
        cycle_id=cycle.id,
        state=cycle.state.value,
        total=asdict(total),
        departments=[asdict(d) for d in departments],
    )
