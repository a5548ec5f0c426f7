"""JSON API under /api/v1: me, people, org import, framework, and the OpenAPI document.

The cycle, review and results resources live in `api/cycles.py` and
`api/results.py`; all share the blueprint and helpers of `api/core.py`.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews import access, params
from reviews.api.core import PAGE_PARAMETERS, ApiError, bp, build_openapi, operation, page_of, paged
from reviews.cycles.snapshot import take_snapshot, translated
from reviews.extensions import db
from reviews.framework.models import Opportunity, Scale
from reviews.framework.queries import ladder, scale
from reviews.framework.wording import sayer
from reviews.languages import gettext, ngettext
from reviews.people import operations as people_ops
from reviews.people.models import Person, Source

__all__ = ["bp"]

PERSON = {
    "type": "object",
    "required": ["id", "email", "name", "role", "active"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": ["employee", "manager", "hr"]},
        "active": {"type": "boolean"},
        "department": {"type": ["string", "null"]},
        "level": {"type": ["string", "null"]},
        "manager_id": {"type": ["integer", "null"]},
        # For HR only, as on the people page: what keeps the record, and when it last did.
        "managed_by": {"type": "string", "enum": [s.value for s in Source]},
        "provisioned_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
IMPORT_RESULT = {
    "type": "object",
    "required": ["applied", "errors", "changes"],
    "properties": {
        "applied": {"type": "boolean"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["line", "message"],
                "properties": {"line": {"type": "integer"}, "message": {"type": "string"}},
            },
        },
        "changes": {
            "type": ["object", "null"],
            "properties": {
                "create": {"type": "array", "items": {"type": "string"}},
                "update": {"type": "array", "items": {"type": "string"}},
                "reactivate": {"type": "array", "items": {"type": "string"}},
                "deactivate": {"type": "array", "items": {"type": "string"}},
                "unchanged": {"type": "integer"},
                "summary": {"type": "string"},
            },
        },
    },
}
FRAMEWORK = {
    "type": "object",
    "required": ["levels", "competencies", "expectations", "opportunities"],
    "properties": {
        "levels": {"type": "array", "items": {"type": "object"}},
        "groups": {"type": "array", "items": {"type": "object"}},
        "competencies": {"type": "array", "items": {"type": "object"}},
        "expectations": {"type": "object"},
        "proficiency": {"type": "array", "items": {"type": "object"}},
        "performance": {"type": "array", "items": {"type": "object"}},
        "opportunities": {"type": "array", "items": {"type": "object"}},
    },
}


def person_json(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "email": p.email,
        "name": p.name,
        "role": p.role.value,
        "active": p.active,
        "department": p.department.name if p.department else None,
        "level": p.level.key if p.level else None,
        "manager_id": p.manager_id,
    } | (
        {
            "managed_by": p.source.value,
            "provisioned_at": p.provisioned_at.isoformat() if p.provisioned_at else None,
        }
        if access.is_hr(current_user)
        else {}
    )


@bp.get("/me")
@access.signed_in
@operation("The person the token belongs to", PERSON)
def me() -> Any:
    return jsonify(person_json(current_user))


def _directory() -> Any:
    stmt = select(Person).options(joinedload(Person.department), joinedload(Person.level))
    if not access.is_hr(current_user):
        stmt = stmt.where(Person.active.is_(True))
    else:
        managed = params.choice("managed_by", [s.value for s in Source])
        if managed:
            stmt = stmt.where(Person.source == Source(managed))
    return stmt


@bp.get("/people")
@access.signed_in
@operation(
    "People in the directory (active people; HR also sees deactivated ones), by id, in pages",
    page_of(PERSON),
    parameters=[
        *PAGE_PARAMETERS,
        {
            "name": "managed_by",
            "in": "query",
            "schema": {"type": "string", "enum": [s.value for s in Source]},
            "description": "HR only: people kept by hand, the CSV import, SCIM or single sign-on",
        },
    ],
)
def people() -> Any:
    return paged(_directory(), Person.id, person_json)


@bp.get("/people/<int:person_id>")
@access.signed_in
@operation("One person of the directory", PERSON)
def person(person_id: int) -> Any:
    found = db.session.scalar(_directory().where(Person.id == person_id))
    if found is None:
        raise ApiError(404, "not_found", gettext("Nobody with this id is in the directory."))
    return jsonify(person_json(found))


@bp.post("/org/import")
@access.hr_only
@operation(
    "Import the org chart from CSV (the same file and checks as the import page)",
    IMPORT_RESULT,
    parameters=[
        {
            "name": "dry_run",
            "in": "query",
            "schema": {"type": "boolean", "default": False},
            "description": "Check the file and report the changes without writing anything",
        }
    ],
    description="Send the CSV as the request body with Content-Type: text/csv. "
    "A file with any error changes nothing and answers 422 with every error and its line "
    '(in `fields`, keyed "line N", and as a list in `errors`).',
    raw_body="text/csv",
)
def org_import() -> Any:
    dry_run = params.choice("dry_run", ["true", "false", "1", "0"], "false")
    if request.content_length and request.content_length > 5 * 1024 * 1024:
        raise ApiError(
            422, "too_large", gettext("Keep the file under 5 MB."), {"body": gettext("Under 5 MB.")}
        )
    check = people_ops.check_org_file(request.get_data(), current_user)
    errors = [{"line": e.line, "message": e.message} for e in check.errors]
    if check.errors or check.plan is None:
        fields: dict[str, str] = {}
        for e in check.errors:
            key = f"line {e.line}"  # a field name: stays English
            fields[key] = f"{fields[key]}; {e.message}" if key in fields else e.message
        raise ApiError(
            422,
            "invalid_file",
            ngettext(
                "The file has %(num)d error; nothing was imported.",
                "The file has %(num)d errors; nothing was imported.",
                len(errors),
            ),
            fields,
            errors=errors,
        )
    plan = check.plan
    changes = {
        "create": [r.email for r in plan.create],
        "update": [r.email for r, _ in plan.update],
        "reactivate": list(plan.reactivate),
        "deactivate": list(plan.deactivate),
        "unchanged": plan.unchanged,
        "summary": plan.summary(),
    }
    if dry_run in {"true", "1"}:
        return jsonify(applied=False, errors=[], changes=changes)
    people_ops.apply_import(check, current_user)
    db.session.commit()
    return jsonify(applied=True, errors=[], changes=changes)


@bp.get("/framework")
@access.signed_in
@operation(
    "The live competency framework: levels, competencies with anchors, "
    "expectations per level, scales and the stretch-opportunity catalogue",
    FRAMEWORK,
)
def framework() -> Any:
    say = sayer()  # in the caller's language, as every message of the API
    doc = translated(
        take_snapshot(ladder(), scale(Scale.PROFICIENCY), scale(Scale.PERFORMANCE)), say
    )
    opportunities = db.session.scalars(
        select(Opportunity)
        .where(Opportunity.active.is_(True))
        .options(joinedload(Opportunity.competencies), joinedload(Opportunity.levels))
        .order_by(Opportunity.title)
    ).unique()
    doc["opportunities"] = [
        {
            "key": o.key,
            "title": say(o.title),
            "description": say(o.description),
            "duration_weeks": o.duration_weeks,
            "source": o.source,
            "competencies": [c.key for c in o.competencies],
            "levels": [lv.key for lv in o.levels],
            **({"track": o.track.value} if o.track else {}),
        }
        for o in opportunities
    ]
    return jsonify(doc)


@bp.get("/openapi.json")
@access.public
@operation("This document", {"type": "object"}, public=True)
def openapi() -> Any:
    return jsonify(build_openapi())
