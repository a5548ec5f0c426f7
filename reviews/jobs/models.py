from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
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
    # Shards planned and finished (see JobShard): the one that brings shards_done up
    # to shard_count assembles the archive.
    shard_count: Mapped[int] = mapped_column(default=0)
    shards_done: Mapped[int] = mapped_column(default=0)
    file_name: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[Person] = relationship(foreign_keys=[requester_id])
    cycle: Mapped[Cycle] = relationship()


class JobShard(Base):
    """A slice of a job that any worker, on any host, can take: the plans of the
    reviews with ids first_review_id..last_review_id in the job's scope.

    A worker claims a shard by raising its `attempt` (a conditional update), so a
    shard queued twice runs once, and only the attempt that holds it may finish it."""

    __tablename__ = "job_shard"
    __table_args__ = (
        UniqueConstraint("job_id", "number"),
        CheckConstraint("done >= 0 AND done <= total", name="progress_in_range"),
        CheckConstraint("state <> 'done' OR file_name IS NOT NULL", name="done_has_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    number: Mapped[int]
    first_review_id: Mapped[int]
    last_review_id: Mapped[int]
    total: Mapped[int]
    done: Mapped[int] = mapped_column(default=0)
    state: Mapped[JobState] = mapped_column(
        string_enum(JobState, "job_shard_state"),
        default=JobState.QUEUED,
    )
    attempt: Mapped[int] = mapped_column(default=0)
    # host:pid of the worker process that ran the attempt
    worker: Mapped[str | None] = mapped_column(String(120))
    file_name: Mapped[str | None] = mapped_column(String(120))
    error: Mapped[str | None] = mapped_column(Text)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
