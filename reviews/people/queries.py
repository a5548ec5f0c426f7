"""Read-side queries over the org chart, each a bounded number of statements."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Integer, String, bindparam, cast, func, literal, literal_column, or_, select
from sqlalchemy.orm import aliased, joinedload

from reviews.extensions import db
from reviews.framework.models import Level
from reviews.paging import bounded_count, window
from reviews.people import paths
from reviews.people.models import Department, Person, Source


def management_chain(person: Person) -> list[Person]:
    """The person's managers, nearest first, in one recursive query."""
    if person.manager_id is None:
        return []
    chain = (
        select(Person.id, Person.manager_id, cast(literal(1), Integer).label("depth"))
        .where(Person.id == person.manager_id)
        .cte("chain", recursive=True)
    )
    parent = aliased(Person)
    chain = chain.union(
        select(parent.id, parent.manager_id, (chain.c.depth + 1).label("depth"))
        .join(chain, parent.id == chain.c.manager_id)
        .where(chain.c.depth < 100)
    )
    rows = db.session.execute(
        select(Person, chain.c.depth)
        .join(chain, Person.id == chain.c.id)
        .options(joinedload(Person.level))
        .order_by(chain.c.depth)
    ).all()
    return [row[0] for row in rows]


def is_below(person_id: int, manager_id: int) -> bool:
    """True when `manager_id` is somewhere up `person_id`'s reporting line."""
    chain = (
        select(Person.manager_id.label("id"), cast(literal(1), Integer).label("depth"))
        .where(Person.id == person_id)
        .cte("up", recursive=True)
    )
    chain = chain.union(
        select(Person.manager_id, (chain.c.depth + 1))
        .join(chain, Person.id == chain.c.id)
        .where(chain.c.depth < 100)
    )
    found = db.session.scalar(
        select(func.count()).select_from(chain).where(chain.c.id == manager_id)
    )
    return bool(found)


def org_size_below(person_id: int) -> int:
    """How many active people report to this person, directly or not, counted up to
    paging.COUNT_LIMIT + 1 ("more than 1,000"): one range of the org-path index, not a
    recursive walk of the tree (160 ms for a director of 100,000 people)."""
    path = db.session.scalar(select(Person.org_path).where(Person.id == person_id))
    if path is None:
        return 0
    below = select(Person.id).where(
        paths.below(Person.org_path, path), Person.id != person_id, Person.active.is_(True)
    )
    return bounded_count(below, Person.id)  # shown with the `upto` filter


def direct_reports(manager_ids: list[int]) -> dict[int, list[Person]]:
    """Active direct reports of each manager, with their own report counts."""
    if not manager_ids:
        return {}
    people = db.session.scalars(
        select(Person)
        .where(Person.manager_id.in_(manager_ids), Person.active.is_(True))
        .options(joinedload(Person.level), joinedload(Person.department))
        .order_by(Person.name)
    ).all()
    grouped: dict[int, list[Person]] = {mid: [] for mid in manager_ids}
    for p in people:
        grouped[p.manager_id or 0].append(p)
    return grouped


class Colleague(NamedTuple):
    """A person as a list names them: with their level and department."""

    id: int
    name: str
    level: str | None
    department: str | None


def manager_and_reports(person: Person) -> tuple[Colleague | None, list[Colleague]]:
    """`person`'s manager, and their active direct reports by name (1 statement)."""
    rows = db.session.execute(
        _manager_and_reports(), {"person_id": person.id, "manager_id": person.manager_id}
    ).all()
    manager = next((Colleague(*r[:4]) for r in rows if r.id == person.manager_id), None)
    reports = [Colleague(*r[:4]) for r in rows if r.manager_id == person.id and r.active]
    return manager, reports


@cache
def _manager_and_reports() -> Any:
    """The statement of `manager_and_reports`, built once: only the two ids change."""
    return (
        select(
            Person.id,
            Person.name,
            Level.name.label("level"),
            Department.name.label("department"),
            Person.manager_id,
            Person.active,
        )
        .outerjoin(Level, Person.level_id == Level.id)
        .outerjoin(Department, Person.department_id == Department.id)
        .where(
            ((Person.manager_id == bindparam("person_id")) & Person.active.is_(True))
            | (Person.id == bindparam("manager_id"))
        )
        .order_by(Person.name, Person.id)
    )


def report_counts(person_ids: list[int]) -> dict[int, int]:
    if not person_ids:
        return {}
    rows = db.session.execute(
        select(Person.manager_id, func.count())
        .where(Person.manager_id.in_(person_ids), Person.active.is_(True))
        .group_by(Person.manager_id)
    ).all()
    return {mid: n for mid, n in rows if mid is not None}


def _literal(q: str) -> str:
    """`q` for a LIKE pattern: lower case, its wildcards matched as themselves."""
    return q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# A person's name (lower case) and email as one text: what the directory's search
# and the people picker match. On PostgreSQL a trigram index on this very expression
# (migration 5a1e9c3f7b42, where pg_trgm is available) answers "holds q" without
# reading every person; the text must stay as the index spells it.
SEARCH_TEXT: Any = literal_column("(lower(person.name) || ' ' || person.email)")


# Searches shorter than a trigram match the start of a word of the name or of the
# email ("ab": Abel, Ana Abbott, ab@...), which the trigram index answers (" ab" is
# one of its trigrams); "anywhere inside a word" would read every person.
WORD_START_BELOW = 3


def matching(q: str) -> Any:
    """People whose name or email holds `q` (any case), or for one or two characters
    has a word starting with it: the directory's search and the people picker's
    suggestions match alike."""
    term = _literal(q)
    if len(q.strip()) < WORD_START_BELOW:
        return or_(_like(term + "%"), _like("% " + term + "%"))
    return _like("%" + term + "%")


def _like(pattern: str) -> Any:
    """SEARCH_TEXT LIKE `pattern`, the pattern written into the SQL: a bound one lets
    PostgreSQL reuse one plan for every pattern once psycopg has prepared the
    statement (after five runs on a connection), and the plan right for "zq" (the
    trigram index) reads 15,000 people for "e", or the other way round: at 100,000
    people 150-300 ms instead of 7. SQLAlchemy quotes the value."""
    return SEARCH_TEXT.like(literal(pattern, String(), literal_execute=True), escape="\\")


def suggest_people(q: str, limit: int = 8) -> list[tuple[int, str, str, str | None]]:
    """The people picker's suggestions: active people matching `q`, those whose name
    starts with it first, as (id, name, email, department) rows."""
    starts = func.lower(Person.name).like(_literal(q) + "%", escape="\\")
    rows = db.session.execute(
        select(Person.id, Person.name, Person.email, Department.name)
        .outerjoin(Department, Department.id == Person.department_id)
        .where(Person.active.is_(True), matching(q))
        .order_by(starts.desc(), Person.name, Person.id)
        .limit(limit)
    ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


# The directory counts its matches up to this many; above it the page says "more
# than": an exact count of 100,000 people would read all of them on every view.
COUNT_LIMIT = 1000


@dataclass
class DirectoryPage:
    people: list[Person]
    total: int  # matches, counted up to COUNT_LIMIT + 1
    previous_before: int | None  # the person the previous page ends before, if any
    next_after: int | None  # the person the next page starts after, if any

    @property
    def more_than(self) -> bool:
        return self.total > COUNT_LIMIT


class NotListed(LookupError):
    """The person a page should start after (or end before) is not in the list."""


def search_people(
    q: str,
    department_id: int | None,
    include_inactive: bool,
    per_page: int,
    source: Source | None = None,
    *,
    after: int | None = None,
    before: int | None = None,
) -> DirectoryPage:
    """A page of the directory by name (`source`: HR's filter by what provisions
    people): the first, the one after person `after` or the one before person `before`
    (keyset paging on the (active, name, id) index: page 900 costs what page 1 does)."""
    stmt = select(Person)
    if source is not None:
        stmt = stmt.where(Person.source == source)
    if not include_inactive:
        stmt = stmt.where(Person.active.is_(True))
    if department_id:
        stmt = stmt.where(Person.department_id == department_id)
    if q.strip():
        stmt = stmt.where(matching(q))
    total = bounded_count(stmt, Person.id, COUNT_LIMIT)
    page = stmt
    cursor = after or before
    if cursor is not None:
        mark = db.session.execute(
            stmt.with_only_columns(Person.name, Person.id).where(Person.id == cursor)
        ).first()
        if mark is None:
            raise NotListed(cursor)
        name, pid = mark
        if after is not None:
            page = stmt.where(
                Person.name >= name, or_(Person.name > name, Person.id > pid)
            ).order_by(Person.name, Person.id)
        else:
            page = stmt.where(
                Person.name <= name, or_(Person.name < name, Person.id < pid)
            ).order_by(Person.name.desc(), Person.id.desc())
    else:
        page = stmt.order_by(Person.name, Person.id)
    manager = aliased(Person)
    people = list(
        db.session.scalars(
            page.options(
                joinedload(Person.level),
                joinedload(Person.department),
                joinedload(Person.manager.of_type(manager)),
            ).limit(per_page + 1)
        ).unique()
    )
    found = window(people, per_page, lambda p: p.id, after=after, before=before)
    return DirectoryPage(
        found.rows,
        total,
        previous_before=found.previous_before,
        next_after=found.next_after,
    )


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))
