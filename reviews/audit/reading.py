"""The audit log as HR reads it, on the page, in the API and in the CSV alike.

Events store people as ids (the actor, the subject, and `*_id` details such as a
peer request's reviewer), never a name or an email: anonymising a person then
needs no rewriting of the log, and this is the one place that turns ids into
who they are now. What may not be known is never stored in the first place:
peer feedback in a cycle that hides its authors and upward answers are audited
only in aggregate (`cycles.operations`), so no event pairs an author with the
person they wrote about.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import Select, bindparam, func, literal, select, tuple_

from reviews.audit.models import AuditEvent
from reviews.db import UTCDateTime
from reviews.extensions import db
from reviews.paging import bounded_count, window
from reviews.people.models import Person

# Details that name a person by id, and what they are shown as.
PERSON_DETAILS = {"reviewer_id": "reviewer", "author_id": "author", "scope_manager_id": "manager"}
CHUNK = 1000


@dataclass(frozen=True)
class EventView:
    id: int
    at: datetime
    event: str
    actor: str | None  # email, None for the system
    subject: str | None
    cycle_id: int | None
    details: dict[str, Any]


def _emails(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(select(Person.id, Person.email).where(Person.id.in_(ids)))
    return {row[0]: row[1] for row in rows.all()}


def views_of(events: Sequence[AuditEvent]) -> list[EventView]:
    """Events with every person they name resolved, in one statement."""
    ids: set[int] = set()
    for e in events:
        ids.update(i for i in (e.actor_id, e.subject_id) if i is not None)
        ids.update(
            v for k, v in (e.details or {}).items() if k in PERSON_DETAILS and isinstance(v, int)
        )
    emails = _emails(ids)
    out = []
    for e in events:
        details = {}
        for key, value in (e.details or {}).items():
            if key in PERSON_DETAILS and isinstance(value, int):
                details[PERSON_DETAILS[key]] = emails.get(value, f"person {value}")
            else:
                details[key] = value
        out.append(
            EventView(
                id=e.id,
                at=e.at,
                event=e.event,
                actor=emails.get(e.actor_id) if e.actor_id else None,
                subject=emails.get(e.subject_id) if e.subject_id else None,
                cycle_id=e.cycle_id,
                details=details,
            )
        )
    return out


def stream(stmt: Select[Any]) -> Iterator[EventView]:
    """Every event `stmt` selects, oldest first, a chunk at a time (for the CSV)."""
    last = None
    ordered = stmt.order_by(AuditEvent.at, AuditEvent.id)
    while True:
        page = ordered
        if last is not None:
            at, event_id = last
            page = page.where(
                (AuditEvent.at > at) | ((AuditEvent.at == at) & (AuditEvent.id > event_id))
            )
        events = list(db.session.scalars(page.limit(CHUNK)))
        if not events:
            return
        yield from views_of(events)
        last = (events[-1].at, events[-1].id)
        db.session.expunge_all()


# The log page counts its matches up to this many; above it the page says "more than":
# an exact count of a log that only grows would read all of it on every view.
COUNT_LIMIT = 1000


class NotListed(LookupError):
    """The event a page should start after (or end before) is not among the matches."""


@dataclass
class LogPage:
    events: list[EventView]
    total: int  # matches, counted up to COUNT_LIMIT + 1
    newer_before: int | None  # the event the newer page ends before, if any
    older_after: int | None  # the event the older page starts after, if any

    @property
    def more_than(self) -> bool:
        return self.total > COUNT_LIMIT


def log_page(
    stmt: Select[Any], per_page: int, *, after: int | None = None, before: int | None = None
) -> LogPage:
    """A page of the events `stmt` selects, newest first: the first, the one after (older
    than) event `after` or the one before (newer than) event `before` (keyset paging on
    the (at, id) index: the thousandth page costs what the first does)."""
    total = bounded_count(stmt, AuditEvent.id, COUNT_LIMIT)
    key = tuple_(AuditEvent.at, AuditEvent.id)
    page = stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    cursor = after or before
    if cursor is not None:
        mark = db.session.execute(
            stmt.with_only_columns(AuditEvent.at, AuditEvent.id).where(AuditEvent.id == cursor)
        ).first()
        if mark is None:
            raise NotListed(cursor)
        if after is not None:
            page = page.where(key < tuple_(literal(mark[0], UTCDateTime()), mark[1]))
        else:
            page = stmt.where(key > tuple_(literal(mark[0], UTCDateTime()), mark[1])).order_by(
                AuditEvent.at, AuditEvent.id
            )
    events = list(db.session.scalars(page.limit(per_page + 1)))
    found = window(events, per_page, lambda e: e.id, after=after, before=before)
    return LogPage(
        views_of(found.rows),
        total,
        newer_before=found.previous_before,
        older_after=found.next_after,
    )


_KINDS_READ = "reviews.audit_event_kinds"  # where a request keeps the kinds it read


def event_kinds() -> list[str]:
    """The distinct events in the log, alphabetically, one index probe per kind (a
    recursive skip over the (event, at) index) rather than a read of the whole log.
    Read once a request (the filter and the page's list of events both need them)."""
    if not has_request_context():
        return _event_kinds()
    kept = request.environ.get(_KINDS_READ)
    if kept is None:
        kept = request.environ[_KINDS_READ] = _event_kinds()
    return list(kept)


def events_starting(prefix: str) -> Any:
    """Events whose kind starts with `prefix` (any case): `event IN` the kinds in the
    log that do, their names written into the SQL. A LIKE on the event cannot use
    its index (a prefix needs the "C" collation, and a prepared statement's generic
    plan knows no prefix): at 1,000,000 events a rare kind's page read the whole log
    (70-140 ms). With the kinds named, the planner reads a rare kind from the
    (event, at) index and a common one from the (at, id) index, by its statistics."""
    start = prefix.lower()
    kinds = [k for k in event_kinds() if k.lower().startswith(start)]
    return AuditEvent.event.in_(
        bindparam("event_kinds", kinds, expanding=True, literal_execute=True)
    )


def _event_kinds() -> list[str]:
    kinds = select(func.min(AuditEvent.event).label("event")).cte("kinds", recursive=True)
    following = select(
        select(func.min(AuditEvent.event)).where(AuditEvent.event > kinds.c.event).scalar_subquery()
    ).where(kinds.c.event.is_not(None))
    kinds = kinds.union_all(following)
    return list(
        db.session.scalars(
            select(kinds.c.event).where(kinds.c.event.is_not(None)).order_by(kinds.c.event)
        )
    )
