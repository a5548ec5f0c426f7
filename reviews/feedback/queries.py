"""Read side of continuous feedback: what a viewer may see of a person's timeline.

`visible_to` is the one rule for every output (pages, evidence, API): the
recipient sees everything they received; the author sees what they wrote;
managers up the recipient's line see notes marked for managers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.extensions import db
from reviews.feedback.models import FeedbackNote, FeedbackVisibility
from reviews.people.models import Person


def visible_to(viewer: Person, recipient: Person) -> ColumnElement[bool]:
    """A WHERE clause for notes to `recipient` that `viewer` may read."""
    if viewer.id == recipient.id:
        return FeedbackNote.recipient_id == recipient.id
    if access.is_in_line_above(viewer, recipient):
        return (FeedbackNote.recipient_id == recipient.id) & or_(
            FeedbackNote.visibility == FeedbackVisibility.MANAGERS,
            FeedbackNote.author_id == viewer.id,
        )
    return (FeedbackNote.recipient_id == recipient.id) & (FeedbackNote.author_id == viewer.id)


def _day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, UTC),
        datetime.combine(end + timedelta(days=1), time.min, UTC),
    )


def timeline(
    viewer: Person,
    recipient: Person,
    *,
    start: date | None = None,
    end: date | None = None,
    limit: int = 200,
) -> list[FeedbackNote]:
    """Notes to `recipient` that `viewer` may read, newest first, in one statement."""
    stmt = (
        select(FeedbackNote)
        .where(visible_to(viewer, recipient))
        .options(joinedload(FeedbackNote.author))
        .order_by(FeedbackNote.created_at.desc(), FeedbackNote.id.desc())
        .limit(limit)
    )
    if start is not None and end is not None:
        low, high = _day_bounds(start, end)
        stmt = stmt.where(FeedbackNote.created_at >= low, FeedbackNote.created_at < high)
    return list(db.session.scalars(stmt))


def given_by(author: Person, limit: int = 100) -> list[FeedbackNote]:
    return list(
        db.session.scalars(
            select(FeedbackNote)
            .where(FeedbackNote.author_id == author.id)
            .options(joinedload(FeedbackNote.recipient))
            .order_by(FeedbackNote.created_at.desc(), FeedbackNote.id.desc())
            .limit(limit)
        )
    )
