"""Changes to the live framework. Running cycles keep their own snapshot."""

from __future__ import annotations

from sqlalchemy import func, select

from reviews.audit.operations import record
from reviews.extensions import db
from reviews.framework.models import (
    Competency,
    CompetencyAnchor,
    CompetencyGroup,
    Expectation,
    Level,
    Opportunity,
    Scale,
    ScaleStep,
    Track,
)
from reviews.framework.schema import FrameworkDoc, load_default
from reviews.people.models import Person


def framework_loaded() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(Level)))


def load_framework(doc: FrameworkDoc) -> None:
    """Write a validated framework document into an empty framework."""
    for scale, steps in (
        (Scale.PROFICIENCY, doc.proficiency_scale),
        (Scale.PERFORMANCE, doc.performance_scale),
    ):
        for step in steps:
            db.session.add(
                ScaleStep(
                    scale=scale, value=step.value, label=step.label, description=step.description
                )
            )
    levels = {
        lv.key: Level(
            key=lv.key,
            name=lv.name,
            track=Track(lv.track),
            rank=lv.rank,
            description=lv.description,
        )
        for lv in doc.levels
    }
    db.session.add_all(levels.values())
    for lv in doc.levels:
        if lv.next:
            levels[lv.key].next_level = levels[lv.next]
    groups = {}
    for position, g in enumerate(doc.groups):
        groups[g.key] = CompetencyGroup(
            key=g.key, name=g.name, description=g.description, position=position
        )
    db.session.add_all(groups.values())
    competencies = {}
    for position, c in enumerate(doc.competencies):
        competencies[c.key] = Competency(
            key=c.key,
            name=c.name,
            description=c.description,
            position=position,
            group=groups[c.group],
            anchors=[CompetencyAnchor(value=v, text=t) for v, t in sorted(c.anchors.items())],
        )
    db.session.add_all(competencies.values())
    for e in doc.expectations:
        db.session.add(
            Expectation(
                level=levels[e.level],
                competency=competencies[e.competency],
                expected=e.expected,
                weight=e.weight,
                description=e.description,
            )
        )
    for o in doc.opportunities:
        db.session.add(
            Opportunity(
                key=o.key,
                title=o.title,
                description=o.description,
                duration_weeks=o.duration_weeks,
                source=o.source,
                track=Track(o.track) if o.track else None,
                competencies=[competencies[k] for k in o.competencies],
                levels=[levels[k] for k in o.levels],
            )
        )
    db.session.flush()


def ensure_default_framework() -> bool:
    """Load the shipped framework on first run; True when it was loaded now."""
    if framework_loaded():
        return False
    from reviews.framework.translations import load_shipped

    load_framework(load_default())
    load_shipped()
    record("framework.loaded", actor=None, source="default")
    return True


def update_level(actor: Person, level: Level, *, name: str, description: str) -> None:
    changes = {
        k: v for k, v in (("name", name), ("description", description)) if getattr(level, k) != v
    }
    level.name, level.description = name, description
    db.session.flush()
    record("framework.level_updated", actor=actor, level=level.key, fields=sorted(changes))


def update_competency(
    actor: Person,
    competency: Competency,
    *,
    name: str,
    description: str,
    anchors: dict[int, str],
    expectations: dict[int, tuple[int, float, str]],
) -> None:
    """Edit a competency, its anchors and its expectation per level id."""
    competency.name, competency.description = name, description
    by_value = {a.value: a for a in competency.anchors}
    for value, text in anchors.items():
        by_value[value].text = text
    rows = db.session.scalars(
        select(Expectation).where(Expectation.competency_id == competency.id)
    ).all()
    for row in rows:
        if row.level_id in expectations:
            row.expected, row.weight, row.description = expectations[row.level_id]
    # Touch the versioned row so that a concurrent edit of any part is caught.
    competency.version  # noqa: B018
    db.session.flush()
    record("framework.competency_updated", actor=actor, competency=competency.key)


def save_opportunity(
    actor: Person,
    opportunity: Opportunity | None,
    *,
    title: str,
    description: str,
    duration_weeks: int,
    competencies: list[Competency],
    levels: list[Level],
    track: Track | None = None,
) -> Opportunity:
    created = opportunity is None
    if opportunity is None:
        opportunity = Opportunity(key=_unique_key(title), source="added by HR")
        db.session.add(opportunity)
    opportunity.title = title
    opportunity.description = description
    opportunity.duration_weeks = duration_weeks
    opportunity.competencies = competencies
    opportunity.levels = levels
    opportunity.track = track
    db.session.flush()
    record(
        "framework.opportunity_created" if created else "framework.opportunity_updated",
        actor=actor,
        opportunity=opportunity.key,
    )
    return opportunity


def set_opportunity_active(actor: Person, opportunity: Opportunity, active: bool) -> None:
    opportunity.active = active
    db.session.flush()
    record(
        "framework.opportunity_" + ("restored" if active else "retired"),
        actor=actor,
        opportunity=opportunity.key,
    )


def _unique_key(title: str) -> str:
    base = "-".join("".join(ch if ch.isalnum() else " " for ch in title.lower()).split())[:60]
    base = base or "opportunity"
    taken = set(db.session.scalars(select(Opportunity.key).where(Opportunity.key.like(f"{base}%"))))
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key
