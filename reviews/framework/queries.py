"""Read-side queries over the framework."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

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


def ladder(*, lean: bool = False, level_id: int | None = None) -> Ladder:
    """The whole framework in four statements.

    `lean` keeps what a page about one level needs: the expectations of
    `level_id` and the next level only, and competencies without their anchors
    (three statements)."""
    levels = list(db.session.scalars(select(Level).order_by(Level.rank)))
    competencies = selectinload(CompetencyGroup.competencies)
    groups = list(
        db.session.scalars(
            select(CompetencyGroup)
            .order_by(CompetencyGroup.position)
            .options(competencies if lean else competencies.selectinload(Competency.anchors))
        )
    )
    stmt = select(Expectation)
    if lean:
        by_id = {lv.id: lv for lv in levels}
        wanted = [level_id, by_id[level_id].next_level_id] if level_id in by_id else []
        stmt = stmt.where(Expectation.level_id.in_([i for i in wanted if i] or [-1]))
    expectations = {(e.level_id, e.competency_id): e for e in db.session.scalars(stmt)}
    return Ladder(levels, groups, expectations)


def scale(which: Scale) -> list[ScaleStep]:
    return list(
        db.session.scalars(
            select(ScaleStep).where(ScaleStep.scale == which).order_by(ScaleStep.value)
        )
    )


def competency_names() -> dict[str, str]:
    """Key -> name of the live framework's competencies, in framework order (1 statement)."""
    rows = db.session.execute(
        select(Competency.key, Competency.name)
        .join(CompetencyGroup, Competency.group_id == CompetencyGroup.id)
        .order_by(CompetencyGroup.position, Competency.position)
    )
    return {str(key): str(name) for key, name in rows}
