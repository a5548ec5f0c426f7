from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.cycles.models import Cycle
from reviews.db import Base, UTCDateTime, string_enum, utcnow
from reviews.people.models import Person


class JobState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Job(Base):
    """A background job a person started and follows (the bulk growth-plan ZIP)."""

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("done >= 0 AND done <= total", name="progress_in_range"),
        CheckConstraint("state <> 'done' OR file_name IS NOT NULL", name="done_has_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    requester_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    # None: the whole cycle (HR); else the manager whose org the job covers
    scope_manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    state: Mapped[JobState] = mapped_column(
        string_enum(JobState, "job_state"),
        default=JobState.QUEUED,
    )
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[Person] = relationship(foreign_keys=[requester_id])
    cycle: Mapped[Cycle] = relationship()
