"""Editing a growth plan, as the plan page's forms send it: one parser per action, every
problem named at once, and the rules (`text_problem`, `dates_problem`) in one place,
which the operations apply too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from reviews.inputs import Fields
from reviews.languages import gettext, lazy_gettext

MAX_TEXT = 2000
MAX_NOTES = 4000
MAX_TITLE = 200

# What is wrong with a text, per field (a sentence each: the field's name is not glued in).
NEEDED = {
    "title": lazy_gettext("Title is needed."),
    "description": lazy_gettext("Description is needed."),
    "notes": lazy_gettext("Notes are needed."),
    "comment": lazy_gettext("Comment is needed."),
}
TOO_LONG = {
    "title": lazy_gettext("Keep the title to %(limit)s characters or fewer."),
    "description": lazy_gettext("Keep the description to %(limit)s characters or fewer."),
    "notes": lazy_gettext("Keep the notes to %(limit)s characters or fewer."),
    "comment": lazy_gettext("Keep the comment to %(limit)s characters or fewer."),
}


def text_problem(
    value: str, field: str, *, required: bool = False, limit: int = MAX_TEXT
) -> str | None:
    """What is wrong with the text of `field` (title, description, notes or comment)."""
    value = (value or "").strip()
    if required and not value:
        return str(NEEDED[field])
    if len(value) > limit:
        return str(TOO_LONG[field] % {"limit": limit})
    return None


def dates_problem(start: date, end: date) -> str | None:
    if end < start:
        return str(gettext("The end date cannot be before the start date."))
    if (end - start).days > 366:
        return str(gettext("Keep an item within a year."))
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


def _text(data: Fields, name: str, *, required: bool = False, limit: int) -> str:
    value = data.text(name, max_length=limit * 4)
    if problem := text_problem(value, name, required=required, limit=limit):
        data.error(name, problem)
    return value


def parse_new_item(data: Fields, today: date) -> NewItem:
    """An item from the catalogue (`opportunity`) or written out (`title`, `description`),
    starting on `start` (today when left empty) for `weeks` weeks."""
    opportunity = data.text("opportunity", max_length=60) or None
    title = description = ""
    if opportunity is None:
        title = _text(data, "title", required=True, limit=MAX_TITLE)
        description = _text(data, "description", limit=MAX_TEXT)
    start = data.day("start") or today
    duration = gettext("Choose a duration from 1 to 52 weeks.")
    weeks = data.integer("weeks", 1, 52, required=duration, invalid=duration)
    data.check()
    assert weeks is not None  # noqa: S101  (check() raised otherwise)
    return NewItem(opportunity, title, description, start, weeks)


def _item_id(data: Fields) -> int | None:
    return data.integer(
        "item_id",
        1,
        2**31 - 1,
        required=gettext("Choose an item of the plan."),
        invalid=gettext("That item is not in this plan."),
    )


def parse_item_id(data: Fields) -> int:
    item_id = _item_id(data)
    data.check()
    assert item_id is not None  # noqa: S101
    return item_id


def parse_item_change(data: Fields) -> ItemChange:
    item_id = _item_id(data)
    start = data.day("start", required=gettext("Enter the start date."))
    end = data.day("end", required=gettext("Enter the end date."))
    notes = _text(data, "notes", limit=MAX_TEXT)
    if start and end and (problem := dates_problem(start, end)):
        data.error("end", problem)
    data.check()
    assert item_id is not None and start is not None and end is not None  # noqa: S101, PT018
    return ItemChange(item_id, start, end, notes)


def parse_note(data: Fields, name: str) -> str:
    """The plan's `notes` or the person's `comment`."""
    value = _text(data, name, limit=MAX_NOTES)
    data.check()
    return value.strip()
