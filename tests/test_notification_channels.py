"""Slack, Teams and the company's signed webhook, each person's timing, and daily digests.

A real HTTP server on the loopback plays Slack, Teams and the company's endpoint:
it checks what arrives against the shapes their documentation gives, verifies the
webhook's signature the way docs/admin.md tells receivers to, and answers as told
(an outage, a refusal, a redirect).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jsonschema
import pytest
from conftest import csrf_token, sign_in
from smtp_helpers import queue_messages
from sqlalchemy import select, update

from reviews.db import utcnow
from reviews.extensions import db
from reviews.links import Link
from reviews.notifications import delivery
from reviews.notifications.models import (
    Channel,
    ChatHook,
    Delivery,
    DeliveryState,
    Notification,
    Preference,
    Timing,
)
from reviews.notifications.operations import Message, notify_many

SECRET = "a-shared-secret-between-reviews-and-the-receiver"

# Slack: an incoming webhook takes `text` (required as the fallback when blocks are
# sent) and at most 50 layout blocks; a section's text is mrkdwn or plain_text of at
# most 3,000 characters (api.slack.com/messaging/webhooks, /reference/block-kit).
SLACK_TEXT = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {
        "type": {"enum": ["mrkdwn", "plain_text"]},
        "text": {"type": "string", "minLength": 1, "maxLength": 3000},
    },
}
SLACK = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "minLength": 1},
        "blocks": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["type"],
                "oneOf": [
                    {
                        "properties": {"type": {"const": "section"}, "text": SLACK_TEXT},
                        "required": ["text"],
                    },
                    {
                        "properties": {
                            "type": {"const": "header"},
                            "text": {
                                **SLACK_TEXT,
                                "properties": {
                                    "type": {"const": "plain_text"},
                                    "text": {"type": "string", "maxLength": 150},
                                },
                            },
                        },
                        "required": ["text"],
                    },
                    {
                        "properties": {
                            "type": {"const": "context"},
                            "elements": {"type": "array", "items": SLACK_TEXT, "maxItems": 10},
                        },
                        "required": ["elements"],
                    },
                ],
            },
        },
    },
}
# Teams: a message whose attachments hold one Adaptive Card (contentType
# application/vnd.microsoft.card.adaptive, `content` the card: type AdaptiveCard, a
# version, a body of elements; Action.OpenUrl needs a url) (learn.microsoft.com,
# "Create and send messages" for incoming webhooks and Workflows).
TEXT_BLOCK = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "TextBlock"}, "text": {"type": "string", "minLength": 1}},
}
# A RichTextBlock's inlines are TextRuns, whose text is shown as written (no Markdown).
RICH_TEXT_BLOCK = {
    "type": "object",
    "required": ["type", "inlines"],
    "properties": {
        "type": {"const": "RichTextBlock"},
        "inlines": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "text"],
                "properties": {"type": {"const": "TextRun"}, "text": {"type": "string"}},
            },
        },
    },
}
OPEN_URL = {
    "type": "object",
    "required": ["type", "url", "title"],
    "properties": {
        "type": {"const": "Action.OpenUrl"},
        "url": {"type": "string", "pattern": "^https?://"},
    },
}
ACTION_SET = {
    "type": "object",
    "required": ["type", "actions"],
    "properties": {"type": {"const": "ActionSet"}, "actions": {"type": "array", "items": OPEN_URL}},
}
TEAMS = {
    "type": "object",
    "required": ["type", "attachments"],
    "properties": {
        "type": {"const": "message"},
        "attachments": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["contentType", "content"],
                "properties": {
                    "contentType": {"const": "application/vnd.microsoft.card.adaptive"},
                    "content": {
                        "type": "object",
                        "required": ["type", "version", "body"],
                        "properties": {
                            "type": {"const": "AdaptiveCard"},
                            "version": {"type": "string", "pattern": r"^1\.[0-6]$"},
                            "body": {
                                "type": "array",
                                "minItems": 1,
                                "items": {"oneOf": [TEXT_BLOCK, RICH_TEXT_BLOCK, ACTION_SET]},
                            },
                            "actions": {"type": "array", "items": OPEN_URL},
                        },
                    },
                },
            },
        },
    },
}


class Receiver:
    """Slack, Teams and the company's endpoint on one loopback HTTP server."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answers: dict[str, list[int]] = {}  # path -> statuses to answer, in turn
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": body}
                )
                queue = receiver.answers.get(self.path, [])
                status = queue.pop(0) if queue else 200
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", "http://127.0.0.1:1/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == path]


@pytest.fixture
def receiver(app: Any) -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    app.config.update(
        SLACK_WEBHOOK_HOSTS="hooks.slack.com,127.0.0.1",
        TEAMS_WEBHOOK_HOSTS="*.webhook.office.com,127.0.0.1",
        PUBLIC_URL="https://reviews.example.com",
    )
    yield r
    r.server.shutdown()
    r.server.server_close()


def _hook(person: Any, channel: Channel, url: str) -> None:
    db.session.add(ChatHook(person_id=person.id, channel=channel, url=url))
    db.session.commit()


def _verify(headers: dict[str, str], body: bytes) -> bool:
    """What docs/admin.md tells a receiver to do, written here on its own."""
    timestamp = headers["X-Reviews-Timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("v1=" + expected.hexdigest(), headers["X-Reviews-Signature"])


def test_slack_and_teams_get_their_documented_shapes(app, receiver, make_person):
    person = make_person()
    _hook(person, Channel.SLACK, receiver.base + "/slack/T1/B1/x")
    _hook(person, Channel.TEAMS, receiver.base + "/teams/abc")
    queue_messages([person], subject="Feedback for <Ada> & co")

    outcome = delivery.deliver()
    assert outcome.sent == 2
    [slack] = receiver.to("/slack/T1/B1/x")
    payload = json.loads(slack["body"])
    jsonschema.validate(payload, SLACK)
    assert "&lt;Ada&gt; &amp; co" in payload["blocks"][0]["text"]["text"]  # mrkdwn escaped
    assert "<https://reviews.example.com/goals/7|" in payload["blocks"][0]["text"]["text"]
    [teams] = receiver.to("/teams/abc")
    card = json.loads(teams["body"])
    jsonschema.validate(card, TEAMS)
    content = card["attachments"][0]["content"]
    assert content["actions"][0]["url"] == "https://reviews.example.com/goals/7"
    assert content["body"][0]["inlines"][0]["text"] == "Feedback for <Ada> & co"


def test_the_company_webhook_is_signed_and_retried_with_the_same_event_id(
    app, receiver, make_person
):
    app.config.update(WEBHOOK_URL=receiver.base + "/hook", WEBHOOK_SECRET=SECRET)
    person = make_person(email="signed@example.com")
    receiver.answers["/hook"] = [503]
    queue_messages([person])

    first = delivery.deliver()
    assert (first.sent, first.retrying) == (0, 1)
    waiting = db.session.scalar(select(Delivery))
    assert waiting.state == DeliveryState.RETRY
    assert "503" in (waiting.error or "")
    db.session.commit()
    assert delivery.deliver().sent == 0  # not due yet: a minute's backoff
    db.session.execute(update(Delivery).values(next_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert delivery.deliver().sent == 1

    attempts = receiver.to("/hook")
    assert len(attempts) == 2
    assert all(_verify(a["headers"], a["body"]) for a in attempts)
    assert attempts[0]["headers"]["X-Reviews-Event"] == attempts[1]["headers"]["X-Reviews-Event"]
    body = json.loads(attempts[1]["body"])
    assert body["type"] == "notification"
    assert body["recipient"] == {"id": person.id, "email": "signed@example.com"}
    assert body["notifications"][0]["url"] == "https://reviews.example.com/goals/7"
    # A forged or altered body fails the check a receiver makes.
    assert not _verify(attempts[1]["headers"], attempts[1]["body"] + b" ")


def test_a_refusing_webhook_fails_for_good_and_a_redirect_is_not_followed(
    app, receiver, make_person
):
    gone, moved, busy = make_person(), make_person(), make_person()
    _hook(gone, Channel.SLACK, receiver.base + "/slack/gone")
    _hook(moved, Channel.SLACK, receiver.base + "/slack/moved")
    _hook(busy, Channel.SLACK, receiver.base + "/slack/busy")
    receiver.answers.update({"/slack/gone": [404], "/slack/moved": [302], "/slack/busy": [429]})
    queue_messages([gone, moved, busy])

    outcome = delivery.deliver()
    assert (outcome.failed, outcome.retrying) == (2, 1)
    errors = dict(
        db.session.execute(
            select(Delivery.recipient_id, Delivery.error).where(
                Delivery.state == DeliveryState.FAILED
            )
        ).all()
    )
    assert errors[gone.id].startswith("404")
    assert errors[moved.id].startswith("302")
    assert not [r for r in receiver.requests if r["path"] == "/elsewhere"]
    assert (
        db.session.scalar(select(Delivery.state).where(Delivery.recipient_id == busy.id))
        == DeliveryState.RETRY
    )


def test_each_kind_goes_right_away_in_a_daily_digest_or_stays_in_the_app(
    app, receiver, mailbox, make_person
):
    person = make_person(email="chooser@example.com")
    db.session.add_all(
        [
            Preference(person_id=person.id, kind="goal_comment", timing=Timing.DAILY),
            Preference(person_id=person.id, kind="feedback", timing=Timing.APP_ONLY),
        ]
    )
    db.session.commit()

    def message(kind: str, subject: str) -> Message:
        return Message(person.id, kind, subject, f"About {subject}.", Link("goals.goal_page", 3))

    notify_many(
        [
            message("goal_comment", "First comment"),
            message("goal_comment", "Second comment"),
            message("feedback", "Kind words"),
            message("goal_checkin_due", "Check in"),
        ]
    )
    db.session.commit()
    delivery.deliver()
    assert [m["Subject"] for m in mailbox.received] == ["Check in"]  # right away
    states = dict(
        db.session.execute(
            select(Notification.subject, Delivery.state).join(
                Delivery, Delivery.notification_id == Notification.id
            )
        ).all()
    )
    assert states == {
        "First comment": DeliveryState.DIGEST,
        "Second comment": DeliveryState.DIGEST,
        "Check in": DeliveryState.SENT,
    }  # "Kind words" stays in the app: no delivery at all
    digest_at = db.session.scalar(
        select(Delivery.next_at).where(Delivery.state == DeliveryState.DIGEST)
    )
    assert digest_at.hour == app.config["DIGEST_HOUR"]
    assert digest_at > utcnow()
    db.session.commit()

    assert delivery.deliver().sent == 0  # the digest waits for its hour
    db.session.execute(
        update(Delivery)
        .where(Delivery.state == DeliveryState.DIGEST)
        .values(next_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    assert delivery.deliver().sent == 1  # one message for both
    digest = mailbox.received[-1]
    assert digest["Subject"] == "Reviews: 2 updates"
    plain = digest.get_payload()[0].get_content()
    assert "First comment" in plain
    assert "Second comment" in plain
    assert delivery.deliver().sent == 0
    assert len(mailbox.received) == 2


def test_settings_refuse_every_wrong_webhook_at_once_and_keep_the_secret_hidden(
    app, client, receiver, make_person
):
    person = make_person(email="setter@example.com")
    sign_in(client, person.email)
    token = csrf_token(client, "/notifications/settings")
    refused = client.post(
        "/notifications/settings",
        data={
            "csrf_token": token,
            "mail": "y",
            "slack_url": "https://evil.example.org/services/x",
            "teams_url": "http://team.webhook.office.com/webhookb2/x",
            "timing_goal_comment": "daily",
        },
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "2 things need fixing" in page
    assert "takes Slack webhooks only at hooks.slack.com" in page
    assert "must start with https://" in page
    assert not db.session.scalar(select(ChatHook))
    assert not db.session.scalar(select(Preference))  # nothing of the post was kept

    slack = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"
    saved = client.post(
        "/notifications/settings",
        data={"csrf_token": token, "mail": "y", "slack_url": slack, "timing_goal_comment": "daily"},
    )
    assert saved.status_code == 302
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert slack not in page  # the address is a secret: only how it ends
    assert "ending …" + slack[-6:] in page
    assert re.search(r'<option selected value="daily">', page)
    assert db.session.scalar(select(Preference.timing)) == Timing.DAILY

    removed = client.post(
        "/notifications/settings",
        data={"csrf_token": token, "mail": "y", "remove_slack": "y"},
    )
    assert removed.status_code == 302
    assert not db.session.scalar(select(ChatHook))
    assert not db.session.scalar(select(Preference))  # back to right away for every kind


def test_an_unknown_kind_cannot_be_sent(app, make_person):
    person = make_person()
    with pytest.raises(ValueError, match=r"not in reviews\.notifications\.kinds"):
        notify_many([Message(person.id, "surprise", "s", "b", Link("goals.goal_page", 1))])


def test_turning_email_off_keeps_slack_and_the_company_webhook(app, receiver, mailbox, make_person):
    app.config.update(WEBHOOK_URL=receiver.base + "/hook", WEBHOOK_SECRET=SECRET)
    person = make_person(email="slack-only@example.com")
    person.mail_notifications = False
    _hook(person, Channel.SLACK, receiver.base + "/slack/mine")
    queue_messages([person])

    outcome = delivery.deliver()
    assert (outcome.sent, outcome.skipped) == (2, 0)
    assert len(receiver.to("/slack/mine")) == 1
    assert len(receiver.to("/hook")) == 1
    assert mailbox.received == []


def test_a_webhook_address_that_cannot_be_posted_to_fails_alone(app, receiver, make_person):
    """Stored before the checks (or edited in the database): the delivery fails with a
    reason that does not repeat the secret address, and the run goes on."""
    broken, fine = make_person(), make_person()
    _hook(broken, Channel.SLACK, "https://hooks.slack.com/services/a b/secretpart")
    _hook(fine, Channel.SLACK, receiver.base + "/slack/fine")
    queue_messages([broken, fine])

    outcome = delivery.deliver()
    assert (outcome.sent, outcome.failed) == (1, 1)
    error = db.session.scalar(select(Delivery.error).where(Delivery.recipient_id == broken.id))
    assert error == "the webhook's address is not valid"
    assert len(receiver.to("/slack/fine")) == 1


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://hooks.slack.com/services/a b", "spaces or characters"),
        ("https://hooks.slack.com/services/é", "spaces or characters"),
        ("https://hooks.slack.com:8443/services/x", "usual HTTPS port"),
        ("https://user:pw@hooks.slack.com/services/x", "user name or password"),
        ("ftp://hooks.slack.com/x", "full address"),
        ("https://hooks.slack.com.evil.org/x", "only at hooks.slack.com"),
    ],
)
def test_a_slack_address_must_be_one_slack_gives(app, url, said):
    from reviews.notifications.channels import check_hook_url

    assert said in (check_hook_url(Channel.SLACK, url, app.config) or "")
    assert (
        check_hook_url(Channel.SLACK, "https://hooks.slack.com/services/T/B/x", app.config) is None
    )


def test_a_failed_digest_is_retried_message_by_message_under_new_ids(app, receiver, make_person):
    app.config.update(WEBHOOK_URL=receiver.base + "/hook", WEBHOOK_SECRET=SECRET)
    person = make_person()
    db.session.add(Preference(person_id=person.id, kind="goal_comment", timing=Timing.DAILY))
    db.session.commit()
    queue_messages([person, person], subject="Two")  # the dedupe key is None: two messages
    delivery.deliver()
    db.session.execute(update(Delivery).values(next_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    receiver.answers["/hook"] = [503]
    assert delivery.deliver().retrying == 1  # the digest, for now
    db.session.execute(update(Delivery).values(next_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert delivery.deliver().sent == 2  # then each alone
    events = [r["headers"]["X-Reviews-Event"] for r in receiver.to("/hook")]
    assert len(events) == 3
    assert len(set(events)) == 3  # a receiver dropping repeats keeps both


def test_a_mail_server_refusing_the_sender_stops_mail_and_fails_nothing(app, mailbox, make_person):
    import smtplib

    from reviews.notifications import channels

    people = [make_person(), make_person()]
    queue_messages(people)

    def refuse(self, message):  # what smtplib raises on a 553 to MAIL FROM
        raise smtplib.SMTPSenderRefused(553, b"5.7.1 Sender address rejected", "reviews@localhost")

    real = channels.smtplib.SMTP.send_message
    channels.smtplib.SMTP.send_message = refuse
    try:
        outcome = delivery.deliver()
    finally:
        channels.smtplib.SMTP.send_message = real
    assert outcome.failed == 0
    assert outcome.retrying == 1  # the one tried; the other not touched
    assert "refuses the sender: 553" in (outcome.stopped or "")
    states = sorted(s.value for s in db.session.scalars(select(Delivery.state)))
    assert states == ["queued", "retry"]


def test_teams_shows_what_people_typed_as_written(app, receiver, make_person):
    person = make_person()
    _hook(person, Channel.TEAMS, receiver.base + "/teams/md")
    queue_messages([person], subject="[Reset your password](https://evil.example.org)")
    delivery.deliver()
    card = json.loads(receiver.to("/teams/md")[0]["body"])["attachments"][0]["content"]
    jsonschema.validate(
        {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        },
        TEAMS,
    )
    texts = [b for b in card["body"] if b["type"] == "TextBlock"]
    assert texts == []  # a TextBlock renders Markdown; a TextRun shows it as written
    assert card["body"][0]["inlines"][0]["text"].startswith("[Reset your password]")
