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
