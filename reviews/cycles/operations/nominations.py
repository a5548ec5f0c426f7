"""Peer nominations: the person proposes, the manager (or HR) approves, removes or adds;
the peer answers or declines."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import aliased

from reviews.audit.operations import record
from reviews.cycles.models import Assessment, PartState, PeerRequest, RequestState, Review
from reviews.cycles.reading import cycle_policy
from reviews.cycles.workflow import APPROVAL_OPEN, NOMINATION_OPEN, PEER_OPEN
from reviews.db import utcnow
from reviews.errors import Forbidden, Invalid, PhaseClosed
from reviews.extensions import db
from reviews.languages import gettext, lazy_gettext, ngettext
from reviews.links import Link
from reviews.notifications.operations import Message, notify
from reviews.people.models import Person


def _requests_of(review: Review) -> list[PeerRequest]:
    return list(db.session.scalars(select(PeerRequest).where(PeerRequest.review_id == review.id)))


def reviewer_load(cycle_id: int, reviewer_ids: list[int]) -> dict[int, int]:
    """How many live requests each reviewer holds in the cycle."""
    if not reviewer_ids:
        return {}
    rows = db.session.execute(
        select(PeerRequest.reviewer_id, func.count())
        .join(Review)
        .where(
            Review.cycle_id == cycle_id,
            PeerRequest.reviewer_id.in_(reviewer_ids),
            PeerRequest.state.in_([RequestState.PROPOSED, RequestState.APPROVED]),
        )
        .group_by(PeerRequest.reviewer_id)
    ).all()
    return dict(rows)


def _add_request(
    actor: Person, review: Review, reviewer: Person, state: RequestState
) -> PeerRequest:
    if reviewer.id == review.subject_id:
        raise Invalid(gettext("Nobody can give peer feedback on their own review."), "email")
    if not reviewer.active:
        raise Invalid(gettext("%(name)s is deactivated.", name=reviewer.name), "email")
    live = [
        r for r in _requests_of(review) if r.state in (RequestState.PROPOSED, RequestState.APPROVED)
    ]
    existing = next((r for r in _requests_of(review) if r.reviewer_id == reviewer.id), None)
    if existing is not None and existing.state in (RequestState.PROPOSED, RequestState.APPROVED):
        raise Invalid(gettext("%(name)s is already asked.", name=reviewer.name), "email")
    if existing is not None and existing.state == RequestState.DECLINED:
        raise Invalid(
            gettext(
                "%(name)s declined: %(reason)s",
                name=reviewer.name,
                reason=existing.decline_reason,
            ),
            "email",
        )
    if len(live) >= review.cycle.peer_max:
        # English says "peers" even for one; other languages choose a form
        raise Invalid(
            ngettext(
                "This cycle allows at most %(num)d peers.",
                "This cycle allows at most %(num)d peers.",
                review.cycle.peer_max,
            ),
            "email",
        )
    now = utcnow()
    if existing is not None:  # a removed request comes back
        request = existing
        request.state = state
        request.decline_reason = None
    else:
        request = PeerRequest(
            review_id=review.id,
            reviewer_id=reviewer.id,
            state=state,
            proposed_by_id=actor.id,
            created_at=now,
        )
        db.session.add(request)
    if state == RequestState.APPROVED:
        request.decided_by_id, request.decided_at = actor.id, now
    db.session.flush()
    return request


def propose_peer(actor: Person, review: Review, reviewer: Person) -> PeerRequest:
    if review.cycle.state not in NOMINATION_OPEN:
        raise PhaseClosed(gettext("Peers are nominated during the self-review phase."))
    request = _add_request(actor, review, reviewer, RequestState.PROPOSED)
    record(
        "peer.proposed",
        actor=actor,
        subject=review.subject,
        cycle_id=review.cycle_id,
        reviewer_id=reviewer.id,
    )
    if review.manager_id:
        notify(
            Message(
                review.manager_id,
                "nomination_to_approve",
                lazy_gettext(
                    "%(cycle)s: approve %(name)s's peers",
                    cycle=review.cycle.name,
                    name=review.subject.name,
                ),
                lazy_gettext(
                    "%(name)s nominated %(peer)s for peer feedback.",
                    name=review.subject.name,
                    peer=reviewer.name,
                ),
                Link("cycles.nominations", review.id),
            )
        )
    return request


def _notify_reviewer(request: PeerRequest) -> None:
    review = request.review
    notify(
        Message(
            request.reviewer_id,
            "peer_request",
            lazy_gettext(
                "%(cycle)s: feedback for %(name)s",
                cycle=review.cycle.name,
                name=review.subject.name,
            ),
            lazy_gettext("You are asked for peer feedback on %(name)s.", name=review.subject.name),
            Link("cycles.peer_request", request.id),
        )
    )


def add_peer(actor: Person, review: Review, reviewer: Person) -> PeerRequest:
    """The manager (or HR) adds a peer, approved at once."""
    if review.cycle.state not in APPROVAL_OPEN:
        raise PhaseClosed(gettext("Peers can be added until the peer-feedback phase ends."))
    request = _add_request(actor, review, reviewer, RequestState.APPROVED)
    record(
        "peer.added",
        actor=actor,
        subject=review.subject,
        cycle_id=review.cycle_id,
        reviewer_id=reviewer.id,
    )
    _notify_reviewer(request)
    return request


def removal_refusal(request: PeerRequest, *, submitted: bool) -> str | None:
    """Why an open request cannot be removed, or None: the one rule behind the page's
    Remove buttons and `decide_request`.

    A peer who submitted stays part of the review. Where the cycle keeps peer names
    from managers and HR, an approved peer stays whatever they did: a refusal for some
    and not others would tell the decider who responded (SPEC 4).
    """
    if request.state == RequestState.PROPOSED:
        return None
    if not cycle_policy(request.review.cycle).names_to_staff:
        return str(
            gettext(
                "In this cycle peer names are kept from managers and HR, so an approved peer "
                "stays: removing some and not others would tell who responded."
            )
        )
    if submitted:
        return str(gettext("This peer already submitted feedback; it stays part of the review."))
    return None


def removable_ids(requests: list[PeerRequest]) -> set[int]:
    """The open requests among `requests` that `removal_refusal` lets go (one query)."""
    submitted = set(
        db.session.scalars(
            select(Assessment.peer_request_id).where(
                Assessment.peer_request_id.in_([r.id for r in requests] or [-1]),
                Assessment.state == PartState.SUBMITTED,
            )
        )
    )
    return {
        r.id
        for r in requests
        if r.state in (RequestState.PROPOSED, RequestState.APPROVED)
        and removal_refusal(r, submitted=r.id in submitted) is None
    }


def approve_all(actor: Person, reviews: list[Review]) -> int:
    """Approve every waiting nomination of `reviews` (each through `decide_request`)."""
    waiting = db.session.scalars(
        select(PeerRequest)
        .where(
            PeerRequest.review_id.in_([r.id for r in reviews] or [-1]),
            PeerRequest.state == RequestState.PROPOSED,
        )
        .order_by(PeerRequest.id)
    ).all()
    for request in waiting:
        decide_request(actor, request, approve=True)
    return len(waiting)


def decide_request(actor: Person, request: PeerRequest, approve: bool) -> None:
    review = request.review
    if review.cycle.state not in APPROVAL_OPEN:
        raise PhaseClosed(gettext("Nominations are decided until the peer-feedback phase ends."))
    if request.state not in (RequestState.PROPOSED, RequestState.APPROVED):
        raise PhaseClosed(gettext("This request is no longer open."))
    if not approve and (
        refusal := removal_refusal(request, submitted=_submitted_feedback(request))
    ):
        raise PhaseClosed(refusal)
    if approve and request.state == RequestState.APPROVED:
        return
    request.state = RequestState.APPROVED if approve else RequestState.REMOVED
    request.decided_by_id, request.decided_at = actor.id, utcnow()
    if not approve:
        db.session.execute(delete(Assessment).where(Assessment.peer_request_id == request.id))
    db.session.flush()
    record(
        "peer.approved" if approve else "peer.removed",
        actor=actor,
        subject=review.subject,
        cycle_id=review.cycle_id,
        reviewer_id=request.reviewer_id,
    )
    if approve:
        _notify_reviewer(request)


def withdraw_proposal(actor: Person, request: PeerRequest) -> None:
    if request.review.subject_id != actor.id:
        raise Forbidden(gettext("Only the person reviewed withdraws their own nominations."))
    if request.state != RequestState.PROPOSED:
        raise PhaseClosed(gettext("Only nominations that are not yet approved can be withdrawn."))
    if request.review.cycle.state not in NOMINATION_OPEN:
        raise PhaseClosed(gettext("Nominations are closed."))
    request.state = RequestState.REMOVED
    db.session.flush()
    record(
        "peer.withdrawn",
        actor=actor,
        subject=request.review.subject,
        cycle_id=request.review.cycle_id,
        reviewer_id=request.reviewer_id,
    )


def decline_request(actor: Person, request: PeerRequest, reason: str) -> None:
    if request.reviewer_id != actor.id:
        raise Forbidden(gettext("Only the person asked can decline."))
    if request.state != RequestState.APPROVED or _submitted_feedback(request):
        raise PhaseClosed(gettext("This request can no longer be declined."))
    if request.review.cycle.state not in PEER_OPEN:
        raise PhaseClosed(gettext("Peer feedback is closed for this cycle."))
    reason = reason.strip()
    if not reason:
        raise Invalid(
            gettext("Say briefly why you decline, so that a replacement can be found."), "reason"
        )
    request.state = RequestState.DECLINED
    request.decline_reason = reason[:1000]
    request.decided_at = utcnow()
    db.session.execute(delete(Assessment).where(Assessment.peer_request_id == request.id))
    db.session.flush()
    record(
        "peer.declined",
        actor=actor,
        subject=request.review.subject,
        cycle_id=request.review.cycle_id,
    )
    if request.review.manager_id:
        notify(
            Message(
                request.review.manager_id,
                "peer_declined",
                lazy_gettext("%(cycle)s: a peer declined", cycle=request.review.cycle.name),
                lazy_gettext(
                    "%(peer)s declined to give feedback on %(name)s.",
                    peer=actor.name,
                    name=request.review.subject.name,
                ),
                Link("cycles.nominations", request.review_id),
            )
        )


def _submitted_feedback(request: PeerRequest) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).where(
                Assessment.peer_request_id == request.id, Assessment.state == PartState.SUBMITTED
            )
        )
    )


def reciprocal_pairs(cycle_id: int, subject_ids: list[int]) -> set[tuple[int, int]]:
    """(a, b) where a reviews b and b reviews a in this cycle, for the given subjects:
    each of their open requests matched with the reverse one, by index (the subjects'
    reviews, their requests, the reviewer's review in the cycle and its requests),
    not by reading every request of the cycle (300,000 at 100,000 people)."""
    if not subject_ids:
        return set()
    live = [RequestState.PROPOSED, RequestState.APPROVED]
    theirs, back = aliased(Review), aliased(PeerRequest)
    rows = db.session.execute(
        select(Review.subject_id, PeerRequest.reviewer_id)
        .join(PeerRequest, PeerRequest.review_id == Review.id)
        .join(
            theirs,
            (theirs.cycle_id == Review.cycle_id) & (theirs.subject_id == PeerRequest.reviewer_id),
        )
        .join(back, (back.review_id == theirs.id) & (back.reviewer_id == Review.subject_id))
        .where(
            Review.cycle_id == cycle_id,
            Review.subject_id.in_(subject_ids),
            PeerRequest.state.in_(live),
            back.state.in_(live),
        )
    ).all()
    return {(s, r) for s, r in rows}
