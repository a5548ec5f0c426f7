"""Linked identity-provider accounts: listed in the export, deleted when anonymising."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.identity.models import ExternalIdentity
from reviews.people.models import Person
from reviews.privacy import Forgetting, holding, iso


def _export(person: Person) -> list[dict[str, Any]]:
    return [
        {
            "protocol": i.protocol,
            "provider": i.provider,
            "subject": i.subject,
            "linked_at": i.created_at.isoformat(),
            "last_sign_in_at": iso(i.last_sign_in_at),
        }
        for i in db.session.scalars(
            select(ExternalIdentity).where(ExternalIdentity.person_id == person.id)
        )
    ]


def _forget(f: Forgetting) -> None:
    db.session.execute(delete(ExternalIdentity).where(ExternalIdentity.person_id == f.person.id))
    # A refused sign-in from before the person existed kept the address as text.
    for event in db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.event == "auth.sso_refused", AuditEvent.subject_id.is_(None)
        )
    ):
        if (event.details or {}).get("email") == f.email:
            event.details = {k: v for k, v in event.details.items() if k != "email"}


holding(
    "identity",
    section="sign_in_identities",
    columns=("external_identity.person_id",),
    export=_export,
    forget=_forget,
    keeps="Nothing: the links to identity-provider accounts are deleted, and refused "
    "sign-ins from before the person existed lose the address they were refused for.",
)
