"""Growth plans: proposed at release, edited by the manager, agreed by both."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.cycles.models import Review
from reviews.db import Base, UTCDateTime, string_enum, utcnow


class PlanMode(enum.StrEnum):
    GROW = "grow"
    BROADEN = "broaden"


class GrowthPlan(Base):
    __tablename__ = "growth_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[PlanMode] = mapped_column(string_enum(PlanMode, "plan_mode"))
    target_level_key: Mapped[str] = mapped_column(String(60))
    # competency keys, largest gap first
    focus: Mapped[list[str]] = mapped_column(JSON, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")  # the planner's notes and the manager's
    employee_comment: Mapped[str] = mapped_column(Text, default="")
    manager_agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    employee_agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    review: Mapped[Review] = relationship()
    items: Mapped[list[GrowthPlanItem]] = relationship(
        back_populates="plan", order_by="GrowthPlanItem.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def agreed(self) -> bool:
        return self.manager_agreed_at is not None and self.employee_agreed_at is not None


class GrowthPlanItem(Base):
    """One stretch opportunity (from the catalogue or written freely) with its dates."""

    __tablename__ = "growth_plan_item"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("growth_plan.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    opportunity_key: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    checkins: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO dates
    notes: Mapped[str] = mapped_column(Text, default="")

    plan: Mapped[GrowthPlan] = relationship(back_populates="items")
