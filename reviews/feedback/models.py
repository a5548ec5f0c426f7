"""Continuous feedback and praise, given at any time, never anonymous."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, string_enum, utcnow
from reviews.people.models import Person


class FeedbackKind(enum.StrEnum):
    FEEDBACK = "feedback"
    PRAISE = "praise"


class FeedbackVisibility(enum.StrEnum):
    # The recipient and everyone up their reporting line.
    MANAGERS = "managers"
    # The recipient alone (and the author, who wrote it).
    RECIPIENT = "recipient"


class FeedbackNote(Base):
    __tablename__ = "feedback_note"
    __table_args__ = (
        CheckConstraint("author_id <> recipient_id", name="not_to_self"),
        Index("ix_feedback_note_recipient_created", "recipient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    kind: Mapped[FeedbackKind] = mapped_column(string_enum(FeedbackKind, "feedback_kind"))
    visibility: Mapped[FeedbackVisibility] = mapped_column(
        string_enum(FeedbackVisibility, "feedback_visibility")
    )
    body: Mapped[str] = mapped_column(Text)
    # competency keys of the live framework
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    recipient: Mapped[Person] = relationship(foreign_keys=[recipient_id])
