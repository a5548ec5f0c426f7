from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, stream_with_context
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from reviews import access, params
from reviews.audit.models import AuditEvent
from reviews.audit.operations import record
from reviews.audit.reading import stream, views_of
from reviews.cycles.models import Cycle
from reviews.documents.filenames import disposition
from reviews.extensions import db
from reviews.people.models import Person

bp = Blueprint("audit", __name__)
PER_PAGE = 50


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
        stmt = stmt.where(AuditEvent.event.startswith(event, autoescape=True))
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
    """The append-only audit log, filtered by person, actor, cycle, event and dates."""
    stmt, filters = filtered_events()
    page = params.page()
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    events = list(
        db.session.scalars(
            stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.created_at.desc())))
    kinds = list(db.session.scalars(select(AuditEvent.event).distinct().order_by(AuditEvent.event)))
    return render_template(
        "audit/log.html",
        events=views_of(events),
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        cycles=cycles,
        kinds=kinds,
        filters=filters,
    )


@bp.get("/audit.csv")
@access.hr_only
def audit_csv() -> Any:
    """The filtered log (e.g. a period) as CSV, streamed."""
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
