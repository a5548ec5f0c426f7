"""Giving continuous feedback: checked, stored, audited, and the recipient told."""

from __future__ import annotations

from reviews import access
from reviews.audit.operations import record
from reviews.errors import Invalid
from reviews.extensions import db
from reviews.feedback.inputs import competency_problem
from reviews.feedback.models import FeedbackKind, FeedbackNote, FeedbackVisibility
from reviews.languages import gettext, lazy_gettext
from reviews.links import Link
from reviews.notifications.operations import Message, notify
from reviews.people.models import Person


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
        raise Invalid(gettext("Feedback goes to a colleague, not to yourself."), "email")
    if not access.can_give_feedback(author, recipient):
        raise Invalid(
            gettext("%(name)s has left and no longer receives feedback.", name=recipient.name),
            "email",
        )
    body = body.strip()
    if not body:
        raise Invalid(gettext("Write your feedback."), "body")
    if problem := competency_problem(competencies, known_competencies):
        raise Invalid(problem, "competencies")
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
    # Lazy: written in the recipient's language (notifications.operations).
    if kind == FeedbackKind.PRAISE:
        subject = lazy_gettext("%(name)s gave you praise", name=author.name)
        text = lazy_gettext(
            "%(name)s wrote you praise. Read it on your feedback page.", name=author.name
        )
    else:
        subject = lazy_gettext("%(name)s gave you feedback", name=author.name)
        text = lazy_gettext(
            "%(name)s wrote you feedback. Read it on your feedback page.", name=author.name
        )
    notify(Message(recipient.id, "feedback", subject, text, Link("feedback.mine")))
    return note
