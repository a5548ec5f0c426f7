"""What every /api/v1 view shares: the blueprint, JSON errors, request bodies
checked against the schema the OpenAPI document shows, cursors and versions.

Each view declares its operation with `@operation(...)`.  The same schema
validates the request and describes it in `/api/v1/openapi.json`, so the
document cannot drift from what the code accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, current_app, g, jsonify, request
from flask_login import current_user
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import Select
from werkzeug.exceptions import BadRequest

from reviews.errors import Conflict, DomainError
from reviews.extensions import csrf, db
from reviews.languages import gettext

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Bearer calls carry no cookie a third-party page could ride on; calls made with
# the session cookie (the app's own pages) must send the CSRF token: see below.
csrf.exempt(bp)

F = TypeVar("F", bound=Callable[..., Any])
MAX_ID = 2**31 - 1  # ids are 32-bit integers in both databases
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ERROR_STATUSES = {
    400: "The request is not well-formed JSON or a parameter is malformed",
    401: "No valid API token",
    403: "The token's person may not do this",
    404: "No such resource (or not visible to the caller)",
    409: "The resource changed meanwhile or its state does not allow this",
    422: "A field is not valid; `fields` says which and why",
    428: "An edit must say which version it changes (If-Match or `version`)",
    429: "Too many requests; wait and retry",
}

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
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "current_version": {"type": "integer"},
                "errors": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}


class ApiError(DomainError):
    """A refusal of the API's own protocol (not JSON, no version, a bad ETag ...):
    a domain error with its status and code chosen here."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message, fields=fields)
        self.status, self.code = status, code
        self.extra = extra


def error_body(exc: DomainError) -> Any:
    """Every refusal as the API answers it: `{"error": {code, message, fields, ...}}`."""
    body: dict[str, Any] = {"code": exc.code, "message": exc.message, "fields": exc.fields}
    if isinstance(exc, Conflict) and exc.current_version is not None:
        body["current_version"] = exc.current_version
    body.update(getattr(exc, "extra", {}))
    return jsonify(error=body), exc.status


@bp.errorhandler(DomainError)
def _api_error(exc: DomainError) -> Any:
    db.session.rollback()
    return error_body(exc)


@bp.before_request
def _csrf_for_cookie_calls() -> None:
    from reviews.security import bearer_token

    if request.method in WRITES and bearer_token() is None and current_user.is_authenticated:
        csrf.protect()  # signed in by the cookie: the page's own script must prove it


# Operations ------------------------------------------------------------------


@dataclass
class Operation:
    summary: str
    response: dict[str, Any] | None
    body: dict[str, Any] | None
    parameters: list[dict[str, Any]]
    public: bool
    status: int
    errors: tuple[int, ...]
    content_type: str
    description: str
    raw_body: str | None


def operation(
    summary: str,
    response: dict[str, Any] | None = None,
    *,
    body: dict[str, Any] | None = None,
    parameters: list[dict[str, Any]] | None = None,
    public: bool = False,
    status: int = 200,
    errors: Iterable[int] = (),
    content_type: str = "application/json",
    description: str = "",
    raw_body: str | None = None,
) -> Callable[[F], F]:
    """Declare a view's OpenAPI operation; a `body` schema is also enforced."""
    validator = (
        Draft202012Validator(body, format_checker=FormatChecker()) if body is not None else None
    )
    declared = {400, 404, 422, 429, *errors} | (set() if public else {401, 403})

    def mark(view: F) -> F:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            g.api_validator = validator  # used by body(), after the view's permission checks
            return view(*args, **kwargs)

        checked.openapi = Operation(  # type: ignore[attr-defined]
            summary,
            response,
            body,
            parameters or [],
            public,
            status,
            tuple(sorted(declared)),
            content_type,
            description,
            raw_body,
        )
        return checked  # type: ignore[return-value]

    return mark


def json_body(validator: Draft202012Validator) -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(
            400, "not_json", gettext("Send a JSON object with Content-Type: application/json.")
        )
    try:
        data = request.get_json()
    except BadRequest:
        raise ApiError(400, "not_json", gettext("The body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, "not_json", gettext("The body must be a JSON object."))
    fields: dict[str, str] = {}
    for path in _nul_paths(data):
        # No person types a NUL character, and PostgreSQL cannot store one.
        fields.setdefault(path or "body", gettext("Remove the NUL character."))
    if fields:
        raise ApiError(422, "invalid", gettext("Some fields hold a NUL character."), fields)
    for problem in validator.iter_errors(data):
        path = ".".join(str(p) for p in problem.absolute_path)
        if problem.validator == "required":
            missing = problem.message.split("'")[1] if "'" in problem.message else ""
            path = ".".join(p for p in (path, missing) if p)
            fields.setdefault(path or "body", gettext("This field is required."))
        elif problem.validator == "additionalProperties":
            fields.setdefault(path or "body", _short(problem.message))
        else:
            fields.setdefault(path or "body", _short(problem.message))
    if fields:
        raise ApiError(422, "invalid", gettext("Some fields are not valid."), fields)
    return data


def _nul_paths(value: Any, path: str = "") -> Iterable[str]:
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                yield inner
            yield from _nul_paths(item, inner)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{i}" if path else str(i))


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."


def body() -> dict[str, Any]:
    """The request body, checked against the view's `@operation(body=...)` schema.

    Views call it once they have checked who may call them, so a caller who may
    not act learns nothing from validation messages."""
    if "api_body" not in g:
        validator = g.get("api_validator")
        if validator is None:
            raise RuntimeError("body() needs @operation(body=...) on the view")
        g.api_body = json_body(validator)
    return g.api_body  # type: ignore[no-any-return]


# Shared parameters and answers ---------------------------------------------------

PAGE_PARAMETERS = [
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string", "maxLength": 10, "pattern": "^[0-9]+$"},
        # (ids are 32-bit: a larger number is refused as a cursor this API never gave)
        "description": "next_cursor of the previous page",
    },
    {
        "name": "limit",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
]


def page_of(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": item},
            "next_cursor": {"type": ["string", "null"]},
        },
    }


def page_args() -> tuple[int, int]:
    cursor, limit = request.args.get("cursor", "0"), request.args.get("limit", "50")
    if not cursor.isdigit() or len(cursor) > 10 or int(cursor) > MAX_ID:
        raise ApiError(
            400,
            "invalid_cursor",
            gettext("The cursor is not one this API gave out."),
            {"cursor": gettext("Use next_cursor from the previous page.")},
        )
    if not limit.isdigit() or len(limit) > 4 or not 1 <= int(limit) <= 200:
        raise ApiError(
            400,
            "invalid_limit",
            gettext("limit must be a whole number from 1 to 200."),
            {"limit": "1-200"},
        )
    return int(cursor), int(limit)


def paged(
    stmt: Select[Any],
    id_column: Any,
    render: Callable[[Any], dict[str, Any]] | None = None,
    *,
    render_page: Callable[[list[Any]], list[dict[str, Any]]] | None = None,
) -> Any:
    """One page of `stmt` by ascending id, with the cursor for the next.

    `render_page` turns the whole page at once, for answers that need one more
    query per page rather than one per row."""
    cursor, limit = page_args()
    rows = list(
        db.session.scalars(stmt.where(id_column > cursor).order_by(id_column).limit(limit + 1))
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if render_page is not None:
        items = render_page(rows)
    else:
        assert render is not None  # noqa: S101
        items = [render(r) for r in rows]
    return jsonify(items=items, next_cursor=str(rows[-1].id) if more and rows else None)


def int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 9:
        raise ApiError(
            400,
            "bad_parameter",
            gettext("%(name)s must be an id.", name=name),
            {name: gettext("A whole number.")},
        )
    return int(raw)


def expected_version(data: dict[str, Any] | None = None) -> int:
    """The version an edit is made over: `If-Match: "N"` or `version` in the body."""
    header = request.headers.get("If-Match", "").strip()
    if header:
        tag = header.removeprefix("W/").strip('"')
        if not tag.isdigit() or len(tag) > 9:
            raise ApiError(
                400,
                "invalid_etag",
                gettext('If-Match must be an ETag this API gave out, like "3".'),
            )
        return int(tag)
    if data and isinstance(data.get("version"), int):
        return int(data["version"])
    raise ApiError(
        428,
        "version_required",
        gettext(
            'Say which version you edit: send If-Match: "N" with the ETag you read, or "version".'
        ),
        {"version": gettext("Required.")},
    )


def with_etag(response: Any, version: int) -> Any:
    response.headers["ETag"] = f'"{version}"'
    return response


def build_openapi() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    prefix = bp.url_prefix or ""
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(prefix + "/"):
            continue
        spec: Operation | None = getattr(current_app.view_functions[rule.endpoint], "openapi", None)
        if spec is None:
            raise RuntimeError(f"API route {rule.rule} has no @operation")
        path = rule.rule.removeprefix(prefix)
        parameters = []
        for arg in rule.arguments:
            path = path.replace(f"<int:{arg}>", f"{{{arg}}}").replace(f"<{arg}>", f"{{{arg}}}")
            parameters.append(
                {
                    "name": arg,
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                }
            )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            ok: dict[str, Any] = {"description": "OK"}
            if spec.content_type == "application/json":
                if spec.response is not None:
                    ok["content"] = {"application/json": {"schema": spec.response}}
            else:
                ok["content"] = {spec.content_type: {"schema": {"type": "string"}}}
            op: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_"),
                "summary": spec.summary,
                "parameters": parameters + spec.parameters,
                "responses": {
                    str(spec.status): ok,
                    **{
                        str(code): {"$ref": f"#/components/responses/E{code}"}
                        for code in spec.errors
                    },
                },
            }
            if spec.description:
                op["description"] = spec.description
            if spec.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": spec.body}},
                }
            elif spec.raw_body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {spec.raw_body: {"schema": {"type": "string"}}},
                }
            if method in WRITES and spec.body is None:
                op["responses"].setdefault("400", {"$ref": "#/components/responses/E400"})
            op["security"] = [] if spec.public else [{"bearer": []}]
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Reviews API",
            "version": "1",
            "description": "Personal bearer tokens: `Authorization: Bearer rvw_...`. "
            "Create one on your account's API tokens page or with "
            "`flask --app wsgi users token EMAIL`. Every call is allowed or refused by "
            'the same rules as the pages. Errors are `{"error": {"code", "message", '
            '"fields"}}`. Lists are paged with `cursor` and `limit`. Editable parts carry '
            'an `ETag`; send it back as `If-Match` (or `"version"` in the body).',
        },
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
            "responses": {
                f"E{code}": {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for code, text in ERROR_STATUSES.items()
            },
        },
    }
