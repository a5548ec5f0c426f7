"""Reminders for work due within a few days or overdue: once per person, task and day."""

from __future__ import annotations

from datetime import date

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
from reviews.extensions import db
from reviews.links import Link
from reviews.notifications.operations import Message, notify_many

REMIND_DAYS_BEFORE = 3


def remind_due(today: date, cycle_id: int | None = None) -> int:
    """Queue reminders for work due within a few days or overdue; once per person, task, day.

    Returns how many new reminders were queued (a second run the same day queues none).
    With `cycle_id`, only that cycle (HR's one-click reminder on the dashboard).
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
        when = "was due" if due < today else "is due"
        text = f"{when} on {due:%-d %B %Y}"
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
            messages += [
                Message(
                    pid,
                    "reminder",
                    f"{cycle.name}: your self-review {text}",
                    f"Your self-review {text}.",
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
                messages += [
                    Message(
                        pid,
                        "reminder",
                        f"{cycle.name}: peer feedback {text}",
                        f"Feedback you were asked for {text}.",
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
            messages += [
                Message(
                    mid,
                    "reminder",
                    f"{cycle.name}: {n} review{'s' if n != 1 else ''} to write ({text})",
                    f"Your team's reviews {text}.",
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
