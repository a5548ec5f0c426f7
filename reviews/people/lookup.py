"""A colleague named in a text field: the one rule behind every people picker.

A field that chooses a person takes what people type, with or without the picker's
JavaScript: an email, or a full name. A name that several people share is refused
with their emails to choose from; nothing is guessed from part of a name.
"""

from __future__ import annotations

from sqlalchemy import func, select

from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext
from reviews.people.models import Person

SHOWN = 3  # emails listed when a name is shared


def _matching(wanted: list[str]) -> dict[str, list[Person]]:
    """The rule, once: an entry with "@" is an email (any person, any case), any other a
    full name of active people (any case). Each entry, lower-cased, to the people it
    names, those of a shared name in email order; two queries whatever the number."""
    emails = {e.lower() for e in wanted if "@" in e}
    names = {e.lower() for e in wanted if "@" not in e}
    found: dict[str, list[Person]] = {}
    if emails:
        for key, person in db.session.execute(
            # emails are kept in lower case (a CHECK): their unique index answers
            select(Person.email, Person).where(Person.email.in_(emails))
        ):
            found.setdefault(key, []).append(person)
    if names:
        for key, person in db.session.execute(
            select(func.lower(Person.name), Person)
            .where(func.lower(Person.name).in_(names), Person.active.is_(True))
            .order_by(Person.email)
        ):
            found.setdefault(key, []).append(person)
    return found


def find_person(text: str) -> tuple[Person | None, str | None]:
    """The person `text` names (an email, or an active person's full name), or why not."""
    wanted = " ".join(text.split())
    named = _matching([wanted]).get(wanted.lower(), [])
    if len(named) == 1:
        return named[0], None
    if "@" in wanted:
        return None, gettext("Nobody has the email %(email)s.", email=wanted)
    if named:
        emails = ", ".join(p.email for p in named[:SHOWN])
        if len(named) > SHOWN:
            return None, gettext(
                "More than one person is called %(name)s: type the email (%(emails)s and others).",
                name=wanted,
                emails=emails,
            )
        return None, gettext(
            "More than one person is called %(name)s: type the email (%(emails)s).",
            name=wanted,
            emails=emails,
        )
    return None, gettext(
        "Nobody is called or has the email %(text)s. Type a name or an email.", text=wanted
    )


def find_people(entries: list[str]) -> tuple[list[int], list[str]]:
    """Many colleagues at once (a cycle's list of people), by the rule of `find_person`.
    The ids found, in the order given, and one problem per entry that names nobody or a
    shared name."""
    wanted = [" ".join(e.split()) for e in entries if e.strip()]
    found = _matching(wanted)
    ids: list[int] = []
    problems: list[str] = []
    for entry in wanted:
        named = found.get(entry.lower(), [])
        if len(named) == 1:
            ids.append(named[0].id)
        elif named:
            problems.append(
                gettext("more than one person is called %(name)s (type the email)", name=entry)
            )
        elif "@" in entry:
            problems.append(gettext("nobody has the email %(email)s", email=entry))
        else:
            problems.append(gettext("nobody is called %(name)s", name=entry))
    return list(dict.fromkeys(ids)), problems


def person_field(data: Fields, name: str, *, required: str) -> Person | None:
    """The person a form or JSON field names; None with the problem recorded in `data`
    (reported with every other problem when the caller's parser checks)."""
    text = data.text(name, max_length=254, required=required)
    if not data.ok(name):
        return None
    person, problem = find_person(text)
    if problem:
        data.error(name, problem)
    return person
