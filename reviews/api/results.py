"""API: calibration, acknowledgement, growth plans, exports and the audit log.

PDFs and spreadsheets are the pages' own views called as they are, so the API
serves byte for byte what people download, under the same checks and audit.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

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
from reviews.api.cycles import ID, IN_ID, _iso, _review, visible_review
from reviews.calibration import operations as cal_ops
from reviews.calibration.models import CalibrationSession, GroupKind, SessionState
from reviews.calibration.queries import add_details, session_data, session_row
from reviews.cycles.models import Cycle
from reviews.cycles.operations import CycleError
from reviews.cycles.parts import POTENTIAL
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import CycleState, reached
from reviews.extensions import db
from reviews.growth import operations as growth_ops
from reviews.people.models import Department, Person

SESSION = {
    "type": "object",
    "required": ["id", "cycle_id", "name", "state"],
    "properties": {
        "id": ID,
        "cycle_id": ID,
        "name": {"type": "string"},
        "group_kind": {"type": "string", "enum": [k.value for k in GroupKind]},
        "state": {"type": "string", "enum": [s.value for s in SessionState]},
        "managers_calibrate": {"type": "boolean"},
        "finished_at": {"type": ["string", "null"]},
    },
}
SESSIONS = {
    "type": "object",
    "required": ["cycle_id", "sessions"],
    "properties": {
        "cycle_id": ID,
        "sessions": {"type": "array", "items": SESSION},
        "uncalibrated": {"type": ["integer", "null"]},
    },
}
OPEN_SESSION = {
    "type": "object",
    "required": ["group_kind"],
    "properties": {
        "group_kind": {"type": "string", "enum": [k.value for k in GroupKind]},
        "department_id": IN_ID,
        "manager_email": {"type": "string", "maxLength": 254},
        "managers_calibrate": {"type": "boolean"},
    },
    "additionalProperties": False,
}
ROW = {
    "type": "object",
    "required": ["review_id", "name", "final_version"],
    "properties": {
        "review_id": ID,
        "subject_id": ID,
        "name": {"type": "string"},
        "manager_id": {"type": ["integer", "null"]},
        "manager_name": {"type": "string"},
        "department": {"type": "string"},
        "level": {"type": ["string", "null"]},
        "self_average": {"type": ["number", "null"]},
        "peer_average": {"type": ["number", "null"]},
        "peer_count": ID,
        "manager_ratings": {"type": "object"},
        "manager_overall": {"type": ["integer", "null"]},
        "potential": {"type": ["string", "null"]},
        "readiness": {"type": ["string", "null"]},
        "suggestion": {"type": ["integer", "null"]},
        "self_manager_gap": {"type": ["number", "null"]},
        "final_rating": {"type": ["integer", "null"]},
        "final_potential": {"type": ["string", "null"]},
        "final_ratings": {"type": ["object", "null"]},
        "final_version": ID,
        "changes": ID,
    },
}
SESSION_VIEW = {
    "type": "object",
    "required": ["session", "people", "distribution", "raters"],
    "properties": {
        "session": SESSION,
        "people": {"type": "array", "items": ROW},
        "distribution": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "rating": ID,
                    "count": ID,
                    "share": {"type": "number"},
                    "guidance": {"type": "number", "description": "guidance share, 0..1"},
                    "outside_band": {"type": "boolean"},
                },
            },
        },
        "raters": {"type": "array", "items": {"type": "object"}},
        "ledger": {"type": "array", "items": {"type": "object"}},
    },
}
CHANGE = {
    "type": "object",
    "required": ["rationale"],
    "properties": {
        "overall": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "potential": {"enum": [*POTENTIAL, None]},
        "ratings": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "rationale": {"type": "string", "maxLength": 5000},
        "version": IN_ID,
    },
    "additionalProperties": False,
}
ACKNOWLEDGE = {
    "type": "object",
    "properties": {"comment": {"type": "string", "maxLength": 5000}},
    "additionalProperties": False,
}
PLAN = {
    "type": "object",
    "required": ["review_id", "version", "target_level", "focus", "items"],
    "properties": {
        "review_id": ID,
        "version": ID,
        "mode": {"type": "string"},
        "level": {"type": ["string", "null"]},
        "target_level": {"type": "string"},
        "focus": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "string"},
        "employee_comment": {"type": "string"},
        "manager_agreed_at": {"type": ["string", "null"]},
        "employee_agreed_at": {"type": ["string", "null"]},
        "competencies": {"type": "array", "items": {"type": "object"}},
        "items": {"type": "array", "items": {"type": "object"}},
    },
}
AGREE = {
    "type": "object",
    "properties": {"version": IN_ID},
    "additionalProperties": False,
}
AUDIT_EVENT = {
    "type": "object",
    "required": ["id", "at", "event"],
    "properties": {
        "id": ID,
        "at": {"type": "string"},
        "event": {"type": "string"},
        "actor": {"type": ["string", "null"]},
        "subject": {"type": ["string", "null"]},
        "cycle_id": {"type": ["integer", "null"]},
        "details": {"type": "object"},
    },
}


def session_json(s: CalibrationSession) -> dict[str, Any]:
    return {
        "id": s.id,
        "cycle_id": s.cycle_id,
        "name": s.name,
        "group_kind": s.group_kind.value,
        "state": s.state.value,
        "managers_calibrate": s.managers_calibrate,
        "finished_at": _iso(s.finished_at),
    }


def _cycle(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "not_found", "There is no cycle with this id.")
    return cycle


def _session(session_id: int) -> CalibrationSession:
    session = db.session.scalar(
        select(CalibrationSession)
        .where(CalibrationSession.id == session_id)
        .options(joinedload(CalibrationSession.cycle))
    )
    if session is None:
        raise ApiError(404, "not_found", "There is no calibration session with this id.")
    if not access.can_calibrate(current_user, session):
        raise ApiError(403, "forbidden", "Only HR and the session's calibrators see it.")
    return session


# Calibration -----------------------------------------------------------------------


@bp.get("/cycles/<int:cycle_id>/calibration")
@access.signed_in
@operation("Calibration sessions of a cycle the caller may calibrate", SESSIONS)
def calibration_sessions(cycle_id: int) -> Any:
    from reviews.calibration.views import uncalibrated_count

    cycle = _cycle(cycle_id)
    sessions = list(
        db.session.scalars(
            select(CalibrationSession)
            .where(CalibrationSession.cycle_id == cycle.id)
            .order_by(CalibrationSession.opened_at, CalibrationSession.id)
        )
    )
    visible = [s for s in sessions if access.can_calibrate(current_user, s)]
    hr = access.is_hr(current_user)
    if not visible and not hr:
        raise ApiError(403, "forbidden", "You calibrate no session of this cycle.")
    return jsonify(
        cycle_id=cycle.id,
        sessions=[session_json(s) for s in visible],
        uncalibrated=uncalibrated_count(cycle) if hr else None,
    )


@bp.post("/cycles/<int:cycle_id>/calibration")
@access.hr_only
@operation(
    "Open a calibration session for a department or a manager's org",
    SESSION,
    body=OPEN_SESSION,
    errors=(409,),
    status=201,
)
def calibration_open(cycle_id: int) -> Any:
    cycle = _cycle(cycle_id)
    data = body()
    kind = GroupKind(data["group_kind"])
    department = manager = None
    if kind == GroupKind.DEPARTMENT and "department_id" in data:
        department = db.session.get(Department, data["department_id"])
    if kind == GroupKind.MANAGER_ORG and data.get("manager_email"):
        email = data["manager_email"].strip().lower()
        manager = db.session.scalar(select(Person).where(Person.email == email))
    try:
        session = cal_ops.open_session(
            current_user,
            cycle,
            kind,
            department=department,
            manager=manager,
            managers_calibrate=data.get("managers_calibrate", True),
        )
    except CycleError as exc:
        if exc.field:
            raise ApiError(422, "invalid", str(exc), {exc.field: str(exc)}) from None
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    return jsonify(session_json(session)), 201


@bp.post("/cycles/<int:cycle_id>/finalise")
@access.hr_only
@operation(
    "Finalise every uncalibrated review with its manager's rating",
    {"type": "object", "required": ["finalised"], "properties": {"finalised": ID}},
    errors=(409,),
)
def calibration_finalise(cycle_id: int) -> Any:
    cycle = _cycle(cycle_id)
    try:
        n = cal_ops.finalise_uncalibrated(current_user, cycle)
    except CycleError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    return jsonify(finalised=n)


def _row_json(r: Any) -> dict[str, Any]:
    return {
        "review_id": r.review_id,
        "subject_id": r.subject_id,
        "name": r.name,
        "manager_id": r.manager_id,
        "manager_name": r.manager_name,
        "department": r.department,
        "level": r.level_key,
        "self_average": r.self_avg,
        "peer_average": r.peer_avg,
        "peer_count": r.peer_count,
        "manager_ratings": r.manager_ratings,
        "manager_overall": r.manager_overall,
        "potential": r.potential,
        "readiness": r.readiness,
        "suggestion": r.suggestion,
        "self_manager_gap": r.gap,
        "final_rating": r.final,
        "final_potential": r.final_potential,
        "final_ratings": r.final_ratings,
        "final_version": r.final_version,
        "changes": r.changes,
    }


@bp.get("/calibration/<int:session_id>")
@access.signed_in
@operation(
    "A calibration group: each person's self, peer and manager figures, final values "
    "with their version, the distribution against the guidance, rater bias and the ledger",
    SESSION_VIEW,
)
def calibration_session(session_id: int) -> Any:
    session = _session(session_id)
    data = session_data(session, current_user.id)
    add_details(session, data.rows)
    buckets = data.buckets(session.cycle.guidance)
    return jsonify(
        session=session_json(session),
        people=[_row_json(r) for r in data.rows],
        distribution=[
            {
                "rating": b.rating,
                "count": b.count,
                "share": b.share,
                "guidance": b.target,
                "outside_band": b.outside,
            }
            for b in buckets
        ],
        raters=[
            {
                "manager_id": b.rater,
                "manager_name": data.manager_names.get(b.rater, ""),
                "reviews": b.n,
                "mean": b.mean,
                "offset": b.offset,
                "ci_low": b.ci_low,
                "ci_high": b.ci_high,
                "too_small": b.too_small,
                "verdict": b.verdict,
                "self_manager_gap": data.team_gap.get(b.rater),
            }
            for b in data.bias.values()
        ],
        ledger=[
            {
                "review_id": c.review_id,
                "name": c.review.subject.name,
                "field": c.field,
                "old": c.old_value,
                "new": c.new_value,
                "rationale": c.rationale,
                "by": c.actor.name if c.actor else None,
                "at": _iso(c.at),
            }
            for c in data.ledger
        ],
    )


@bp.post("/calibration/<int:session_id>/reviews/<int:review_id>")
@access.signed_in
@operation(
    "Change a person's final values with a rationale, over the final_version read; "
    "409 with current_version when another calibrator changed them first",
    ROW,
    body=CHANGE,
    errors=(409, 428),
)
def calibration_change(session_id: int, review_id: int) -> Any:
    from reviews.calibration.views import member_review

    session = _session(session_id)
    review = member_review(session, review_id)
    if review is None:
        raise ApiError(404, "not_found", "This session holds no review with this id.")
    if not access.can_calibrate_review(current_user, session, review):
        raise ApiError(403, "forbidden", "Nobody calibrates their own review.")
    data = body()
    version = expected_version(data)
    known = set(FrameworkSnapshot(session.cycle.framework_snapshot or {}).keys)
    unknown = set(data.get("ratings", {})) - known
    if unknown:
        raise ApiError(
            422,
            "invalid",
            "Unknown competencies for this cycle.",
            {f"ratings.{k}": "Not a competency of this cycle." for k in sorted(unknown)[:20]},
        )
    try:
        cal_ops.change_final(
            current_user,
            session,
            review,
            version,
            cal_ops.FinalChange(
                data.get("overall"), data.get("potential"), data.get("ratings", {})
            ),
            data["rationale"],
        )
    except cal_ops.CalibrationConflict as conflict:
        raise ApiError(
            409,
            "conflict",
            "Another calibrator changed this person's final values first; read them again.",
            current_version=conflict.review.final_version,
        ) from None
    except CycleError as exc:
        if exc.field:
            raise ApiError(422, "invalid", str(exc), {exc.field: str(exc)}) from None
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    _data, row = session_row(session, current_user.id, review.id)
    return with_etag(jsonify(_row_json(row)), review.final_version)


@bp.post("/calibration/<int:session_id>/finish")
@access.hr_only
@operation("Finish a session: its final values are locked", SESSION, errors=(409,))
def calibration_finish(session_id: int) -> Any:
    session = _session(session_id)
    try:
        cal_ops.finish_session(current_user, session)
    except CycleError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    return jsonify(session_json(session))


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
    review = _review(review_id)
    if not access.can_acknowledge(current_user, review):
        raise ApiError(403, "forbidden", "Only the person reviewed acknowledges their review.")
    try:
        cal_ops.acknowledge(current_user, review, body().get("comment", ""))
    except CycleError as exc:
        if exc.field:
            raise ApiError(422, "invalid", str(exc), {exc.field: str(exc)}) from None
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    return jsonify(
        acknowledged_at=_iso(review.acknowledged_at), comment=review.acknowledgement_comment
    )


def _plan(review_id: int) -> tuple[Any, Any, set[str]]:
    review, relations = visible_review(review_id)
    if not reached(review.cycle.state, CycleState.RELEASED):
        raise ApiError(404, "not_found", "Growth plans exist once the review is released.")
    plan = growth_ops.plan_for(review)
    if plan is None:
        raise ApiError(404, "not_found", "This review has no growth plan.")
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
        "manager_agreed_at": _iso(plan.manager_agreed_at),
        "employee_agreed_at": _iso(plan.employee_agreed_at),
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
                "start": _iso(item.start_date),
                "end": _iso(item.end_date),
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
        raise ApiError(403, "forbidden", "Only the person and their manager agree to a plan.")
    version = expected_version(body())
    try:
        growth_ops.agree(current_user, found, version, as_manager=is_manager)
    except growth_ops.PlanConflict:
        raise ApiError(
            409,
            "conflict",
            "The plan changed after the version you read; read it again.",
            current_version=found.version,
        ) from None
    except CycleError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    return with_etag(jsonify(plan_json(review, found)), found.version)


@bp.get("/reviews/<int:review_id>/plan.pdf")
@access.signed_in
@operation("The growth plan as the PDF people download", content_type="application/pdf")
def plan_pdf(review_id: int) -> Any:
    from reviews.growth.views import plan_pdf as page_pdf

    return page_pdf(review_id)


# Exports and audit ------------------------------------------------------------------------

SCOPE_PARAMETERS = [
    {"name": "department", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    {"name": "manager", "in": "query", "schema": {"type": "integer", "minimum": 0}},
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
            for name in ("person", "actor", "event", "from", "to")
        ],
        {"name": "cycle", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ],
)
def audit() -> Any:
    from reviews.audit.models import AuditEvent
    from reviews.audit.views import filtered_events

    stmt, _filters = filtered_events()
    stmt = stmt.options(joinedload(AuditEvent.actor), joinedload(AuditEvent.subject))
    return paged(
        stmt,
        AuditEvent.id,
        lambda e: {
            "id": e.id,
            "at": _iso(e.at),
            "event": e.event,
            "actor": e.actor.email if e.actor else None,
            "subject": e.subject.email if e.subject else None,
            "cycle_id": e.cycle_id,
            "details": e.details,
        },
    )
