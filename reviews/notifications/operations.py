"""Notifications: written to the outbox in the request's transaction, mailed later."""

from __future__ import annotations

import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from reviews.db import utcnow
from reviews.extensions import db
from reviews.notifications.models import Notification


@dataclass(frozen=True)
class Message:
    recipient_id: int
    kind: str
    subject: str
    body: str
    link: str
    dedupe_key: str | None = None


def notify_many(messages: Iterable[Message]) -> None:
    """Queue messages in one statement; a message whose dedupe key exists is skipped."""
    rows = [
        {
            "recipient_id": m.recipient_id,
            "kind": m.kind,
            "subject": m.subject,
            "body": m.body,
            "link": m.link,
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


def notify(message: Message) -> None:
    notify_many([message])


def deliver_pending(limit: int = 500) -> int:
    """Mail unsent messages when SMTP is configured; returns how many were sent."""
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        return 0
    pending = db.session.scalars(
        select(Notification)
        .where(Notification.sent_at.is_(None))
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    if not pending:
        return 0
    base = config["PUBLIC_URL"].rstrip("/")
    with smtplib.SMTP(host, int(config.get("SMTP_PORT", 587)), timeout=30) as smtp:
        if config.get("SMTP_STARTTLS", True):
            smtp.starttls()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD", ""))
        for n in pending:
            msg = EmailMessage()
            msg["From"] = config.get("MAIL_FROM", "reviews@localhost")
            msg["To"] = n.recipient.email
            msg["Subject"] = n.subject
            msg.set_content(f"{n.body}\n\n{base}{n.link}\n")
            smtp.send_message(msg)
            db.session.execute(
                update(Notification).where(Notification.id == n.id).values(sent_at=utcnow())
            )
    return len(pending)
