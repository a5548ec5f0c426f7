"""Review templates as HR keeps them. A cycle freezes the ones it asks at launch
(`Cycle.templates`), so editing a template never changes a running cycle."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, string_enum, utcnow


class TemplatePart(enum.StrEnum):
    """What a template asks: a part of a review, or upward feedback about a manager."""

    SELF = "self"
    PEER = "peer"
    MANAGER = "manager"
    UPWARD = "upward"


class ReviewTemplate(Base):
    __tablename__ = "review_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    part: Mapped[TemplatePart] = mapped_column(string_enum(TemplatePart, "template_part"))
    # The document `parsing.parse_template` reads (sections, questions, labels).
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CycleTemplate(Base):
    """The template a cycle will ask of a part, chosen while it is a draft (no row: the
    built-in questions). A template some cycle chose cannot be deleted, only archived."""

    __tablename__ = "cycle_template"

    cycle_id: Mapped[int] = mapped_column(
        ForeignKey("cycle.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[TemplatePart] = mapped_column(
        string_enum(TemplatePart, "template_part"), primary_key=True
    )
    template_id: Mapped[int] = mapped_column(ForeignKey("review_template.id"), index=True)

    template: Mapped[ReviewTemplate] = relationship()
