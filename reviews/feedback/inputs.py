"""Giving feedback, as the feedback form and `POST /api/v1/people/{id}/feedback` send it:
one parser for both (the recipient comes by email on the form, by URL on the API)."""

from __future__ import annotations

from dataclasses import dataclass

from reviews.feedback.models import FeedbackKind, FeedbackVisibility
from reviews.inputs import Fields
from reviews.languages import gettext
from reviews.people.lookup import person_field
from reviews.people.models import Person

MAX_BODY = 5000


@dataclass(frozen=True)
class NewFeedback:
    kind: FeedbackKind
    visibility: FeedbackVisibility
    body: str
    competencies: list[str]


def competency_problem(competencies: list[str], known: set[str]) -> str | None:
    if any(c not in known for c in competencies):
        return str(gettext("Choose competencies from the framework."))
    return None


def parse_feedback(data: Fields, known_competencies: set[str]) -> NewFeedback:
    kind = data.choice("kind", [k.value for k in FeedbackKind]) or FeedbackKind.FEEDBACK.value
    visibility = (
        data.choice("visibility", [v.value for v in FeedbackVisibility])
        or FeedbackVisibility.MANAGERS.value
    )
    body = data.text("body", max_length=MAX_BODY, required=gettext("Write your feedback."))
    competencies = [str(c) for c in data.values("competencies")]
    if problem := competency_problem(competencies, known_competencies):
        data.error("competencies", problem)
    data.check()
    return NewFeedback(
        FeedbackKind(kind), FeedbackVisibility(visibility), body, list(dict.fromkeys(competencies))
    )


def parse_recipient(data: Fields) -> Person | None:
    """The colleague a form names (a name or an email); None with the error recorded in
    `data`, to be reported with the rest by `parse_feedback`."""
    return person_field(data, "email", required=gettext("Enter your colleague's name or email."))
