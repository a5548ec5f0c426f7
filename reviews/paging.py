"""Lists that grow with the org or the log, read a page at a time after a key.

Keyset paging: a page starts after (or ends before) a row the previous page showed,
read from an index in the list's order, so the thousandth page costs what the first
does. The lists (the audit log, the directory, the managers page, a manager's org)
each walk their own index; what they share is here: the bounded count of matches and
the turning of `per_page + 1` rows read into a page with its links on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from reviews.extensions import db

T = TypeVar("T")

# A list counts its matches up to this many; above it the page says "more than": an
# exact count of 100,000 people, or of a log that only grows, would read all of them
# on every view.
COUNT_LIMIT = 1000


def bounded_count(stmt: Select[Any], column: Any, limit: int | None = None) -> int:
    """How many rows `stmt` selects, counted up to `limit + 1` (one past: "more than");
    by default up to COUNT_LIMIT + 1."""
    limit = COUNT_LIMIT if limit is None else limit
    counted = select(func.count()).select_from(
        stmt.with_only_columns(column).limit(limit + 1).subquery()
    )
    return db.session.scalar(counted) or 0


@dataclass
class Window(Generic[T]):
    """A page of rows, in the list's order, and the rows its links go on from."""

    rows: list[T]
    previous_before: Any  # the key the previous page ends before, None on the first page
    next_after: Any  # the key the next page starts after, None on the last page


def window(
    read: list[T],
    per_page: int,
    key: Callable[[T], Any],
    *,
    after: Any = None,
    before: Any = None,
) -> Window[T]:
    """The page among `read`: up to `per_page + 1` rows from the first, after key
    `after` in the list's order, or before key `before` in the reverse order (one
    more than a page says whether the list goes on that way)."""
    more = len(read) > per_page
    rows = read[:per_page]
    if before is not None:
        rows.reverse()
    # Before a page reached by "next" lie earlier rows; after a page reached by
    # "previous", later ones; otherwise `more` says whether the list goes on.
    has_previous = after is not None or (before is not None and more)
    has_next = before is not None or more
    return Window(
        rows,
        previous_before=key(rows[0]) if rows and has_previous else None,
        next_after=key(rows[-1]) if rows and has_next else None,
    )
