"""Mailing the outbox: each message claimed, sent and marked in its own transaction.

A message moves through `MailState`: queued -> sending -> sent, or failed (the
server refused it for good, 5xx, or it was retried too often), or retry (a 4xx,
a dropped connection: tried again later with backoff), or skipped (no longer
worth mailing: its cycle closed, its task is done, or it waited longer than
MAIL_MAX_AGE_HOURS for a mail server; it stays in the in-app outbox).

The claim is a conditional UPDATE committed before the SMTP conversation, so two
senders never take the same message, and the mark is committed right after the
server accepts it, so a failure later in the run re-sends nothing. A sender that
dies between acceptance and mark leaves the claim to expire; the message goes
again with the same Message-ID, which receiving systems use to drop duplicates.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import smtplib
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from markupsafe import escape
from sqlalchemy import and_, or_, select, update

from reviews.db import utcnow
from reviews.extensions import db
from reviews.links import Link, url_of
from reviews.notifications.models import MailState, Notification
from reviews.notifications.relevance import stale_ids
from reviews.people.models import Person

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
DUE_STATES = (MailState.QUEUED, MailState.RETRY, MailState.SENDING)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def header_text(value: str, limit: int = 200) -> str:
    """Text that reaches a mail header: one line, no control characters."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    stopped: str | None = None  # why the run ended early (the server is down)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"Mailed {self.sent} notification{'s' if self.sent != 1 else ''}"]
        if self.failed:
            parts.append(f"{self.failed} failed for good")
        if self.retrying:
            parts.append(f"{self.retrying} will be retried")
        if self.skipped:
            parts.append(f"{self.skipped} no longer relevant (kept in the app only)")
        line = "; ".join(parts) + "."
        return line + (f" Stopped early: {self.stopped}." if self.stopped else "")


def _due() -> Any:
    now = utcnow()
    return and_(
        Notification.mail_state.in_(DUE_STATES),
        or_(Notification.mail_next_at.is_(None), Notification.mail_next_at <= now),
    )


class _Temporary(Exception):
    """The server may take this message later (4xx, a dropped connection)."""


class _Permanent(Exception):
    """The server will never take this message (5xx)."""


class _Mailer:
    """One SMTP connection, opened when first needed and again after a drop."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def connect(self) -> smtplib.SMTP:
        if self.smtp is None:
            c = self.config
            smtp = smtplib.SMTP(c["SMTP_HOST"], int(c.get("SMTP_PORT", 587)), timeout=30)
            try:
                if c.get("SMTP_STARTTLS", True):
                    smtp.starttls()
                if c.get("SMTP_USERNAME"):
                    smtp.login(c["SMTP_USERNAME"], c.get("SMTP_PASSWORD") or "")
            except BaseException:
                smtp.close()
                raise
            self.smtp = smtp
        return self.smtp

    def drop(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def send(self, message: EmailMessage) -> None:
        try:
            self.connect().send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            reason = "; ".join(
                f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values()
            )
            if codes and all(code >= 500 for code in codes):
                raise _Permanent(f"recipient refused: {reason}") from exc
            raise _Temporary(f"recipient deferred: {reason}") from exc
        except smtplib.SMTPResponseException as exc:
            reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                self._reset()
                raise _Permanent(reason) from exc
            self.drop()
            raise _Temporary(reason) from exc
        except (smtplib.SMTPException, OSError) as exc:  # dropped connection, timeout
            self.drop()
            raise _Temporary(f"{type(exc).__name__}: {exc}") from exc

    def _reset(self) -> None:
        """After a refused message the session goes on with the next one."""
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.drop()

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
            self.smtp = None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _domain(config: dict[str, Any]) -> str:
    return urlsplit(config.get("PUBLIC_URL") or "").hostname or socket.getfqdn()


def compose(notification: Notification, recipient: Person, message_id: str) -> EmailMessage:
    """The e-mail for one notification: plain text and HTML, links from PUBLIC_URL."""
    config = current_app.config
    link = url_of(notification.link, external=True)
    preferences = url_of(Link("notifications.outbox"), external=True) + "#mail"
    message = EmailMessage()
    message["From"] = header_text(config.get("MAIL_FROM") or "reviews@localhost")
    message["To"] = header_text(recipient.email, 254)
    message["Subject"] = header_text(notification.subject)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message["List-Unsubscribe"] = f"<{preferences}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(
        f"{notification.body}\n\n{link}\n\n-- \n"
        f"Reviews sent this because of your part in a review or a goal. "
        f"Your messages: {preferences}\n"
    )
    message.add_alternative(
        '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">'
        f"<p>{escape(notification.body)}</p>"
        f'<p><a href="{escape(link)}">Open in Reviews</a></p>'
        '<p style="color:#555;font-size:90%">Reviews sent this because of your part in a '
        f'review or a goal. <a href="{escape(preferences)}">Your messages</a></p>'
        "</body></html>",
        subtype="html",
    )
    return message


def _claim(notification_id: int, domain: str) -> bool:
    """Take one due message for this sender, in a transaction of its own."""
    now = utcnow()
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id, _due())
        .values(
            mail_state=MailState.SENDING,
            mail_next_at=now + CLAIM_FOR,
            mail_attempts=Notification.mail_attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    claimed = getattr(result, "rowcount", 0) == 1
    if claimed:
        db.session.execute(
            update(Notification)
            .where(Notification.id == notification_id, Notification.message_id.is_(None))
            .values(message_id=f"<{notification_id}.{secrets.token_hex(8)}@{domain}>")
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return claimed


def _mark(notification_id: int, **values: Any) -> None:
    db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _skip_stale(ids: list[int]) -> int:
    config = current_app.config
    max_age = timedelta(hours=int(config.get("MAIL_MAX_AGE_HOURS", 72)))
    stale = stale_ids(ids, older_than=utcnow() - max_age)
    if stale:
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_(stale), Notification.mail_state == MailState.QUEUED)
            .values(mail_state=MailState.SKIPPED, mail_next_at=None)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return len(stale)


def deliver(*, limit: int | None = None) -> Outcome:
    """Mail every due message (or `limit` of them); each in its own transaction."""
    config = current_app.config
    outcome = Outcome()
    if not config.get("SMTP_HOST"):
        return outcome
    db.session.commit()  # the caller's queued messages are saved whatever happens here
    domain = _domain(config)
    max_attempts = int(config.get("MAIL_MAX_ATTEMPTS", 8))
    mailer = _Mailer(config)
    after = 0
    try:
        while limit is None or outcome.sent + outcome.failed + outcome.retrying < limit:
            rows = db.session.execute(
                select(Notification.id, Notification.mail_state)
                .where(_due(), Notification.id > after)
                .order_by(Notification.id)
                .limit(BATCH)
            ).all()
            db.session.commit()
            if not rows:
                break
            after = rows[-1].id
            mailer.connect()  # a server that is down stops the run before it touches any
            outcome.skipped += _skip_stale([r.id for r in rows if r.mail_state == MailState.QUEUED])
            for notification_id, _state in rows:
                if not _claim(notification_id, domain):  # skipped, or another sender's
                    continue
                notification = db.session.get(Notification, notification_id)
                if notification is None or notification.mail_state != MailState.SENDING:
                    db.session.commit()
                    continue
                recipient = notification.recipient
                assert notification.message_id  # noqa: S101  # set by the claim
                message = compose(notification, recipient, notification.message_id)
                attempts = notification.mail_attempts
                db.session.commit()
                try:
                    mailer.send(message)
                except _Permanent as exc:
                    _mark(
                        notification_id,
                        mail_state=MailState.FAILED,
                        mail_error=str(exc)[:500],
                        mail_next_at=None,
                    )
                    outcome.failed += 1
                    outcome.failures.append(f"{notification_id}: {exc}")
                except _Temporary as exc:
                    if attempts >= max_attempts:
                        _mark(
                            notification_id,
                            mail_state=MailState.FAILED,
                            mail_error=f"gave up after {attempts} attempts: {exc}"[:500],
                            mail_next_at=None,
                        )
                        outcome.failed += 1
                    else:
                        wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
                        _mark(
                            notification_id,
                            mail_state=MailState.RETRY,
                            mail_error=str(exc)[:500],
                            mail_next_at=utcnow() + wait,
                        )
                        outcome.retrying += 1
                    if mailer.smtp is None:
                        mailer.connect()  # the connection dropped: on with a new one
                else:
                    _mark(
                        notification_id,
                        mail_state=MailState.SENT,
                        sent_at=utcnow(),
                        mail_error=None,
                        mail_next_at=None,
                    )
                    outcome.sent += 1
                if limit is not None and outcome.sent + outcome.failed + outcome.retrying >= limit:
                    break
    except (smtplib.SMTPException, OSError) as exc:  # could not connect at all
        db.session.rollback()
        outcome.stopped = f"the mail server is unreachable ({exc})"
    finally:
        mailer.close()
    return outcome
