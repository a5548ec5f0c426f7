"""Launch, peer feedback and release queue their messages in one INSERT ... SELECT; each
recipient still gets the link to their own task."""

from __future__ import annotations

from cycle_helpers import advance, approved_peer, review_of
from populated import cycle_in
from sqlalchemy import select

from reviews.cycles.models import Review
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.links import Link
from reviews.notifications.models import Notification


def test_phase_notifications_reach_each_person_with_the_link_to_their_own_task(app, make_person):
    org = cycle_in(make_person, CycleState.RELEASED)
    cycle = org["cycle"]
    got = {
        (n.kind, n.recipient_id, n.link)
        for n in db.session.scalars(
            select(Notification).where(
                Notification.kind.in_(["self_review_open", "peer_feedback_open", "review_released"])
            )
        )
    }
    reviews = list(db.session.scalars(select(Review).where(Review.cycle_id == cycle.id)))
    want = {("self_review_open", r.subject_id, Link("cycles.self_part", r.id)) for r in reviews} | {
        ("review_released", r.subject_id, Link("cycles.review", r.id)) for r in reviews
    }
    # peers were added after the peer-feedback phase opened: none was told by it
    assert got == want
    assert all(n.subject.startswith(cycle.name) for n in db.session.scalars(select(Notification)))


def test_opening_peer_feedback_tells_each_approved_peer_with_their_request(app, make_person):

    org = cycle_in(make_person, CycleState.SELF_REVIEW)
    team = org["team"]
    requests = [
        approved_peer(org["boss"], review_of(org["cycle"], team[i]), team[(i + 1) % len(team)])
        for i in range(len(team))
    ]
    advance(org["hr"], org["cycle"], CycleState.PEER_FEEDBACK)
    got = {
        (n.recipient_id, n.link)
        for n in db.session.scalars(
            select(Notification).where(Notification.kind == "peer_feedback_open")
        )
    }
    want = {(r.reviewer_id, Link("cycles.peer_request", r.id)) for r in requests}
    assert got == want
