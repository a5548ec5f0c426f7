"""Read-side queries over the org chart, each a bounded number of statements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, cast, func, literal, or_, select
from sqlalchemy.orm import aliased, joinedload

from reviews.extensions import db
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
    """How many active people report to this person, directly or not."""
    below = select(Person.id).where(Person.manager_id == person_id).cte("below", recursive=True)
    child = aliased(Person)
    below = below.union(select(child.id).join(below, child.manager_id == below.c.id))
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Person)
            .join(below, Person.id == below.c.id)
            .where(Person.active.is_(True))
        )
        or 0
    )


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


def matching(q: str) -> Any:
    """People whose name or email holds `q` (any case): the directory's search and the
    people picker's suggestions match alike."""
    like = "%" + _literal(q) + "%"
    return or_(
        func.lower(Person.name).like(like, escape="\\"),
        Person.email.like(like, escape="\\"),
    )


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


def search_people(
    q: str,
    department_id: int | None,
    include_inactive: bool,
    page: int,
    per_page: int,
    source: Source | None = None,
) -> tuple[list[Person], int]:
    """A page of the directory and the total number of matches (`source`: HR's filter
    by what provisions people)."""
    stmt = select(Person)
    if source is not None:
        stmt = stmt.where(Person.source == source)
    if not include_inactive:
        stmt = stmt.where(Person.active.is_(True))
    if department_id:
        stmt = stmt.where(Person.department_id == department_id)
    if q.strip():
        stmt = stmt.where(matching(q))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    manager = aliased(Person)
    people = db.session.scalars(
        stmt.options(
            joinedload(Person.level),
            joinedload(Person.department),
            joinedload(Person.manager.of_type(manager)),
        )
        .order_by(Person.name, Person.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(people), total


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))
