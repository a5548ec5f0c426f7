from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, string_enum, utcnow
from reviews.links import Link
from reviews.people.models import Person


class MailState(enum.StrEnum):
    """Where a message is on its way to a mailbox (reviews.notifications.delivery)."""

    QUEUED = "queued"  # waiting for a mail server (kept so while SMTP_HOST is unset)
    SENDING = "sending"  # claimed by a sender until mail_next_at
    SENT = "sent"
    RETRY = "retry"  # refused for now or the connection dropped: again at mail_next_at
    FAILED = "failed"  # refused for good, or retried too often (mail_error says why)
    SKIPPED = "skipped"  # no longer relevant when a server came: in the app only


class Notification(Base):
    """A message to one person: always kept here (the outbox), mailed when SMTP is set."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_recipient_created", "recipient_id", "created_at"),
        Index("ix_notification_mail_due", "mail_state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    # The page the message points to: an endpoint and its route's id (reviews.links),
    # made into a URL by whoever shows or mails it.
    target: Mapped[str] = mapped_column(String(80))
    target_id: Mapped[int | None]
    # Makes a message idempotent: a reminder is sent once per person, task and day.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_state: Mapped[MailState] = mapped_column(
        string_enum(MailState, "mail_state"),
        default=MailState.QUEUED,
        server_default=MailState.QUEUED.value,
    )
    mail_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # When a retry is due, or until when a sender's claim holds.
    mail_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mail_error: Mapped[str | None] = mapped_column(Text)
    # Kept from the first attempt, so a message sent again after a crash is recognisably
    # the same one.
    message_id: Mapped[str | None] = mapped_column(String(250))

    recipient: Mapped[Person] = relationship()

    @property
    def link(self) -> Link:
        return Link(self.target, self.target_id)
