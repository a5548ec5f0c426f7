"""Dispatch: which deliveries each new notification gets, decided once.

One per channel the person has (e-mail when SMTP_HOST is set and they did not
turn it off, their Slack and Teams webhooks, the company's webhook), due now or
at their daily digest, as they chose for that kind; skipped when the
notification is no longer relevant (`relevance`); none for a kind they keep in
the app only. `reviews.notifications.delivery` then sends them.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import exists, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from reviews.db import utcnow
from reviews.extensions import db
from reviews.notifications.models import (
    Channel,
    ChatHook,
    Delivery,
    DeliveryState,
    Notification,
    Preference,
    Timing,
)
from reviews.notifications.relevance import stale_ids
from reviews.people.models import Person

BATCH = 200


def _config() -> dict[str, Any]:
    return current_app.config


def max_age() -> timedelta:
    """How long a notification waits for a channel before it stays in the app only."""
    return timedelta(hours=int(_config().get("MAIL_MAX_AGE_HOURS", 72)))


def next_digest(now: datetime) -> datetime:
    """The next daily digest: DIGEST_HOUR o'clock UTC, today or tomorrow."""
    at = datetime.combine(now.date(), time(int(_config().get("DIGEST_HOUR", 8))), now.tzinfo)
    return at if at > now else at + timedelta(days=1)


def _channels_on() -> tuple[bool, bool]:
    config = _config()
    return bool(config.get("SMTP_HOST")), bool(
        config.get("WEBHOOK_URL") and config.get("WEBHOOK_SECRET")
    )


def dispatch(now: datetime | None = None) -> tuple[int, int]:
    """Decide the deliveries of every notification not yet dispatched; returns how many
    deliveries were made, and how many were skipped as no longer relevant (kept, so HR
    sees them). A notification whose person has no channel now waits (a channel set
    within MAIL_MAX_AGE_HOURS still gets it); older ones are let go."""
    now = now or utcnow()
    n = Notification
    db.session.execute(
        update(n)
        .where(n.dispatched_at.is_(None), n.created_at < now - max_age())
        .values(dispatched_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    mail_on, webhook_on = _channels_on()
    if not (mail_on or webhook_on or db.session.scalar(select(ChatHook.id).limit(1))):
        return 0, 0  # no channel anywhere: everything stays in the app, nothing to scan
    reachable: Any = exists().where(ChatHook.person_id == n.recipient_id)
    if webhook_on:
        reachable = true()
    elif mail_on:
        reachable = or_(reachable, Person.mail_notifications.is_(True))
    made = skipped = 0
    after = 0
    while True:
        rows = db.session.execute(
            select(n.id, n.recipient_id, n.kind, Person.mail_notifications)
            .join(Person, Person.id == n.recipient_id)
            .where(n.dispatched_at.is_(None), n.id > after, reachable)
            .order_by(n.id)
            .limit(BATCH)
        ).all()
        if not rows:
            db.session.commit()
            return made, skipped
        after = rows[-1].id
        people = {r.recipient_id for r in rows}
        timings = {
            (p, k): t
            for p, k, t in db.session.execute(
                select(Preference.person_id, Preference.kind, Preference.timing).where(
                    Preference.person_id.in_(people)
                )
            )
        }
        hooks: dict[int, list[Channel]] = {}
        for person_id, channel in db.session.execute(
            select(ChatHook.person_id, ChatHook.channel).where(ChatHook.person_id.in_(people))
        ):
            hooks.setdefault(person_id, []).append(channel)
        stale = stale_ids([r.id for r in rows], older_than=now - max_age())
        deliveries = []
        for r in rows:
            timing = timings.get((r.recipient_id, r.kind), Timing.IMMEDIATELY)
            if timing == Timing.APP_ONLY:
                continue
            channels = list(hooks.get(r.recipient_id, []))
            if mail_on and r.mail_notifications:
                channels.append(Channel.EMAIL)
            if webhook_on:
                channels.append(Channel.WEBHOOK)
            daily = timing == Timing.DAILY
            state = DeliveryState.DIGEST if daily else DeliveryState.QUEUED
            if r.id in stale:
                state = DeliveryState.SKIPPED
                skipped += len(channels)
            deliveries += [
                {
                    "notification_id": r.id,
                    "recipient_id": r.recipient_id,
                    "channel": channel,
                    "state": state,
                    "next_at": next_digest(now) if state == DeliveryState.DIGEST else None,
                    "attempts": 0,
                }
                for channel in channels
            ]
        if deliveries:
            # Another run dispatching the same notification at once adds nothing twice.
            dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
            db.session.execute(
                dialect.insert(Delivery).on_conflict_do_nothing(
                    index_elements=["notification_id", "channel"]
                ),
                deliveries,
            )
        db.session.execute(
            update(n)
            .where(n.id.in_([r.id for r in rows]))
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        made += len(deliveries)
