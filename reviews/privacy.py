"""Privacy by registry: what each domain holds about a person, and how it forgets them.

Every domain that stores something about a person declares it once, in its own
`privacy.py`, with `holding(...)`: the columns that point at the person (every
foreign key to `person.id`), the section it adds to the person's data export,
and what it does when a departed person is anonymised. `export_person` and
`anonymise` only walk the registry, so a domain cannot be forgotten by them;
`tests/test_privacy_registry.py` walks the metadata and fails on any foreign key
to a person that no holding claims.

The export is the one HR hands to the person: it follows the person's own
rules (`cycles.reading`), so it never names who wrote their anonymous peer
feedback, nor shows a proposal calibration replaced.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.errors import PhaseClosed
from reviews.extensions import db
from reviews.languages import gettext
from reviews.people.models import Person

DOMAINS = (
    "people",
    "auth",
    "identity",
    "api",
    "cycles",
    "calibration",
    "growth",
    "upward",
    "feedback",
    "goals",
    "notifications",
    "jobs",
    "framework",
    "audit",
)
ANONYMISED_TEXT = "[removed]"


class PrivacyError(PhaseClosed):
    """The person's state does not allow this (still active, already anonymised)."""


@dataclass(frozen=True)
class Forgetting:
    """A person being anonymised, with the identity they had (to find where it is quoted)."""

    person: Person
    name: str
    email: str


@dataclass(frozen=True)
class Holding:
    domain: str
    section: str | None  # the export's key for what `export` returns
    columns: tuple[str, ...]  # "table.column" foreign keys to person.id it answers for
    export: Callable[[Person], Any] | None
    forget: Callable[[Forgetting], None] | None
    keeps: str  # what stays after anonymising, and why


_HOLDINGS: list[Holding] = []


def holding(
    domain: str,
    *,
    columns: tuple[str, ...],
    section: str | None = None,
    export: Callable[[Person], Any] | None = None,
    forget: Callable[[Forgetting], None] | None = None,
    keeps: str = "",
) -> None:
    _HOLDINGS.append(Holding(domain, section, columns, export, forget, keeps))


def holdings() -> list[Holding]:
    """Every domain's declaration, in DOMAINS order."""
    for domain in DOMAINS:
        importlib.import_module(f"reviews.{domain}.privacy")
    order = {d: i for i, d in enumerate(DOMAINS)}
    return sorted(_HOLDINGS, key=lambda h: order[h.domain])


def export_person(person: Person) -> dict[str, Any]:
    """Everything held about `person`, section by section, as the person may read it."""
    data: dict[str, Any] = {}
    for h in holdings():
        if h.export is not None and h.section is not None:
            data[h.section] = h.export(person)
    return data


def anonymise(actor: Person, person: Person) -> None:
    """Remove a departed person's identity and free text by and about them; keep every
    number, so cycle figures and distributions do not change."""
    if person.active:
        raise PrivacyError(gettext("Only a deactivated person can be anonymised."))
    if person.email.endswith("@anonymised.invalid"):
        raise PrivacyError(gettext("This person is already anonymised."))
    if db.session.scalar(
        select(Person.id).where(Person.manager_id == person.id, Person.active.is_(True)).limit(1)
    ):
        raise PrivacyError(gettext("Active people still report to this person."))
    forgetting = Forgetting(person, person.name, person.email)
    person.name = f"Former employee {person.id}"
    person.email = f"former-{person.id}@anonymised.invalid"
    person.password_hash = None
    person.external_id = None  # the identity provider's id would name them again
    person.session_version += 1
    person.deactivated_at = person.deactivated_at or utcnow()
    db.session.flush()
    for h in holdings():
        if h.forget is not None:
            h.forget(forgetting)
    db.session.flush()
    record("person.anonymised", actor=actor, subject=person)


def iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None
