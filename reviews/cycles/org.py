"""A manager's org in a cycle: the reviews of everyone whose frozen manager is them or
anyone below them now, read a page at a time in org-chart order from the org paths
(reviews.people.paths), in time that does not grow with the size of the org."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from reviews.cycles.models import Assessment, Cycle, PartKind, PeerRequest, RequestState, Review
from reviews.extensions import db
from reviews.paging import bounded_count
from reviews.people import paths
from reviews.people.models import Person

ORG_PAGE = 100
# The org's size is counted up to this many reviews; above it the page says "more
# than": an exact count of 50,000 reviews would read all of them on every view.
COUNT_LIMIT = 1000


def people_below(manager_id: int) -> Any:
    """Select of the manager's id and the ids of everyone below them now (one range of
    the org-path index)."""
    path = select(Person.org_path).where(Person.id == manager_id).scalar_subquery()
    return select(Person.id).where(paths.below(Person.org_path, path))


@dataclass
class OrgPage:
    rows: list[tuple[Review, dict[str, Assessment]]]
    total: int  # reviews in the whole org, counted up to COUNT_LIMIT + 1
    first: bool  # the page starts at the top of the org
    next_after: int | None  # the review the next page starts after, if there is one
    waiting: dict[int, int]  # review id -> nominations waiting for approval (page only)

    @property
    def more_than(self) -> bool:
        return self.total > COUNT_LIMIT


class NotInOrg(LookupError):
    """The review a page should start after is not in the org."""


def org_reviews(
    cycle: Cycle, manager: Person, after: int | None = None, per_page: int = ORG_PAGE
) -> OrgPage:
    """One page of the org's reviews in org-chart order (the manager's direct reports
    first: their path is the manager's own), starting after review `after`.

    Each page reads the people below the manager in path order from the index and
    their reviews in the cycle, up to the page's end: some hundred rows whether the
    org holds a hundred people or fifty thousand."""
    connection = db.session.connection()
    path = connection.scalar(select(Person.org_path).where(Person.id == manager.id))
    line = aliased(Person)
    in_org = (
        select(Review.id, line.org_path)
        .join(line, line.id == Review.manager_id)
        .where(Review.cycle_id == cycle.id, paths.below(line.org_path, path))
    )
    page = in_org
    if after is not None:
        start = connection.execute(in_org.where(Review.id == after)).first()
        if start is None:
            raise NotInOrg(after)
        _, start_path = start
        page = in_org.where(
            line.org_path >= start_path,
            or_(line.org_path > start_path, and_(line.org_path == start_path, Review.id > after)),
        )
    found = connection.execute(page.order_by(line.org_path, Review.id).limit(per_page + 1)).all()
    order = [row[0] for row in found[:per_page]]
    total = bounded_count(in_org, Review.id, COUNT_LIMIT)
    loaded = {
        r.id: r
        for r in db.session.scalars(
            select(Review)
            .where(Review.id.in_(order or [-1]))
            .options(joinedload(Review.subject), joinedload(Review.manager))
        )
    }
    reviews = [loaded[i] for i in order]
    parts = db.session.scalars(
        select(Assessment).where(
            Assessment.review_id.in_(order or [-1]),
            Assessment.kind.in_((PartKind.SELF, PartKind.MANAGER)),
        )
    ).all()
    by_review: dict[int, dict[str, Assessment]] = {}
    for part in parts:
        by_review.setdefault(part.review_id, {})[part.kind.value] = part
    waiting = dict(
        connection.execute(
            select(PeerRequest.review_id, func.count())
            .where(
                PeerRequest.review_id.in_(order or [-1]),
                PeerRequest.state == RequestState.PROPOSED,
            )
            .group_by(PeerRequest.review_id)
        ).all()
    )
    rows = [(r, by_review.get(r.id, {})) for r in reviews]
    return OrgPage(
        rows,
        total,
        first=after is None,
        next_after=order[-1] if len(found) > per_page else None,
        waiting=waiting,
    )
