"""A goal, a check-in and a comment, as their forms send them: one parser each, naming
every problem at once, and the goal's rules (`goal_problems`) in one place, which the
operations apply too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reviews.goals.models import GoalStatus
from reviews.inputs import Fields
from reviews.languages import gettext

MAX_TEXT = 4000


@dataclass
class GoalFields:
    title: str
    outcome: str
    period_start: date
    period_end: date
    due_date: date
    status: GoalStatus = GoalStatus.NOT_STARTED
    progress: int = 0
    checkin_every_days: int = 14
    competencies: list[str] = field(default_factory=list)


def goal_problems(v: dict[str, Any], known_competencies: set[str]) -> dict[str, str]:
    """The goal's rules over the values known (None: already reported as malformed)."""
    errors: dict[str, str] = {}
    if v.get("title") is not None and not v["title"].strip():
        errors["title"] = gettext("Name the goal.")
    if v.get("outcome") is not None and not v["outcome"].strip():
        errors["outcome"] = gettext("Say how you will know it is reached.")
    start, end, due = v.get("period_start"), v.get("period_end"), v.get("due_date")
    if start and end and start > end:
        errors["period_end"] = gettext("The period ends after it starts.")
    if start and end and due and not start <= due <= end:
        errors["due_date"] = gettext("The due date falls within the period.")
    if v.get("progress") is not None and not 0 <= v["progress"] <= 100:
        errors["progress"] = gettext("Progress is a percentage from 0 to 100.")
    every = v.get("checkin_every_days")
    if every is not None and not 1 <= every <= 365:
        errors["checkin_every_days"] = gettext("Check in every 1 to 365 days.")
    if any(c not in known_competencies for c in v.get("competencies") or []):
        errors["competencies"] = gettext("Choose competencies from the framework.")
    return errors


def parse_goal(data: Fields, known_competencies: set[str]) -> GoalFields:
    values: dict[str, Any] = {
        "title": data.text("title", max_length=200, required=gettext("Name the goal.")),
        "outcome": data.text(
            "outcome", max_length=MAX_TEXT, required=gettext("Say how you will know it is reached.")
        ),
        "period_start": data.day("period_start", required=gettext("Enter a date.")),
        "period_end": data.day("period_end", required=gettext("Enter a date.")),
        "due_date": data.day("due_date", required=gettext("Enter a date.")),
        "status": data.choice(
            "status", [s.value for s in GoalStatus], required=gettext("Choose a status.")
        ),
        "progress": data.integer(
            "progress", 0, 100, required=gettext("Enter a number from 0 to 100.")
        ),
        "checkin_every_days": data.integer(
            "checkin_every_days", 1, 365, required=gettext("Enter a number of days.")
        ),
        "competencies": [str(c) for c in data.values("competencies")],
    }
    for name in data.errors:
        values[name] = None
    for name, message in goal_problems(values, known_competencies).items():
        data.error(name, message)
    data.check()
    values["status"] = GoalStatus(values["status"])
    return GoalFields(**values)


@dataclass(frozen=True)
class CheckIn:
    note: str
    confidence: int
    progress: int


def parse_checkin(data: Fields) -> CheckIn:
    note = data.text(
        "note", max_length=MAX_TEXT, required=gettext("Write what moved since the last check-in.")
    )
    confidence = data.integer(
        "confidence",
        1,
        5,
        required=gettext("Choose how confident you are."),
        invalid=gettext("Choose 1 to 5."),
    )
    progress = data.integer("progress", 0, 100, required=gettext("Enter a number from 0 to 100."))
    data.check()
    assert confidence is not None  # noqa: S101  (check() raised otherwise)
    assert progress is not None  # noqa: S101
    return CheckIn(note, confidence, progress)


def parse_comment(data: Fields) -> tuple[str, int | None]:
    body = data.text("body", max_length=MAX_TEXT, required=gettext("Write a comment."))
    checkin_id = data.integer("checkin_id", 1, 2**31 - 1)
    data.check()
    return body, checkin_id
