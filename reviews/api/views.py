"""JSON API under /api/v1 with bearer tokens; the OpenAPI document is built from these views.

Each view declares its OpenAPI operation with `@operation(...)`; `openapi()`
walks the URL map, so a route cannot exist without appearing in the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.extensions import db
from reviews.people.models import Person

bp = Blueprint("api", __name__, url_prefix="/api/v1")

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object"},
            },
        }
    },
}
PERSON = {
    "type": "object",
    "required": ["id", "email", "name", "role", "active"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string", "format": "email"},
        "name": {"type": "string"},
        "role": {"type": "string", "enum": ["employee", "manager", "hr"]},
        "active": {"type": "boolean"},
        "department": {"type": ["string", "null"]},
        "level": {"type": ["string", "null"]},
        "manager_id": {"type": ["integer", "null"]},
    },
}


def operation(
    summary: str,
    response: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    public: bool = False,
) -> Callable[[Any], Any]:
    def mark(view: Any) -> Any:
        view.openapi = {
            "summary": summary,
            "response": response,
            "parameters": parameters or [],
            "public": public,
        }
        return view

    return mark


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
    }


def _error(status: int, code: str, message: str, fields: dict[str, str] | None = None) -> Any:
    return jsonify(error={"code": code, "message": message, "fields": fields or {}}), status


@bp.get("/me")
@access.signed_in
@operation("The person the token belongs to", PERSON)
def me() -> Any:
    return jsonify(person_json(current_user))


@bp.get("/people")
@access.signed_in
@operation(
    "People in the directory (active people; HR also sees deactivated ones), by id, in pages",
    {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": PERSON},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
    parameters=[
        {
            "name": "cursor",
            "in": "query",
            "schema": {"type": "string"},
            "description": "next_cursor of the previous page",
        },
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
        },
    ],
)
def people() -> Any:
    cursor, limit = request.args.get("cursor", "0"), request.args.get("limit", "50")
    if not cursor.isdigit() or len(cursor) > 10:
        return _error(
            400,
            "invalid_cursor",
            "The cursor is not one this API gave out.",
            {"cursor": "Use next_cursor from the previous page."},
        )
    if not limit.isdigit() or not 1 <= int(limit) <= 200:
        return _error(
            422,
            "invalid_limit",
            "limit must be a whole number from 1 to 200.",
            {"limit": "From 1 to 200."},
        )
    stmt = select(Person).where(Person.id > int(cursor)).order_by(Person.id).limit(int(limit) + 1)
    if not access.is_hr(current_user):
        stmt = stmt.where(Person.active.is_(True))
    rows = list(
        db.session.scalars(stmt.options(joinedload(Person.department), joinedload(Person.level)))
    )
    more = len(rows) > int(limit)
    rows = rows[: int(limit)]
    return jsonify(
        items=[person_json(p) for p in rows], next_cursor=str(rows[-1].id) if more else None
    )


@bp.get("/openapi.json")
@access.public
@operation("This document", {"type": "object"}, public=True)
def openapi() -> Any:
    return jsonify(build_openapi())


def build_openapi() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith(bp.url_prefix or ""):
            continue
        view = current_app.view_functions[rule.endpoint]
        spec = getattr(view, "openapi", None)
        if spec is None:
            raise RuntimeError(f"API route {rule.rule} has no @operation")
        path = rule.rule.removeprefix(bp.url_prefix or "")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"),
                "summary": spec["summary"],
                "parameters": spec["parameters"],
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": spec["response"]}},
                    },
                    "400": {"$ref": "#/components/responses/Error"},
                    "422": {"$ref": "#/components/responses/Error"},
                },
            }
            if not spec["public"]:
                op["security"] = [{"bearer": []}]
                op["responses"]["401"] = {"$ref": "#/components/responses/Error"}
                op["responses"]["403"] = {"$ref": "#/components/responses/Error"}
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Reviews API",
            "version": "1",
            "description": "Personal bearer tokens: `Authorization: Bearer rvw_...`. "
            "Create one on your profile page or with "
            "`flask --app wsgi users token EMAIL`.",
        },
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "Person": PERSON},
            "responses": {
                "Error": {
                    "description": "What is wrong",
                    "content": {"application/json": {"schema": ERROR}},
                }
            },
        },
    }
