"""The channels a notification goes through besides the app, and what each one sends.

E-mail goes over SMTP; Slack and Microsoft Teams take a JSON post to the
person's own incoming webhook; the company's webhook (WEBHOOK_URL) takes a JSON
post signed with WEBHOOK_SECRET. Each sender answers a refusal with `Permanent`
(never worth retrying: a 5xx from SMTP, a 4xx from HTTP) or `Temporary` (4xx from
SMTP, 5xx, 408 or 429 from HTTP, a dropped connection, a timeout).

One message carries one notification, or several gathered into a daily digest.
"""

from __future__ import annotations

import contextlib
import email.policy
import hashlib
import hmac
import http.client
import ipaddress
import re
import smtplib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate
from fnmatch import fnmatch
from typing import Any
from urllib.parse import urlsplit

import orjson
from markupsafe import escape

from reviews.languages import get_locale, gettext, lazy_gettext, ngettext, pgettext
from reviews.notifications.models import Channel

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")
HTTP_TIMEOUT = 10
DIGEST_LIMIT = 40  # items shown in one digest message; the rest are counted


class Temporary(Exception):
    """The channel may take this message later."""


class Permanent(Exception):
    """The channel will never take this message."""


class MailDown(Temporary):
    """The mail server takes no message now (it refuses the sender): mail stops for this run."""


def header_text(value: str, limit: int = 200) -> str:
    """Text that reaches a mail header: one line, no control characters."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


@dataclass(frozen=True)
class Item:
    """One notification as a channel shows it."""

    notification_id: int
    kind: str
    subject: str
    body: str
    url: str
    created_at: datetime


@dataclass(frozen=True)
class Envelope:
    """Who a message goes to and how it is known."""

    recipient_id: int
    email: str
    message_id: str  # unique per delivery (or digest), kept across retries
    settings_url: str  # where the person changes what they get
    locale: str = "en"  # the recipient's language (reviews.languages.person_locale)


def title_of(items: list[Item]) -> str:
    if len(items) == 1:
        return header_text(items[0].subject)
    return header_text(
        str(ngettext("Reviews: %(num)d update", "Reviews: %(num)d updates", len(items)))
    )


# --- e-mail --------------------------------------------------------------------------


# The message's own headers are not folded below the hard limit: the standard policy
# folds a long subject before a non-ASCII word and leaves the space before the fold, so
# a reader sees two ("Kollegen  für", CPython's email folding); subjects are far shorter
# than 998. The parts are made under the standard policy, so their bodies keep
# 76-character quoted-printable lines (set_content encodes them then).
MAIL_POLICY = email.policy.default.clone(max_line_length=998)


def compose_email(envelope: Envelope, items: list[Item], sender: str) -> EmailMessage:
    """Plain text and HTML; a digest lists each item with its link. Written in the
    current locale: the recipient's (`delivery._Senders.send`)."""
    message = EmailMessage()
    language = str(get_locale() or "en").replace("_", "-")
    message["From"] = header_text(sender)
    message["To"] = header_text(envelope.email, 254)
    message["Subject"] = title_of(items)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = envelope.message_id
    message["List-Unsubscribe"] = f"<{envelope.settings_url}>"
    message["Auto-Submitted"] = "auto-generated"
    shown = items[:DIGEST_LIMIT]
    more = len(items) - len(shown)
    why = gettext("Reviews sent this because of your part in a review or a goal.")
    footer = f"{why} " + gettext(
        "Choose what you get, and where: %(url)s", url=envelope.settings_url
    )
    heading = gettext("Your updates from Reviews:")
    rest = (
        ngettext("and %(num)d more in the app", "and %(num)d more in the app", more) if more else ""
    )
    if len(items) == 1:
        plain = f"{items[0].body}\n\n{items[0].url}\n\n-- \n{footer}\n"
    else:
        lines = [f"- {i.subject}\n  {i.body}\n  {i.url}" for i in shown]
        if more:
            lines.append(f"- {rest}")
        plain = f"{heading}\n\n" + "\n\n".join(lines) + f"\n\n-- \n{footer}\n"
    message.set_content(plain)
    entries = "".join(
        f'<li><a href="{escape(i.url)}">{escape(i.subject)}</a><br>{escape(i.body)}</li>'
        for i in shown
    )
    if more:
        entries += f"<li>{escape(rest)}</li>"
    body = (
        f'<p>{escape(items[0].body)}</p><p><a href="{escape(items[0].url)}">'
        f"{escape(gettext('Open in Reviews'))}</a></p>"
        if len(items) == 1
        else f"<p>{escape(heading)}</p><ul>{entries}</ul>"
    )
    choose = escape(gettext("Choose what you get, and where"))
    message.add_alternative(
        f'<!doctype html><html lang="{escape(language)}">'
        '<body style="font-family:sans-serif;line-height:1.5">'
        f"{body}"
        f'<p style="color:#555;font-size:90%">{escape(why)} '
        f'<a href="{escape(envelope.settings_url)}">{choose}</a></p></body></html>',
        subtype="html",
    )
    message["Content-Language"] = language  # after the parts: set_content clears it
    message.policy = MAIL_POLICY  # for the headers only, when it is written out
    return message


class Mailer:
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
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None

    def send(self, envelope: Envelope, items: list[Item]) -> None:
        message = compose_email(
            envelope, items, self.config.get("MAIL_FROM") or "reviews@localhost"
        )
        try:
            self.connect().send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            answers = list(exc.recipients.values())
            reason = "; ".join(f"{code} {_text(text)}" for code, text in answers)
            if answers and all(code >= 500 for code, _text_ in answers):
                self._reset()
                raise Permanent(f"recipient refused: {reason}") from exc
            self._reset()
            raise Temporary(f"recipient deferred: {reason}") from exc
        except smtplib.SMTPSenderRefused as exc:  # the server refuses MAIL_FROM: all mail
            self.drop()
            raise MailDown(
                f"the mail server refuses the sender: {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                self._reset()
                raise Permanent(reason) from exc
            self.drop()
            raise Temporary(reason) from exc
        except (smtplib.SMTPException, OSError) as exc:  # dropped connection, timeout
            self.drop()
            raise Temporary(f"{type(exc).__name__}: {exc}") from exc

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


# --- Slack and Teams ---------------------------------------------------------------


def _slack_escape(text: str) -> str:
    """Slack's mrkdwn gives &, < and > meanings of their own."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(items: list[Item]) -> dict[str, Any]:
    """An incoming-webhook message: `text` (the notification's fallback) and blocks."""
    shown = items[:DIGEST_LIMIT]
    blocks: list[dict[str, Any]] = []
    if len(items) > 1:
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": title_of(items)[:150]}}
        )
    for item in shown:
        text = f"*<{item.url}|{_slack_escape(item.subject)}>*\n{_slack_escape(item.body)}"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}})
    if len(items) > len(shown):
        more = len(items) - len(shown)
        rest = ngettext("and %(num)d more", "and %(num)d more", more)
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(rest)}]}
        )
    fallback = (
        title_of(items)
        if len(items) > 1
        # the notification's text where Slack shows no blocks (a phone's alert)
        else gettext("%(subject)s: %(body)s", subject=items[0].subject, body=items[0].body)
    )
    return {"text": _slack_escape(fallback)[:3000], "blocks": blocks}


def teams_payload(items: list[Item]) -> dict[str, Any]:
    """A message with one Adaptive Card, as Teams' incoming webhooks and Workflows take it."""
    shown = items[:DIGEST_LIMIT]
    body: list[dict[str, Any]] = []
    if len(items) > 1:
        body.append(
            {"type": "TextBlock", "text": title_of(items), "weight": "Bolder", "size": "Medium"}
        )
    for item in shown:
        # What people typed (a goal's title) goes in text runs, which Teams shows as
        # written: a TextBlock would render its Markdown, links included.
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [{"type": "TextRun", "text": item.subject, "weight": "Bolder"}],
            }
        )
        body.append(
            {
                "type": "RichTextBlock",
                "inlines": [{"type": "TextRun", "text": item.body}],
                "spacing": "None",
            }
        )
        if len(items) > 1:
            body.append(
                {
                    "type": "ActionSet",
                    "actions": [
                        {
                            "type": "Action.OpenUrl",
                            "title": pgettext("button", "Open"),
                            "url": item.url,
                        }
                    ],
                }
            )
    if len(items) > len(shown):
        more = len(items) - len(shown)
        body.append(
            {"type": "TextBlock", "text": ngettext("and %(num)d more", "and %(num)d more", more)}
        )
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if len(items) == 1:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": gettext("Open in Reviews"), "url": items[0].url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


# --- the company's webhook ---------------------------------------------------------


def webhook_payload(envelope: Envelope, items: list[Item]) -> dict[str, Any]:
    return {
        "id": envelope.message_id,
        "type": "notification" if len(items) == 1 else "digest",
        "recipient": {"id": envelope.recipient_id, "email": envelope.email},
        "notifications": [
            {
                "id": i.notification_id,
                "kind": i.kind,
                "subject": i.subject,
                "body": i.body,
                "url": i.url,
                "created_at": i.created_at.isoformat(),
            }
            for i in items
        ],
    }


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of "<timestamp>.<body>" under the shared secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, tolerance: int = 300) -> bool:
    """What a receiver does (documented in docs/admin.md; the tests' receiver uses it)."""
    if not (timestamp.isascii() and timestamp.isdigit() and signature.isascii()):
        return False
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


# --- posting -----------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A webhook that redirects is refused rather than followed elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects())


def post_json(url: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    body = orjson.dumps(payload)
    all_headers = {"Content-Type": "application/json", "User-Agent": "Reviews-notifications"}
    all_headers.update(headers or {})
    # The address is a secret: no reason given below repeats it.
    try:
        request = urllib.request.Request(url, data=body, headers=all_headers, method="POST")  # noqa: S310  # checked by check_hook_url
        with _opener.open(request, timeout=HTTP_TIMEOUT) as response:
            response.read()
            if response.status >= 300:
                raise Permanent(f"{response.status} (a redirect, not followed)")
    except urllib.error.HTTPError as exc:
        reason = f"{exc.code} {exc.reason}"
        if exc.code in (408, 425, 429) or exc.code >= 500:
            raise Temporary(reason) from exc
        raise Permanent(reason) from exc
    except urllib.error.URLError as exc:  # refused, unreachable, timed out
        raise Temporary(f"unreachable: {exc.reason}") from exc
    except (http.client.InvalidURL, ValueError) as exc:  # an address http.client refuses
        raise Permanent("the webhook's address is not valid") from exc
    except (http.client.HTTPException, OSError) as exc:  # a broken or cut answer
        raise Temporary(f"no valid answer ({type(exc).__name__})") from exc


def post_signed(url: str, secret: str, payload: dict[str, Any], event_id: str) -> None:
    body = orjson.dumps(payload)
    timestamp = int(time.time())
    post_json(
        url,
        payload,
        {
            "X-Reviews-Event": event_id,
            "X-Reviews-Timestamp": str(timestamp),
            "X-Reviews-Signature": sign(secret, timestamp, body),
        },
    )


# --- which webhook addresses a person may give ------------------------------------

HOST_SETTINGS = {Channel.SLACK: "SLACK_WEBHOOK_HOSTS", Channel.TEAMS: "TEAMS_WEBHOOK_HOSTS"}
EXAMPLES = {
    Channel.SLACK: "https://hooks.slack.com/services/…",
    Channel.TEAMS: lazy_gettext(
        "%(example)s or a Workflows address", example="https://….webhook.office.com/webhookb2/…"
    ),
}


def check_hook_url(channel: Channel, url: str, config: dict[str, Any]) -> str | None:
    """Why `url` cannot be the person's `channel` webhook, or None when it can.

    Only the hosts the operator allows (SLACK_WEBHOOK_HOSTS, TEAMS_WEBHOOK_HOSTS:
    the vendors' own by default, a Mattermost server for Slack-compatible hooks),
    over HTTPS: Reviews must not be made to post to any address a person types."""
    if not url.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return str(
            gettext("The webhook's address holds spaces or characters an address cannot have")
        )
    parts = urlsplit(url)
    try:
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return str(gettext("The webhook's address has a port that is not a number"))
    allowed = [h.strip().lower() for h in str(config.get(HOST_SETTINGS[channel], "")).split(",")]
    if parts.scheme not in ("https", "http") or not host:
        return str(
            gettext("Give the webhook's full address, like %(example)s", example=EXAMPLES[channel])
        )
    if not any(h and fnmatch(host, h) for h in allowed):
        return str(
            gettext(
                "This server takes %(channel)s webhooks only at %(hosts)s",
                channel=channel.value.title(),
                hosts=", ".join(h for h in allowed if h),
            )
        )
    if parts.scheme == "http" and not _loopback(host):
        return str(gettext("The webhook's address must start with %(scheme)s", scheme="https://"))
    if parts.username or parts.password:
        return str(gettext("The webhook's address must not hold a user name or password"))
    if port not in (None, 443) and not _loopback(host):
        return str(gettext("The webhook's address must use the usual HTTPS port"))
    return None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
