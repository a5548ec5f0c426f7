from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased, joinedload

from reviews import access
from reviews.audit.models import AuditEvent
from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.people.models import Person

bp = Blueprint("audit", __name__)
PER_PAGE = 50


def _date(name: str) -> datetime | None:
    try:
        day = datetime.strptime(request.args.get(name, ""), "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.min, tzinfo=UTC)


def filtered_events() -> tuple[Any, dict[str, Any]]:
    """The audit query with the page's filters, and the filters to show back."""
    stmt = select(AuditEvent)
    person = request.args.get("person", "").strip().lower()[:254]
    actor = request.args.get("actor", "").strip().lower()[:254]
    event = request.args.get("event", "").strip()[:60]
    cycle_arg = request.args.get("cycle", "")
    cycle_id = int(cycle_arg) if cycle_arg.isdigit() and len(cycle_arg) < 10 else None
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
    since, until = _date("from"), _date("to")
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until + timedelta(days=1))
    filters = {
        "person": person,
        "actor": actor,
        "event": event,
        "cycle": cycle_id or "",
        "from": request.args.get("from", "")[:10],
        "to": request.args.get("to", "")[:10],
    }
    return stmt, filters


@bp.get("/audit")
@access.hr_only
def audit_log() -> Any:
    """The append-only audit log, filtered by person, actor, cycle, event and dates."""
    stmt, filters = filtered_events()
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isdigit() and 0 < int(page_arg) < 100_000 else 1
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    events = list(
        db.session.scalars(
            stmt.options(joinedload(AuditEvent.actor), joinedload(AuditEvent.subject))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(PER_PAGE)
            .offset((page - 1) * PER_PAGE)
        )
    )
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.created_at.desc())))
    kinds = list(db.session.scalars(select(AuditEvent.event).distinct().order_by(AuditEvent.event)))
    return render_template(
        "audit/log.html",
        events=events,
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
    from flask import Response, stream_with_context

    from reviews.audit.operations import record
    from reviews.reports.spreadsheets import csv_stream

    stmt, filters = filtered_events()
    record("export.audit_log", actor=current_user, filters={k: v for k, v in filters.items() if v})
    actor, subject = aliased(Person), aliased(Person)

    def lines() -> Any:
        # Read once the export's audit record is committed, in the stream's own transaction.
        rows = db.session.execute(
            stmt.with_only_columns(
                AuditEvent.at,
                AuditEvent.event,
                actor.email,
                subject.email,
                AuditEvent.cycle_id,
                AuditEvent.details,
            )
            .outerjoin(actor, AuditEvent.actor_id == actor.id)
            .outerjoin(subject, AuditEvent.subject_id == subject.id)
            .order_by(AuditEvent.at, AuditEvent.id)
        ).yield_per(1000)
        for at, event, by, about, cycle_id, details in rows:
            yield [
                at.strftime("%Y-%m-%d %H:%M:%S"),
                event,
                by or "system",
                about or "",
                cycle_id or "",
                json.dumps(details, ensure_ascii=False, sort_keys=True),
            ]

    return Response(
        stream_with_context(
            csv_stream(["at_utc", "event", "actor", "subject", "cycle_id", "details"], lines())
        ),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )
