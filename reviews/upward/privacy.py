"""Upward feedback: that a person answered (never what), and what was said about a manager."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.people.models import Person
from reviews.privacy import Forgetting, holding
from reviews.upward.models import UpwardAnswer, UpwardParticipation

SYNC: dict[str, Any] = {"synchronize_session": False}


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
        summary = summary_for(cycle, person.id)
        about.append(
            {
                "cycle": cycle.name,
                "shown": summary.shown,
                "responses": summary.responses,
                "means": {c.key: c.mean for c in summary.competencies if c.mean is not None},
                "comments": summary.comments,
            }
        )
    return {
        "answered": [{"cycle": name, "on": on.isoformat()} for name, on in answered],
        "about_them": about,
    }


def _forget(f: Forgetting) -> None:
    db.session.execute(
        update(UpwardAnswer).where(UpwardAnswer.manager_id == f.person.id).values(comment=""),
        execution_options=SYNC,
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
    keeps="Ratings about a manager stay for the figures, their comments go; that a report "
    "answered stays (by id, with no link to the answer).",
)
