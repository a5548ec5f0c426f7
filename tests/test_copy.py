"""Words people read (issue 20's copy list): grammar that holds for every value, no
message about "that page" on a first visit, no overdue badge on finished work."""

from __future__ import annotations

from datetime import date

from conftest import post
from cycle_helpers import approved_peer, launched_cycle, part, review_of

from reviews.cycles.models import Assessment, PartKind, PartState
from reviews.cycles.workflow import CycleState
from reviews.db import utcnow
from reviews.extensions import db
from reviews.people.models import Role


def test_a_first_visit_lands_on_sign_in_without_a_scolding(client):
    first = client.get("/")
    assert first.status_code == 302
    assert first.headers["Location"].endswith("/auth/login")
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Please sign in to see that page." not in page
    # a deep link still says why, and comes back after signing in
    deep = client.get("/requests")
    assert "next=" in deep.headers["Location"]
    assert "Please sign in to see that page." in client.get(deep.headers["Location"]).get_data(
        as_text=True
    )


def test_the_home_page_names_the_level_for_any_level_name(make_person, login_as):
    person = make_person("Eve Engineer", level_key="engineer")
    page = login_as(person).get("/").get_data(as_text=True)
    assert "You are a " not in page  # "You are a Engineer"
    assert "Your level:" in page


def test_phase_changes_and_the_calibration_page_read_as_sentences(make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    make_person("Pat Person")
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    client = login_as(hr)
    moved = post(client, f"/cycles/{cycle.id}/advance", {"target": "calibration"})
    assert moved.status_code == 302
    page = client.get(moved.headers["Location"]).get_data(as_text=True)
    assert f"“{cycle.name}” moved to the Calibration phase." in page
    assert "is now in" not in page
    sessions = client.get(f"/cycles/{cycle.id}/calibration").get_data(as_text=True)
    heading = sessions.split("<h1>")[1].split("</h1>")[0]
    assert heading == f"Calibration of {cycle.name}"


def test_submitted_requests_are_not_overdue(make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bea Boss", role=Role.MANAGER, level_key="engineering-manager")
    pat = make_person("Pat Person", manager=boss)
    peer = make_person("Paz Peer", manager=boss)
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW)
    cycle.peer_feedback_due = date(2020, 1, 31)  # long past
    db.session.commit()
    review = review_of(cycle, pat)
    request = approved_peer(boss, review, peer)
    client = login_as(peer)
    page = client.get("/requests").get_data(as_text=True)
    assert "overdue by" in page  # still to write, and late
    peer_part = part(review, PartKind.PEER, peer) or Assessment(
        review_id=review.id, kind=PartKind.PEER, author_id=peer.id, peer_request_id=request.id
    )
    peer_part.state = PartState.SUBMITTED
    peer_part.submitted_at = utcnow()
    db.session.add(peer_part)
    db.session.commit()
    page = client.get("/requests").get_data(as_text=True)
    assert "overdue by" not in page
    assert "Submitted" in page
    assert "was due" in page


def test_an_import_with_one_problem_says_it_in_the_singular(make_person, login_as):
    import io

    hr = make_person("Hana HR", email="hr@example.com", role=Role.HR, level_key=None)
    client = login_as(hr)

    def upload(text: str) -> str:
        response = post(
            client,
            "/people/import",
            {"file": (io.BytesIO(text.encode()), "org.csv")},
            content_type="multipart/form-data",
        )
        return " ".join(response.get_data(as_text=True).split())

    header = "email,name,manager_email,department,level,role\n"
    hr_line = "hr@example.com,Hana HR,,,,hr\n"
    one = upload(header + hr_line + "a@example.com,Ann,nobody@example.com,,,employee\n")
    assert "the file has 1 problem.</strong> Fix it and upload the file again." in one
    two = upload(
        header + hr_line + "a@example.com,Ann,nobody@example.com,,,employee\n"
        "b@example.com,Bo,,,no-such-level,employee\n"
    )
    assert "the file has 2 problems.</strong> Fix them and upload the file again." in two
