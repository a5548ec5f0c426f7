"""Sending notifications on: each delivery claimed, sent and marked in its own transaction.

`deliver` dispatches what is new (`dispatch`: which deliveries each notification
gets), then sends what is due. A delivery moves through `DeliveryState`:
queued (or digest) -> sending -> sent, or failed (refused for good, or retried
too often), or retry (refused for now: again later with backoff), or skipped (no
longer relevant when its turn came; it stays in the app).

The claim is a conditional UPDATE committed before the channel is spoken to, so
two senders never take the same delivery, and the mark is committed right after
the channel accepts it, so a failure later in the run re-sends nothing. A sender
that dies between acceptance and mark leaves its claim to expire; the message goes
again with the same Message-ID (or webhook event id), by which receivers drop
duplicates.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, partial
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, or_, select, update

from reviews.db import utcnow
from reviews.extensions import db
from reviews.languages import gettext, ngettext
from reviews.links import Link, url_of
from reviews.notifications.channels import (
    Envelope,
    Item,
    MailDown,
    Mailer,
    Permanent,
    Temporary,
    post_json,
    post_signed,
    slack_payload,
    teams_payload,
    webhook_payload,
)
from reviews.notifications.dispatch import dispatch, max_age
from reviews.notifications.models import (
    Channel,
    ChatHook,
    Delivery,
    DeliveryState,
    Notification,
)
from reviews.notifications.relevance import stale_ids
from reviews.people.models import Person

log = logging.getLogger(__name__)
# How long a claim holds: a sender that died mid-message is taken over after it.
CLAIM_FOR = timedelta(minutes=10)
# Waits between attempts after a temporary failure; the last one repeats.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=4),
)
BATCH = 200
DUE = (DeliveryState.QUEUED, DeliveryState.RETRY, DeliveryState.SENDING)
DIGEST_ID = "<digest."


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    stopped: str | None = None  # why mail stopped early (the server is down)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The CLI's line, in its language (the reasons stay as the channels gave them)."""
        parts = [ngettext("Sent %(num)d message", "Sent %(num)d messages", self.sent)]
        if self.failed:
            parts.append(
                ngettext("%(num)d failed for good", "%(num)d failed for good", self.failed)
            )
        if self.retrying:
            parts.append(
                ngettext("%(num)d will be retried", "%(num)d will be retried", self.retrying)
            )
        if self.skipped:
            parts.append(
                ngettext(
                    "%(num)d no longer relevant (kept in the app only)",
                    "%(num)d no longer relevant (kept in the app only)",
                    self.skipped,
                )
            )
        # the clauses joined and closed as the language does ("; " and "." in English)
        joined = parts[0]
        for part in parts[1:]:
            joined = gettext("%(first)s; %(next)s", first=joined, next=part)
        line = str(gettext("%(summary)s.", summary=joined))
        if self.stopped:
            line += " " + gettext("Stopped early: %(reason)s.", reason=self.stopped)
        return line


def _config() -> dict[str, Any]:
    return current_app.config


class _Senders:
    """The run's channels: one SMTP connection, HTTP posts for the rest."""

    def __init__(self) -> None:
        self.config = _config()
        self.mailer = Mailer(self.config) if self.config.get("SMTP_HOST") else None
        self.mail_down: str | None = None
        self.hooks: dict[tuple[int, Channel], str] = {}

    def available(self, channel: Channel) -> bool:
        if channel == Channel.EMAIL:
            if self.mailer is None or self.mail_down:
                return False
            try:
                self.mailer.connect()  # a server that is down stops mail before any claim
            except OSError as exc:
                self.mail_down = f"the mail server is unreachable ({exc})"
                return False
            return True
        if channel == Channel.WEBHOOK:
            return bool(self.config.get("WEBHOOK_URL") and self.config.get("WEBHOOK_SECRET"))
        return True

    def hook(self, person_id: int, channel: Channel) -> str | None:
        key = (person_id, channel)
        if key not in self.hooks:
            url = db.session.scalar(
                select(ChatHook.url).where(
                    ChatHook.person_id == person_id, ChatHook.channel == channel
                )
            )
            if url is None:
                return None
            self.hooks[key] = url
        return self.hooks[key]

    def send(self, channel: Channel, envelope: Envelope, items: list[Item]) -> None:
        """Send in the recipient's language: the message's own words were written in it
        when it was stored; this writes the rest (digest heading, footer, buttons)."""
        from reviews.languages import force_locale

        with force_locale(envelope.locale):
            self._send(channel, envelope, items)

    def _send(self, channel: Channel, envelope: Envelope, items: list[Item]) -> None:
        if channel == Channel.EMAIL:
            assert self.mailer is not None  # noqa: S101  # available() said so
            try:
                self.mailer.send(envelope, items)
            except MailDown as exc:
                self.mail_down = str(exc)
                raise
        elif channel == Channel.WEBHOOK:
            post_signed(
                self.config["WEBHOOK_URL"],
                self.config["WEBHOOK_SECRET"],
                webhook_payload(envelope, items),
                envelope.message_id,
            )
        else:
            url = self.hook(envelope.recipient_id, channel)
            if url is None:
                raise Permanent(f"the person removed their {channel.value} webhook")
            payload = slack_payload(items) if channel == Channel.SLACK else teams_payload(items)
            post_json(url, payload)

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()


@cache
def _host_name() -> str:
    return socket.getfqdn()


def _domain() -> str:
    return urlsplit(_config().get("PUBLIC_URL") or "").hostname or _host_name()


def _items(notification_ids: list[int]) -> list[Item]:
    rows = db.session.scalars(
        select(Notification).where(Notification.id.in_(notification_ids)).order_by(Notification.id)
    ).all()
    return [
        Item(n.id, n.kind, n.subject, n.body, url_of(n.link, external=True), n.created_at)
        for n in rows
    ]


def _envelope(recipient_id: int, message_id: str) -> Envelope:
    from reviews.languages import person_locale_of

    row = db.session.execute(
        select(Person.email, Person.locale).where(Person.id == recipient_id)
    ).first()
    email, locale = (row[0], row[1]) if row else ("", None)
    settings = url_of(Link("notifications.settings"), external=True)
    return Envelope(recipient_id, email, message_id, settings, person_locale_of(locale))


def _mark(ids: list[int], **values: Any) -> None:
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _attempt(
    outcome: Outcome,
    channel: Channel,
    ids: list[int],
    attempts: int,
    send: Callable[[], None],
) -> None:
    """Send one message (one delivery, or a digest of several) and mark its deliveries."""
    max_attempts = int(_config().get("MAIL_MAX_ATTEMPTS", 8))
    try:
        try:
            send()
        except (Permanent, Temporary):
            raise
        except Exception as exc:  # a fault of ours or the library's: never a stuck claim
            log.exception("sending %s delivery %s failed", channel.value, ids)
            raise Temporary(f"an error in Reviews ({type(exc).__name__}); see the log") from exc
    except Permanent as exc:
        _mark(ids, state=DeliveryState.FAILED, error=str(exc)[:500], next_at=None)
        outcome.failed += 1
        outcome.failures.append(f"{channel.value} {ids}: {exc}")
    except Temporary as exc:
        if attempts >= max_attempts:
            _mark(
                ids,
                state=DeliveryState.FAILED,
                error=f"gave up after {attempts} attempts: {exc}"[:500],
                next_at=None,
            )
            outcome.failed += 1
        else:
            _mark(
                ids,
                state=DeliveryState.RETRY,
                error=str(exc)[:500],
                next_at=utcnow() + BACKOFF[min(attempts, len(BACKOFF)) - 1],
            )
            outcome.retrying += 1
    else:
        _mark(ids, state=DeliveryState.SENT, sent_at=utcnow(), error=None, next_at=None)
        outcome.sent += 1


def _due(now: datetime) -> Any:
    return and_(Delivery.state.in_(DUE), or_(Delivery.next_at.is_(None), Delivery.next_at <= now))


def _claim(delivery_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, _due(now))
        .values(
            state=DeliveryState.SENDING,
            next_at=now + CLAIM_FOR,
            attempts=Delivery.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = getattr(result, "rowcount", 0) == 1
    if claimed:
        # A delivery keeps its id across retries; one that was part of a digest gets its
        # own, since it now goes alone (receivers would drop it as the digest again).
        db.session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                or_(Delivery.message_id.is_(None), Delivery.message_id.startswith(DIGEST_ID)),
            )
            .values(message_id=f"<{delivery_id}.{secrets.token_hex(8)}@{_domain()}>")
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return claimed


def _skip(ids: list[int], still: Any) -> int:
    """Mark as skipped those of `ids` still as `still` says (not one sent meanwhile)."""
    if not ids:
        return 0
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), still)
        .values(state=DeliveryState.SKIPPED, next_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


def _send_due(senders: _Senders, outcome: Outcome, limit: int | None) -> None:
    after = 0
    while limit is None or outcome.sent + outcome.failed + outcome.retrying < limit:
        now = utcnow()
        rows = db.session.execute(
            select(Delivery.id, Delivery.notification_id, Delivery.channel)
            .where(_due(now), Delivery.id > after)
            .order_by(Delivery.id)
            .limit(BATCH)
        ).all()
        db.session.commit()
        if not rows:
            return
        after = rows[-1].id
        rows = [r for r in rows if senders.available(r.channel)]  # mail down: touch none
        stale = stale_ids([r.notification_id for r in rows], older_than=now - max_age())
        outcome.skipped += _skip([r.id for r in rows if r.notification_id in stale], _due(now))
        for delivery_id, notification_id, channel in rows:
            if notification_id in stale or not senders.available(channel):
                continue
            if not _claim(delivery_id, utcnow()):  # another sender's, or just sent
                continue
            delivery = db.session.get(Delivery, delivery_id)
            if delivery is None or delivery.state != DeliveryState.SENDING:
                db.session.commit()
                continue
            assert delivery.message_id  # noqa: S101  # set by the claim
            envelope = _envelope(delivery.recipient_id, delivery.message_id)
            items = _items([delivery.notification_id])
            attempts = delivery.attempts
            db.session.commit()
            _attempt(
                outcome,
                channel,
                [delivery_id],
                attempts,
                partial(senders.send, channel, envelope, items),
            )
            if limit is not None and outcome.sent + outcome.failed + outcome.retrying >= limit:
                return


def _send_digests(senders: _Senders, outcome: Outcome) -> None:
    """One message per person and channel gathering every digest delivery now due."""
    now = utcnow()
    groups = db.session.execute(
        select(Delivery.recipient_id, Delivery.channel)
        .where(Delivery.state == DeliveryState.DIGEST, Delivery.next_at <= now)
        .group_by(Delivery.recipient_id, Delivery.channel)
    ).all()
    db.session.commit()
    for recipient_id, channel in groups:
        if not senders.available(channel):
            continue
        token = f"{DIGEST_ID}{secrets.token_hex(10)}@{_domain()}>"
        db.session.execute(
            update(Delivery)
            .where(
                Delivery.recipient_id == recipient_id,
                Delivery.channel == channel,
                Delivery.state == DeliveryState.DIGEST,
                Delivery.next_at <= now,
            )
            .values(
                state=DeliveryState.SENDING,
                next_at=now + CLAIM_FOR,
                attempts=Delivery.attempts + 1,
                message_id=token,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        claimed = db.session.execute(
            select(Delivery.id, Delivery.notification_id).where(Delivery.message_id == token)
        ).all()
        if not claimed:  # another sender took them
            continue
        stale = stale_ids([c.notification_id for c in claimed], older_than=now - max_age())
        outcome.skipped += _skip(
            [c.id for c in claimed if c.notification_id in stale],
            and_(Delivery.state == DeliveryState.SENDING, Delivery.message_id == token),
        )
        live = [c for c in claimed if c.notification_id not in stale]
        if not live:
            continue
        envelope = _envelope(recipient_id, token)
        items = _items([c.notification_id for c in live])
        db.session.commit()
        ids = [c.id for c in live]
        _attempt(outcome, channel, ids, 1, partial(senders.send, channel, envelope, items))
        # A digest that failed for now is retried as separate messages, with backoff.


def deliver(*, limit: int | None = None) -> Outcome:
    """Dispatch what is new, then send every delivery due (or `limit` of them) and every
    digest due; each in its own transaction."""
    db.session.commit()  # the caller's queued messages are saved whatever happens here
    outcome = Outcome()
    _made, outcome.skipped = dispatch()
    senders = _Senders()
    try:
        _send_due(senders, outcome, limit)
        _send_digests(senders, outcome)
    finally:
        senders.close()
    outcome.stopped = senders.mail_down
    return outcome
