"""What a viewer may read of one review: the one read model every output renders.

`read_review(review, relations)` decides every field: which parts (a draft only
to its author), peer feedback under the cycle's anonymity policy
(`visibility.peer_feedback_view`), the result (the subject reads the calibrated
values, never the proposal they replaced, and no potential or readiness), who
was asked. The review page, the review-summary PDF, the JSON API
(`api.schemas.review_json`) and the personal-data export render what it returns
and decide nothing themselves; `tests/test_parity.py` holds them to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews.cycles.models import (
    Assessment,
    Cycle,
    PartKind,
    PartState,
    PeerRequest,
    Potential,
    Readiness,
    Review,
)
from reviews.cycles.visibility import (
    CyclePolicy,
    PeerFeedback,
    PeerFeedbackView,
    Viewer,
    peer_feedback_view,
)
from reviews.cycles.workflow import CycleState, reached
from reviews.extensions import db
from reviews.review_templates.answers import audiences_for, readable_answers
from reviews.review_templates.definition import REVIEW_PARTS, Template
from reviews.review_templates.queries import templates_of

LINE = frozenset({"manager", "skip", "hr"})


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
        collected=reached(cycle.state, CycleState.MANAGER_REVIEW),
    )


def viewer_of(relations: set[str] | frozenset[str]) -> Viewer:
    if relations & {"manager", "skip"}:
        return Viewer.MANAGER
    if "hr" in relations:
        return Viewer.HR
    return Viewer.SUBJECT


def order_salt(review_id: int) -> bytes:
    """The key of a review's anonymous order: stable, and unknowable without SECRET_KEY."""
    return hashlib.sha256(f"{current_app.config['SECRET_KEY']}:{review_id}".encode()).digest()


def written(part: Assessment) -> dict[str, Any]:
    """Every answer of a part by question key: the free text and the chosen."""
    return {**(part.answers or {}), **(part.choices or {})}


def audiences_of(relations: frozenset[str], author: bool) -> frozenset[str]:
    """Which answers a reader with `relations` reads (`answers.audiences_for`)."""
    return audiences_for(
        author=author, line=bool(relations & {"manager", "skip"}), hr="hr" in relations
    )


def peer_view(
    review: Review,
    viewer: Viewer,
    parts: list[Assessment],
    template: Template,
    audiences: frozenset[str],
) -> PeerFeedbackView:
    """Submitted peer feedback as `viewer` may see it (names, order, withholding), each
    with only the answers its reader may read."""
    feedback = [
        PeerFeedback(
            p.id,
            p.author.name,
            p.ratings,
            p.comments,
            readable_answers(template, written(p), audiences),
            p.submitted_at.date() if p.submitted_at else date.today(),
        )
        for p in parts
        if p.kind == PartKind.PEER and p.state == PartState.SUBMITTED
    ]
    chosen = frozenset(q.key for q in template.questions if q.kind != "text")
    return peer_feedback_view(
        viewer, cycle_policy(review.cycle), feedback, order_salt(review.id), chosen
    )


@dataclass(frozen=True)
class PartView:
    """One self or manager part, holding only what the viewer may read of it."""

    id: int
    review_id: int
    kind: PartKind
    state: PartState
    version: int
    author_id: int
    ratings: dict[str, int]
    comments: dict[str, str]
    answers: dict[str, Any]  # by question key, only those the reader may read
    evidence: dict[str, list[dict[str, Any]]] | None
    desired_level: str | None
    overall: int | None
    potential: Potential | None
    readiness: Readiness | None
    submitted_at: datetime | None
    updated_at: datetime
    reopened: bool
    # The subject of a calibrated review reads the final competency ratings here.
    ratings_are_final: bool = False

    @property
    def submitted(self) -> bool:
        return self.state == PartState.SUBMITTED

    @classmethod
    def of(cls, part: Assessment, answers: dict[str, Any] | None = None) -> PartView:
        """The part with `answers` (its author's view: every answer, when None)."""
        return cls(
            id=part.id,
            review_id=part.review_id,
            kind=part.kind,
            state=part.state,
            version=part.version,
            author_id=part.author_id,
            ratings=dict(part.ratings or {}),
            comments=dict(part.comments or {}),
            answers=written(part) if answers is None else answers,
            evidence=part.evidence if part.kind != PartKind.PEER else None,
            desired_level=part.desired_level_key,
            overall=part.overall_rating,
            potential=part.potential,
            readiness=part.promotion_readiness,
            submitted_at=part.submitted_at,
            updated_at=part.updated_at,
            reopened=part.reopened,
        )


@dataclass(frozen=True)
class ResultView:
    """The final values: the line and HR from calibration on, the person once released."""

    final_rating: int | None
    final_potential: Potential | None  # None for the person reviewed
    final_ratings: dict[str, int] | None
    final_version: int
    locked: bool


@dataclass(frozen=True)
class ReviewReading:
    """One review as a viewer with `relations` to it may read it."""

    review: Review
    relations: frozenset[str]
    viewer: Viewer
    released: bool
    self_part: PartView | None  # the author's draft, or the submitted part
    self_submitted: bool
    manager_part: PartView | None
    manager_submitted: bool
    peers: PeerFeedbackView
    requests: list[PeerRequest]  # who was asked: never for a peer's eyes
    templates: dict[str, Template]  # what each part asks, to render its answers
    result: ResultView | None
    acknowledged_at: datetime | None
    acknowledgement_comment: str | None

    @property
    def is_subject(self) -> bool:
        return self.viewer == Viewer.SUBJECT


def _readable(
    part: Assessment | None, author_reads: bool, template: Template, audiences: frozenset[str]
) -> PartView | None:
    """A part as others read it: submitted only; its author reads the draft too. Each
    reads only the answers meant for them (`answers.readable_answers`)."""
    if part is None or not (author_reads or part.state == PartState.SUBMITTED):
        return None
    return PartView.of(part, readable_answers(template, written(part), audiences))


def _for_subject(view: PartView, review: Review) -> PartView:
    """The manager's part as the person reviewed reads it: what calibration settled
    replaces the proposal (SPEC 4), and potential and readiness stay with the line."""
    return replace(
        view,
        overall=None,
        potential=None,
        readiness=None,
        ratings=dict(review.final_ratings or view.ratings),
        ratings_are_final=review.final_ratings is not None,
    )


def read_review(review: Review, relations: set[str] | frozenset[str]) -> ReviewReading:
    relations = frozenset(relations)
    viewer = viewer_of(relations)
    parts = parts_of(review)
    released = reached(review.cycle.state, CycleState.RELEASED)
    templates = templates_of(review.cycle, REVIEW_PARTS)
    own = next((p for p in parts if p.kind == PartKind.SELF), None)
    managers = next((p for p in parts if p.kind == PartKind.MANAGER), None)
    self_part = _readable(
        own,
        viewer == Viewer.SUBJECT,
        templates["self"],
        audiences_of(relations, author="subject" in relations),
    )
    manager_part: PartView | None = None
    # "manager" is the direct manager: the author, unless the part was written by another.
    manager_audiences = audiences_of(
        relations,
        author="manager" in relations
        and managers is not None
        and managers.author_id == review.manager_id,
    )
    if viewer == Viewer.SUBJECT:
        shown = _readable(managers, False, templates["manager"], manager_audiences)
        if released and shown is not None:
            manager_part = _for_subject(shown, review)
    else:
        manager_part = _readable(
            managers, "manager" in relations, templates["manager"], manager_audiences
        )
    result = None
    if released or relations & LINE:
        result = ResultView(
            final_rating=review.final_rating,
            final_potential=None if viewer == Viewer.SUBJECT else review.final_potential,
            final_ratings=dict(review.final_ratings) if review.final_ratings else None,
            final_version=review.final_version,
            locked=review.final_locked,
        )
    return ReviewReading(
        review=review,
        relations=relations,
        viewer=viewer,
        released=released,
        self_part=self_part,
        self_submitted=own is not None and own.state == PartState.SUBMITTED,
        manager_part=manager_part,
        manager_submitted=managers is not None and managers.state == PartState.SUBMITTED,
        peers=peer_view(
            review, viewer, parts, templates["peer"], audiences_of(relations, author=False)
        ),
        requests=requests_of(review),
        templates=templates,
        result=result,
        acknowledged_at=review.acknowledged_at if released else None,
        acknowledgement_comment=review.acknowledgement_comment if released else None,
    )
