"""Peers: nominating and deciding on a review's peers, the peer's inbox, declining."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from reviews import access
from reviews.cycles import operations as ops
from reviews.cycles.forms import NominateForm
from reviews.cycles.inputs import parse_decline, parse_nomination
from reviews.cycles.models import Assessment, PeerRequest, RequestState
from reviews.cycles.queries import inbox_requests
from reviews.cycles.reading import requests_of
from reviews.cycles.views import bp
from reviews.cycles.views.parts import my_request
from reviews.cycles.views.review import visible_review
from reviews.cycles.workflow import APPROVAL_OPEN, LABELS, NOMINATION_OPEN
from reviews.errors import DomainError, Forbidden
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext
from reviews.web import failure

ACTIONS = ("approve", "approve_all", "remove", "withdraw", "add")


def _decide(review: Any, action: str, can_nominate: bool, can_decide: bool) -> None:
    """One nomination action, by the rules of `access` and the operations."""
    if action == "add":
        nomination = parse_nomination(Fields.of_form(request.form))
        if can_decide:
            ops.add_peer(current_user, review, nomination.peer)
        elif can_nominate:
            ops.propose_peer(current_user, review, nomination.peer)
        else:
            raise Forbidden(gettext("Only the person, their manager or HR nominate peers."))
        return
    if action == "approve_all":
        if not can_decide:
            raise Forbidden(gettext("Only the manager or HR approve peers."))
        ops.approve_all(current_user, [review])
        return
    raw = request.form.get("request_id", "")
    req = db.session.scalar(
        select(PeerRequest).where(
            PeerRequest.id == (int(raw) if raw.isdigit() and len(raw) < 10 else -1),
            PeerRequest.review_id == review.id,
        )
    )
    if req is None:
        abort(404)
    if action == "withdraw":
        ops.withdraw_proposal(current_user, req)
    elif can_decide:
        ops.decide_request(current_user, req, approve=action == "approve")
    else:
        raise Forbidden(gettext("Only the manager or HR approve or remove peers."))


@bp.route("/reviews/<int:review_id>/nominations", methods=["GET", "POST"])
@access.signed_in
def nominations(review_id: int) -> Any:
    review, _relations = visible_review(review_id)
    if not access.can_view_nominations(current_user, review):
        abort(403)
    can_nominate = access.can_nominate(current_user, review)
    can_decide = access.can_decide_nominations(current_user, review)
    form = NominateForm()
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        if action not in ACTIONS:
            abort(400)
        try:
            _decide(review, action, can_nominate, can_decide)
        except DomainError as exc:
            if exc.status == 403:
                abort(403)
            if exc.field == "email":
                form.email.errors = [exc.message]
            else:
                form.form_errors.append(exc.message)
            status = 400 if exc.status == 422 else exc.status
        else:
            flash(gettext("Nominations updated."), "success")
            return redirect(url_for("cycles.nominations", review_id=review.id))
    requests = requests_of(review)
    live = [r for r in requests if r.state in (RequestState.PROPOSED, RequestState.APPROVED)]
    load = ops.reviewer_load(review.cycle_id, [r.reviewer_id for r in live])
    reciprocal = {r for s, r in ops.reciprocal_pairs(review.cycle_id, [review.subject_id])}
    return render_template(
        "reviews/nominations.html",
        review=review,
        requests=requests,
        live=live,
        form=form,
        can_nominate=can_nominate and review.cycle.state in NOMINATION_OPEN,
        can_decide=can_decide and review.cycle.state in APPROVAL_OPEN,
        load=load,
        reciprocal=reciprocal,
        removable=ops.removable_ids(live),
        waiting=sum(r.state == RequestState.PROPOSED for r in requests),
        labels=LABELS,
    ), status


@bp.get("/requests")
@access.signed_in
def inbox() -> Any:
    rows = db.session.execute(
        inbox_requests(current_user.id)
        .add_columns(Assessment.state)
        .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
        .order_by(PeerRequest.created_at.desc())
    ).all()
    return render_template("reviews/inbox.html", rows=rows, labels=LABELS)


@bp.post("/requests/<int:request_id>/decline")
@access.signed_in
def peer_decline(request_id: int) -> Any:
    req = my_request(request_id)
    back = url_for("cycles.peer_request", request_id=request_id)
    try:
        reason = parse_decline(Fields.of_form(request.form))
        ops.decline_request(current_user, req, reason)
    except DomainError as exc:
        reason = gettext("Not declined: %(reason)s", reason=exc.message)
        return failure(DomainError(reason), back)
    flash(
        gettext("You declined to give feedback to %(name)s.", name=req.review.subject.name),
        "success",
    )
    return redirect(url_for("cycles.inbox"))
