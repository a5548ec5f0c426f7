"""Continuous feedback given and received."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import joinedload

from reviews.extensions import db
from reviews.feedback.models import FeedbackNote
from reviews.people.models import Person
from reviews.privacy import ANONYMISED_TEXT, Forgetting, holding

SYNC: dict[str, Any] = {"synchronize_session": False}


def _mine(person_id: int) -> Any:
    return or_(FeedbackNote.author_id == person_id, FeedbackNote.recipient_id == person_id)


def _export(person: Person) -> list[dict[str, Any]]:
    notes = db.session.scalars(
        select(FeedbackNote)
        .where(_mine(person.id))
        .options(joinedload(FeedbackNote.author), joinedload(FeedbackNote.recipient))
        .order_by(FeedbackNote.created_at)
    )
    return [
        {
            "at": n.created_at.isoformat(),
            "from": n.author.name,
            "to": n.recipient.name,
            "kind": n.kind.value,
            "visibility": n.visibility.value,
            "competencies": n.competencies,
            "text": n.body,
        }
        for n in notes
    ]


def _forget(f: Forgetting) -> None:
    db.session.execute(
        update(FeedbackNote).where(_mine(f.person.id)).values(body=ANONYMISED_TEXT),
        execution_options=SYNC,
    )


holding(
    "feedback",
    section="continuous_feedback",
    columns=("feedback_note.author_id", "feedback_note.recipient_id"),
    export=_export,
    forget=_forget,
    keeps="That a note was given, when and with which competencies; its text goes. "
    "Continuous feedback is never anonymous, so authors are named in the export.",
)
