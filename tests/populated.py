"""A small organisation with one cycle walked through every phase, and tools to compare
whole databases (fault, migration and backup tests prove "nothing changed")."""

from __future__ import annotations

from typing import Any

from cycle_helpers import advance, approved_peer, launched_cycle, part, review_of
from sqlalchemy import select, text

from reviews.calibration import operations as calibration_ops
from reviews.calibration.models import GroupKind
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import PartKind
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Role


def competency_keys() -> list[str]:
    return list(db.session.scalars(select(Competency.key).order_by(Competency.key)))


def _save(actor, assessment, data: PartInput) -> None:
    cycle_ops.save_part(actor, assessment, assessment.version, data, submit=True)
    db.session.commit()


def people(make_person) -> dict[str, Any]:
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    team = [make_person(f"Engineer {n} Zoë", manager=boss) for n in range(4)]
    return {"hr": hr, "boss": boss, "team": team}


def cycle_in(make_person, state: CycleState) -> dict[str, Any]:
    """People and a cycle advanced to `state` (up to RELEASED) with every part written:
    self-reviews, approved peers and their feedback, manager reviews, a calibration
    session with one ledger change, growth plans after release."""
    org = people(make_person)
    hr, boss, team = org["hr"], org["boss"], org["team"]
    keys = competency_keys()
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW)
    org["cycle"] = cycle
    reviews = [review_of(cycle, p) for p in team]
    for person, review in zip(team, reviews, strict=True):
        _save(
            person,
            part(review, PartKind.SELF),
            PartInput(
                ratings=dict.fromkeys(keys, 3),
                comments={keys[0]: f"I led the migration — {person.name} ✓"},
                answers={"accomplishments": "Shipped the importer.", "growth": "Mentoring."},
                desired_level="senior-engineer",
            ),
        )
    if state == CycleState.SELF_REVIEW:
        return org
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    for i, review in enumerate(reviews):
        peer = team[(i + 1) % len(team)]
        request = approved_peer(boss, review, peer)
        feedback = cycle_ops.peer_assessment(request)
        db.session.commit()
        _save(
            peer,
            feedback,
            PartInput(
                ratings=dict.fromkeys(keys, 4),
                answers={
                    "strengths": "Clear design docs.",
                    "growth_areas": "Delegation.",
                    "suggestion": "Pair more.",
                },
            ),
        )
    if state == CycleState.PEER_FEEDBACK:
        return org
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    for i, review in enumerate(reviews):
        _save(
            boss,
            part(review, PartKind.MANAGER),
            PartInput(
                ratings=dict.fromkeys(keys, 2 + i % 3),
                overall=2 + i % 3,
                potential="medium",
                readiness="not_yet",
                answers={"summary": "Solid half.", "strengths": "Focus.", "growth_areas": "Scope."},
            ),
        )
    if state == CycleState.MANAGER_REVIEW:
        return org
    advance(hr, cycle, CycleState.CALIBRATION)
    session = calibration_ops.open_session(
        hr, cycle, GroupKind.MANAGER_ORG, department=None, manager=boss, managers_calibrate=True
    )
    db.session.commit()
    review = reviews[0]
    calibration_ops.change_final(
        hr,
        session,
        review,
        review.final_version,
        calibration_ops.FinalChange(4, "high", {}),
        "Carried the on-call rotation alone for two months.",
    )
    db.session.commit()
    org["session"] = session
    if state == CycleState.CALIBRATION:
        return org
    calibration_ops.finish_session(hr, session)
    db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    return org


def contents() -> dict[str, list[tuple]]:
    """Every row of every table (as text), sorted: equal means the databases hold the same."""
    db.session.commit()
    with db.engine.connect() as conn:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in conn.execute(table.select()))
            for table in db.metadata.sorted_tables
        }


def raw_rows(table: str) -> list[dict[str, Any]]:
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{table}"'))]
