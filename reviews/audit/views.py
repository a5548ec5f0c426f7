from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, stream_with_context
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import aliased

from reviews import access, params
from reviews.audit.models import AuditEvent
from reviews.audit.operations import record
from reviews.audit.reading import (
    COUNT_LIMIT,
    NotListed,
    event_kinds,
    events_starting,
    log_page,
    stream,
)
from reviews.cycles.models import Cycle
from reviews.documents.filenames import disposition
from reviews.errors import BadParameter
from reviews.extensions import db
from reviews.people.models import Person

bp = Blueprint("audit", __name__)
PER_PAGE = 50
FILTERS = ("person", "actor", "event", "cycle", "from", "to")  # see filtered_events


def _midnight(name: str) -> datetime | None:
    day = params.day(name)
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


def filtered_events() -> tuple[Any, dict[str, Any]]:
    """The audit query with the filters asked for (page, API and CSV alike), and the
    filters to show back; a malformed filter is refused with a 400 naming it."""
    stmt = select(AuditEvent)
    person = params.text("person", max_length=254).lower()
    actor = params.text("actor", max_length=254).lower()
    event = params.text("event", max_length=60)
    cycle_id = params.integer("cycle")
    since, until = _midnight("from"), _midnight("to")
    if person:
        subject = aliased(Person)
        stmt = stmt.join(subject, AuditEvent.subject_id == subject.id).where(
            subject.email == person
        )
    if actor:
        who = aliased(Person)
        stmt = stmt.join(who, AuditEvent.actor_id == who.id).where(who.email == actor)
    if event:
        stmt = stmt.where(events_starting(event))
    if cycle_id:
        stmt = stmt.where(AuditEvent.cycle_id == cycle_id)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until + timedelta(days=1))
    filters = {
        "person": person,
        "actor": actor,
        "event": event,
        "cycle": cycle_id or "",
        "from": since.date().isoformat() if since else "",
        "to": until.date().isoformat() if until else "",
    }
    return stmt, filters


@bp.get("/audit")
@access.hr_only
def audit_log() -> Any:
    """The append-only audit log, filtered by person, actor, cycle, event and dates, newest
    first, a page at a time (`after`: older than that event, `before`: newer than it)."""
    params.only(*FILTERS, "after", "before", paged_by_links=True)
    stmt, filters = filtered_events()
    after = params.integer("after", low=1)
    before = params.integer("before", low=1)
    if after and before:
        raise BadParameter(
            "Give the parameter “after” or the parameter “before”, not both.", "before"
        )
    try:
        found = log_page(stmt, PER_PAGE, after=after, before=before)
    except NotListed:
        name = "after" if after else "before"
        raise BadParameter(
            f"The parameter “{name}” must be an event this log shows.", name
        ) from None
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.created_at.desc())))
    return render_template(
        "audit/log.html",
        events=found.events,
        found=found,
        count_limit=COUNT_LIMIT,
        cycles=cycles,
        kinds=event_kinds(),
        filters=filters,
    )


@bp.get("/audit.csv")
@access.hr_only
def audit_csv() -> Any:
    """The filtered log (e.g. a period) as CSV, streamed."""
    params.only(*FILTERS)
    from reviews.reports.spreadsheets import csv_stream

    stmt, filters = filtered_events()
    record("export.audit_log", actor=current_user, filters={k: v for k, v in filters.items() if v})

    def lines() -> Any:
        # Read once the export's audit record is committed, in the stream's own transaction.
        for e in stream(stmt):
            yield [
                e.at.replace(tzinfo=None, microsecond=0),  # UTC, as the heading says
                e.event,
                e.actor or "system",
                e.subject or "",
                e.cycle_id or "",
                json.dumps(e.details, ensure_ascii=False, sort_keys=True),
            ]

    return Response(
        stream_with_context(
            csv_stream(["When (UTC)", "Event", "Actor", "Subject", "Cycle", "Details"], lines())
        ),
        mimetype="text/csv; charset=utf-8",
        headers=disposition("audit-log.csv"),
    )
