"""The live competency framework: ladder, competencies, expectations, catalogue."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reviews.db import Base, UTCDateTime, string_enum, utcnow


class Track(enum.StrEnum):
    IC = "ic"
    MANAGEMENT = "management"


class Scale(enum.StrEnum):
    PROFICIENCY = "proficiency"
    PERFORMANCE = "performance"


class Level(Base):
    __tablename__ = "level"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    track: Mapped[Track] = mapped_column(string_enum(Track, "track"))
    rank: Mapped[int] = mapped_column(unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    next_level_id: Mapped[int | None] = mapped_column(ForeignKey("level.id"))
    version: Mapped[int] = mapped_column(default=1)

    next_level: Mapped[Level | None] = relationship(remote_side=[id])

    __mapper_args__ = {"version_id_col": version}


class CompetencyGroup(Base):
    __tablename__ = "competency_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    competencies: Mapped[list[Competency]] = relationship(
        back_populates="group", order_by="Competency.position"
    )


class Competency(Base):
    __tablename__ = "competency"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("competency_group.id"))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    group: Mapped[CompetencyGroup] = relationship(back_populates="competencies")
    anchors: Mapped[list[CompetencyAnchor]] = relationship(
        back_populates="competency", order_by="CompetencyAnchor.value", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class CompetencyAnchor(Base):
    """What a person rated `value` on this competency does."""

    __tablename__ = "competency_anchor"
    __table_args__ = (
        UniqueConstraint("competency_id", "value"),
        CheckConstraint("value BETWEEN 1 AND 5", name="value_on_scale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id", ondelete="CASCADE"))
    value: Mapped[int]
    text: Mapped[str] = mapped_column(Text)

    competency: Mapped[Competency] = relationship(back_populates="anchors")


class Expectation(Base):
    """Expected proficiency for a competency at a level, with what it looks like."""

    __tablename__ = "expectation"
    __table_args__ = (
        UniqueConstraint("level_id", "competency_id"),
        CheckConstraint("expected BETWEEN 1 AND 5", name="expected_on_scale"),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    level_id: Mapped[int] = mapped_column(ForeignKey("level.id", ondelete="CASCADE"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competency.id", ondelete="CASCADE"))
    expected: Mapped[int]
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    description: Mapped[str] = mapped_column(Text, default="")

    level: Mapped[Level] = relationship()
    competency: Mapped[Competency] = relationship()


class ScaleStep(Base):
    __tablename__ = "scale_step"
    __table_args__ = (
        UniqueConstraint("scale", "value"),
        CheckConstraint("value BETWEEN 1 AND 5", name="value_on_scale"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scale: Mapped[Scale] = mapped_column(string_enum(Scale, "scale"))
    value: Mapped[int]
    label: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")


opportunity_competency = Table(
    "opportunity_competency",
    Base.metadata,
    Column("opportunity_id", ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True),
    Column("competency_id", ForeignKey("competency.id", ondelete="CASCADE"), primary_key=True),
)

opportunity_level = Table(
    "opportunity_level",
    Base.metadata,
    Column("opportunity_id", ForeignKey("opportunity.id", ondelete="CASCADE"), primary_key=True),
    Column("level_id", ForeignKey("level.id", ondelete="CASCADE"), primary_key=True),
)


class Opportunity(Base):
    """A stretch opportunity in the catalogue that growth plans draw from."""

    __tablename__ = "opportunity"
    __table_args__ = (CheckConstraint("duration_weeks BETWEEN 1 AND 52", name="duration_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_weeks: Mapped[int] = mapped_column(default=6)
    source: Mapped[str] = mapped_column(String(200), default="")
    # Whose growth it is for beyond its levels: None for anyone; MANAGEMENT for people
    # aiming at the management track (a trial people-leadership scope), never proposed
    # to someone whose plan stays on the IC track; IC the other way round.
    track: Mapped[Track | None] = mapped_column(
        string_enum(Track, "opportunity_track"), nullable=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    competencies: Mapped[list[Competency]] = relationship(
        secondary=opportunity_competency, order_by="Competency.position"
    )
    levels: Mapped[list[Level]] = relationship(secondary=opportunity_level, order_by="Level.rank")

    __mapper_args__ = {"version_id_col": version}


class ContentTranslation(Base):
    """HR's translation of one text of the framework, the ladder, the catalogue or a
    review template into one language (reviews/framework/wording.py). It is keyed by
    the text it translates, as a catalog is: wherever that text is shown (the live
    framework, a cycle's frozen copy, a plan's item), the reader sees the translation;
    once HR rewrites the text, the old translation no longer matches and the reader sees
    the new text until it is translated too."""

    __tablename__ = "content_translation"
    __table_args__ = (UniqueConstraint("language", "source_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    language: Mapped[str] = mapped_column(String(35))
    source: Mapped[str] = mapped_column(Text)
    # sha256 of `source`, hex: the unique key (a Text column is not indexed whole)
    source_hash: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
