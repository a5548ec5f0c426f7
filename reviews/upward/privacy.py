"""Upward feedback: that a person answered (never what), and what was said about a manager."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select

from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.people.models import Person
from reviews.privacy import Forgetting, holding
from reviews.upward.models import UpwardAnswer, UpwardParticipation


def _export(person: Person) -> dict[str, Any]:
    """The cycles they answered in (answers carry no author, so none can be given), and the
    results about them as they may read them: aggregates from the threshold up."""
    from reviews.upward.queries import summary_for

    answered = db.session.execute(
        select(Cycle.name, UpwardParticipation.answered_on)
        .join(Cycle, Cycle.id == UpwardParticipation.cycle_id)
        .where(UpwardParticipation.author_id == person.id)
        .order_by(UpwardParticipation.answered_on)
    ).all()
    about = []
    for cycle in db.session.scalars(
        select(Cycle)
        .where(
            Cycle.id.in_(select(UpwardAnswer.cycle_id).where(UpwardAnswer.manager_id == person.id))
        )
        .order_by(Cycle.id)
    ):
        summary = summary_for(cycle, person, person)
        about.append(
            {
                "cycle": cycle.name,
                "shown": summary.shown,
                "responses": summary.responses,
                "means": {c.key: c.mean for c in summary.competencies if c.mean is not None},
                "questions": [q.as_json() for q in summary.questions],
            }
        )
    return {
        "answered": [{"cycle": name, "on": on.isoformat()} for name, on in answered],
        "about_them": about,
    }


def _forget(f: Forgetting) -> None:
    """Free-text answers about them go; ratings and chosen answers stay for the figures.
    One statement per cycle they were rated in, and one to read the answers."""
    from reviews.upward.queries import template

    rows = db.session.execute(
        select(UpwardAnswer.id, UpwardAnswer.cycle_id, UpwardAnswer.answers).where(
            UpwardAnswer.manager_id == f.person.id
        )
    ).all()
    written: dict[int, set[str]] = {}
    for cycle in db.session.scalars(select(Cycle).where(Cycle.id.in_({r.cycle_id for r in rows}))):
        written[cycle.id] = {q.key for q in template(cycle).questions if q.kind == "text"}
    kept = [
        {"row": r.id, "kept": {k: v for k, v in r.answers.items() if k not in written[r.cycle_id]}}
        for r in rows
        if set(r.answers) & written[r.cycle_id]
    ]
    if kept:
        table = cast(Table, UpwardAnswer.__table__)
        db.session.execute(
            table.update().where(table.c.id == bindparam("row")).values(answers=bindparam("kept")),
            kept,
        )


holding(
    "upward",
    section="upward_feedback",
    columns=(
        "upward_answer.manager_id",
        "upward_participation.author_id",
        "upward_participation.manager_id",
    ),
    export=_export,
    forget=_forget,
    keeps="Ratings and chosen answers about a manager stay for the figures, the words "
    "written about them go; that a report answered stays (by id, with no link to the answer).",
)
