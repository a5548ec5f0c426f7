from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from reviews.audit.models import AuditEvent
from reviews.db import utcnow
from reviews.extensions import db
from reviews.people.models import Person


def record(
    event: str,
    *,
    actor: Person | None,
    subject: Person | None = None,
    cycle_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    entry = AuditEvent(
        event=event,
        actor_id=actor.id if actor is not None else None,
        subject_id=subject.id if subject is not None else None,
        cycle_id=cycle_id,
        details=details,
    )
    db.session.add(entry)
    return entry


def record_many(
    event: str, *, actor: Person | None, subjects: list[tuple[int, dict[str, Any]]]
) -> None:
    """One event per (subject id, details), in one statement (imports touch thousands)."""
    if not subjects:
        return
    now = utcnow()
    actor_id = actor.id if actor is not None else None
    db.session.execute(
        insert(AuditEvent),
        [
            {"at": now, "actor_id": actor_id, "event": event, "subject_id": sid, "details": details}
            for sid, details in subjects
        ],
    )
