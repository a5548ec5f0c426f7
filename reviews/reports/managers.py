"""HR's completion by manager, a page at a time after a given manager (keyset paging),
in either order from an index: by name from the people's (name, id) index, each
manager's figures fetched by key; furthest behind from the figures' own index on the
share of tasks done (figures.SHARE_DONE). A page costs what the first does, with
15,000 managers as with 15; the number of managers is counted up to COUNT_LIMIT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, func, literal, literal_column, select, tuple_, union_all

from reviews.cycles.figures import FIGURES, SHARE_DONE
from reviews.cycles.models import Cycle, cycle_manager_figures
from reviews.extensions import db
from reviews.languages import lazy_gettext
from reviews.paging import bounded_count, window
from reviews.people.models import Person
from reviews.reports.queries import Completion

COUNT_LIMIT = 1000
# The label of the reviews without a manager (key 0), in the reader's language: it is
# sorted among the names in SQL, so str() it where a statement is built.
NO_MANAGER = lazy_gettext("No manager")
m = cycle_manager_figures
share_done = literal_column(SHARE_DONE, Float)  # the very text the index is on


class NotListed(LookupError):
    """The manager a page should start after has no figures in the cycle."""


@dataclass
class ManagersPage:
    rows: list[Completion]
    total: int  # managers, counted up to COUNT_LIMIT + 1
    first: bool  # the page starts at the top of the list
    next_after: int | None  # the manager key the next page starts after, if any

    @property
    def more_than(self) -> bool:
        return self.total > COUNT_LIMIT


def _figures() -> list[Any]:
    return [m.c[name] for name in FIGURES]


def _by_name(cycle: Cycle, after: int | None, per_page: int) -> list[tuple[Any, ...]]:
    """(label, key, figures...) rows by (name, key): people walked from the (name, id)
    index and each one's figures fetched by key; the reviews without a manager (key
    0, "No manager") merged in at their place."""
    connection = db.session.connection()
    no_manager = str(NO_MANAGER)
    people = (
        select(Person.name, m.c.manager_key, *_figures())
        .select_from(Person)
        .join(m, (m.c.cycle_id == cycle.id) & (m.c.manager_key == Person.id))
        .order_by(Person.name, Person.id)
        .limit(per_page + 1)
    )
    none = select(literal(no_manager), m.c.manager_key, *_figures()).where(
        m.c.cycle_id == cycle.id, m.c.manager_key == 0
    )
    start: tuple[str, int] | None = None
    if after is not None:
        mark = connection.execute(
            select(func.coalesce(Person.name, no_manager), m.c.manager_key)
            .select_from(m)
            .outerjoin(Person, Person.id == m.c.manager_key)
            .where(m.c.cycle_id == cycle.id, m.c.manager_key == after)
        ).first()
        if mark is None:
            raise NotListed(after)
        start = (mark[0], mark[1])
        people = people.where(tuple_(Person.name, Person.id) > tuple_(*start))
        none = none.where(tuple_(literal(no_manager), literal(0)) > tuple_(*start))
    # the two ordered in SQL, in the database's collation
    both = union_all(people.subquery().select(), none).subquery()
    label, key = both.c[0], both.c[1]
    return list(connection.execute(select(*both.c).order_by(label, key).limit(per_page + 1)).all())


def _behind(cycle: Cycle, after: int | None, per_page: int) -> list[tuple[Any, ...]]:
    """(label, key, figures...) rows least complete first (then most reviews, then the
    key), each range read from the index on the share done. After a manager, what
    follows is the union of ranges of that index, each cut at a page: the same share
    and reviews with a later key, the same share with fewer reviews, a greater share
    (and the groups with no task, whose share is NULL, where the database sorts NULL:
    last on PostgreSQL, first on SQLite)."""
    connection = db.session.connection()
    ordering = (share_done, m.c.reviews.desc(), m.c.manager_key)
    base = select(m.c.manager_key, *_figures(), share_done.label("share")).where(
        m.c.cycle_id == cycle.id
    )
    if after is None:
        ranges = [base]
    else:
        mark = connection.execute(
            select(share_done, m.c.reviews).where(
                m.c.cycle_id == cycle.id, m.c.manager_key == after
            )
        ).first()
        if mark is None:
            raise NotListed(after)
        mark_share, reviews = mark
        same = share_done.is_(None) if mark_share is None else share_done == mark_share
        ranges = [
            base.where(same, m.c.reviews == reviews, m.c.manager_key > after),
            base.where(same, m.c.reviews < reviews),
        ]
        nulls_last = connection.dialect.name == "postgresql"
        if mark_share is not None:
            ranges.append(base.where(share_done > mark_share))
            if nulls_last:
                ranges.append(base.where(share_done.is_(None)))
        elif not nulls_last:
            ranges.append(base.where(share_done.is_not(None)))
    cuts = [r.order_by(*ordering).limit(per_page + 1).subquery().select() for r in ranges]
    found = (cuts[0] if len(cuts) == 1 else union_all(*cuts)).subquery()
    name = select(Person.name).where(Person.id == found.c.manager_key).scalar_subquery()
    stmt = (
        select(
            func.coalesce(name, str(NO_MANAGER)),
            found.c.manager_key,
            *(found.c[f] for f in FIGURES),
        )
        .order_by(found.c.share, found.c.reviews.desc(), found.c.manager_key)
        .limit(per_page + 1)
    )
    return list(connection.execute(stmt).all())


def managers_page(
    cycle: Cycle, order: str, per_page: int, after: int | None = None
) -> ManagersPage:
    """A page of completion by manager ("name" or "behind"), the first or the one after
    the manager with key `after` (0: the reviews without a manager)."""
    read = _by_name if order == "name" else _behind
    found = read(cycle, after, per_page)
    counted = select(m.c.manager_key).where(m.c.cycle_id == cycle.id)
    total = bounded_count(counted, m.c.manager_key, COUNT_LIMIT)
    page = found[:per_page]
    return ManagersPage(
        [Completion(label, *values) for label, _key, *values in page],
        total,
        first=after is None,
        next_after=page[-1][1] if len(found) > per_page else None,
    )


@dataclass
class WritersPage:
    """A page of the managers who have submitted manager reviews in a cycle, by name."""

    people: list[tuple[int, str]]  # (person id, name)
    total: int  # such managers, counted up to COUNT_LIMIT + 1
    first: bool
    next_after: int | None  # the manager the next page starts after, if any

    @property
    def more_than(self) -> bool:
        return self.total > COUNT_LIMIT


def writers_page(cycle: Cycle, per_page: int, after: int | None = None) -> WritersPage:
    """The managers with a submitted manager review in the cycle (the author of a
    manager part is the review's manager as frozen at launch, whose figures count the
    parts done), a page at a time by name after manager `after`: people walked from
    the (name, id) index, each one's figures fetched by key."""
    writers = (
        select(Person.id, Person.name)
        .join(m, (m.c.cycle_id == cycle.id) & (m.c.manager_key == Person.id))
        .where(m.c.manager_done > 0)
    )
    page = writers.order_by(Person.name, Person.id)
    if after is not None:
        mark = db.session.execute(writers.where(Person.id == after)).first()
        if mark is None:
            raise NotListed(after)
        page = page.where(tuple_(Person.name, Person.id) > tuple_(mark[1], mark[0]))
    read = [(pid, name) for pid, name in db.session.execute(page.limit(per_page + 1))]
    found = window(read, per_page, lambda row: row[0], after=after)
    return WritersPage(
        found.rows,
        bounded_count(writers, Person.id, COUNT_LIMIT),
        first=after is None,
        next_after=found.next_after,
    )
