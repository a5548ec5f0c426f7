"""Notifications to a person, and the ones to others that quote their name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select

from reviews.extensions import db
from reviews.notifications.models import Notification
from reviews.people.models import Person
from reviews.privacy import Forgetting, holding


def _export(person: Person) -> list[dict[str, Any]]:
    return [
        {"at": n.created_at.isoformat(), "subject": n.subject, "body": n.body}
        for n in db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.id)
            .order_by(Notification.created_at)
        )
    ]


def _forget(f: Forgetting) -> None:
    db.session.execute(delete(Notification).where(Notification.recipient_id == f.person.id))
    for note in db.session.scalars(
        select(Notification).where(
            or_(
                Notification.subject.contains(f.name, autoescape=True),
                Notification.body.contains(f.name, autoescape=True),
            )
        )
    ):
        note.subject = note.subject.replace(f.name, f.person.name)
        note.body = note.body.replace(f.name, f.person.name)


holding(
    "notifications",
    section="notifications",
    columns=("notification.recipient_id",),
    export=_export,
    forget=_forget,
    keeps="Nothing of theirs: their messages are deleted, and messages to others that quote "
    "their name now quote the anonymised one.",
)
