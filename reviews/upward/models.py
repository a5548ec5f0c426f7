"""Upward feedback: direct reports rate their manager, always anonymously.

Who answered and what was answered live in two tables with no link between
them: `UpwardParticipation` says that a report answered (so they answer
once and the home page stops asking), `UpwardAnswer` holds ratings and the
answers to the cycle's upward template, with no author and no timestamp.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from reviews.db import Base


class UpwardParticipation(Base):
    __tablename__ = "upward_participation"
    __table_args__ = (UniqueConstraint("cycle_id", "manager_id", "author_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    # A day, not a time: a finer stamp could be matched against the answers' order.
    answered_on: Mapped[date] = mapped_column(Date)


class UpwardAnswer(Base):
    __tablename__ = "upward_answer"
    __table_args__ = (Index("ix_upward_answer_cycle_manager", "cycle_id", "manager_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    # management competency key -> 1..5 (a report may skip one)
    ratings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # question key -> answer, as `review_templates.answers.parse_answers` reads it
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
