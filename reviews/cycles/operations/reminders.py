"""Reminders for work due within a few days or overdue: once per person, task and day."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, or_, select

from reviews.cycles.models import (
    Assessment,
    Cycle,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.workflow import CycleState
from reviews.dates import LocalDate
from reviews.extensions import db
from reviews.languages import lazy_gettext, lazy_ngettext
from reviews.links import Link
from reviews.notifications.operations import Message, notify_many

REMIND_DAYS_BEFORE = 3


def due_day(day: date) -> LocalDate:
    """`day` as a message says it ("8 November 2026" in English), lazily: written in the
    language the message is written in, its recipient's (notifications.operations)."""
    return LocalDate(day, "long")


def remind_due(today: date, cycle_id: int | None = None) -> int:
    """Queue reminders for work due within a few days or overdue; once per person, task, day.

    Returns how many new reminders were queued (a second run the same day queues none).
    With `cycle_id`, only that cycle (HR's one-click reminder on the dashboard).
    Each reminder is written in its recipient's language (lazy texts, `notify_many`).
    """
    from reviews.notifications.models import Notification

    before = db.session.scalar(select(func.count()).select_from(Notification)) or 0
    messages: list[Message] = []
    stmt = select(Cycle).where(
        Cycle.state.in_(
            [CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK, CycleState.MANAGER_REVIEW]
        )
    )
    if cycle_id is not None:
        stmt = stmt.where(Cycle.id == cycle_id)
    cycles = db.session.scalars(stmt).all()
    for cycle in cycles:
        due = cycle.due(cycle.state)
        if due is None or (due - today).days > REMIND_DAYS_BEFORE:
            continue
        late = due < today
        day = due_day(due)
        if cycle.state == CycleState.SELF_REVIEW:
            rows = db.session.execute(
                select(Review.id, Review.subject_id)
                .join(Assessment)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.SELF,
                    Assessment.state == PartState.DRAFT,
                )
            ).all()
            if late:
                subject = lazy_gettext(
                    "%(cycle)s: your self-review was due on %(date)s", cycle=cycle.name, date=day
                )
                body = lazy_gettext("Your self-review was due on %(date)s.", date=day)
            else:
                subject = lazy_gettext(
                    "%(cycle)s: your self-review is due on %(date)s", cycle=cycle.name, date=day
                )
                body = lazy_gettext("Your self-review is due on %(date)s.", date=day)
            messages += [
                Message(
                    pid,
                    "reminder",
                    subject,
                    body,
                    Link("cycles.self_part", rid),
                    f"remind:{cycle.id}:self:{pid}:{today}",
                )
                for rid, pid in rows
            ]
        if cycle.state in (CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK):
            rows = db.session.execute(
                select(PeerRequest.id, PeerRequest.reviewer_id)
                .join(Review)
                .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
                .where(
                    Review.cycle_id == cycle.id,
                    PeerRequest.state == RequestState.APPROVED,
                    or_(Assessment.id.is_(None), Assessment.state == PartState.DRAFT),
                )
            ).all()
            if cycle.state == CycleState.PEER_FEEDBACK:
                if late:
                    subject = lazy_gettext(
                        "%(cycle)s: peer feedback was due on %(date)s", cycle=cycle.name, date=day
                    )
                    body = lazy_gettext(
                        "Feedback you were asked for was due on %(date)s.", date=day
                    )
                else:
                    subject = lazy_gettext(
                        "%(cycle)s: peer feedback is due on %(date)s", cycle=cycle.name, date=day
                    )
                    body = lazy_gettext("Feedback you were asked for is due on %(date)s.", date=day)
                messages += [
                    Message(
                        pid,
                        "reminder",
                        subject,
                        body,
                        Link("cycles.peer_request", rid),
                        f"remind:{cycle.id}:peer:{rid}:{today}",
                    )
                    for rid, pid in rows
                ]
        if cycle.state == CycleState.MANAGER_REVIEW:
            managers = db.session.execute(
                select(Review.manager_id, func.count())
                .join(Assessment)
                .where(
                    Review.cycle_id == cycle.id,
                    Assessment.kind == PartKind.MANAGER,
                    Assessment.state == PartState.DRAFT,
                )
                .group_by(Review.manager_id)
            ).all()
            # ("Your team's reviews is due" is the English the reminders have always said)
            body = (
                lazy_gettext("Your team's reviews was due on %(date)s.", date=day)
                if late
                else lazy_gettext("Your team's reviews is due on %(date)s.", date=day)
            )
            messages += [
                Message(
                    mid,
                    "reminder",
                    _reviews_to_write(cycle.name, n, day, late),
                    body,
                    Link("cycles.team", cycle.id),
                    f"remind:{cycle.id}:manager:{mid}:{today}",
                )
                for mid, n in managers
                if mid is not None
            ]
    notify_many(messages)
    db.session.flush()
    after = db.session.scalar(select(func.count()).select_from(Notification)) or 0
    return after - before


def _reviews_to_write(cycle: str, n: int, day: Any, late: bool) -> Any:
    if late:
        return lazy_ngettext(
            "%(cycle)s: %(num)d review to write (was due on %(date)s)",
            "%(cycle)s: %(num)d reviews to write (was due on %(date)s)",
            n,
            cycle=cycle,
            date=day,
        )
    return lazy_ngettext(
        "%(cycle)s: %(num)d review to write (is due on %(date)s)",
        "%(cycle)s: %(num)d reviews to write (is due on %(date)s)",
        n,
        cycle=cycle,
        date=day,
    )
