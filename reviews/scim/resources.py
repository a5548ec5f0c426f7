"""People as SCIM Users (scim2-models), and what /scim/v2 says about itself.

What is published is what is kept: the User schema names only the attributes a
Person holds, so a client reading /Schemas knows that what it writes comes back.
Requests are read with the full RFC 7643 User model, so that the standard
attributes identity providers send by default (name parts, emails, title...)
are accepted; the ones Reviews does not keep are ignored.  `parse_user` turns
a request's User into the typed command `operations` applies.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Union

from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    ETag,
    Extension,
    Filter,
    Meta,
    Mutability,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    Schema,
    ServiceProviderConfig,
    Sort,
    Uniqueness,
)
from scim2_models import (
    User as RfcUser,
)

from reviews.people.models import Person, Role
from reviews.scim.operations import LadderFields, OrgFields, UserCommand

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
REVIEWS_URN = "urn:reviews:params:scim:schemas:extension:reviews:2.0:User"
MAX_PAGE = 200


class ManagerRef(ComplexAttribute):
    value: Annotated[str | None, CaseExact.true] = None
    """The SCIM id of the User's manager."""

    ref: Reference["User"] | None = Field(  # type: ignore[type-arg]  # noqa: UP037  (a name, not the class)
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    """The URI of the manager's SCIM resource."""


class OrgExtension(Extension):
    """What Reviews keeps of the enterprise extension: department and manager."""

    __schema__ = URN(ENTERPRISE_URN)

    department: str | None = None
    """The name of the person's department (created when new, matched without case)."""

    manager: ManagerRef | None = None
    """The person's manager: another provisioned User."""


class ReviewsExtension(Extension):
    """Where a person sits on the career ladder and what they may do in Reviews."""

    __schema__ = URN(REVIEWS_URN)

    level: str | None = None
    """The career-ladder level, by key or name (the canonical values are the keys)."""

    role: str | None = None
    """Extra rights in Reviews: manager or hr. Unassigned (or employee): an employee."""


class User(Resource[Union[OrgExtension, ReviewsExtension]]):  # noqa: UP007
    """The User as Reviews keeps it."""

    __schema__ = URN(USER_URN)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    """The person's sign-in email (kept in lower case, matched without case)."""

    display_name: Annotated[str | None, Required.true] = None
    """The person's name as pages show it. When missing, name.formatted or the
    given and family names are used."""

    active: bool | None = None
    """False deactivates the person; they are never deleted while reviews hold them."""


class RequestManager(ComplexAttribute):
    """The manager as requests give it: by value alone, or by $ref (RFC 7643 wants both)."""

    value: Annotated[str | None, CaseExact.true] = None
    ref: str | None = Field(None, serialization_alias="$ref", validation_alias="$ref")
    display_name: Annotated[str | None, Mutability.read_only] = None


class RequestEnterprise(Extension):
    """The whole enterprise extension, as identity providers send it."""

    __schema__ = URN(ENTERPRISE_URN)

    employee_number: str | None = None
    cost_center: str | None = None
    organization: str | None = None
    division: str | None = None
    department: str | None = None
    manager: RequestManager | None = None


# What requests are read with: every attribute of RFC 7643 is understood.
RequestUser = RfcUser[Union[RequestEnterprise, ReviewsExtension]]  # noqa: UP007


def _manager_id(manager: Any) -> str | None:
    """A manager given by value, by $ref, or (as Entra ID sends it) as a bare string."""
    if manager is None:
        return None
    if isinstance(manager, str):
        return manager.strip() or None
    value = (manager.value or "").strip()
    if not value and manager.ref:
        value = str(manager.ref).rstrip("/").rsplit("/", 1)[-1]
    return value or None


def _name(user: Any) -> str | None:
    if user.display_name and user.display_name.strip():
        return str(user.display_name).strip()
    name = user.name
    if name is None:
        return None
    if name.formatted and name.formatted.strip():
        return str(name.formatted).strip()
    parts = [name.given_name, name.middle_name, name.family_name]
    joined = " ".join(p.strip() for p in parts if p and p.strip())
    return joined or None


def parse_user(
    user: Any, named_schemas: Iterable[str], *, keep_unnamed_extensions: bool
) -> UserCommand:
    """The command a User asks for.

    `keep_unnamed_extensions`: an extension the request does not name in
    `schemas` is left as it is (PUT from a provider that does not manage it)
    rather than cleared.
    """
    named = {s.lower() for s in named_schemas}
    enterprise = user[RequestEnterprise]
    reviews = user[ReviewsExtension]
    org: OrgFields | None = None
    if enterprise is not None or not keep_unnamed_extensions or ENTERPRISE_URN.lower() in named:
        org = OrgFields(
            department=(enterprise.department or "").strip() or None if enterprise else None,
            manager=_manager_id(enterprise.manager) if enterprise else None,
        )
    ladder: LadderFields | None = None
    if reviews is not None or not keep_unnamed_extensions or REVIEWS_URN.lower() in named:
        ladder = LadderFields(
            level=(reviews.level or "").strip() or None if reviews else None,
            role=(reviews.role or "").strip().lower() or None if reviews else None,
        )
    return UserCommand(
        user_name=user.user_name or "",
        name=_name(user),
        external_id=user.external_id,
        active=user.active,
        org=org,
        ladder=ladder,
    )


def request_user_from(person: Person, base_url: str) -> Any:
    """The person as a full RFC 7643 User, for a PATCH to be applied to."""
    resource = to_resource(person, base_url)
    manager = resource[OrgExtension].manager if resource[OrgExtension] else None
    user = RequestUser(
        id=resource.id,
        external_id=resource.external_id,
        user_name=resource.user_name,
        display_name=resource.display_name,
        name=RfcUser.Name(formatted=person.name),
        active=resource.active,
    )
    if resource[OrgExtension] is not None:
        user[RequestEnterprise] = RequestEnterprise(
            department=resource[OrgExtension].department,
            manager=RequestManager(value=manager.value, ref=manager.ref) if manager else None,
        )
    if resource[ReviewsExtension] is not None:
        user[ReviewsExtension] = resource[ReviewsExtension].model_copy()
    return user


def user_location(base_url: str, person_id: int) -> str:
    return f"{base_url}/Users/{person_id}"


def to_resource(person: Person, base_url: str) -> User:
    """The person as /scim/v2 shows them; `person.manager`, `department` and `level`
    should be loaded with the person (lists load them in the same statement)."""
    modified: datetime = person.provisioned_at or person.created_at
    user = User(
        id=str(person.id),
        external_id=person.external_id,
        user_name=person.email,
        display_name=person.name,
        active=None if person.scim_active_unset else person.active,
        meta=Meta(
            resource_type="User",
            created=person.created_at,
            last_modified=modified,
            location=user_location(base_url, person.id),
        ),
    )
    if person.department is not None or person.manager is not None:
        user[OrgExtension] = OrgExtension(
            department=person.department.name if person.department else None,
            manager=ManagerRef(
                value=str(person.manager.id),
                ref=user_location(base_url, person.manager.id),
            )
            if person.manager is not None
            else None,
        )
    role = person.role.value if person.role != Role.EMPLOYEE else None
    if person.level is not None or role is not None:
        user[ReviewsExtension] = ReviewsExtension(
            level=person.level.key if person.level else None, role=role
        )
    return user


# Discovery -------------------------------------------------------------------


def schemas(level_keys: list[str]) -> list[Schema]:
    """The schemas /Schemas publishes: the User as kept, its two extensions, and the
    three that describe the discovery endpoints themselves."""
    reviews = ReviewsExtension.to_schema()
    for attribute in reviews.attributes or []:
        if attribute.name == "level":
            attribute.canonical_values = level_keys
        elif attribute.name == "role":
            attribute.canonical_values = [Role.MANAGER.value, Role.HR.value]
    enterprise = OrgExtension.to_schema()
    enterprise.name = "EnterpriseUser"
    return [
        User.to_schema(),
        enterprise,
        reviews,
        ServiceProviderConfig.to_schema(),
        ResourceType.to_schema(),
        Schema.to_schema(),
    ]


def resource_types() -> list[ResourceType]:
    user = ResourceType.from_resource(User)
    user.id = user.name = "User"
    user.description = "People in Reviews"
    user.endpoint = "/Users"
    return [user]


def service_provider_config(documentation: str | None) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=documentation,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_PAGE),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Provisioning token",
                description="The token `flask scim token` prints, as an HTTP bearer token",
                primary=True,
            )
        ],
    )
