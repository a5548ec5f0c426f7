"""API: calibration sessions, a group's figures, a calibrator's change of final values
(through the page's own parser, `calibration.inputs.parse_change`), finishing."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.api.core import ApiError, body, bp, expected_version, operation, with_etag
from reviews.api.result_schemas import (
    CHANGE,
    OPEN_SESSION,
    ROW,
    SESSION,
    SESSION_VIEW,
    SESSIONS,
    session_json,
)
from reviews.api.schemas import ID, iso
from reviews.calibration import operations as cal_ops
from reviews.calibration.inputs import parse_change
from reviews.calibration.models import CalibrationSession, GroupKind
from reviews.calibration.queries import add_details, session_data, session_row
from reviews.cycles.models import Cycle
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.errors import Invalid
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext
from reviews.people.lookup import find_person
from reviews.people.models import Department


def _cycle(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "not_found", gettext("There is no cycle with this id."))
    return cycle


def _session(session_id: int) -> CalibrationSession:
    session = db.session.scalar(
        select(CalibrationSession)
        .where(CalibrationSession.id == session_id)
        .options(joinedload(CalibrationSession.cycle))
    )
    if session is None:
        raise ApiError(404, "not_found", gettext("There is no calibration session with this id."))
    if not access.can_calibrate(current_user, session):
        raise ApiError(403, "forbidden", gettext("Only HR and the session's calibrators see it."))
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
        raise ApiError(403, "forbidden", gettext("You calibrate no session of this cycle."))
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
        # A name or an email, as on the page (people.lookup): one rule for both.
        manager, problem = find_person(data["manager_email"])
        if problem:
            raise Invalid(problem, "manager_email")
    session = cal_ops.open_session(
        current_user,
        cycle,
        kind,
        department=department,
        manager=manager,
        managers_calibrate=data.get("managers_calibrate", True),
    )
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
    n = cal_ops.finalise_uncalibrated(current_user, cycle)
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
        "suggestion_reason": r.suggestion_reason,
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
    "with their version, the distribution against the guidance, rater leniency (with its "
    "evidence) and the ledger",
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
                "reviews": b.ratings,
                "linking_ratings": b.links,
                "leniency": b.estimate,
                "sd": b.sd,
                "ci_low": b.ci_low,
                "ci_high": b.ci_high,
                "p_value": b.p_value,
                "p_adjusted": b.p_adjusted,
                "verdict": b.verdict,
                "self_manager_gap": data.team_gap.get(b.rater),
            }
            for b in data.model.managers.values()
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
                "at": iso(c.at),
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
        raise ApiError(404, "not_found", gettext("This session holds no review with this id."))
    if not access.can_calibrate_review(current_user, session, review):
        raise ApiError(403, "forbidden", gettext("Nobody calibrates their own review."))
    data = body()
    version = expected_version(data)
    keys = FrameworkSnapshot(session.cycle.framework_snapshot or {}).keys
    change, rationale = parse_change(Fields.of_json(data), keys)
    cal_ops.change_final(current_user, session, review, version, change, rationale)
    _data, row = session_row(session, current_user.id, review.id)
    return with_etag(jsonify(_row_json(row)), review.final_version)


@bp.post("/calibration/<int:session_id>/finish")
@access.hr_only
@operation("Finish a session: its final values are locked", SESSION, errors=(409,))
def calibration_finish(session_id: int) -> Any:
    session = _session(session_id)
    cal_ops.finish_session(current_user, session)
    return jsonify(session_json(session))
