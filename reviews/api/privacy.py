"""API tokens: listed (never the secret) in the export, deleted when anonymising."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from reviews.api.models import ApiToken
from reviews.extensions import db
from reviews.people.models import Person
from reviews.privacy import Forgetting, holding, iso


def _export(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "name": t.name,
            "prefix": t.prefix,
            "created_at": t.created_at.isoformat(),
            "revoked_at": iso(t.revoked_at),
        }
        for t in db.session.scalars(select(ApiToken).where(ApiToken.person_id == person.id))
    ]


def _forget(f: Forgetting) -> None:
    db.session.execute(delete(ApiToken).where(ApiToken.person_id == f.person.id))


holding(
    "api",
    section="api_tokens",
    columns=("api_token.person_id",),
    export=_export,
    forget=_forget,
    keeps="Nothing: tokens are deleted.",
)
