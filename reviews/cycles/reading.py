"""What a viewer may read of one review, shared by the pages, the PDFs and the API.

The rules come from `access.review_relations` and `visibility.peer_feedback_view`;
this module only gathers a review's parts once and applies them, so no output
decides on its own what to show.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews.cycles.models import Assessment, Cycle, PartKind, PartState, PeerRequest, Review
from reviews.cycles.visibility import (
    CyclePolicy,
    PeerFeedback,
    PeerFeedbackView,
    Viewer,
    peer_feedback_view,
)
from reviews.cycles.workflow import CycleState, reached
from reviews.extensions import db

LINE = {"manager", "skip", "hr"}


def parts_of(review: Review) -> list[Assessment]:
    return list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.review_id == review.id)
            .options(joinedload(Assessment.author))
            .order_by(Assessment.id)
        )
    )


def requests_of(review: Review) -> list[PeerRequest]:
    return list(
        db.session.scalars(
            select(PeerRequest)
            .where(PeerRequest.review_id == review.id)
            .options(joinedload(PeerRequest.reviewer))
            .order_by(PeerRequest.created_at, PeerRequest.id)
        )
    )


def cycle_policy(cycle: Cycle) -> CyclePolicy:
    """The cycle's anonymity settings, as `visibility` applies them."""
    return CyclePolicy(
        anonymous=cycle.peer_anonymous,
        threshold=cycle.anonymity_threshold,
        names_to_managers=cycle.peer_names_to_managers,
        released=reached(cycle.state, CycleState.RELEASED),
    )


def peer_view(review: Review, relations: set[str], parts: list[Assessment]) -> PeerFeedbackView:
    """Submitted peer feedback as `relations` may see it (names, order, withholding)."""
    cycle = review.cycle
    if relations & {"manager", "skip"}:
        viewer = Viewer.MANAGER
    elif "hr" in relations:
        viewer = Viewer.HR
    else:
        viewer = Viewer.SUBJECT
    policy = cycle_policy(cycle)
    feedback = [
        PeerFeedback(
            p.id,
            p.author.name,
            p.ratings,
            p.comments,
            p.answers,
            p.submitted_at.date() if p.submitted_at else date.today(),
        )
        for p in parts
        if p.kind == PartKind.PEER and p.state == PartState.SUBMITTED
    ]
    salt = hashlib.sha256(f"{current_app.config['SECRET_KEY']}:{review.id}".encode()).digest()
    return peer_feedback_view(viewer, policy, feedback, salt)


@dataclass
class ReviewReading:
    """One review as a viewer with `relations` to it may read it."""

    review: Review
    relations: set[str]
    released: bool
    self_part: Assessment | None
    manager_part: Assessment | None  # None when the viewer may not see it yet
    peers: PeerFeedbackView
    requests: list[PeerRequest]  # who was asked: never for a peer's eyes
    result_visible: bool  # the final rating and ratings


def read_review(review: Review, relations: set[str]) -> ReviewReading:
    parts = parts_of(review)
    released = reached(review.cycle.state, CycleState.RELEASED)
    manager_part = next((p for p in parts if p.kind == PartKind.MANAGER), None)
    return ReviewReading(
        review=review,
        relations=relations,
        released=released,
        self_part=next((p for p in parts if p.kind == PartKind.SELF), None),
        manager_part=manager_part if bool(relations & LINE) or released else None,
        peers=peer_view(review, relations, parts),
        requests=requests_of(review) if relations & ({"subject"} | LINE) else [],
        # The final rating: the line and HR from calibration on; the person once released.
        result_visible=released or bool(relations & LINE),
    )
