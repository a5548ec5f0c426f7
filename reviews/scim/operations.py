"""The only code that changes people for /scim/v2: guard, mutate, flush, audit.

The rules are the org import's and the person form's (`people.operations`):
unknown managers, loops, self-management and deactivated managers are refused,
someone who still manages active people is not deactivated, a changed email or
role signs the person out.  Every write marks the person as provisioned by SCIM
and records the same audit events, with source "scim".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.errors import Conflict, Invalid, NotFound
from reviews.extensions import db
from reviews.framework.models import Level
from reviews.people.models import Person, Role, Source
from reviews.people.operations import (
    active_reports,
    check_manager,
    department_by_name,
    level_lookup,
    still_manages,
)
from reviews.people.orgimport import EMAIL_PATTERN, MAX_DEPARTMENT, MAX_EMAIL, MAX_NAME

SOURCE = "scim"
_USER_NAME = re.compile(r"^[^\s,;<>]+$")


class ScimInvalid(Invalid):
    """A value Reviews refuses; `scim_type` is the RFC 7644 keyword for it."""

    status = 400

    def __init__(self, message: str, field: str | None = None, scim_type: str = "invalidValue"):
        super().__init__(message, field)
        self.scim_type = scim_type


@dataclass(frozen=True)
class OrgFields:
    department: str | None
    manager: str | None  # the manager's SCIM id, or their userName (email)


@dataclass(frozen=True)
class LadderFields:
    level: str | None  # a level key or name
    role: str | None  # employee, manager or hr; None: employee


@dataclass(frozen=True)
class UserCommand:
    """What a SCIM User asks of a person; None for org/ladder: leave those as they are."""

    user_name: str
    name: str | None
    external_id: str | None
    active: bool | None  # None: not given (keep the status)
    org: OrgFields | None
    ladder: LadderFields | None
    # PATCH removed `active`: the status stays, and reads back absent until set again
    active_removed: bool = False


def find_user(scim_id: str) -> Person:
    """The person behind a SCIM id; people removed through SCIM are gone from /scim/v2."""
    person = None
    if scim_id.isdigit() and len(scim_id) < 10:
        person = db.session.get(Person, int(scim_id))
    if person is None or person.scim_removed_at is not None:
        raise NotFound(f"no User with id {scim_id!r}")
    return person


def _user_name(text: str) -> str:
    email = text.strip().lower()
    if not email:
        raise ScimInvalid("userName is required", "userName")
    if len(email) > MAX_EMAIL or not _USER_NAME.match(email):
        raise ScimInvalid(f"userName {text!r} is not a sign-in name", "userName")
    if "@" in email and not EMAIL_PATTERN.match(email):
        raise ScimInvalid(f"userName {text!r} is not an email address", "userName")
    return email


def _manager(org: OrgFields) -> Person | None:
    if org.manager is None:
        return None
    manager = None
    if org.manager.isdigit() and len(org.manager) < 10:
        manager = db.session.get(Person, int(org.manager))
    elif "@" in org.manager:
        # Providers that cannot send the manager's SCIM id (Okta maps a profile
        # field) may send the manager's userName, their email.
        manager = db.session.scalar(
            select(Person).where(Person.email == org.manager.strip().lower())
        )
    if manager is None or manager.scim_removed_at is not None:
        raise ScimInvalid(f"unknown manager {org.manager!r}: no User has that id", "manager")
    return manager


def _level(ladder: LadderFields) -> Level | None:
    if ladder.level is None:
        return None
    key = level_lookup().get(ladder.level.lower())
    if key is None:
        raise ScimInvalid(f"unknown level {ladder.level!r}", "level")
    return db.session.scalar(select(Level).where(Level.key == key))


def _role(ladder: LadderFields) -> Role:
    try:
        return Role(ladder.role or Role.EMPLOYEE.value)
    except ValueError:
        raise ScimInvalid(
            f"unknown role {ladder.role!r}; use employee, manager or hr", "role"
        ) from None


def create_user(command: UserCommand) -> Person:
    """A new person, or the one removed through SCIM earlier with this userName, re-linked."""
    email = _user_name(command.user_name)
    person = db.session.scalar(select(Person).where(Person.email == email))
    if person is not None and person.scim_removed_at is None:
        raise Conflict(f"userName {email} is already taken by {person.name}", "userName")
    relink = person is not None
    if person is None:
        person = Person(email=email, name="", role=Role.EMPLOYEE, active=True)
    else:
        person.scim_removed_at = None
    _apply(person, command, creating=not relink, default_active=True)
    return person


def replace_user(person: Person, command: UserCommand) -> list[str]:
    return _apply(person, command, creating=False, default_active=person.active)


def remove_user(person: Person) -> None:
    """DELETE: the person is deactivated and leaves /scim/v2; the row (and reviews) stay."""
    if person.active:
        _deactivate(person)
    person.scim_removed_at = utcnow()
    person.source = Source.SCIM
    person.provisioned_at = utcnow()
    db.session.flush()
    record("person.deactivated", actor=None, subject=person, source=SOURCE, removed=True)


def _deactivate(person: Person) -> None:
    reports = active_reports(person)
    if reports:
        raise ScimInvalid(still_manages(person, reports), "active")
    person.active = False
    person.deactivated_at = utcnow()
    person.session_version += 1


def _apply(
    person: Person, command: UserCommand, *, creating: bool, default_active: bool
) -> list[str]:
    """Check every field, then change the person; returns the names of changed fields."""
    email = _user_name(command.user_name)
    if email != person.email:
        clash = db.session.scalar(select(Person).where(Person.email == email))
        if clash is not None and clash is not person:
            raise Conflict(f"userName {email} is already taken by {clash.name}", "userName")
    name = (command.name or "").strip() or person.name or email
    if len(name) > MAX_NAME:
        raise ScimInvalid(f"displayName is longer than {MAX_NAME} characters", "displayName")
    external_id = (command.external_id or "").strip() or None
    if external_id is not None and len(external_id) > 255:
        raise ScimInvalid("externalId is longer than 255 characters", "externalId")
    new: dict[str, object] = {"email": email, "name": name, "external_id": external_id}
    manager = person.manager
    if command.org is not None:
        department = command.org.department
        if department is not None and len(department) > MAX_DEPARTMENT:
            raise ScimInvalid(
                f"department is longer than {MAX_DEPARTMENT} characters", "department"
            )
        manager = _manager(command.org)
        if manager is not person.manager:
            check_manager(person, manager)
        current = person.department.name if person.department else None
        if (department or "").casefold() != (current or "").casefold():
            new["department"] = department_by_name(department)
        new["manager"] = manager
    if command.ladder is not None:
        new["level"] = _level(command.ladder)
        new["role"] = _role(command.ladder)
    active = default_active if command.active is None else command.active

    changed = [k for k, v in new.items() if getattr(person, k) != v]
    for key in changed:
        setattr(person, key, new[key])
    if command.active is not None:
        person.scim_active_unset = False
    elif command.active_removed:
        person.scim_active_unset = True
    now = utcnow()
    person.source = Source.SCIM
    person.provisioned_at = now
    if creating:
        person.created_at = now
        db.session.add(person)
        db.session.flush()
        record("person.created", actor=None, subject=person, source=SOURCE)
        if not active:
            _deactivate(person)
            db.session.flush()
            record("person.deactivated", actor=None, subject=person, source=SOURCE)
        return changed
    if "email" in changed or "role" in changed:
        person.session_version += 1  # sign-in identity or rights changed: sign out
    db.session.flush()
    if changed:
        record("person.updated", actor=None, subject=person, fields=changed, source=SOURCE)
    if active and not person.active:
        if manager is not None and not manager.active:
            raise ScimInvalid(
                f"{person.name}'s manager {manager.name} is deactivated: "
                "give them another manager first",
                "manager",
            )
        person.active = True
        person.deactivated_at = None
        db.session.flush()
        record("person.reactivated", actor=None, subject=person, source=SOURCE)
    elif not active and person.active:
        _deactivate(person)
        db.session.flush()
        record("person.deactivated", actor=None, subject=person, source=SOURCE)
    return changed
