"""Giving continuous feedback: checked, stored, audited, and the recipient told."""

from __future__ import annotations

from flask import url_for

from reviews import access
from reviews.audit.operations import record
from reviews.extensions import db
from reviews.feedback.models import FeedbackKind, FeedbackNote, FeedbackVisibility
from reviews.notifications.operations import Message, notify
from reviews.people.models import Person


class FeedbackError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def give_feedback(
    author: Person,
    recipient: Person,
    *,
    kind: FeedbackKind,
    visibility: FeedbackVisibility,
    body: str,
    competencies: list[str],
    known_competencies: set[str],
) -> FeedbackNote:
    if recipient.id == author.id:
        raise FeedbackError("Feedback goes to a colleague, not to yourself.", "email")
    if not access.can_give_feedback(author, recipient):
        raise FeedbackError(f"{recipient.name} has left and no longer receives feedback.", "email")
    body = body.strip()
    if not body:
        raise FeedbackError("Write your feedback.", "body")
    unknown = [c for c in competencies if c not in known_competencies]
    if unknown:
        raise FeedbackError("Choose competencies from the framework.", "competencies")
    note = FeedbackNote(
        author_id=author.id,
        recipient_id=recipient.id,
        kind=kind,
        visibility=visibility,
        body=body,
        competencies=list(dict.fromkeys(competencies)),
    )
    db.session.add(note)
    db.session.flush()
    record(
        "feedback.given",
        actor=author,
        subject=recipient,
        feedback_id=note.id,
        kind=kind.value,
        visibility=visibility.value,
    )
    word = "praise" if kind == FeedbackKind.PRAISE else "feedback"
    notify(
        Message(
            recipient.id,
            "feedback",
            f"{author.name} gave you {word}",
            f"{author.name} wrote you {word}. Read it on your feedback page.",
            url_for("feedback.mine", _external=True),
        )
    )
    return note
