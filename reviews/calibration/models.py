"""Calibration sessions, who is in them, and the ledger of every final-rating change."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.cycles.models import Cycle, Review
from reviews.db import Base, UTCDateTime, string_enum, utcnow
from reviews.people.models import Department, Person


class SessionState(enum.StrEnum):
    OPEN = "open"
    FINISHED = "finished"


class GroupKind(enum.StrEnum):
    DEPARTMENT = "department"
    MANAGER_ORG = "manager_org"


class CalibrationSession(Base):
    __tablename__ = "calibration_session"
    __table_args__ = (
        CheckConstraint(
            "(group_kind = 'department') = (department_id IS NOT NULL)", name="department_group"
        ),
        CheckConstraint(
            "(group_kind = 'manager_org') = (manager_id IS NOT NULL)", name="manager_group"
        ),
        CheckConstraint("state <> 'finished' OR finished_at IS NOT NULL", name="finished_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(160))
    group_kind: Mapped[GroupKind] = mapped_column(string_enum(GroupKind, "group_kind"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    state: Mapped[SessionState] = mapped_column(
        string_enum(SessionState, "session_state"), default=SessionState.OPEN
    )
    # Besides HR, the managers whose reports are in the group may calibrate.
    managers_calibrate: Mapped[bool] = mapped_column(default=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cycle: Mapped[Cycle] = relationship()
    department: Mapped[Department | None] = relationship()
    manager: Mapped[Person | None] = relationship(foreign_keys=[manager_id])


class CalibrationMember(Base):
    """A review calibrated in a session; a review is calibrated in one session only."""

    __tablename__ = "calibration_member"
    __table_args__ = (UniqueConstraint("review_id"),)

    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE"), primary_key=True
    )
    review_id: Mapped[int] = mapped_column(
        ForeignKey("review.id", ondelete="CASCADE"), primary_key=True
    )

    review: Mapped[Review] = relationship()


OVERALL_MOVED = "field = 'overall' AND old_value IS NOT NULL AND old_value <> new_value"


class CalibrationChange(Base):
    """One change of a final value: who, when, from, to and why. Never updated."""

    __tablename__ = "calibration_change"
    __table_args__ = (
        Index("ix_calibration_change_review_at", "review_id", "at"),
        # The dashboard's moves up and down: the few changes that moved an overall
        # rating, not every change of every cycle (finalising records one for everyone).
        Index(
            "ix_calibration_change_moved",
            "review_id",
            postgresql_where=text(OVERALL_MOVED),
            sqlite_where=text(OVERALL_MOVED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="SET NULL"), index=True
    )
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    field: Mapped[str] = mapped_column(String(60))  # overall, potential or a competency key
    old_value: Mapped[str | None] = mapped_column(String(40))
    new_value: Mapped[str] = mapped_column(String(40))
    rationale: Mapped[str] = mapped_column(Text)

    actor: Mapped[Person | None] = relationship()
    review: Mapped[Review] = relationship()
