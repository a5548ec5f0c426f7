"""Notifications to a person, and the ones to others that quote their name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select

from reviews.extensions import db
from reviews.notifications.models import ChatHook, Delivery, DeliveryState, Notification, Preference
from reviews.people.models import Person
from reviews.privacy import Forgetting, holding


def _export(person: Person) -> list[dict[str, Any]]:
    sent: dict[int, list[str]] = {}
    for notification_id, channel in db.session.execute(
        select(Delivery.notification_id, Delivery.channel).where(
            Delivery.recipient_id == person.id, Delivery.state == DeliveryState.SENT
        )
    ):
        sent.setdefault(notification_id, []).append(channel.value)
    return [
        {
            "at": n.created_at.isoformat(),
            "subject": n.subject,
            "body": n.body,
            "sent_to": sorted(sent.get(n.id, [])),
        }
        for n in db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.id)
            .order_by(Notification.created_at)
        )
    ]


def _export_settings(person: Person) -> dict[str, Any]:
    return {
        "email": person.mail_notifications,
        # The webhook addresses are secrets: only which ones are set, and how they end.
        "chat_webhooks": {
            h.channel.value: "…" + h.url[-6:]
            for h in db.session.scalars(select(ChatHook).where(ChatHook.person_id == person.id))
        },
        "timings": {
            kind: timing.value
            for kind, timing in db.session.execute(
                select(Preference.kind, Preference.timing).where(Preference.person_id == person.id)
            )
        },
    }


def _forget(f: Forgetting) -> None:
    db.session.execute(delete(Delivery).where(Delivery.recipient_id == f.person.id))
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


def _forget_settings(f: Forgetting) -> None:
    db.session.execute(delete(ChatHook).where(ChatHook.person_id == f.person.id))
    db.session.execute(delete(Preference).where(Preference.person_id == f.person.id))


holding(
    "notifications",
    section="notifications",
    columns=("notification.recipient_id",),
    export=_export,
    forget=_forget,
    keeps="Nothing of theirs: their messages are deleted, and messages to others that quote "
    "their name now quote the anonymised one.",
)

holding(
    "notifications",
    section="notification_settings",
    columns=("delivery.recipient_id", "notification_preference.person_id", "chat_hook.person_id"),
    export=_export_settings,
    forget=_forget_settings,
    keeps="Nothing: their settings and chat webhooks are deleted, and so is every delivery "
    "of their messages.",
)
