"""API: continuous feedback, goals and upward-feedback results.

The same queries as the pages: `feedback.queries.timeline` applies who may
read which note, `goals.queries.goals_of` follows `access.can_view_goals`, and
upward results come only from `upward.queries.summary_for` (aggregates at or
above the cycle's threshold, never an author).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select

from reviews import access
from reviews.api.core import ApiError, body, bp, operation
from reviews.api.schemas import ID, iso
from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.feedback import queries as feedback_queries
from reviews.feedback.inputs import MAX_BODY, parse_feedback
from reviews.feedback.models import FeedbackKind, FeedbackNote, FeedbackVisibility
from reviews.feedback.operations import give_feedback
from reviews.framework.models import Competency
from reviews.goals.queries import goals_of
from reviews.inputs import Fields
from reviews.languages import gettext
from reviews.people.models import Person
from reviews.upward.aggregate import BANDS, SPREAD_MINIMUM
from reviews.upward.queries import summary_for

NOTE = {
    "type": "object",
    "required": ["id", "author", "kind", "visibility", "body"],
    "properties": {
        "id": ID,
        "author": {"type": "string", "description": "Continuous feedback is never anonymous"},
        "kind": {"type": "string", "enum": [k.value for k in FeedbackKind]},
        "visibility": {"type": "string", "enum": [v.value for v in FeedbackVisibility]},
        "body": {"type": "string"},
        "competencies": {"type": "array", "items": {"type": "string"}},
        "created_at": {"type": "string"},
    },
}
GIVE = {
    "type": "object",
    "required": ["body"],
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in FeedbackKind]},
        "visibility": {"type": "string", "enum": [v.value for v in FeedbackVisibility]},
        "body": {"type": "string", "minLength": 1, "maxLength": MAX_BODY},
        "competencies": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
    },
    "additionalProperties": False,
}
GOAL = {
    "type": "object",
    "required": ["id", "title", "status", "progress"],
    "properties": {
        "id": ID,
        "title": {"type": "string"},
        "outcome": {"type": "string"},
        "competencies": {"type": "array", "items": {"type": "string"}},
        "period_start": {"type": "string"},
        "period_end": {"type": "string"},
        "due_date": {"type": "string"},
        "status": {"type": "string"},
        "progress": ID,
        "source": {"type": "string"},
        "checkins": ID,
        "last_checkin": {"type": ["string", "null"]},
        "next_checkin": {"type": ["string", "null"]},
        "version": ID,
    },
}
LIST_OF_NOTES = {"type": "array", "items": NOTE}
LIST_OF_GOALS = {"type": "array", "items": GOAL}
UPWARD = {
    "type": "object",
    "required": ["manager_id", "shown", "threshold"],
    "properties": {
        "manager_id": ID,
        "threshold": ID,
        "shown": {
            "type": "boolean",
            "description": "False while answers are collected or when fewer than the "
            "threshold answered; then nothing else is given, not even the count",
        },
        "responses": {"type": ["integer", "null"]},
        "competencies": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "name": {"type": "string"},
                    "responses": {
                        "type": ["integer", "null"],
                        "description": "null when fewer than the threshold rated it",
                    },
                    "mean": {"type": ["number", "null"]},
                    "bands": {
                        "type": ["object", "null"],
                        "description": "How many answers were 1-2, 3 and 4-5; given from "
                        f"{SPREAD_MINIMUM} answers (and the threshold) on",
                    },
                },
            },
        },
        "questions": {
            "type": "array",
            "description": "The cycle's upward questions the caller may read, in the "
            "template's order: free text word for word and sorted, every other kind counted",
            "items": {
                "type": "object",
                "required": ["key", "label", "kind", "responses"],
                "properties": {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    "kind": {
                        "type": "string",
                        "enum": ["text", "scale", "choice", "choices", "yes_no"],
                    },
                    "responses": {
                        "type": ["integer", "null"],
                        "description": "How many answered it; null when fewer than the "
                        "threshold did (then nothing else is given). Free text: how many "
                        "texts there are (every one shows once the results do)",
                    },
                    "mean": {
                        "type": ["number", "null"],
                        "description": "A scale's mean step, can't-judge left out",
                    },
                    "steps": {"type": "integer", "description": "A scale's top step"},
                    "counts": {
                        "type": ["array", "null"],
                        "description": "How many chose each answer, as [answer, count] "
                        f"pairs in the question's order; given from {SPREAD_MINIMUM} answers "
                        "(and the threshold) on",
                        "items": {"type": "array"},
                    },
                    "texts": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "comments": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Every free-text answer of `questions` together, sorted",
        },
    },
}


def _person(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        raise ApiError(404, "not_found", gettext("Nobody has this id."))
    return person


def note_json(n: FeedbackNote) -> dict[str, Any]:
    return {
        "id": n.id,
        "author": n.author.name,
        "kind": n.kind.value,
        "visibility": n.visibility.value,
        "body": n.body,
        "competencies": list(n.competencies),
        "created_at": iso(n.created_at),
    }


@bp.get("/people/<int:person_id>/feedback")
@access.signed_in
@operation(
    "Continuous feedback a person received, as the caller may read it (the person "
    "and their managers up the line), newest first",
    {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": NOTE}},
    },
)
def feedback_timeline(person_id: int) -> Any:
    person = _person(person_id)
    if not access.can_view_feedback_timeline(current_user, person):
        raise ApiError(
            403, "forbidden", gettext("Only the person and their managers read their feedback.")
        )
    return jsonify(items=[note_json(n) for n in feedback_queries.timeline(current_user, person)])


@bp.post("/people/<int:person_id>/feedback")
@access.signed_in
@operation(
    "Give a colleague feedback or praise (never anonymous)",
    NOTE,
    body=GIVE,
    status=201,
)
def feedback_give(person_id: int) -> Any:
    person = _person(person_id)
    if not access.can_give_feedback(current_user, person):
        raise ApiError(
            403, "forbidden", gettext("Feedback goes to an active colleague, not to yourself.")
        )
    known = set(db.session.scalars(select(Competency.key)))
    given = parse_feedback(Fields.of_json(body()), known)
    note = give_feedback(
        current_user,
        person,
        kind=given.kind,
        visibility=given.visibility,
        body=given.body,
        competencies=given.competencies,
        known_competencies=known,
    )
    return jsonify(note_json(note)), 201


@bp.get("/people/<int:person_id>/goals")
@access.signed_in
@operation(
    "A person's goals with their check-in counts (the person and their managers up the line)",
    {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": GOAL}},
    },
)
def goals(person_id: int) -> Any:
    person = _person(person_id)
    if not access.can_view_goals(current_user, person):
        raise ApiError(
            403, "forbidden", gettext("Only the person and their managers see their goals.")
        )
    return jsonify(
        items=[
            {
                "id": row.goal.id,
                "title": row.goal.title,
                "outcome": row.goal.outcome,
                "competencies": list(row.goal.competencies),
                "period_start": iso(row.goal.period_start),
                "period_end": iso(row.goal.period_end),
                "due_date": iso(row.goal.due_date),
                "status": row.goal.status.value,
                "progress": row.goal.progress,
                "source": row.goal.source.value,
                "checkins": row.checkins,
                "last_checkin": iso(row.last_checkin),
                "next_checkin": iso(row.next_checkin),
                "version": row.goal.version,
            }
            for row in goals_of(person)
        ]
    )


@bp.get("/cycles/<int:cycle_id>/upward/<int:person_id>")
@access.signed_in
@operation(
    "Upward feedback about a manager in a cycle: aggregates only, and only at or above "
    "the cycle's anonymity threshold (the manager, their managers and HR)",
    UPWARD,
)
def upward(cycle_id: int, person_id: int) -> Any:
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise ApiError(404, "not_found", gettext("There is no cycle with this id."))
    manager = _person(person_id)
    if not access.can_view_upward_summary(current_user, manager):
        raise ApiError(
            403, "forbidden", gettext("Only the manager, their managers and HR see this.")
        )
    summary = summary_for(cycle, manager, current_user)
    if not summary.shown:
        return jsonify(manager_id=manager.id, threshold=summary.threshold, shown=False)
    return jsonify(
        manager_id=manager.id,
        threshold=summary.threshold,
        shown=True,
        responses=summary.responses,
        competencies=[
            {
                "key": c.key,
                "name": c.name,
                "responses": c.responses,
                "mean": c.mean,
                "bands": dict(zip(BANDS, c.bands, strict=True)) if c.bands else None,
            }
            for c in summary.competencies
        ],
        questions=[q.as_json() for q in summary.questions],
        comments=list(summary.comments),
    )
