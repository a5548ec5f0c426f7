"""Notifications: written to the outbox in the request's transaction, mailed later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, String, insert, literal
from sqlalchemy.dialects import postgresql, sqlite

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.extensions import db
from reviews.links import Link
from reviews.notifications.models import Notification
from reviews.people.models import Person

if TYPE_CHECKING:
    from reviews.notifications.delivery import Outcome


def _one_line(subject: str) -> str:
    """A subject becomes a mail header: one line (a goal title may hold a line break)."""
    return " ".join(subject.split())[:200]


@dataclass(frozen=True)
class Message:
    recipient_id: int
    kind: str
    subject: str
    body: str
    link: Link
    dedupe_key: str | None = None


def notify_many(messages: Iterable[Message]) -> None:
    """Queue messages in one statement; a message whose dedupe key exists is skipped."""
    rows = [
        {
            "recipient_id": m.recipient_id,
            "kind": m.kind,
            "subject": _one_line(m.subject),
            "body": m.body,
            "target": m.link.endpoint,
            "target_id": m.link.id,
            "dedupe_key": m.dedupe_key,
            "created_at": utcnow(),
        }
        for m in messages
    ]
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = dialect_insert(Notification).on_conflict_do_nothing(index_elements=["dedupe_key"])
    db.session.execute(stmt, rows)


def notify_each(
    kind: str, subject: str, body: str, endpoint: str, recipients_and_ids: Select[Any] | Any
) -> None:
    """Queue one message to every row of `recipients_and_ids` (recipient id, the id of
    the `endpoint` page it points to) in one INSERT ... SELECT: a phase of a
    10,000-person cycle opens without 10,000 messages built in Python."""
    columns = ["recipient_id", "target_id", "target", "kind", "subject", "body", "created_at"]
    rows = recipients_and_ids.add_columns(
        literal(endpoint, String),
        literal(kind, String),
        literal(_one_line(subject), String),
        literal(body, String),
        literal(utcnow(), Notification.created_at.type),
    )
    db.session.execute(insert(Notification).from_select(columns, rows))


def notify(message: Message) -> None:
    notify_many([message])


def deliver_pending(limit: int | None = None) -> Outcome:
    """Mail what is due when SMTP is configured (`reviews.notifications.delivery`)."""
    from reviews.notifications.delivery import deliver

    return deliver(limit=limit)


def set_mail_notifications(person: Person, mail: bool) -> None:
    """Whether `person`'s notifications are mailed too, or kept in the app only."""
    if person.mail_notifications == mail:
        return
    person.mail_notifications = mail
    db.session.flush()
    record("notifications.mail_setting", actor=person, mail=mail)
