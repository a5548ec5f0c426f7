"""What the people domain holds about a person: their account and place in the org."""

from __future__ import annotations

from typing import Any

from reviews.people.models import Person
from reviews.privacy import holding, iso


def _export(person: Person) -> dict[str, Any]:
    return {
        "email": person.email,
        "name": person.name,
        "role": person.role.value,
        "active": person.active,
        "department": person.department.name if person.department else None,
        "level": person.level.key if person.level else None,
        "manager": person.manager.email if person.manager else None,
        "created_at": person.created_at.isoformat(),
        "deactivated_at": iso(person.deactivated_at),
        "mail_notifications": person.mail_notifications,
        "language": person.locale,
    }


holding(
    "people",
    section="person",
    columns=("person.manager_id",),
    export=_export,
    keeps="Who reported to whom stays, by id, so the org chart of past cycles keeps its "
    "shape; the name and email are replaced (reviews.privacy.anonymise).",
)
