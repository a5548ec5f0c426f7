"""A colleague named in a text field: the one rule behind every people picker.

A field that chooses a person takes what people type, with or without the picker's
JavaScript: an email, or a full name. A name that several people share is refused
with their emails to choose from; nothing is guessed from part of a name.
"""

from __future__ import annotations

from sqlalchemy import func, select

from reviews.extensions import db
from reviews.inputs import Fields
from reviews.people.models import Person

SHOWN = 3  # emails listed when a name is shared


def find_person(text: str) -> tuple[Person | None, str | None]:
    """The person `text` names (an email, or an active person's full name), or why not."""
    wanted = " ".join(text.split())
    if "@" in wanted:
        person = db.session.scalar(select(Person).where(func.lower(Person.email) == wanted.lower()))
        if person is None:
            return None, f"Nobody has the email {wanted}."
        return person, None
    named = list(
        db.session.scalars(
            select(Person)
            .where(func.lower(Person.name) == wanted.lower(), Person.active.is_(True))
            .order_by(Person.email)
            .limit(SHOWN + 1)
        )
    )
    if len(named) == 1:
        return named[0], None
    if named:
        emails = ", ".join(p.email for p in named[:SHOWN])
        more = " and others" if len(named) > SHOWN else ""
        return None, f"More than one person is called {wanted}: type the email ({emails}{more})."
    return None, f"Nobody is called or has the email {wanted}. Type a name or an email."


def find_people(entries: list[str]) -> tuple[list[int], list[str]]:
    """Many colleagues at once (a cycle's list of people): each entry an email or a full
    name, resolved by the rule of `find_person` in two queries whatever their number.
    The ids found, in the order given, and one problem per entry that names nobody or a
    shared name."""
    wanted = [" ".join(e.split()) for e in entries if e.strip()]
    emails = {e.lower() for e in wanted if "@" in e}
    names = {e.lower() for e in wanted if "@" not in e}
    by_email: dict[str, int] = dict(
        db.session.execute(
            select(func.lower(Person.email), Person.id).where(
                func.lower(Person.email).in_(emails or {""})
            )
        ).all()
    )
    by_name: dict[str, list[int]] = {}
    for name, pid in db.session.execute(
        select(func.lower(Person.name), Person.id).where(
            func.lower(Person.name).in_(names or {""}), Person.active.is_(True)
        )
    ):
        by_name.setdefault(name, []).append(pid)
    ids: list[int] = []
    problems: list[str] = []
    for entry in wanted:
        key = entry.lower()
        found = [by_email[key]] if key in by_email else by_name.get(key, [])
        if len(found) == 1:
            ids.append(found[0])
        elif found:
            problems.append(f"more than one person is called {entry} (type the email)")
        elif "@" in entry:
            problems.append(f"nobody has the email {entry}")
        else:
            problems.append(f"nobody is called {entry}")
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
