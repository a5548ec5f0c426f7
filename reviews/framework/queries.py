"""Read-side queries over the framework."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, true
from sqlalchemy.orm import aliased, selectinload

from reviews.extensions import db
from reviews.framework.models import (
    Competency,
    CompetencyGroup,
    Expectation,
    Level,
    Scale,
    ScaleStep,
)


@dataclass
class Ladder:
    levels: list[Level]
    groups: list[CompetencyGroup]
    # (level id, competency id) -> expectation
    expectations: dict[tuple[int, int], Expectation]

    def competencies(self) -> list[Competency]:
        return [c for g in self.groups for c in g.competencies]


def ladder() -> Ladder:
    """The whole framework in four statements."""
    levels = list(db.session.scalars(select(Level).order_by(Level.rank)))
    groups = list(
        db.session.scalars(
            select(CompetencyGroup)
            .order_by(CompetencyGroup.position)
            .options(selectinload(CompetencyGroup.competencies).selectinload(Competency.anchors))
        )
    )
    expectations = {
        (e.level_id, e.competency_id): e for e in db.session.scalars(select(Expectation))
    }
    return Ladder(levels, groups, expectations)


class LevelName(NamedTuple):
    id: int
    key: str
    name: str


class StepRow(NamedTuple):
    """One competency: what a level expects of it (1 to 5) and what the next one does."""

    key: str
    name: str
    expected: int | None
    next_expected: int | None
    next_description: str | None

    @property
    def grows(self) -> int:
        """How much more the next level expects (0: as much, less, or either is unset)."""
        if self.expected is None or self.next_expected is None:
            return 0
        return max(self.next_expected - self.expected, 0)


@dataclass(frozen=True)
class LevelStep:
    level: LevelName
    next_level: LevelName | None
    competencies: list[StepRow]


def level_step(level_id: int) -> LevelStep | None:
    """A level, the next one up and every competency in framework order with what the
    two expect: "where you are on the ladder" (1 statement, plain rows)."""
    rows = db.session.execute(_level_step(), {"level_id": level_id}).all()
    if not rows:
        return None
    first = rows[0]
    return LevelStep(
        LevelName(first.level_id, first.level_key, first.level_name),
        LevelName(first.next_id, first.next_key, first.next_name) if first.next_id else None,
        [
            StepRow(r.key, r.name, r.expected, r.next_expected, r.next_description)
            for r in rows
            if r.key is not None  # a framework without competencies yet
        ],
    )


@cache
def _level_step() -> Any:
    """The statement of `level_step`, built once: only :level_id changes."""
    nxt = aliased(Level)
    now_e, next_e = aliased(Expectation), aliased(Expectation)
    return (
        select(
            Level.id.label("level_id"),
            Level.key.label("level_key"),
            Level.name.label("level_name"),
            nxt.id.label("next_id"),
            nxt.key.label("next_key"),
            nxt.name.label("next_name"),
            Competency.key,
            Competency.name,
            now_e.expected,
            next_e.expected.label("next_expected"),
            next_e.description.label("next_description"),
        )
        .select_from(Level)
        .outerjoin(nxt, nxt.id == Level.next_level_id)
        # every competency beside the level (ON true), and the level even without any
        .outerjoin(Competency, true())
        .outerjoin(CompetencyGroup, CompetencyGroup.id == Competency.group_id)
        .outerjoin(now_e, (now_e.level_id == Level.id) & (now_e.competency_id == Competency.id))
        .outerjoin(next_e, (next_e.level_id == nxt.id) & (next_e.competency_id == Competency.id))
        .where(Level.id == bindparam("level_id"))
        .order_by(CompetencyGroup.position, CompetencyGroup.id, Competency.position, Competency.id)
    )


def scale(which: Scale) -> list[ScaleStep]:
    return list(
        db.session.scalars(
            select(ScaleStep).where(ScaleStep.scale == which).order_by(ScaleStep.value)
        )
    )


def competency_names() -> dict[str, str]:
    """Key -> name of the live framework's competencies, in framework order, in the
    reader's language (1 statement, and the translations once a request)."""
    from reviews.framework.wording import sayer

    say = sayer()
    rows = db.session.execute(
        select(Competency.key, Competency.name)
        .join(CompetencyGroup, Competency.group_id == CompetencyGroup.id)
        .order_by(CompetencyGroup.position, Competency.position)
    )
    return {str(key): say(str(name)) for key, name in rows}
