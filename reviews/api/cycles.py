"""API: cycles (HR), reviews as each caller may read them, the self, manager and
peer parts with versions, and nominations.

Every rule comes from `access`, `cycles.operations` and `cycles.reading`; the
views only translate JSON to those calls and back.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from reviews import access
from reviews.api.core import (
    PAGE_PARAMETERS,
    ApiError,
    body,
    bp,
    expected_version,
    int_arg,
    operation,
    page_of,
    paged,
    with_etag,
)
from reviews.cycles import operations as ops
from reviews.cycles.models import (
    Assessment,
    Cycle,
    ParticipantMode,
    PartKind,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.parts import ANSWERS, POTENTIAL, READINESS, parse_part
from reviews.cycles.queries import inbox_requests, org_manager_ids
from reviews.cycles.reading import read_review, requests_of
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import APPROVAL_OPEN, NOMINATION_OPEN, CycleState
from reviews.extensions import db
from reviews.people.models import Department, Person

ID = {"type": "integer"}
# Ids and versions sent in: what the databases hold (a 32-bit integer).
IN_ID = {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
DATE = {"type": "string", "format": "date"}
NULLABLE_DATE = {"type": ["string", "null"], "format": "date"}
STATES = [s.value for s in CycleState]

CYCLE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "minLength": 1, "maxLength": 120},
    "period_start": DATE,
    "period_end": DATE,
    "participant_mode": {"type": "string", "enum": [m.value for m in ParticipantMode]},
    "department_ids": {"type": "array", "items": IN_ID, "maxItems": 1000},
    "participant_emails": {
        "type": "array",
        "items": {"type": "string", "maxLength": 254},
        "maxItems": 100000,
    },
    "self_review_due": NULLABLE_DATE,
    "peer_feedback_due": NULLABLE_DATE,
    "manager_review_due": NULLABLE_DATE,
    "calibration_due": NULLABLE_DATE,
    "peer_min": {"type": "integer", "minimum": 0, "maximum": 20},
    "peer_max": {"type": "integer", "minimum": 1, "maximum": 20},
    "peer_anonymous": {"type": "boolean"},
    "anonymity_threshold": {"type": "integer", "minimum": 1, "maximum": 20},
    "peer_names_to_managers": {"type": "boolean"},
    "reviewer_load_cap": {"type": "integer", "minimum": 1, "maximum": 50},
    "guidance": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 100},
        "minItems": 5,
        "maxItems": 5,
    },
}
CYCLE_CREATE = {
    "type": "object",
    "required": ["name", "period_start", "period_end"],
    "properties": CYCLE_FIELDS,
    "additionalProperties": False,
}
CYCLE_UPDATE = {
    "type": "object",
    "properties": {**CYCLE_FIELDS, "version": IN_ID},
    "additionalProperties": False,
}
CYCLE = {
    "type": "object",
    "required": ["id", "name", "state", "version"],
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "state": {"type": "string", "enum": STATES},
        "version": ID,
        "period_start": DATE,
        "period_end": DATE,
        "participant_mode": {"type": "string"},
        "department_ids": {"type": "array", "items": ID},
        "participant_ids": {"type": "array", "items": ID},
        "self_review_due": NULLABLE_DATE,
        "peer_feedback_due": NULLABLE_DATE,
        "manager_review_due": NULLABLE_DATE,
        "calibration_due": NULLABLE_DATE,
        "peer_min": ID,
        "peer_max": ID,
        "peer_anonymous": {"type": "boolean"},
        "anonymity_threshold": ID,
        "peer_names_to_managers": {"type": "boolean"},
        "reviewer_load_cap": ID,
        "guidance": {"type": "array", "items": ID},
        "launched_at": {"type": ["string", "null"]},
    },
}
PROGRESS = {
    "type": "object",
    "required": ["cycle_id", "state", "total", "departments"],
    "properties": {
        "cycle_id": ID,
        "state": {"type": "string"},
        "total": {"type": "object"},
        "departments": {"type": "array", "items": {"type": "object"}},
    },
}
ADVANCE = {
    "type": "object",
    "required": ["target"],
    "properties": {"target": {"type": "string", "enum": STATES}},
    "additionalProperties": False,
}
PART_BODY = {
    "type": "object",
    "properties": {
        "ratings": {
            "type": "object",
            "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "comments": {"type": "object", "additionalProperties": {"type": "string"}},
        "answers": {"type": "object", "additionalProperties": {"type": "string"}},
        "desired_level": {"type": ["string", "null"]},
        "overall": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
        "potential": {"enum": [*POTENTIAL, None]},
        "readiness": {"enum": [*READINESS, None]},
        "evidence": {
            "type": "object",
            "description": "Self and manager parts: per competency, the evidence its rating "
            'cites: {"kind": "feedback"|"goal"|"checkin", "id": N} (what the writer may '
            'read from the period) or one {"kind": "link", "url", "title"}',
            "additionalProperties": {
                "type": "array",
                "maxItems": 20,
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["kind", "id"],
                            "properties": {
                                "kind": {"enum": ["feedback", "goal", "checkin"]},
                                "id": IN_ID,
                            },
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "required": ["kind", "url", "title"],
                            "properties": {
                                "kind": {"const": "link"},
                                "url": {"type": "string", "maxLength": 500},
                                "title": {"type": "string", "maxLength": 200},
                            },
                            "additionalProperties": False,
                        },
                    ]
                },
            },
        },
        "version": IN_ID,
    },
    "additionalProperties": False,
}
PART = {
    "type": "object",
    "required": ["id", "kind", "state", "version", "ratings", "comments", "answers"],
    "properties": {
        "id": ID,
        "review_id": ID,
        "kind": {"type": "string", "enum": ["self", "peer", "manager"]},
        "state": {"type": "string", "enum": ["draft", "submitted"]},
        "version": ID,
        "ratings": {"type": "object", "additionalProperties": ID},
        "comments": {"type": "object", "additionalProperties": {"type": "string"}},
        "answers": {"type": "object", "additionalProperties": {"type": "string"}},
        "desired_level": {"type": ["string", "null"]},
        "overall": {"type": ["integer", "null"]},
        "potential": {"type": ["string", "null"]},
        "readiness": {"type": ["string", "null"]},
        "submitted_at": {"type": ["string", "null"]},
        "updated_at": {"type": ["string", "null"]},
        "evidence": {"type": ["object", "null"]},
        "locked": {"type": ["string", "null"], "description": "Why it cannot be written now"},
    },
}
REVIEW_SUMMARY = {
    "type": "object",
    "required": ["id", "cycle_id", "subject_id", "subject_name"],
    "properties": {
        "id": ID,
        "cycle_id": ID,
        "cycle_name": {"type": "string"},
        "cycle_state": {"type": "string"},
        "subject_id": ID,
        "subject_name": {"type": "string"},
        "manager_id": {"type": ["integer", "null"]},
        "level": {"type": ["string", "null"]},
        "acknowledged": {"type": "boolean"},
    },
}
PEER_ENTRY = {
    "type": "object",
    "required": ["ratings", "comments", "answers"],
    "properties": {
        "author_name": {"type": ["string", "null"]},
        "ratings": {"type": "object"},
        "comments": {"type": "object"},
        "answers": {"type": "object"},
        "submitted_on": {"type": ["string", "null"]},
    },
}
REQUEST = {
    "type": "object",
    "required": ["id", "review_id", "reviewer", "state"],
    "properties": {
        "id": ID,
        "review_id": ID,
        "reviewer": {
            "type": "object",
            "properties": {"id": ID, "name": {"type": "string"}, "email": {"type": "string"}},
        },
        "state": {"type": "string", "enum": [s.value for s in RequestState]},
        "decline_reason": {"type": ["string", "null"]},
    },
}
REVIEW = {
    "type": "object",
    "required": ["id", "relations", "self", "manager", "peers", "requests", "result"],
    "properties": {
        **REVIEW_SUMMARY["properties"],
        "relations": {"type": "array", "items": {"type": "string"}},
        "self": {"oneOf": [PART, {"type": "null"}]},
        "manager": {"oneOf": [PART, {"type": "null"}]},
        "peers": {
            "type": "object",
            "required": ["submitted", "entries"],
            "properties": {
                "submitted": ID,
                "withheld": {"type": ["string", "null"]},
                "entries": {"type": "array", "items": PEER_ENTRY},
                "averages": {"type": "object"},
            },
        },
        "requests": {"type": "array", "items": REQUEST},
        "result": {
            "type": ["object", "null"],
            "properties": {
                "final_rating": {"type": ["integer", "null"]},
                "final_potential": {"type": ["string", "null"]},
                "final_ratings": {"type": ["object", "null"]},
                "final_version": ID,
                "locked": {"type": "boolean"},
            },
        },
        "acknowledged_at": {"type": ["string", "null"]},
        "acknowledgement_comment": {"type": ["string", "null"]},
    },
}
NOMINATIONS = {
    "type": "object",
    "required": ["review_id", "requests", "can_nominate", "can_decide"],
    "properties": {
        "review_id": ID,
        "can_nominate": {"type": "boolean"},
        "can_decide": {"type": "boolean"},
        "peer_min": ID,
        "peer_max": ID,
        "requests": {
            "type": "array",
            "items": {
                **REQUEST,
                "properties": {
                    **REQUEST["properties"],
                    "reviewer_load": ID,
                    "reciprocal": {"type": "boolean"},
                    "over_load_cap": {"type": "boolean"},
                },
            },
        },
    },
}
NOMINATE = {
    "type": "object",
    "required": ["email"],
    "properties": {"email": {"type": "string", "minLength": 3, "maxLength": 254}},
    "additionalProperties": False,
}
DECLINE = {
    "type": "object",
    "required": ["reason"],
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}},
    "additionalProperties": False,
}
INBOX_ITEM = {
    "type": "object",
    "required": ["id", "review_id", "subject_name", "state"],
    "properties": {
        "id": ID,
        "review_id": ID,
        "cycle_id": ID,
        "cycle_name": {"type": "string"},
        "subject_name": {"type": "string"},
        "state": {"type": "string"},
        "feedback_state": {"type": ["string", "null"]},
        "due": NULLABLE_DATE,
    },
}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def cycle_json(c: Cycle) -> dict[str, Any]:
    return {
        "id": c.id,
        "name": c.name,
        "state": c.state.value,
        "version": c.version,
        "period_start": c.period_start.isoformat(),
        "period_end": c.period_end.isoformat(),
        "participant_mode": c.participant_mode.value,
        "department_ids": [d.id for d in c.departments],
        "participant_ids": [p.id for p in c.participants],
        "self_review_due": _iso(c.self_review_due),
        "peer_feedback_due": _iso(c.peer_feedback_due),
        "manager_review_due": _iso(c.manager_review_due),
        "calibration_due": _iso(c.calibration_due),
        "peer_min": c.peer_min,
        "peer_max": c.peer_max,
        "peer_anonymous": c.peer_anonymous,
        "anonymity_threshold": c.anonymity_threshold,
        "peer_names_to_managers": c.peer_names_to_managers,
        "reviewer_load_cap": c.reviewer_load_cap,
        "guidance": list(c.guidance),
        "launched_at": _iso(c.launched_at),
    }


def _cycle_or_404(cycle_id: int) -> Cycle:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "not_found", "There is no cycle with this id.")
    return cycle


def _cycle_error(exc: ops.CycleError, status: int = 422) -> ApiError:
    field = {"participant_emails": "participant_emails"}.get(exc.field or "", exc.field)
    return ApiError(
        status,
        "invalid" if status == 422 else "conflict",
        str(exc),
        {field: str(exc)} if field else {},
    )


def _fields(data: dict[str, Any], cycle: Cycle | None) -> ops.CycleFields:
    """Cycle fields from JSON, defaulting to the cycle's values (or the form's defaults)."""

    def get(name: str, default: Any) -> Any:
        if name in data:
            return data[name]
        return getattr(cycle, name) if cycle is not None else default

    def day(name: str) -> date | None:
        value = get(name, None)
        return date.fromisoformat(value) if isinstance(value, str) else value

    emails = data.get("participant_emails")
    if emails is not None:
        wanted = sorted({e.strip().lower() for e in emails if e.strip()})
        found = dict(
            db.session.execute(
                select(Person.email, Person.id).where(Person.email.in_(wanted or [""]))
            ).all()
        )
        unknown = [e for e in wanted if e not in found]
        if unknown:
            raise ApiError(
                422,
                "invalid",
                f"Nobody has the email {', '.join(unknown[:5])}"
                f"{' and more' if len(unknown) > 5 else ''}.",
                {"participant_emails": "Unknown emails."},
            )
        participant_ids = list(found.values())
    else:
        participant_ids = [p.id for p in cycle.participants] if cycle else []
    department_ids = data.get("department_ids")
    if department_ids is not None:
        known = set(
            db.session.scalars(select(Department.id).where(Department.id.in_(department_ids)))
        )
        if set(department_ids) - known:
            raise ApiError(
                422, "invalid", "Some departments do not exist.", {"department_ids": "Unknown ids."}
            )
    else:
        department_ids = [d.id for d in cycle.departments] if cycle else []
    mode = get("participant_mode", ParticipantMode.ALL)
    start, end = day("period_start"), day("period_end")
    if start is None or end is None:
        raise ApiError(422, "invalid", "A cycle needs its period.", {"period_start": "Required."})
    return ops.CycleFields(
        name=str(get("name", "")).strip(),
        period_start=start,
        period_end=end,
        participant_mode=ParticipantMode(mode),
        department_ids=list(department_ids),
        participant_ids=participant_ids,
        self_review_due=day("self_review_due"),
        peer_feedback_due=day("peer_feedback_due"),
        manager_review_due=day("manager_review_due"),
        calibration_due=day("calibration_due"),
        peer_min=get("peer_min", 2),
        peer_max=get("peer_max", 5),
        peer_anonymous=get("peer_anonymous", True),
        anonymity_threshold=get("anonymity_threshold", 3),
        peer_names_to_managers=get("peer_names_to_managers", True),
        reviewer_load_cap=get("reviewer_load_cap", 5),
        guidance=list(get("guidance", [5, 20, 50, 20, 5])),
    )


# Cycles ----------------------------------------------------------------------------


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
    "Create a draft cycle (defaults as on the new-cycle page)",
    CYCLE,
    body=CYCLE_CREATE,
    status=201,
)
def cycle_create() -> Any:
    try:
        cycle = ops.create_cycle(current_user, _fields(body(), None))
    except ops.CycleError as exc:
        raise _cycle_error(exc) from None
    db.session.commit()
    return with_etag(jsonify(cycle_json(cycle)), cycle.version), 201


@bp.get("/cycles/<int:cycle_id>")
@access.hr_only
@operation("One cycle with its settings; ETag is its version", CYCLE)
def cycle_read(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    return with_etag(jsonify(cycle_json(cycle)), cycle.version)


@bp.patch("/cycles/<int:cycle_id>")
@access.hr_only
@operation(
    "Change a draft cycle's settings (only the fields sent); needs If-Match or version",
    CYCLE,
    body=CYCLE_UPDATE,
    errors=(409, 428),
)
def cycle_update(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    data = body()
    version = expected_version(data)
    if cycle.state != CycleState.DRAFT:
        raise ApiError(409, "conflict", "Only a draft cycle can be edited; this one is running.")
    if version != cycle.version:
        raise ApiError(
            409,
            "conflict",
            "Someone else changed this cycle meanwhile; read it again and resend.",
            current_version=cycle.version,
        )
    try:
        ops.update_cycle(current_user, cycle, version, _fields(data, cycle))
    except ops.CycleError as exc:
        raise _cycle_error(exc) from None
    db.session.commit()
    return with_etag(jsonify(cycle_json(cycle)), cycle.version)


@bp.delete("/cycles/<int:cycle_id>")
@access.hr_only
@operation("Delete a draft cycle", {"type": "object"}, errors=(409,))
def cycle_delete(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    try:
        ops.delete_cycle(current_user, cycle)
    except ops.CycleError as exc:
        raise _cycle_error(exc, 409) from None
    db.session.commit()
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
    cycle = _cycle_or_404(cycle_id)
    try:
        ops.advance_cycle(current_user, cycle, CycleState(body()["target"]))
    except ops.CycleError as exc:
        raise _cycle_error(exc, 409) from None
    db.session.commit()
    return with_etag(jsonify(cycle_json(cycle)), cycle.version)


@bp.get("/cycles/<int:cycle_id>/progress")
@access.hr_only
@operation("Completion of each phase, in total and by department", PROGRESS)
def cycle_progress(cycle_id: int) -> Any:
    from dataclasses import asdict

    from reviews.reports.queries import completion

    cycle = _cycle_or_404(cycle_id)
    total, departments = completion(cycle, "department")
    return jsonify(
        cycle_id=cycle.id,
        state=cycle.state.value,
        total=asdict(total),
        departments=[asdict(d) for d in departments],
    )


# Reviews ---------------------------------------------------------------------------


def review_summary(r: Review) -> dict[str, Any]:
    return {
        "id": r.id,
        "cycle_id": r.cycle_id,
        "cycle_name": r.cycle.name,
        "cycle_state": r.cycle.state.value,
        "subject_id": r.subject_id,
        "subject_name": r.subject.name,
        "manager_id": r.manager_id,
        "level": r.level_key,
        "acknowledged": r.acknowledged_at is not None,
    }


def part_json(part: Assessment) -> dict[str, Any]:
    return {
        "id": part.id,
        "review_id": part.review_id,
        "kind": part.kind.value,
        "state": part.state.value,
        "version": part.version,
        "ratings": dict(part.ratings),
        "comments": dict(part.comments),
        "answers": dict(part.answers),
        "desired_level": part.desired_level_key,
        "overall": part.overall_rating,
        "potential": part.potential.value if part.potential else None,
        "readiness": part.promotion_readiness.value if part.promotion_readiness else None,
        "submitted_at": _iso(part.submitted_at),
        "updated_at": _iso(part.updated_at),
        "evidence": part.evidence if part.kind != PartKind.PEER else None,
    }


def request_json(r: PeerRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "review_id": r.review_id,
        "reviewer": {"id": r.reviewer.id, "name": r.reviewer.name, "email": r.reviewer.email},
        "state": r.state.value,
        "decline_reason": r.decline_reason,
    }


def _review(review_id: int) -> Review:
    review = db.session.scalar(
        select(Review)
        .where(Review.id == review_id)
        .options(joinedload(Review.subject), joinedload(Review.manager), joinedload(Review.cycle))
    )
    if review is None:
        raise ApiError(404, "not_found", "There is no review with this id.")
    return review


def visible_review(review_id: int) -> tuple[Review, set[str]]:
    review = _review(review_id)
    relations = access.review_relations(current_user, review)
    if not relations:
        raise ApiError(403, "forbidden", "Only the person, their managers and HR see a review.")
    return review, relations


@bp.get("/reviews")
@access.signed_in
@operation(
    "Reviews the caller may read: their own, their org's (managers) or all (HR)",
    page_of(REVIEW_SUMMARY),
    parameters=[
        *PAGE_PARAMETERS,
        {"name": "cycle_id", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ],
)
def reviews() -> Any:
    stmt = select(Review).options(joinedload(Review.subject), joinedload(Review.cycle))
    cycle_id = int_arg("cycle_id")
    if cycle_id is not None:
        stmt = stmt.where(Review.cycle_id == cycle_id)
    if not access.is_hr(current_user):
        me = current_user.id
        stmt = stmt.where(
            or_(
                Review.subject_id == me,
                (Review.manager_id.in_(org_manager_ids(me))) & (Review.subject_id != me),
            )
        )
    return paged(stmt, Review.id, review_summary)


@bp.get("/reviews/<int:review_id>")
@access.signed_in
@operation(
    "One review as the caller may read it: peer feedback with the cycle's anonymity "
    "applied, the manager part for the line (and the person once released)",
    REVIEW,
)
def review(review_id: int) -> Any:
    review, relations = visible_review(review_id)
    reading = read_review(review, relations)
    peers = reading.peers
    result = None
    if reading.result_visible:
        result = {
            "final_rating": review.final_rating,
            "final_potential": review.final_potential.value if review.final_potential else None,
            "final_ratings": review.final_ratings,
            "final_version": review.final_version,
            "locked": review.final_locked,
        }
    return jsonify(
        {
            **review_summary(review),
            "relations": sorted(relations),
            "self": part_json(reading.self_part) if reading.self_part else None,
            "manager": part_json(reading.manager_part) if reading.manager_part else None,
            "peers": {
                "submitted": peers.submitted,
                "withheld": peers.withheld,
                "entries": [
                    {
                        "author_name": e.author_name,
                        "ratings": e.ratings,
                        "comments": e.comments,
                        "answers": e.answers,
                        "submitted_on": _iso(e.submitted_on),
                    }
                    for e in peers.entries
                ],
                "averages": {k: {"mean": m, "n": n} for k, (m, n) in peers.averages.items()},
            },
            "requests": [request_json(r) for r in reading.requests],
            "result": result,
            "acknowledged_at": _iso(review.acknowledged_at),
            "acknowledgement_comment": review.acknowledgement_comment,
        }
    )


# Parts -------------------------------------------------------------------------------


def _form_from_json(kind: str, data: dict[str, Any]) -> dict[str, str]:
    """The part's JSON as the form fields `parse_part` checks for the pages."""
    names = {name for name, _label, _required in ANSWERS[kind]}
    unknown = set(data.get("answers", {})) - names
    if unknown:
        raise ApiError(
            422,
            "invalid",
            f"Unknown answers: {', '.join(sorted(unknown))[:200]}.",
            {"answers": f"This part takes {', '.join(sorted(names))}."},
        )
    form = {f"rating_{k}": str(v) for k, v in data.get("ratings", {}).items()}
    form.update({f"comment_{k}": v for k, v in data.get("comments", {}).items()})
    form.update(data.get("answers", {}))
    for name in ("desired_level", "overall", "potential", "readiness"):
        if data.get(name) is not None:
            form[name] = str(data[name])
    return form


def _evidence(
    cited: dict[str, list[dict[str, Any]]], part: Assessment, keys: list[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The citations as the form posts them, checked by the pages' own parser."""
    from werkzeug.datastructures import MultiDict

    from reviews.evidence.citations import parse_evidence
    from reviews.evidence.queries import citable_refs

    form: MultiDict[str, str] = MultiDict()
    errors: dict[str, str] = {}
    for key, items in cited.items():
        links = [c for c in items if c["kind"] == "link"]
        if len(links) > 1:
            errors[f"evidence.{key}"] = "Cite at most one link per competency."
        for link in links[:1]:
            form.add(f"evidence_url_{key}", link["url"])
            form.add(f"evidence_title_{key}", link["title"])
        for c in items:
            if c["kind"] != "link":
                form.add(f"evidence_{key}", f"{c['kind']}:{c['id']}")
    evidence, problems = parse_evidence(form, keys, citable_refs(current_user, part))
    for name, message in problems.items():
        for prefix in ("evidence_url_", "evidence_title_", "evidence_"):
            if name.startswith(prefix):
                name = "evidence." + name.removeprefix(prefix)
                break
        else:
            name = "evidence"
        errors.setdefault(name, message)
    return evidence, errors


def _json_field(name: str) -> str:
    for prefix, group in (("rating_", "ratings"), ("comment_", "comments")):
        if name.startswith(prefix):
            return f"{group}.{name.removeprefix(prefix)}"
    if name == "form":
        return "ratings"
    if name in {"desired_level", "overall", "potential", "readiness"}:
        return name
    return f"answers.{name}"


def _part_answer(part: Assessment) -> Any:
    data = part_json(part)
    data["locked"] = ops.part_lock_reason(part, current_user)
    return with_etag(jsonify(data), part.version)


def _save(part: Assessment, *, submit: bool) -> Any:
    data = body()
    version = expected_version(data)
    kind = part.kind.value
    snapshot = FrameworkSnapshot(part.review.cycle.framework_snapshot or {})
    clean, errors = parse_part(
        kind, _form_from_json(kind, data), snapshot.keys, snapshot.level_keys(), submit=submit
    )
    if "evidence" in data:
        if part.kind == PartKind.PEER:
            errors["evidence"] = "Peer feedback cites no evidence."
        else:
            clean.evidence, evidence_errors = _evidence(data["evidence"], part, snapshot.keys)
            errors.update(evidence_errors)
    if errors:
        raise ApiError(
            422,
            "invalid",
            "Some fields are not valid.",
            {k if k.startswith("evidence") else _json_field(k): v for k, v in errors.items()},
        )
    try:
        ops.save_part(current_user, part, version, clean, submit=submit)
    except ops.PartConflict as conflict:
        db.session.rollback()
        raise ApiError(
            409,
            "conflict",
            "This part was saved elsewhere after the version you sent; read it again.",
            current_version=conflict.current.version,
        ) from None
    except ops.CycleError as exc:
        raise ApiError(409, "locked", str(exc)) from None
    db.session.commit()
    return _part_answer(part)


def _self_part(review_id: int) -> Assessment:
    review = _review(review_id)
    if not access.can_write_self_part(current_user, review):
        raise ApiError(403, "forbidden", "Only the person reviewed writes the self-review.")
    return ops.part_for(review, PartKind.SELF)


def _manager_part(review_id: int) -> Assessment:
    review = _review(review_id)
    if not access.can_write_manager_part(current_user, review):
        raise ApiError(403, "forbidden", "Only the direct manager writes the manager review.")
    return ops.part_for(review, PartKind.MANAGER)


def _my_request(request_id: int) -> PeerRequest:
    found = db.session.scalar(
        select(PeerRequest)
        .where(PeerRequest.id == request_id)
        .options(joinedload(PeerRequest.review).joinedload(Review.subject))
    )
    if found is None or found.state not in (RequestState.APPROVED, RequestState.DECLINED):
        raise ApiError(404, "not_found", "There is no open peer request with this id.")
    if found.reviewer_id != current_user.id:
        raise ApiError(403, "forbidden", "Only the peer asked writes this feedback.")
    return found


def _peer_part(request_id: int) -> Assessment:
    found = _my_request(request_id)
    if found.state == RequestState.DECLINED:
        raise ApiError(409, "declined", "You declined this request.")
    part = ops.peer_assessment(found)
    db.session.commit()
    return part


PART_WRITE = {"body": PART_BODY, "errors": (409, 428)}
SAVE_TEXT = (
    "Save a draft over the version you read (If-Match or version); "
    "409 with current_version when it changed meanwhile"
)


@bp.get("/reviews/<int:review_id>/self")
@access.signed_in
@operation("The caller's self-review; ETag is its version", PART)
def self_read(review_id: int) -> Any:
    return _part_answer(_self_part(review_id))


@bp.put("/reviews/<int:review_id>/self")
@access.signed_in
@operation("Self-review: " + SAVE_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def self_save(review_id: int) -> Any:
    return _save(_self_part(review_id), submit=False)


@bp.post("/reviews/<int:review_id>/self/submit")
@access.signed_in
@operation("Submit the self-review (every rating and answer needed)", PART, **PART_WRITE)  # type: ignore[arg-type]
def self_submit(review_id: int) -> Any:
    return _save(_self_part(review_id), submit=True)


@bp.get("/reviews/<int:review_id>/manager")
@access.signed_in
@operation("The manager review, for the direct manager who writes it", PART)
def manager_read(review_id: int) -> Any:
    return _part_answer(_manager_part(review_id))


@bp.put("/reviews/<int:review_id>/manager")
@access.signed_in
@operation("Manager review: " + SAVE_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def manager_save(review_id: int) -> Any:
    return _save(_manager_part(review_id), submit=False)


@bp.post("/reviews/<int:review_id>/manager/submit")
@access.signed_in
@operation("Submit the manager review", PART, **PART_WRITE)  # type: ignore[arg-type]
def manager_submit(review_id: int) -> Any:
    return _save(_manager_part(review_id), submit=True)


@bp.get("/requests")
@access.signed_in
@operation(
    "Peer feedback the caller is asked to write", page_of(INBOX_ITEM), parameters=PAGE_PARAMETERS
)
def inbox() -> Any:
    stmt = inbox_requests(current_user.id)
    return paged(stmt, PeerRequest.id, render_page=_inbox_items)


def _inbox_items(rows: list[PeerRequest]) -> list[dict[str, Any]]:
    states = dict(
        db.session.execute(
            select(Assessment.peer_request_id, Assessment.state).where(
                Assessment.peer_request_id.in_([r.id for r in rows] or [-1])
            )
        ).all()
    )
    return [_inbox_item(r, states.get(r.id)) for r in rows]


def _inbox_item(r: PeerRequest, state: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "review_id": r.review_id,
        "cycle_id": r.review.cycle_id,
        "cycle_name": r.review.cycle.name,
        "subject_name": r.review.subject.name,
        "state": r.state.value,
        "feedback_state": state.value if state else None,
        "due": _iso(r.review.cycle.peer_feedback_due),
    }


@bp.get("/requests/<int:request_id>/feedback")
@access.signed_in
@operation("The caller's peer feedback for a request; ETag is its version", PART, errors=(409,))
def peer_read(request_id: int) -> Any:
    return _part_answer(_peer_part(request_id))


@bp.put("/requests/<int:request_id>/feedback")
@access.signed_in
@operation("Peer feedback: " + SAVE_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def peer_save(request_id: int) -> Any:
    return _save(_peer_part(request_id), submit=False)


@bp.post("/requests/<int:request_id>/feedback/submit")
@access.signed_in
@operation("Submit peer feedback", PART, **PART_WRITE)  # type: ignore[arg-type]
def peer_submit(request_id: int) -> Any:
    return _save(_peer_part(request_id), submit=True)


@bp.post("/requests/<int:request_id>/decline")
@access.signed_in
@operation("Decline a peer request, saying why", REQUEST, body=DECLINE, errors=(409,))
def peer_decline(request_id: int) -> Any:
    found = _my_request(request_id)
    try:
        ops.decline_request(current_user, found, body()["reason"])
    except ops.CycleError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    return jsonify(request_json(found))


# Nominations ------------------------------------------------------------------------


def _nominations_review(review_id: int) -> tuple[Review, bool, bool]:
    review, relations = visible_review(review_id)
    can_nominate = access.can_nominate(current_user, review)
    can_decide = access.can_decide_nominations(current_user, review)
    if not (can_nominate or can_decide or relations & {"skip"}):
        raise ApiError(403, "forbidden", "Only the person, their managers and HR see nominations.")
    return review, can_nominate, can_decide


def _nominations(review: Review, can_nominate: bool, can_decide: bool) -> Any:
    requests = requests_of(review)
    live = [r for r in requests if r.state in (RequestState.PROPOSED, RequestState.APPROVED)]
    load = ops.reviewer_load(review.cycle_id, [r.reviewer_id for r in live])
    reciprocal = {r for _s, r in ops.reciprocal_pairs(review.cycle_id, [review.subject_id])}
    cap = review.cycle.reviewer_load_cap
    return jsonify(
        review_id=review.id,
        can_nominate=can_nominate and review.cycle.state in NOMINATION_OPEN,
        can_decide=can_decide and review.cycle.state in APPROVAL_OPEN,
        peer_min=review.cycle.peer_min,
        peer_max=review.cycle.peer_max,
        requests=[
            {
                **request_json(r),
                "reviewer_load": load.get(r.reviewer_id, 0),
                "reciprocal": r.reviewer_id in reciprocal,
                "over_load_cap": load.get(r.reviewer_id, 0) > cap,
            }
            for r in requests
        ],
    )


@bp.get("/reviews/<int:review_id>/nominations")
@access.signed_in
@operation("Peers proposed and approved for a review, with reviewer load", NOMINATIONS)
def nominations(review_id: int) -> Any:
    return _nominations(*_nominations_review(review_id))


@bp.post("/reviews/<int:review_id>/nominations")
@access.signed_in
@operation(
    "Nominate a peer by email: the person proposes, their manager or HR adds directly",
    NOMINATIONS,
    body=NOMINATE,
    errors=(409,),
    status=201,
)
def nominate(review_id: int) -> Any:
    review, can_nominate, can_decide = _nominations_review(review_id)
    if not (can_decide or can_nominate):
        raise ApiError(403, "forbidden", "Only the person, their manager or HR nominate.")
    email = body()["email"].strip().lower()
    peer = db.session.scalar(select(Person).where(Person.email == email))
    if peer is None:
        raise ApiError(422, "invalid", f"Nobody has the email {email}.", {"email": "Unknown."})
    try:
        if can_decide:
            ops.add_peer(current_user, review, peer)
        else:
            ops.propose_peer(current_user, review, peer)
    except ops.CycleError as exc:
        raise ApiError(409, "conflict", str(exc), {"email": str(exc)}) from None
    db.session.commit()
    return _nominations(review, can_nominate, can_decide), 201


def _decide(review_id: int, request_id: int, action: str) -> Any:
    review, can_nominate, can_decide = _nominations_review(review_id)
    found = db.session.scalar(
        select(PeerRequest).where(PeerRequest.id == request_id, PeerRequest.review_id == review.id)
    )
    if found is None:
        raise ApiError(404, "not_found", "This review has no request with this id.")
    try:
        if action == "withdraw" and not can_nominate:
            raise ApiError(403, "forbidden", "Only the person reviewed withdraws their proposals.")
        if action == "withdraw":
            ops.withdraw_proposal(current_user, found)
        elif can_decide:
            ops.decide_request(current_user, found, approve=action == "approve")
        else:
            raise ApiError(403, "forbidden", "Only the manager or HR approve or remove peers.")
    except ops.CycleError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    db.session.commit()
    return _nominations(review, can_nominate, can_decide)


@bp.post("/reviews/<int:review_id>/nominations/<int:request_id>/approve")
@access.signed_in
@operation("Approve a proposed peer (manager or HR)", NOMINATIONS, errors=(409,))
def nomination_approve(review_id: int, request_id: int) -> Any:
    return _decide(review_id, request_id, "approve")


@bp.post("/reviews/<int:review_id>/nominations/<int:request_id>/remove")
@access.signed_in
@operation("Remove a peer (manager or HR)", NOMINATIONS, errors=(409,))
def nomination_remove(review_id: int, request_id: int) -> Any:
    return _decide(review_id, request_id, "remove")


@bp.post("/reviews/<int:review_id>/nominations/<int:request_id>/withdraw")
@access.signed_in
@operation("Withdraw one's own proposal", NOMINATIONS, errors=(409,))
def nomination_withdraw(review_id: int, request_id: int) -> Any:
    return _decide(review_id, request_id, "withdraw")
