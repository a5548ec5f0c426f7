"""A real SMTP server for the tests (aiosmtpd on the loopback), and messages to send."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import Message as MailMessage
from typing import Any

from reviews.extensions import db
from reviews.links import Link
from reviews.notifications.operations import Message, notify_many


class Mailbox:
    """An SMTP server's handler: keeps what it accepts, refuses what the test says."""

    def __init__(self) -> None:
        self.received: list[MailMessage] = []
        self.envelopes: list[list[str]] = []
        self.refuse: set[str] = set()
        self.defer: set[str] = set()
        self.drop_at: int | None = None  # close the connection at this DATA (1-based)
        self.datas = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        if address in self.defer:
            return "451 4.3.0 Mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        if self.datas == self.drop_at:
            server.transport.close()  # gone before it answered: not accepted
            return "421 closing"
        self.received.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 Message accepted"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.received]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def queue_messages(people: list[Any], subject: str = "Your self-review is open") -> None:
    notify_many(
        Message(
            p.id, "goal_comment", subject, "A comment on your goal.", Link("goals.goal_page", 7)
        )
        for p in people
    )
    db.session.commit()
