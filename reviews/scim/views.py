"""SCIM 2.0 endpoints at /scim/v2: parse -> operation -> (the request commits) -> answer.

Every answer is application/scim+json; every refusal a SCIM Error body.  The
request's transaction is committed or rolled back once by `web.end_transaction`.
Only Users are served: roles are the Reviews extension's `role`, not Groups.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, request, url_for
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ListResponse,
    PatchOp,
    ResponseParameters,
    SCIMException,
    SearchRequest,
)
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from reviews.errors import Conflict, DomainError, NotFound
from reviews.extensions import csrf, db
from reviews.framework.models import Level
from reviews.people.models import Person
from reviews.scim import operations as ops
from reviews.scim.auth import check_token
from reviews.scim.filters import FilterError, to_condition
from reviews.scim.resources import (
    MAX_PAGE,
    RequestUser,
    User,
    parse_user,
    request_user_from,
    resource_types,
    schemas,
    service_provider_config,
    to_resource,
)

bp = Blueprint("scim", __name__, url_prefix="/scim/v2")
csrf.exempt(bp)

MEDIA_TYPE = "application/scim+json"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
DEFAULT_PAGE = 100
F = TypeVar("F", bound=Callable[..., Any])


def provisioning_token(view: F) -> F:
    """Access rule of every /scim/v2 view: the provisioning token (`_authenticate`),
    never a session or a person's API token; the access matrix reads the mark."""
    view.access_rule = "provisioning_token"  # type: ignore[attr-defined]
    return view


class ScimRefusal(Exception):
    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.error = Error(status=status, scim_type=scim_type, detail=detail)


def answer(body: dict[str, Any] | None, status: int = 200, **headers: str) -> Response:
    data = json.dumps(body) if body is not None else ""
    response = Response(data, status=status, mimetype=MEDIA_TYPE if body is not None else None)
    response.headers.update(headers)
    return response


def error_answer(error: Error) -> Response:
    db.session.rollback()
    status = error.status or 400
    body = error.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    headers = {"WWW-Authenticate": 'Bearer realm="scim"'} if status == 401 else {}
    return answer(body, status, **headers)


@bp.errorhandler(ScimRefusal)
def _refusal(exc: ScimRefusal) -> Response:
    return error_answer(exc.error)


@bp.errorhandler(SCIMException)
def _scim_exception(exc: SCIMException) -> Response:
    return error_answer(exc.to_error())


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError) -> Response:
    errors = Error.from_validation_errors(exc)
    return error_answer(errors[0] if errors else Error(status=400, scim_type="invalidSyntax"))


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Response:
    if isinstance(exc, NotFound):
        return error_answer(Error(status=404, detail=exc.message))
    if isinstance(exc, Conflict):
        return error_answer(Error(status=409, scim_type="uniqueness", detail=exc.message))
    scim_type = getattr(exc, "scim_type", "invalidValue")
    return error_answer(Error(status=400, scim_type=scim_type, detail=exc.message))


@bp.before_request
def _authenticate() -> None:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not check_token(secret.strip()):
        raise ScimRefusal(401, "a valid provisioning token is required (Authorization: Bearer)")


# Reading requests -------------------------------------------------------------


def _payload() -> dict[str, Any]:
    try:
        payload = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        raise ScimRefusal(400, "the body is not JSON", "invalidSyntax") from None
    if not isinstance(payload, dict):
        raise ScimRefusal(400, "the body must be a JSON object", "invalidSyntax")
    return payload


def _names(text: str | None) -> list[str] | None:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return names or None


def _response_parameters(attributes: Any, excluded: Any) -> ResponseParameters[Any] | None:
    if not attributes and not excluded:
        return None
    return ResponseParameters[User].model_validate(  # type: ignore[misc]
        {"attributes": attributes, "excludedAttributes": excluded}
    )


def _int(name: str, value: Any, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ScimRefusal(400, f"{name} must be an integer", "invalidValue") from None


def base_url() -> str:
    return url_for("scim.users", _external=True).removesuffix("/Users")


def _dump(person: Person, context: Context, params: ResponseParameters[Any] | None) -> Any:
    return to_resource(person, base_url()).model_dump(scim_ctx=context, response_parameters=params)


def _user_answer(person: Person, context: Context, status: int = 200) -> Response:
    params = _response_parameters(
        _names(request.args.get("attributes")), _names(request.args.get("excludedAttributes"))
    )
    body = _dump(person, context, params)
    location = body.get("meta", {}).get("location", "")
    return answer(body, status, Location=location) if status == 201 else answer(body, status)


# Users -----------------------------------------------------------------------


def _list(filter_text: str | None, start: int, count: int, params: Any) -> Response:
    start = max(start, 1)
    count = min(max(count, 0), MAX_PAGE)
    query = select(Person).where(Person.scim_removed_at.is_(None))
    if filter_text:
        try:
            query = query.where(to_condition(filter_text))
        except FilterError as exc:
            raise ScimRefusal(400, str(exc), "invalidFilter") from None
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    people = (
        db.session.scalars(
            query.options(
                joinedload(Person.manager),
                joinedload(Person.department),
                joinedload(Person.level),
            )
            .order_by(Person.id)
            .offset(start - 1)
            .limit(count)
        )
        .unique()
        .all()
        if count
        else []
    )
    url = base_url()
    listing = ListResponse[User](  # type: ignore[misc]
        total_results=total,
        start_index=start,
        items_per_page=len(people),
        resources=[to_resource(p, url) for p in people],
    )
    return answer(listing.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params))


@bp.route("/Users", methods=["GET", "POST"])
@provisioning_token
def users() -> Response:
    if request.method == "GET":
        args = request.args
        params = _response_parameters(
            _names(args.get("attributes")), _names(args.get("excludedAttributes"))
        )
        return _list(
            args.get("filter"),
            _int("startIndex", args.get("startIndex"), 1),
            _int("count", args.get("count"), DEFAULT_PAGE),
            params,
        )
    payload = _payload()
    user = RequestUser.model_validate(payload, scim_ctx=Context.RESOURCE_CREATION_REQUEST)
    command = parse_user(user, payload.get("schemas") or [], keep_unnamed_extensions=False)
    person = ops.create_user(command)
    return _user_answer(person, Context.RESOURCE_CREATION_RESPONSE, 201)


@bp.post("/Users/.search")
@bp.post("/.search")
@provisioning_token
def search() -> Response:
    payload = _payload()
    search = SearchRequest[User].model_validate(payload, scim_ctx=Context.SEARCH_REQUEST)  # type: ignore[misc]
    params = _response_parameters(
        [str(a) for a in search.attributes or []] or None,
        [str(a) for a in search.excluded_attributes or []] or None,
    )
    return _list(
        str(search.filter) if search.filter else None,
        search.start_index or 1,
        DEFAULT_PAGE if search.count is None else search.count,
        params,
    )


@bp.route("/Users/<scim_id>", methods=["GET", "PUT", "PATCH", "DELETE"])
@provisioning_token
def user(scim_id: str) -> Response:
    person = ops.find_user(scim_id)
    if request.method == "GET":
        return _user_answer(person, Context.RESOURCE_QUERY_RESPONSE)
    if request.method == "DELETE":
        ops.remove_user(person)
        return answer(None, 204)
    payload = _payload()
    if request.method == "PUT":
        user = RequestUser.model_validate(payload, scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST)
        command = parse_user(user, payload.get("schemas") or [], keep_unnamed_extensions=True)
        ops.replace_user(person, command)
        return _user_answer(person, Context.RESOURCE_REPLACEMENT_RESPONSE)
    patch = PatchOp[RequestUser].model_validate(  # type: ignore[misc]
        _entra_compatible(payload), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    user = request_user_from(person, base_url())
    patch.patch(user)
    command = parse_user(user, [], keep_unnamed_extensions=False)
    if user.active is None:
        # Removing `active` changes no one's status (a person is active or
        # deactivated); it reads back absent, as the provider left it.
        command = dataclasses.replace(command, active_removed=True)
    ops.replace_user(person, _patched_name(person, user, command))
    return _user_answer(person, Context.RESOURCE_PATCH_RESPONSE)


def _patched_name(person: Person, user: Any, command: ops.UserCommand) -> ops.UserCommand:
    """A PATCH of name parts alone (Okta's name.givenName) renames the person too."""
    if user.display_name != person.name or user.name is None:
        return command
    name = user.name
    if name.formatted and name.formatted != person.name:
        composed: str | None = name.formatted
    else:
        parts = [name.given_name, name.middle_name, name.family_name]
        composed = " ".join(p for p in parts if p) or None
    if composed is None or composed == person.name:
        return command
    return dataclasses.replace(command, name=composed)


ENTERPRISE_MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:manager"


def _entra_compatible(payload: dict[str, Any]) -> dict[str, Any]:
    """Entra ID sends the manager as a bare id and booleans as "True"/"False"."""
    operations = payload.get("Operations")
    if not isinstance(operations, list):
        return payload
    fixed = []
    for operation in operations:
        if isinstance(operation, dict):
            path = str(operation.get("path") or "").lower()
            value = operation.get("value")
            if path == ENTERPRISE_MANAGER and isinstance(value, str):
                operation = {**operation, "value": {"value": value}}
            elif path == "active" and value in ("True", "False", "true", "false"):
                operation = {**operation, "value": value.lower() == "true"}
        fixed.append(operation)
    return {**payload, "Operations": fixed}


# Discovery -------------------------------------------------------------------


def _read_only() -> None:
    if request.method != "GET":
        raise ScimRefusal(405, f"{request.method} is not allowed on {request.path}")


def _listing(items: list[Any]) -> Response:
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": items,
    }
    return answer(body)


def _located(item: Any, kind: str, key: str) -> dict[str, Any]:
    body: dict[str, Any] = item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body["meta"] = {"resourceType": kind, "location": f"{base_url()}/{kind}s/{key}"}
    return body


def _schemas() -> list[dict[str, Any]]:
    keys = list(db.session.scalars(select(Level.key).order_by(Level.id)))
    return [_located(s, "Schema", str(s.id)) for s in schemas(keys)]


@bp.route("/ServiceProviderConfig", methods=ALL_METHODS)
@provisioning_token
def provider_config() -> Response:
    _read_only()
    config = service_provider_config(current_app.config.get("SCIM_DOCUMENTATION_URL"))
    body = config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    body["meta"] = {"resourceType": "ServiceProviderConfig", "location": request.base_url}
    return answer(body)


@bp.route("/ResourceTypes", methods=ALL_METHODS)
@provisioning_token
def resource_type_list() -> Response:
    _read_only()
    return _listing([_located(t, "ResourceType", str(t.id)) for t in resource_types()])


@bp.route("/ResourceTypes/<key>", methods=ALL_METHODS)
@provisioning_token
def resource_type(key: str) -> Response:
    _read_only()
    for item in resource_types():
        if item.id == key:
            return answer(_located(item, "ResourceType", key))
    raise ScimRefusal(404, f"no resource type {key!r}")


@bp.route("/Schemas", methods=ALL_METHODS)
@provisioning_token
def schema_list() -> Response:
    _read_only()
    return _listing(_schemas())


@bp.route("/Schemas/<key>", methods=ALL_METHODS)
@provisioning_token
def schema(key: str) -> Response:
    _read_only()
    for item in _schemas():
        if item["id"] == key:
            return answer(item)
    raise ScimRefusal(404, f"no schema {key!r}")


@bp.route("/", methods=ALL_METHODS)
@bp.route("/<path:rest>", methods=ALL_METHODS)
@provisioning_token
def unknown(rest: str = "") -> Response:
    raise ScimRefusal(404, f"/scim/v2/{rest} is not a SCIM endpoint")
