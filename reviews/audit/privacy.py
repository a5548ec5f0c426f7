"""The audit log: what the person did and what was done to their account."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String, cast, or_, select

from reviews.audit.models import AuditEvent
from reviews.audit.reading import views_of
from reviews.extensions import db
from reviews.people.models import Person
from reviews.privacy import ANONYMISED_TEXT, Forgetting, holding

# Events about a person that are theirs to read: their account, not others' judgements.
ABOUT_THEM = ("auth.", "person.", "api.")


def _export(person: Person) -> list[dict[str, Any]]:
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    AuditEvent.actor_id == person.id,
                    (AuditEvent.subject_id == person.id)
                    & or_(*(AuditEvent.event.startswith(p) for p in ABOUT_THEM)),
                )
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
    return [
        {"at": e.at.isoformat(), "event": e.event, "details": e.details} for e in views_of(events)
    ]


def _forget(f: Forgetting) -> None:
    """Events name people by id; older events that quoted a name or an email, and the
    titles of growth-plan items about them, are rewritten: the one change the application
    makes to the audit log, and the anonymisation itself is recorded."""
    for event in db.session.scalars(
        select(AuditEvent).where(
            or_(
                cast(AuditEvent.details, String).contains(f.email, autoescape=True),
                cast(AuditEvent.details, String).contains(f.name, autoescape=True),
            )
        )
    ):
        text = json.dumps(event.details, ensure_ascii=False)
        text = text.replace(f.email, f.person.email).replace(f.name, f.person.name)
        event.details = json.loads(text)
    for event in db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_id == f.person.id, AuditEvent.event.startswith("growth.")
        )
    ):
        if "title" in (event.details or {}):
            event.details = {**event.details, "title": ANONYMISED_TEXT}


holding(
    "audit",
    section="audit_events",
    columns=("audit_event.actor_id", "audit_event.subject_id"),
    export=_export,
    forget=_forget,
    keeps="Every event stays (the log is append-only), naming the person by id, so it shows "
    "the anonymised name.",
)
