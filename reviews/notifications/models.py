from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, utcnow
from reviews.links import Link
from reviews.people.models import Person


class Notification(Base):
    """A message to one person: always kept here (the outbox), mailed when SMTP is set."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_recipient_created", "recipient_id", "created_at"),)

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

    recipient: Mapped[Person] = relationship()

    @property
    def link(self) -> Link:
        return Link(self.target, self.target_id)
