"""Personal goals for a period, their check-ins and the manager's comments."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, string_enum, utcnow
from reviews.people.models import Person


class GoalStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    DONE = "done"
    DROPPED = "dropped"


class GoalSource(enum.StrEnum):
    OWN = "own"
    FOCUS = "focus"  # a focus competency of a growth plan
    OPPORTUNITY = "opportunity"  # a stretch opportunity of a growth plan


class Goal(Base):
    __tablename__ = "goal"
    __table_args__ = (
        CheckConstraint("period_start <= period_end", name="period_order"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("checkin_every_days BETWEEN 1 AND 365", name="checkin_interval"),
        CheckConstraint("source = 'own' OR growth_plan_id IS NOT NULL", name="seeded_has_plan"),
        Index("ix_goal_owner_period", "owner_id", "period_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    title: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(Text)  # the measurable outcome
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[GoalStatus] = mapped_column(
        string_enum(GoalStatus, "goal_status"), default=GoalStatus.NOT_STARTED
    )
    progress: Mapped[int] = mapped_column(default=0)
    checkin_every_days: Mapped[int] = mapped_column(default=14)
    source: Mapped[GoalSource] = mapped_column(
        string_enum(GoalSource, "goal_source"), default=GoalSource.OWN
    )
    growth_plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("growth_plan.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    owner: Mapped[Person] = relationship(foreign_keys=[owner_id])

    __mapper_args__ = {"version_id_col": version}


class GoalCheckIn(Base):
    """The owner's note on progress, with how confident they are of reaching the goal."""

    __tablename__ = "goal_checkin"
    __table_args__ = (
        CheckConstraint("confidence BETWEEN 1 AND 5", name="confidence_on_scale"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    note: Mapped[str] = mapped_column(Text)
    confidence: Mapped[int]
    progress: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    goal: Mapped[Goal] = relationship()
    author: Mapped[Person] = relationship()


class GoalComment(Base):
    """A manager's comment on a goal, optionally answering one check-in."""

    __tablename__ = "goal_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"), index=True)
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal_checkin.id", ondelete="CASCADE")
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[Person] = relationship()
