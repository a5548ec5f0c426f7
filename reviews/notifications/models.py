from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, string_enum, unique_where_set, utcnow
from reviews.links import Link
from reviews.people.models import Person


class Channel(enum.StrEnum):
    """Where a notification can go besides the app (reviews.notifications.channels)."""

    EMAIL = "email"  # to the person's address, when SMTP_HOST is set
    SLACK = "slack"  # the person's Slack (or Slack-compatible) incoming webhook
    TEAMS = "teams"  # the person's Microsoft Teams incoming webhook or workflow
    WEBHOOK = "webhook"  # the company's own endpoint (WEBHOOK_URL), signed


class Timing(enum.StrEnum):
    """When a person wants one kind of notification outside the app."""

    IMMEDIATELY = "immediately"
    DAILY = "daily"  # gathered into one message a day
    APP_ONLY = "app_only"


class DeliveryState(enum.StrEnum):
    """Where one notification is on its way through one channel."""

    QUEUED = "queued"  # due at next_at (none: now)
    DIGEST = "digest"  # waits for the person's daily digest at next_at
    SENDING = "sending"  # claimed by a sender until next_at
    SENT = "sent"
    RETRY = "retry"  # refused for now, or the connection dropped: again at next_at
    FAILED = "failed"  # refused for good, or retried too often (error says why)
    SKIPPED = "skipped"  # no longer relevant when its turn came: in the app only


class Notification(Base):
    """A message to one person: always kept here (the outbox); sent on through the
    person's channels by `reviews.notifications.dispatch` and `.delivery`."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_recipient_created", "recipient_id", "created_at"),
        Index("ix_notification_undispatched", "dispatched_at", "id"),
        # only the messages that have a key (reminders): a phase's 100,000 messages
        # without one are not written into it
        unique_where_set("notification", "dedupe_key"),
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
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When its deliveries were decided (the person's channels and timing); None: not yet.
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipient: Mapped[Person] = relationship()

    @property
    def link(self) -> Link:
        return Link(self.target, self.target_id)


class Delivery(Base):
    """One notification through one channel: claimed, sent and marked on its own."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="one_per_channel"),
        Index("ix_delivery_due", "state", "next_at"),
        Index("ix_delivery_digest", "recipient_id", "channel", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    # The notification's recipient, kept here so a digest gathers by person in one index.
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(string_enum(Channel, "delivery_channel"))
    state: Mapped[DeliveryState] = mapped_column(
        string_enum(DeliveryState, "delivery_state"), default=DeliveryState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    # When it is due, when a retry is, or until when a sender's claim holds.
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    # Kept from the first attempt (e-mail's Message-ID, the webhook's event id), so a
    # message sent again after a crash is recognisably the same one.
    message_id: Mapped[str | None] = mapped_column(String(250))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification: Mapped[Notification] = relationship()


class Preference(Base):
    """A person's timing for one kind of notification (absent: immediately)."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("person_id", "kind", name="one_per_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    timing: Mapped[Timing] = mapped_column(string_enum(Timing, "notification_timing"))


class ChatHook(Base):
    """A person's own incoming webhook in Slack or Teams: where their messages go there.

    The URL is a secret (whoever holds it can post to the person's channel); it is
    shown back only in part."""

    __tablename__ = "chat_hook"
    __table_args__ = (UniqueConstraint("person_id", "channel", name="one_hook_per_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(string_enum(Channel, "chat_hook_channel"))
    url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
