"""Review cycles, the reviews they hold, and every part of a review."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.cycles import counters, figures
from reviews.cycles.workflow import CycleState
from reviews.db import Base, UTCDateTime, string_enum, unique_where_set, utcnow
from reviews.people.models import Department, Person


class ParticipantMode(enum.StrEnum):
    ALL = "all"
    DEPARTMENTS = "departments"
    LIST = "list"


class PartKind(enum.StrEnum):
    SELF = "self"
    PEER = "peer"
    MANAGER = "manager"


class PartState(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class RequestState(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    DECLINED = "declined"
    REMOVED = "removed"


class Potential(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Readiness(enum.StrEnum):
    NOT_YET = "not_yet"
    WITHIN_A_YEAR = "within_a_year"
    READY_NOW = "ready_now"


cycle_department = Table(
    "cycle_department",
    Base.metadata,
    Column("cycle_id", ForeignKey("cycle.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("department.id", ondelete="CASCADE"), primary_key=True),
)

cycle_participant = Table(
    "cycle_participant",
    Base.metadata,
    Column("cycle_id", ForeignKey("cycle.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
)


class Cycle(Base):
    __tablename__ = "cycle"
    __table_args__ = (
        CheckConstraint("period_start <= period_end", name="period_order"),
        CheckConstraint(
            "peer_min >= 0 AND peer_min <= peer_max AND peer_max <= 20", name="peer_range"
        ),
        CheckConstraint("anonymity_threshold >= 1", name="threshold_positive"),
        # Fewer than three anonymous authors can be told apart (cycles.inputs).
        CheckConstraint(
            "NOT peer_anonymous OR anonymity_threshold >= 3", name="anonymous_threshold"
        ),
        CheckConstraint(
            "state = 'draft' OR (framework_snapshot IS NOT NULL AND launched_at IS NOT NULL)",
            name="launched_has_snapshot",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    state: Mapped[CycleState] = mapped_column(
        string_enum(CycleState, "cycle_state"), default=CycleState.DRAFT, index=True
    )
    participant_mode: Mapped[ParticipantMode] = mapped_column(
        string_enum(ParticipantMode, "participant_mode"), default=ParticipantMode.ALL
    )
    self_review_due: Mapped[date | None] = mapped_column(Date)
    peer_feedback_due: Mapped[date | None] = mapped_column(Date)
    manager_review_due: Mapped[date | None] = mapped_column(Date)
    calibration_due: Mapped[date | None] = mapped_column(Date)
    peer_min: Mapped[int] = mapped_column(default=2)
    peer_max: Mapped[int] = mapped_column(default=5)
    peer_anonymous: Mapped[bool] = mapped_column(default=True)
    anonymity_threshold: Mapped[int] = mapped_column(default=3)
    # Whether managers up the line (and HR) see who wrote each peer feedback.
    peer_names_to_managers: Mapped[bool] = mapped_column(default=True)
    reviewer_load_cap: Mapped[int] = mapped_column(default=5)
    # Direct reports give their manager anonymous feedback (reviews.upward).
    upward_feedback: Mapped[bool] = mapped_column(default=False, server_default=false())
    guidance: Mapped[list[int]] = mapped_column(JSON, default=lambda: [5, 20, 50, 20, 5])
    # Whole percentage points either side of each guidance share that calibration
    # accepts: a rating's share outside the band is flagged (calibration.scoring).
    # At most cycles.inputs.MAX_GUIDANCE_TOLERANCE.
    guidance_tolerance: Mapped[int] = mapped_column(
        CheckConstraint("guidance_tolerance BETWEEN 0 AND 25", name="guidance_tolerance_range"),
        default=5,
        server_default=text("5"),
    )
    framework_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The review templates the cycle asks, part by part, frozen at launch from those
    # chosen for it (reviews.review_templates: CycleTemplate).
    templates: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    departments: Mapped[list[Department]] = relationship(secondary=cycle_department)
    participants: Mapped[list[Person]] = relationship(secondary=cycle_participant)

    __mapper_args__ = {"version_id_col": version}

    def due(self, state: CycleState) -> date | None:
        return {
            CycleState.SELF_REVIEW: self.self_review_due,
            CycleState.PEER_FEEDBACK: self.peer_feedback_due,
            CycleState.MANAGER_REVIEW: self.manager_review_due,
            CycleState.CALIBRATION: self.calibration_due,
        }.get(state)


class Review(Base):
    """One participant's review in one cycle; manager and level frozen at launch."""

    __tablename__ = "review"
    __table_args__ = (
        UniqueConstraint("cycle_id", "subject_id"),
        CheckConstraint("manager_id IS NULL OR manager_id <> subject_id", name="not_own_manager"),
        # a manager's reviews in one cycle (team page) or in all (home page tasks:
        # with the cycle first, SQLite could not use it there and scanned the parts);
        # the unique (cycle_id, subject_id) serves lookups by cycle
        Index("ix_review_manager_cycle", "manager_id", "cycle_id"),
        CheckConstraint(
            "final_rating IS NULL OR final_rating BETWEEN 1 AND 5", name="final_on_scale"
        ),
        CheckConstraint("NOT final_locked OR final_rating IS NOT NULL", name="locked_has_final"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycle.id", ondelete="CASCADE"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    level_key: Mapped[str | None] = mapped_column(String(60))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Calibration: proposed from the manager's review, changed only through the
    # ledger (calibration.operations), locked when the session finishes.
    final_rating: Mapped[int | None]
    final_potential: Mapped[Potential | None] = mapped_column(
        string_enum(Potential, "final_potential")
    )
    # competency key -> final proficiency (the manager's, unless calibration changed it)
    final_ratings: Mapped[dict[str, int] | None] = mapped_column(JSON)
    final_version: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    final_locked: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Release: the employee says "I have read it".
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledgement_comment: Mapped[str | None] = mapped_column(Text)
    # Completion counters, kept by database triggers on the parts and peer requests
    # (reviews.cycles.counters): never written by the application. Read them with a
    # fresh query: an object loaded before a part was submitted holds the old count.
    self_done: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    manager_done: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    peers_done: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    peers_approved: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    peers_declined: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    # the submitted manager part's overall rating (the proposal before calibration)
    manager_overall: Mapped[int | None]

    cycle: Mapped[Cycle] = relationship()
    subject: Mapped[Person] = relationship(foreign_keys=[subject_id])
    manager: Mapped[Person | None] = relationship(foreign_keys=[manager_id])
    department: Mapped[Department | None] = relationship()


class PeerRequest(Base):
    """A peer asked for feedback on a review: proposed, then approved or not."""

    __tablename__ = "peer_request"
    __table_args__ = (
        UniqueConstraint("review_id", "reviewer_id"),
        # covers the completion figures' count of approved and declined requests
        Index("ix_peer_request_review_state", "review_id", "state"),
        CheckConstraint(
            "state <> 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    state: Mapped[RequestState] = mapped_column(
        string_enum(RequestState, "request_state"), default=RequestState.PROPOSED
    )
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    review: Mapped[Review] = relationship()
    reviewer: Mapped[Person] = relationship(foreign_keys=[reviewer_id])


class Assessment(Base):
    """A part of a review: the self-assessment, one peer's feedback, or the manager's."""

    __tablename__ = "assessment"
    __table_args__ = (
        UniqueConstraint("review_id", "kind", "author_id"),
        CheckConstraint(
            "state <> 'submitted' OR submitted_at IS NOT NULL", name="submitted_has_time"
        ),
        CheckConstraint("(kind = 'peer') = (peer_request_id IS NOT NULL)", name="peer_has_request"),
        CheckConstraint(
            "overall_rating IS NULL OR overall_rating BETWEEN 1 AND 5", name="overall_on_scale"
        ),
        Index("ix_assessment_author_kind", "author_id", "kind"),
        # covers the completion figures and the rating distribution: no wide row read
        Index("ix_assessment_review_state", "review_id", "kind", "state", "overall_rating"),
        # peer parts only: launch's self and manager parts (no request) are not written
        # into it
        unique_where_set("assessment", "peer_request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    kind: Mapped[PartKind] = mapped_column(string_enum(PartKind, "part_kind"))
    author_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    peer_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("peer_request.id", ondelete="CASCADE")
    )
    state: Mapped[PartState] = mapped_column(
        string_enum(PartState, "part_state"), default=PartState.DRAFT
    )
    # competency key -> 1..5 (a peer may leave competencies out)
    ratings: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # competency key -> comment
    comments: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # free-text answers by question key (accomplishments, strengths, summary, ...)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # answers chosen rather than written, by question key: a scale step (or
    # "cant_judge"), an option key, a list of them, a yes/no boolean
    choices: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # competency key -> cited evidence, [{"kind": "feedback"|"goal"|"checkin", "id": n}
    # or {"kind": "link", "url": ..., "title": ...}] (reviews.cycles.evidence)
    evidence: Mapped[dict[str, list[dict[str, Any]]] | None] = mapped_column(JSON)
    desired_level_key: Mapped[str | None] = mapped_column(String(60))
    overall_rating: Mapped[int | None]
    potential: Mapped[Potential | None] = mapped_column(string_enum(Potential, "potential"))
    promotion_readiness: Mapped[Readiness | None] = mapped_column(
        string_enum(Readiness, "readiness")
    )
    reopened: Mapped[bool] = mapped_column(default=False)
    # What the feedback coach found in the written texts when the part was submitted
    # (reviews.coach.analysis.text_quality): texts, texts naming evidence, and
    # personality-type words. Calibration sums them in SQL instead of analysing
    # every comment on every view; NULL until submitted.
    quality_texts: Mapped[int | None]
    quality_evidence: Mapped[int | None]
    quality_personal: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    review: Mapped[Review] = relationship()
    author: Mapped[Person] = relationship()
    peer_request: Mapped[PeerRequest | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


@event.listens_for(Assessment, "before_insert")
@event.listens_for(Assessment, "before_update")
def _store_text_quality(_mapper: Any, _connection: Any, part: Assessment) -> None:
    """Keep the coach's figures in step with a submitted part's texts, whichever code
    path writes them through the ORM (calibration and reports sum the stored figures)."""
    from reviews.coach.analysis import text_quality

    if part.state != PartState.SUBMITTED:
        part.quality_texts = part.quality_evidence = part.quality_personal = None
        return
    changed = inspect(part).attrs
    if part.quality_texts is None or any(
        changed[name].history.has_changes() for name in ("comments", "answers", "state")
    ):
        part.quality_texts, part.quality_evidence, part.quality_personal = text_quality(
            [*(part.comments or {}).values(), *(part.answers or {}).values()]
        )


counters.install(PeerRequest.__table__, Assessment.__table__)  # type: ignore[arg-type]
figures.install(Review.__table__)  # type: ignore[arg-type]


def _figure_columns() -> list[Column[int]]:
    """The sums of reviews.cycles.figures.FIGURES, kept by its triggers."""
    return [
        Column(name, Integer, nullable=False, server_default=text("0")) for name in figures.FIGURES
    ]


def _cascade_to_cycle() -> Column[int]:
    return Column("cycle_id", ForeignKey("cycle.id", ondelete="CASCADE"), nullable=False)


# HR's figures of each cycle by department, level and rating, and by frozen manager
# (reviews.cycles.figures): written by launch and the triggers only.
cycle_group_figures = Table(
    "cycle_group_figures",
    Base.metadata,
    _cascade_to_cycle(),
    Column("department_key", Integer, nullable=False),  # 0: no department
    Column("level_key", String(60), nullable=False),  # "": no level
    Column("rating", Integer, nullable=False),  # 0: none yet
    *_figure_columns(),
    PrimaryKeyConstraint("cycle_id", "department_key", "level_key", "rating"),
)
cycle_manager_figures = Table(
    "cycle_manager_figures",
    Base.metadata,
    _cascade_to_cycle(),
    Column("manager_key", Integer, nullable=False),  # 0: the reviews without a manager
    *_figure_columns(),
    PrimaryKeyConstraint("cycle_id", "manager_key"),
)


# the dashboard's managers furthest behind, read from the index in its order
Index(
    "ix_manager_figures_behind",
    cycle_manager_figures.c.cycle_id,
    text(figures.SHARE_DONE),
    cycle_manager_figures.c.reviews.desc(),
    cycle_manager_figures.c.manager_key,
)
