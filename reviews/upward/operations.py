"""Submitting upward feedback: once per report, manager and cycle; never linked back."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from reviews.cycles.models import Cycle, Review
from reviews.cycles.workflow import CycleState
from reviews.errors import Forbidden, NotFound, PhaseClosed
from reviews.extensions import db
from reviews.languages import gettext
from reviews.people.models import Person
from reviews.review_templates.answers import parse_answers
from reviews.review_templates.definition import Template
from reviews.upward.models import UpwardAnswer, UpwardParticipation

# Reports answer while the cycle collects reviews; results show from calibration on.
UPWARD_OPEN = (CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK, CycleState.MANAGER_REVIEW)


def own_review(author: Person, cycle: Cycle) -> Review | None:
    """The author's review in the cycle: its frozen manager is whom they rate."""
    return db.session.scalar(
        select(Review).where(Review.cycle_id == cycle.id, Review.subject_id == author.id)
    )


def has_answered(author: Person, cycle: Cycle, manager_id: int) -> bool:
    return (
        db.session.scalar(
            select(UpwardParticipation.id).where(
                UpwardParticipation.cycle_id == cycle.id,
                UpwardParticipation.manager_id == manager_id,
                UpwardParticipation.author_id == author.id,
            )
        )
        is not None
    )


def parse_answer(
    form: Mapping[str, Any], template: Template, keys: list[str]
) -> tuple[dict[str, int], dict[str, Any], dict[str, str]]:
    """Ratings (1..5 or skipped) per management competency in `keys` (those the
    template's competency block rates), and the answers to the template's questions,
    read as a review's part reads them; errors by field, every one at once."""
    ratings: dict[str, int] = {}
    errors: dict[str, str] = {}
    for key in keys:
        name = f"rating_{key}"
        given = form.getlist(name) if hasattr(form, "getlist") else [form.get(name)]
        given = [g for g in given if g is not None]
        if len(given) > 1:
            errors[name] = gettext("Give one rating.")
            continue
        raw = str(given[0]).strip() if given else ""
        if raw in {"1", "2", "3", "4", "5"}:
            ratings[key] = int(raw)
        elif raw not in ("", "skip"):
            errors[f"rating_{key}"] = gettext("Choose a rating from 1 to 5, or skip.")
    answers, problems = parse_answers(template.questions, form, submit=True)
    errors.update(problems)
    if not ratings and not answers and not errors:
        errors["form"] = (
            gettext("Rate at least one competency or answer a question.")
            if keys
            else gettext("Answer at least one question.")
        )
    return ratings, answers, errors


def submit(author: Person, cycle: Cycle, ratings: dict[str, int], answers: dict[str, Any]) -> None:
    if not cycle.upward_feedback:
        raise NotFound(gettext("This cycle does not ask for upward feedback."))
    if cycle.state not in UPWARD_OPEN:
        raise PhaseClosed(gettext("Upward feedback is closed for this cycle."))
    review = own_review(author, cycle)
    if review is None or review.manager_id is None:
        raise Forbidden(gettext("You have no manager to give feedback to in this cycle."))
    if has_answered(author, cycle, review.manager_id):
        raise PhaseClosed(gettext("You already gave your manager feedback in this cycle."))
    db.session.add(
        UpwardParticipation(
            cycle_id=cycle.id,
            manager_id=review.manager_id,
            author_id=author.id,
            answered_on=date.today(),
        )
    )
    # A random id: ids in insertion order could be matched against the audit trail.
    db.session.add(
        UpwardAnswer(
            id=secrets.randbelow(2**31 - 2) + 1,
            cycle_id=cycle.id,
            manager_id=review.manager_id,
            ratings=ratings,
            answers=answers,
        )
    )
    # No audit event per answer: its actor and time would name who answered about whom.
    # The transition to calibration records how many answered (cycles.operations.lifecycle).
    db.session.flush()
