"""Editing a growth plan, as the plan page's forms send it: one parser per action, every
problem named at once, and the rules (`text_problem`, `dates_problem`) in one place,
which the operations apply too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reviews.inputs import Fields

MAX_TEXT = 2000
MAX_NOTES = 4000
MAX_TITLE = 200
NO_ITEM = "Choose an item of the plan."


def text_problem(
    value: str, label: str, *, required: bool = False, limit: int = MAX_TEXT
) -> str | None:
    value = (value or "").strip()
    if required and not value:
        return f"{label} is needed."
    if len(value) > limit:
        return f"Keep the {label.lower()} to {limit} characters or fewer."
    return None


def dates_problem(start: date, end: date) -> str | None:
    if end < start:
        return "The end date cannot be before the start date."
    if (end - start).days > 366:
        return "Keep an item within a year."
    return None


@dataclass(frozen=True)
class NewItem:
    opportunity_key: str | None
    title: str
    description: str
    start: date
    weeks: int


@dataclass(frozen=True)
class ItemChange:
    item_id: int
    start: date
    end: date
    notes: str


def _text(data: Fields, name: str, label: str, *, required: bool = False, limit: int) -> str:
    value = data.text(name, max_length=limit * 4)
    if problem := text_problem(value, label, required=required, limit=limit):
        data.error(name, problem)
    return value


def parse_new_item(data: Fields, today: date) -> NewItem:
    """An item from the catalogue (`opportunity`) or written out (`title`, `description`),
    starting on `start` (today when left empty) for `weeks` weeks."""
    opportunity = data.text("opportunity", max_length=60) or None
    title = description = ""
    if opportunity is None:
        title = _text(data, "title", "Title", required=True, limit=MAX_TITLE)
        description = _text(data, "description", "Description", limit=MAX_TEXT)
    start = data.day("start") or today
    weeks = data.integer(
        "weeks", 1, 52, required="Choose a duration from 1 to 52 weeks.",
        invalid="Choose a duration from 1 to 52 weeks.",
    )  # fmt: skip
    data.check()
    assert weeks is not None  # noqa: S101  (check() raised otherwise)
    return NewItem(opportunity, title, description, start, weeks)


def parse_item_id(data: Fields) -> int:
    item_id = data.integer(
        "item_id", 1, 2**31 - 1, required=NO_ITEM, invalid="That item is not in this plan."
    )
    data.check()
    assert item_id is not None  # noqa: S101
    return item_id


def parse_item_change(data: Fields) -> ItemChange:
    item_id = data.integer(
        "item_id", 1, 2**31 - 1, required=NO_ITEM, invalid="That item is not in this plan."
    )
    start = data.day("start", required="Enter the start date.")
    end = data.day("end", required="Enter the end date.")
    notes = _text(data, "notes", "Notes", limit=MAX_TEXT)
    if start and end and (problem := dates_problem(start, end)):
        data.error("end", problem)
    data.check()
    assert item_id is not None and start is not None and end is not None  # noqa: S101, PT018
    return ItemChange(item_id, start, end, notes)


def parse_note(data: Fields, name: str, label: str) -> str:
    value = _text(data, name, label, limit=MAX_NOTES)
    data.check()
    return value.strip()
