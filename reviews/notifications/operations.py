"""Notifications: written to the outbox in the request's transaction, mailed later."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import Select, String, delete, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.errors import Invalid
from reviews.extensions import db
from reviews.links import Link
from reviews.notifications.channels import header_text
from reviews.notifications.kinds import KEYS
from reviews.notifications.models import Channel, ChatHook, Notification, Preference, Timing
from reviews.people.models import Person

if TYPE_CHECKING:
    from reviews.notifications.delivery import Outcome


@dataclass(frozen=True)
class Message:
    recipient_id: int
    kind: str
    subject: str
    body: str
    link: Link
    dedupe_key: str | None = None


def _known(kind: str) -> str:
    """Every kind is one a person can choose a timing for (`kinds.KINDS`)."""
    if kind not in KEYS:
        raise ValueError(f"notification kind {kind!r} is not in reviews.notifications.kinds")
    return kind


def notify_many(messages: Iterable[Message]) -> None:
    """Queue messages in one statement; a message whose dedupe key exists is skipped."""
    rows = [
        {
            "recipient_id": m.recipient_id,
            "kind": _known(m.kind),
            "subject": header_text(m.subject),
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
    stmt = dialect_insert(Notification).on_conflict_do_nothing(
        index_elements=["dedupe_key"], index_where=Notification.dedupe_key.is_not(None)
    )
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
        literal(_known(kind), String),
        literal(header_text(subject), String),
        literal(body, String),
        literal(utcnow(), Notification.created_at.type),
    )
    db.session.execute(insert(Notification).from_select(columns, rows))


def notify(message: Message) -> None:
    notify_many([message])


def deliver_pending(limit: int | None = None) -> Outcome:
    """Send on what is due through every channel (`reviews.notifications.delivery`)."""
    from reviews.notifications.delivery import deliver

    return deliver(limit=limit)


@dataclass(frozen=True)
class Settings:
    """What a person chooses: mail or not, their chat webhooks, a timing per kind.

    A webhook of None keeps the one set; "" removes it."""

    mail: bool
    hooks: dict[Channel, str | None]
    timings: dict[str, Timing]


def save_settings(person: Person, settings: Settings) -> None:
    """Store a person's choices, refusing every wrong webhook address at once."""
    from reviews.notifications.channels import check_hook_url

    problems = {}
    for channel, url in settings.hooks.items():
        if url:
            reason = check_hook_url(channel, url, current_app.config)
            if reason:
                problems[f"{channel.value}_url"] = reason
    unknown = sorted(set(settings.timings) - KEYS)
    if unknown:
        problems["timings"] = f"Unknown kinds of notification: {', '.join(unknown)}"
    if problems:
        raise Invalid("Some settings cannot be saved.", fields=problems)
    person.mail_notifications = settings.mail
    for channel, url in settings.hooks.items():
        hook = db.session.scalar(
            select(ChatHook).where(ChatHook.person_id == person.id, ChatHook.channel == channel)
        )
        if url == "" and hook is not None:
            db.session.delete(hook)
        elif url and hook is None:
            db.session.add(ChatHook(person_id=person.id, channel=channel, url=url))
        elif url and hook is not None:
            hook.url = url
    db.session.execute(delete(Preference).where(Preference.person_id == person.id))
    chosen = {
        kind: timing
        for kind, timing in sorted(settings.timings.items())
        if timing != Timing.IMMEDIATELY  # the default is not stored
    }
    rows = [{"person_id": person.id, "kind": k, "timing": t} for k, t in chosen.items()]
    if rows:
        db.session.execute(insert(Preference), rows)
    db.session.flush()
    record(
        "notifications.settings",
        actor=person,
        mail=settings.mail,
        channels=sorted(
            c.value
            for c in db.session.scalars(
                select(ChatHook.channel).where(ChatHook.person_id == person.id)
            )
        ),
        timings={k: t.value for k, t in chosen.items()},
    )
