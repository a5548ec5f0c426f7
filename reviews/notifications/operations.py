"""Notifications: written to the outbox in the request's transaction, mailed later.

A message is stored in its recipient's language (reviews.languages.person_locale),
not the language of whoever's action sent it: its subject and body may be lazy
strings (`lazy_gettext` with the values as keywords), written out here once per
language the recipients read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import Select, String, case, delete, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.errors import Invalid
from reviews.extensions import db
from reviews.languages import gettext
from reviews.links import Link
from reviews.notifications.channels import header_text
from reviews.notifications.kinds import KEYS
from reviews.notifications.models import Channel, ChatHook, Notification, Preference, Timing
from reviews.people.models import Person

if TYPE_CHECKING:
    from reviews.notifications.delivery import Outcome


@dataclass(frozen=True)
class Message:
    recipient_id: int
    kind: str
    subject: Any  # str, or a lazy string written in the recipient's language
    body: Any
    link: Link
    dedupe_key: str | None = None


def _locales(recipient_ids: Iterable[int]) -> dict[int, str]:
    """Each recipient's language, for the messages to them (one query per 500)."""
    from reviews.languages import person_locale_of

    ids = sorted(set(recipient_ids))
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        rows = db.session.execute(
            select(Person.id, Person.locale).where(Person.id.in_(ids[start : start + 500]))
        )
        found.update((i, person_locale_of(locale)) for i, locale in rows)
    return found


def written_in(locale: str, *texts: Any) -> list[str]:
    """`texts` (str or lazy) written out in `locale`."""
    from reviews.languages import force_locale

    with force_locale(locale):
        return [str(t) for t in texts]


def _known(kind: str) -> str:
    """Every kind is one a person can choose a timing for (`kinds.KINDS`)."""
    if kind not in KEYS:
        raise ValueError(f"notification kind {kind!r} is not in reviews.notifications.kinds")
    return kind


def notify_many(messages: Iterable[Message]) -> None:
    """Queue messages in one statement, each in its recipient's language; a message
    whose dedupe key exists is skipped."""
    messages = list(messages)
    if not messages:
        return
    from reviews.languages import force_locale

    locale_of = _locales(m.recipient_id for m in messages)
    default = current_app.config["LANGUAGE"]  # a recipient not found is the key's to refuse
    by_locale: dict[str, list[Message]] = {}
    for m in messages:
        by_locale.setdefault(locale_of.get(m.recipient_id, default), []).append(m)
    rows: list[dict[str, Any]] = []
    for locale, group in by_locale.items():
        with force_locale(locale):  # one switch of language per language
            rows.extend(
                {
                    "recipient_id": m.recipient_id,
                    "kind": _known(m.kind),
                    "subject": header_text(str(m.subject)),
                    "body": str(m.body),
                    "target": m.link.endpoint,
                    "target_id": m.link.id,
                    "dedupe_key": m.dedupe_key,
                    "created_at": utcnow(),
                }
                for m in group
            )
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = dialect_insert(Notification).on_conflict_do_nothing(
        index_elements=["dedupe_key"], index_where=Notification.dedupe_key.is_not(None)
    )
    db.session.execute(stmt, rows)


def notify_each(
    kind: str, subject: Any, body: Any, endpoint: str, recipients_and_ids: Select[Any] | Any
) -> None:
    """Queue one message to every row of `recipients_and_ids` (recipient id, the id of
    the `endpoint` page it points to) in one INSERT ... SELECT: a phase of a
    10,000-person cycle opens without 10,000 messages built in Python.

    `subject` and `body` (str or lazy) are written out in each offered language; where
    that gives more than one text, each row takes its recipient's by a CASE on
    `person.locale` (the deployment's default for anyone whose choice is not offered)."""
    default = current_app.config["LANGUAGE"]
    texts = {
        locale: tuple(written_in(locale, subject, body))
        for locale in current_app.config["LANGUAGES"]
    }
    columns = ["recipient_id", "target_id", "target", "kind", "subject", "body", "created_at"]
    fixed = [
        literal(endpoint, String),
        literal(_known(kind), String),
    ]
    if len(set(texts.values())) == 1:  # one text for everyone: no need to read people
        rows = recipients_and_ids.add_columns(
            *fixed,
            literal(header_text(texts[default][0]), String),
            literal(texts[default][1], String),
            literal(utcnow(), Notification.created_at.type),
        )
    else:
        sent = recipients_and_ids.subquery()
        recipient, target = list(sent.c)[:2]

        def chosen(index: int) -> Any:
            def text(locale: str) -> str:
                value = texts[locale][index]
                return header_text(value) if index == 0 else value

            return case(
                *(
                    (Person.locale == locale, literal(text(locale), String))
                    for locale in texts
                    if locale != default
                ),
                else_=literal(text(default), String),
            )

        rows = (
            select(recipient, target, *fixed, chosen(0), chosen(1))
            .add_columns(literal(utcnow(), Notification.created_at.type))
            .join(Person, Person.id == recipient)
        )
    db.session.execute(insert(Notification).from_select(columns, rows))


def notify(message: Message) -> None:
    notify_many([message])


def deliver_pending(limit: int | None = None) -> Outcome:
    """Send on what is due through every channel (`reviews.notifications.delivery`)."""
    from reviews.notifications.delivery import deliver

    return deliver(limit=limit)


@dataclass(frozen=True)
class Settings:
    """What a person chooses: mail or not, their chat webhooks, a timing per kind.

    A webhook of None keeps the one set; "" removes it."""

    mail: bool
    hooks: dict[Channel, str | None]
    timings: dict[str, Timing]


def save_settings(person: Person, settings: Settings) -> None:
    """Store a person's choices, refusing every wrong webhook address at once."""
    from reviews.notifications.channels import check_hook_url

    problems = {}
    for channel, url in settings.hooks.items():
        if url:
            reason = check_hook_url(channel, url, current_app.config)
            if reason:
                problems[f"{channel.value}_url"] = reason
    unknown = sorted(set(settings.timings) - KEYS)
    if unknown:
        problems["timings"] = gettext(
            "Unknown kinds of notification: %(kinds)s", kinds=", ".join(unknown)
        )
    if problems:
        raise Invalid(gettext("Some settings cannot be saved."), fields=problems)
    person.mail_notifications = settings.mail
    for channel, url in settings.hooks.items():
        hook = db.session.scalar(
            select(ChatHook).where(ChatHook.person_id == person.id, ChatHook.channel == channel)
        )
        if url == "" and hook is not None:
            db.session.delete(hook)
        elif url and hook is None:
            db.session.add(ChatHook(person_id=person.id, channel=channel, url=url))
        elif url and hook is not None:
            hook.url = url
    db.session.execute(delete(Preference).where(Preference.person_id == person.id))
    chosen = {
        kind: timing
        for kind, timing in sorted(settings.timings.items())
        if timing != Timing.IMMEDIATELY  # the default is not stored
    }
    rows = [{"person_id": person.id, "kind": k, "timing": t} for k, t in chosen.items()]
    if rows:
        db.session.execute(insert(Preference), rows)
    db.session.flush()
    record(
        "notifications.settings",
        actor=person,
        mail=settings.mail,
        channels=sorted(
            c.value
            for c in db.session.scalars(
                select(ChatHook.channel).where(ChatHook.person_id == person.id)
            )
        ),
        timings={k: t.value for k, t in chosen.items()},
    )
