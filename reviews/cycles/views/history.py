"""Every review of one person, newest cycle first: "My reviews" for the person, and
the Reviews tab of their profile for the line and HR.

Each row is what `cycles.reading` lets this viewer read of that review (the same
reading the review page renders); the list decides nothing about visibility itself,
beyond leaving out the reviews the viewer has no relation to.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.cycles.models import Cycle, Review
from reviews.cycles.reading import ReviewReading, read_review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.views import bp
from reviews.cycles.workflow import LABELS
from reviews.extensions import db
from reviews.growth.models import GrowthPlan
from reviews.people.models import Person


def _readings(person_id: int) -> list[ReviewReading]:
    reviews = db.session.scalars(
        select(Review)
        .join(Cycle, Cycle.id == Review.cycle_id)
        .where(Review.subject_id == person_id)
        .options(joinedload(Review.cycle), joinedload(Review.manager), joinedload(Review.subject))
        .order_by(Cycle.period_end.desc(), Cycle.id.desc())
    ).all()
    readings = []
    for review in reviews:
        relations = access.review_relations(current_user, review)
        if relations:  # a review the viewer has no relation to is not theirs to list
            readings.append(read_review(review, relations))
    return readings


def _render(person: Person, *, mine: bool) -> Any:
    readings = _readings(person.id)
    plans = dict(
        db.session.execute(
            select(GrowthPlan.review_id, GrowthPlan.id).where(
                GrowthPlan.review_id.in_([r.review.id for r in readings] or [-1])
            )
        ).all()
    )
    snapshots = {
        r.review.cycle_id: FrameworkSnapshot(r.review.cycle.framework_snapshot or {})
        for r in readings
    }
    return render_template(
        "reviews/history.html",
        person=person,
        mine=mine,
        readings=readings,
        plans=plans,
        snapshots=snapshots,
        labels=LABELS,
    )


@bp.get("/reviews/mine")
@access.signed_in
def my_reviews() -> Any:
    return _render(current_user, mine=True)


@bp.get("/people/<int:person_id>/reviews")
@access.signed_in
def person_reviews(person_id: int) -> Any:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    if person.id == current_user.id:
        return redirect(url_for("cycles.my_reviews"))
    if not access.can_view_reviews_of(current_user, person):
        abort(403)
    return _render(person, mine=False)
