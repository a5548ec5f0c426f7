"""A manager's day in a cycle (issue 20): progress per person on the team page, every
waiting nomination approved at once, and no Remove button that would only be refused."""

from __future__ import annotations

import re

import pytest
from conftest import post
from cycle_helpers import launched_cycle, review_of
from flask import current_app
from sqlalchemy import select
from test_cycle_flow import login_as_fresh
from test_exports import keys_of, peer_feedback, spread

from reviews.cycles import operations as ops
from reviews.cycles.models import ParticipantMode, PeerRequest, RequestState
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Role


def words(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)).split())


def propose(person, review, peer) -> None:
    with current_app.test_request_context():
        ops.propose_peer(person, review, peer)
        db.session.commit()


def states(review) -> dict[str, RequestState]:
    db.session.expire_all()
    return {
        r.reviewer.name: r.state
        for r in db.session.scalars(select(PeerRequest).where(PeerRequest.review_id == review.id))
    }


@pytest.fixture
def team(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Milo Manager", role=Role.MANAGER, level_key="engineering-manager")
    lead = make_person("Lea Lead", role=Role.MANAGER, manager=boss, level_key="tech-lead")
    ada = make_person("Ada Lovel", manager=boss)
    bea = make_person("Bea Brook", manager=boss)
    cai = make_person("Cai Chen", manager=lead)  # in Milo's org, not his direct report
    peers = [make_person(f"Peer {n}") for n in range(4)]
    return {"app": app, "hr": hr, "boss": boss, "lead": lead, "ada": ada, "bea": bea}, cai, peers


def _cycle(hr, **settings):
    return launched_cycle(hr, CycleState.SELF_REVIEW, peer_min=1, peer_max=4, **settings)


def test_the_team_page_shows_progress_and_approves_every_waiting_nomination(team):
    people, cai, peers = team
    cycle = _cycle(people["hr"])
    ada, bea = review_of(cycle, people["ada"]), review_of(cycle, people["bea"])
    cai_review = review_of(cycle, cai)
    keys = keys_of(cycle)
    for peer in peers[:2]:
        peer_feedback(people["boss"], ada, peer, spread(keys, 1))  # approved and answered
    peer_feedback(people["boss"], ada, peers[2], None)  # approved, not answered
    propose(people["ada"], ada, peers[3])
    propose(people["bea"], bea, peers[0])
    propose(people["bea"], bea, peers[1])
    propose(cai, cai_review, peers[2])  # Lea decides this one, not Milo

    client = login_as_fresh(people["app"], people["boss"])
    page = words(client.get(f"/cycles/{cycle.id}/team"))
    assert "2 of 3 responded 1 waiting for approval" in page  # Ada
    assert "0 of 0 responded 2 waiting for approval" in page  # Bea
    assert "3 nominations of your direct reports are waiting for you." in page
    done = post(client, f"/cycles/{cycle.id}/team/approve")
    assert done.status_code == 302
    assert "3 nominations approved" in words(client.get(done.headers["Location"]))
    assert states(ada)["Peer 3"] == RequestState.APPROVED
    assert set(states(bea).values()) == {RequestState.APPROVED}
    assert states(cai_review)["Peer 2"] == RequestState.PROPOSED  # not Milo's to decide
    # Someone who manages nobody in the cycle approves nothing.
    outsider = login_as_fresh(people["app"], peers[0])
    assert post(outsider, f"/cycles/{cycle.id}/team/approve").status_code == 403


def test_approve_all_on_a_persons_peers_page(team):
    people, _cai, peers = team
    cycle = _cycle(people["hr"])
    bea = review_of(cycle, people["bea"])
    for peer in peers[:3]:
        propose(people["bea"], bea, peer)
    client = login_as_fresh(people["app"], people["boss"])
    url = f"/reviews/{bea.id}/nominations"
    assert "Approve all 3 waiting nominations" in words(client.get(url))
    assert post(client, url, {"action": "approve_all"}).status_code == 302
    assert set(states(bea).values()) == {RequestState.APPROVED}
    # Bea cannot approve her own nominations, one or all.
    propose(people["bea"], bea, peers[3])
    assert (
        post(
            login_as_fresh(people["app"], people["bea"]), url, {"action": "approve_all"}
        ).status_code
        == 403
    )
    assert states(bea)["Peer 3"] == RequestState.PROPOSED


def test_remove_is_offered_only_where_it_would_be_accepted(team):
    people, _cai, peers = team
    cycle = _cycle(people["hr"])
    ada = review_of(cycle, people["ada"])
    peer_feedback(people["boss"], ada, peers[0], spread(keys_of(cycle), 1))  # answered
    peer_feedback(people["boss"], ada, peers[1], None)  # not yet
    client = login_as_fresh(people["app"], people["boss"])
    url = f"/reviews/{ada.id}/nominations"
    page = client.get(url).get_data(as_text=True)
    assert 'Remove<span class="visually-hidden"> Peer 1</span>' in page
    assert 'Remove<span class="visually-hidden"> Peer 0</span>' not in page
    ids = {r.reviewer.name: r.id for r in db.session.scalars(select(PeerRequest))}
    refused = post(client, url, {"action": "remove", "request_id": str(ids["Peer 0"])})
    assert refused.status_code == 409
    assert states(ada)["Peer 0"] == RequestState.APPROVED
    removed = post(client, url, {"action": "remove", "request_id": str(ids["Peer 1"])})
    assert removed.status_code == 302
    assert states(ada)["Peer 1"] == RequestState.REMOVED


def test_where_names_are_kept_from_the_line_nothing_tells_who_responded(team):
    """An anonymous cycle that hides peer names from managers: below the threshold the
    team page gives no count of responses, and answered and silent approved peers are
    treated alike (no Remove for either, the same refusal for both)."""
    people, _cai, peers = team
    cycle = _cycle(
        people["hr"],
        peer_anonymous=True,
        anonymity_threshold=3,
        peer_names_to_managers=False,
        participant_mode=ParticipantMode.LIST,
        participant_ids=[people["boss"].id, people["ada"].id],
    )
    ada = review_of(cycle, people["ada"])
    peer_feedback(people["boss"], ada, peers[0], spread(keys_of(cycle), 1))  # answered
    peer_feedback(people["boss"], ada, peers[1], None)  # not yet
    client = login_as_fresh(people["app"], people["boss"])
    team_page = words(client.get(f"/cycles/{cycle.id}/team"))
    assert "2 asked" in team_page
    assert "responded" not in team_page
    url = f"/reviews/{ada.id}/nominations"
    page = client.get(url).get_data(as_text=True)
    assert 'value="remove"' not in page
    ids = {r.reviewer.name: r.id for r in db.session.scalars(select(PeerRequest))}
    answers = [
        post(client, url, {"action": "remove", "request_id": str(ids[name])})
        for name in ("Peer 0", "Peer 1")
    ]
    assert [a.status_code for a in answers] == [409, 409]
    bodies = [words(a) for a in answers]
    assert "kept from managers and HR" in bodies[0]
    assert bodies[0] == bodies[1]  # the same page, word for word
    assert set(states(ada).values()) == {RequestState.APPROVED}


def test_a_reciprocal_nomination_is_flagged_from_the_two_reviews_alone(team):
    """Ada reviews Bea and Bea reviews Ada: Ada's peers page flags it; a declined
    request, or a pair among other people, flags nothing. The pairs come from the
    person's own requests and the reverse ones, not from every request of the cycle."""
    people, cai, peers = team
    cycle = _cycle(people["hr"])
    ada, bea = review_of(cycle, people["ada"]), review_of(cycle, people["bea"])
    cai_review = review_of(cycle, cai)
    propose(people["ada"], ada, people["bea"])
    propose(people["ada"], ada, peers[0])
    propose(people["bea"], bea, people["ada"])
    propose(cai, cai_review, peers[1])  # a pair among others: Cai and Peer 1
    peer_one = review_of(cycle, peers[1])
    propose(peers[1], peer_one, cai)
    flagged = ops.reciprocal_pairs(cycle.id, [people["ada"].id])
    assert flagged == {(people["ada"].id, people["bea"].id)}
    assert ops.reciprocal_pairs(cycle.id, [cai.id, people["ada"].id]) == {
        (people["ada"].id, people["bea"].id),
        (cai.id, peers[1].id),
    }
    client = login_as_fresh(people["app"], people["boss"])
    page = words(client.get(f"/reviews/{ada.id}/nominations"))
    assert "reciprocal: Bea is reviewed by Ada too" in page
    assert page.count("reciprocal:") == 1
    # Bea declines to review Ada: no longer a pair
    request = db.session.scalar(
        select(PeerRequest).where(
            PeerRequest.review_id == ada.id, PeerRequest.reviewer_id == people["bea"].id
        )
    )
    request.state, request.decline_reason = RequestState.DECLINED, "Too busy this month"
    db.session.commit()
    assert ops.reciprocal_pairs(cycle.id, [people["ada"].id]) == set()
    assert "reciprocal:" not in words(client.get(f"/reviews/{ada.id}/nominations"))
