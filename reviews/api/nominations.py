"""API: a review's peers, proposed by the person, decided by their manager or HR, through
the same parser (`cycles.inputs.parse_nomination`) and operations as the page."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import select

from reviews import access
from reviews.api.core import ApiError, body, bp, operation
from reviews.api.reviews import visible_review
from reviews.api.schemas import NOMINATE, NOMINATIONS, request_json
from reviews.cycles import operations as ops
from reviews.cycles.inputs import parse_nomination
from reviews.cycles.models import PeerRequest, RequestState, Review
from reviews.cycles.reading import requests_of
from reviews.cycles.workflow import APPROVAL_OPEN, NOMINATION_OPEN
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext


def _nominations_review(review_id: int) -> tuple[Review, bool, bool]:
    review, _relations = visible_review(review_id)
    if not access.can_view_nominations(current_user, review):
        raise ApiError(
            403, "forbidden", gettext("Only the person, their managers and HR see nominations.")
        )
    can_nominate = access.can_nominate(current_user, review)
    can_decide = access.can_decide_nominations(current_user, review)
    return review, can_nominate, can_decide


def _nominations(review: Review, can_nominate: bool, can_decide: bool) -> Any:
    requests = requests_of(review)
    live = [r for r in requests if r.state in (RequestState.PROPOSED, RequestState.APPROVED)]
    load = ops.reviewer_load(review.cycle_id, [r.reviewer_id for r in live])
    reciprocal = {r for _s, r in ops.reciprocal_pairs(review.cycle_id, [review.subject_id])}
    cap = review.cycle.reviewer_load_cap
    return jsonify(
        review_id=review.id,
        can_nominate=can_nominate and review.cycle.state in NOMINATION_OPEN,
        can_decide=can_decide and review.cycle.state in APPROVAL_OPEN,
        peer_min=review.cycle.peer_min,
        peer_max=review.cycle.peer_max,
        requests=[
            {
                **request_json(r),
                "reviewer_load": load.get(r.reviewer_id, 0),
                "reciprocal": r.reviewer_id in reciprocal,
                "over_load_cap": load.get(r.reviewer_id, 0) > cap,
            }
            for r in requests
        ],
    )


@bp.get("/reviews/<int:review_id>/nominations")
@access.signed_in
@operation("Peers proposed and approved for a review, with reviewer load", NOMINATIONS)
def nominations(review_id: int) -> Any:
    return _nominations(*_nominations_review(review_id))


@bp.post("/reviews/<int:review_id>/nominations")
@access.signed_in
@operation(
    "Nominate a peer by email: the person proposes, their manager or HR adds directly",
    NOMINATIONS,
    body=NOMINATE,
    errors=(409,),
    status=201,
)
def nominate(review_id: int) -> Any:
    review, can_nominate, can_decide = _nominations_review(review_id)
    if not (can_decide or can_nominate):
        raise ApiError(403, "forbidden", gettext("Only the person, their manager or HR nominate."))
    peer = parse_nomination(Fields.of_json(body())).peer
    if can_decide:
        ops.add_peer(current_user, review, peer)
    else:
        ops.propose_peer(current_user, review, peer)
    return _nominations(review, can_nominate, can_decide), 201


def _decide(review_id: int, request_id: int, action: str) -> Any:
    review, can_nominate, can_decide = _nominations_review(review_id)
    found = db.session.scalar(
        select(PeerRequest).where(PeerRequest.id == request_id, PeerRequest.review_id == review.id)
    )
    if found is None:
        raise ApiError(404, "not_found", gettext("This review has no request with this id."))
    if action == "withdraw" and not can_nominate:
        raise ApiError(
            403, "forbidden", gettext("Only the person reviewed withdraws their proposals.")
        )
    if action == "withdraw":
        ops.withdraw_proposal(current_user, found)
    elif can_decide:
        ops.decide_request(current_user, found, approve=action == "approve")
    else:
        raise ApiError(403, "forbidden", gettext("Only the manager or HR approve or remove peers."))
    return _nominations(review, can_nominate, can_decide)


@bp.post("/reviews/<int:review_id>/nominations/<int:request_id>/approve")
@access.signed_in
@operation("Approve a proposed peer (manager or HR)", NOMINATIONS, errors=(409,))
def nomination_approve(review_id: int, request_id: int) -> Any:
    return _decide(review_id, request_id, "approve")


@bp.post("/reviews/<int:review_id>/nominations/<int:request_id>/remove")
@access.signed_in
@operation("Remove a peer (manager or HR)", NOMINATIONS, errors=(409,))
def nomination_remove(review_id: int, request_id: int) -> Any:
    return _decide(review_id, request_id, "remove")


@bp.post("/reviews/<int:review_id>/nominations/<int:request_id>/withdraw")
@access.signed_in
@operation("Withdraw one's own proposal", NOMINATIONS, errors=(409,))
def nomination_withdraw(review_id: int, request_id: int) -> Any:
    return _decide(review_id, request_id, "withdraw")
