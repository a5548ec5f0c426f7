"""Calibration through the web client: every refusal changes nothing (SPEC 5).

A cycle in calibration, a session open for Elena's org with managers calibrating;
Elena proposed 3, 4 and 2 for Ada, Ben and Cleo (potential medium, every
competency 3).  Each refused request must leave the final values, their version
and the ledger exactly as they were.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import PASSWORD, csrf_token, post
from cycle_helpers import advance, launched_cycle, part, review_of
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reviews.calibration.models import (
    CalibrationChange,
    CalibrationMember,
    CalibrationSession,
    SessionState,
)
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import Cycle, PartKind, Potential, Review
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Person, Role

PROPOSALS = (3, 4, 2)  # Elena's overall ratings for Ada, Ben and Cleo


def _keys() -> list[str]:
    return list(db.session.scalars(select(Competency.key).order_by(Competency.position)))


def client_for(app: Flask, person: Person) -> FlaskClient:
    """A separately signed-in client, so several people can act in one test."""
    client = app.test_client()
    token = csrf_token(client)
    signed_in = client.post(
        "/auth/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    client.csrf = csrf_token(client, "/")  # type: ignore[attr-defined]
    return client


def submit_manager_review(app: Flask, manager: Person, review: Review, overall: int) -> None:
    assessment = part(review, PartKind.MANAGER, manager)
    assert assessment is not None
    with app.test_request_context():
        cycle_ops.save_part(
            manager,
            assessment,
            assessment.version,
            PartInput(
                ratings=dict.fromkeys(_keys(), 3),
                overall=overall,
                potential="medium",
                readiness="not_yet",
                answers={
                    "summary": "A solid half.",
                    "strengths": "Care.",
                    "growth_areas": "Scope.",
                },
            ),
            submit=True,
        )
        db.session.commit()


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def field_error(response: Any, name: str) -> str | None:
    """The message shown beside a form field (`<p class="error" id="NAME-error">`)."""
    match = re.search(
        rf'<p class="error" id="{re.escape(name)}-error">(.*?)</p>', response.get_data(as_text=True)
    )
    return html.unescape(match.group(1)) if match else None


def ledger_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CalibrationChange)) or 0


def count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def finals(review: Review) -> tuple[Any, ...]:
    fresh = db.session.get(Review, review.id, populate_existing=True)
    assert fresh is not None
    return (
        fresh.final_rating,
        fresh.final_potential,
        fresh.final_ratings,
        fresh.final_version,
        fresh.final_locked,
    )


@dataclass
class Org:
    app: Flask
    hr: Person
    director: Person
    em: Person
    om: Person
    ada: Person
    ben: Person
    cleo: Person
    otto: Person
    cycle: Cycle

    def review(self, person: Person) -> Review:
        return review_of(self.cycle, person)


@pytest.fixture
def org(app: Flask, make_person: Any) -> Org:
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dee Director", role=Role.MANAGER, level_key="director-of-engineering")
    em = make_person(
        "Elena Manager", role=Role.MANAGER, manager=director, level_key="engineering-manager"
    )
    om = make_person(
        "Omar Other", role=Role.MANAGER, manager=director, level_key="engineering-manager"
    )
    ada, ben, cleo = (make_person(n, manager=em) for n in ("Ada Ames", "Ben Bauer", "Cleo Costa"))
    otto = make_person("Otto Outside", manager=om)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    world = Org(app, hr, director, em, om, ada, ben, cleo, otto, cycle)
    for person, overall in zip((ada, ben, cleo), PROPOSALS, strict=True):
        submit_manager_review(app, em, world.review(person), overall)
    return world


def open_via_web(
    client: FlaskClient, cycle: Cycle, manager: Person, *, managers_calibrate: bool = True
) -> Any:
    form = {"group_kind": "manager_org", "manager_email": manager.email}
    if managers_calibrate:
        form["managers_calibrate"] = "y"
    return post(client, f"/cycles/{cycle.id}/calibration", form)


@dataclass
class Calibrating:
    org: Org
    session: CalibrationSession
    hr_client: FlaskClient
    em_client: FlaskClient

    def url(self, person: Person) -> str:
        return f"/calibration/{self.session.id}/reviews/{self.org.review(person).id}"


@pytest.fixture
def calibrating(org: Org) -> Calibrating:
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    hr_client = client_for(org.app, org.hr)
    opened = open_via_web(hr_client, org.cycle, org.em)
    assert opened.status_code == 302, text(opened)[:1000]
    session = db.session.scalar(select(CalibrationSession))
    assert session is not None
    assert opened.headers["Location"].endswith(f"/calibration/{session.id}")
    assert session.managers_calibrate
    assert count(CalibrationMember) == 3
    return Calibrating(org, session, hr_client, client_for(org.app, org.em))


def change_form(review: Review, **fields: str) -> dict[str, str]:
    return {"version": str(review.final_version), "action": "save", **fields}


# A valid change and its ledger -------------------------------------------------------


def test_a_valid_change_records_one_ledger_row_per_changed_field(calibrating: Calibrating) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    assert finals(review)[:4] == (3, Potential.MEDIUM, dict.fromkeys(_keys(), 3), 0)
    page = calibrating.em_client.get(calibrating.url(org.ada))
    assert page.status_code == 200
    assert 'name="version" value="0"' in page.get_data(as_text=True)
    # What a browser sends: every competency select at its current value, overall and
    # potential changed, and a rationale with stray whitespace.
    form = change_form(
        review,
        overall="4",
        potential="high",
        rationale="  Led the storage migration.  ",
        **{f"rating_{k}": "3" for k in _keys()},
    )
    saved = post(calibrating.em_client, calibrating.url(org.ada), form)
    assert saved.status_code == 302, text(saved)[:2000]
    assert saved.headers["Location"].endswith(
        f"/calibration/{calibrating.session.id}#row-{review.id}"
    )

    rating, potential, ratings, version, locked = finals(review)
    assert (rating, potential, version, locked) == (4, Potential.HIGH, 1, False)
    assert ratings == dict.fromkeys(_keys(), 3)  # unchanged competencies are not rewritten
    rows = list(db.session.scalars(select(CalibrationChange).order_by(CalibrationChange.field)))
    assert len(rows) == 2
    assert [(c.field, c.old_value, c.new_value) for c in rows] == [
        ("overall", "3", "4"),
        ("potential", "medium", "high"),
    ]
    for row in rows:
        assert row.actor_id == org.em.id
        assert row.review_id == review.id
        assert row.session_id == calibrating.session.id
        assert row.rationale == "Led the storage migration."
        assert row.at is not None
    # The change is on the person's page and in the session's ledger.
    person_page = text(calibrating.hr_client.get(calibrating.url(org.ada)))
    assert "overall 3 → 4" in person_page
    assert "potential medium → high" in person_page
    assert "Led the storage migration." in person_page
    session_page = text(calibrating.hr_client.get(f"/calibration/{calibrating.session.id}"))
    assert "Overall performance: 3 → 4" in session_page
    assert "Elena Manager" in session_page


def test_a_competency_change_is_one_row_too(calibrating: Calibrating) -> None:
    org = calibrating.org
    review = org.review(org.ben)
    key = _keys()[0]
    form = change_form(review, overall="4", rationale="Design docs.", **{f"rating_{key}": "5"})
    assert post(calibrating.hr_client, calibrating.url(org.ben), form).status_code == 302
    rows = list(db.session.scalars(select(CalibrationChange)))
    assert [(c.field, c.old_value, c.new_value, c.actor_id) for c in rows] == [
        (key, "3", "5", org.hr.id)
    ]
    rating, _potential, ratings, version, _locked = finals(review)
    assert (rating, version) == (4, 1)
    assert ratings[key] == 5
    assert all(v == 3 for k, v in ratings.items() if k != key)


# Refused changes ---------------------------------------------------------------------

LONG = "x" * 2001


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param(
            {"overall": "4"},
            "rationale",
            "Say why: every calibration change needs a rationale.",
            id="no-rationale",
        ),
        pytest.param(
            {"overall": "4", "rationale": "   \n  "},
            "rationale",
            "Say why: every calibration change needs a rationale.",
            id="blank-rationale",
        ),
        pytest.param(
            {"overall": "4", "rationale": LONG},
            "rationale",
            "Keep the rationale to 2000 characters or fewer.",
            id="rationale-too-long",
        ),
        pytest.param(
            {"overall": "9", "rationale": "Stellar."},
            "overall",
            "Choose a final rating from 1 to 5.",
            id="rating-9",
        ),
        pytest.param(
            {"overall": "x", "rationale": "Stellar."},
            "overall",
            "Choose a final rating from 1 to 5.",
            id="rating-x",
        ),
        pytest.param(
            {"overall": "0", "rationale": "Stellar."},
            "overall",
            "Choose a final rating from 1 to 5.",
            id="rating-0",
        ),
        pytest.param(
            {"overall": "4", "potential": "huge", "rationale": "Stellar."},
            "potential",
            "Choose low, medium or high.",
            id="potential-huge",
        ),
        pytest.param(
            {"rating_technical-fluency": "7", "rationale": "Stellar."},
            "rating_technical-fluency",
            "Choose a rating from 1 to 5.",
            id="competency-7",
        ),
    ],
)
def test_an_invalid_change_is_refused_beside_its_field(
    calibrating: Calibrating, fields: dict[str, str], field: str, message: str
) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    before, ledger_before = finals(review), ledger_count()
    refused = post(calibrating.em_client, calibrating.url(org.ada), change_form(review, **fields))
    assert refused.status_code == 400
    assert field_error(refused, field) == message
    assert finals(review) == before
    assert ledger_count() == ledger_before == 0
    if field == "rationale":
        assert 'aria-describedby="rationale-error"' in refused.get_data(as_text=True)
    elif fields.get("rationale"):
        # The calibrator's text survives the refusal.
        assert f">{fields['rationale']}</textarea>" in text(refused)


def test_exactly_2000_characters_of_rationale_are_accepted(calibrating: Calibrating) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    form = change_form(review, overall="5", rationale="y" * 2000)
    assert post(calibrating.em_client, calibrating.url(org.ada), form).status_code == 302
    assert finals(review)[0] == 5
    assert ledger_count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"overall": "3", "potential": "medium"}, id="same-values"),
        pytest.param({}, id="nothing-chosen"),
        pytest.param({"potential": ""}, id="potential-unchanged"),
    ],
)
def test_no_actual_change_is_refused(calibrating: Calibrating, fields: dict[str, str]) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    before = finals(review)
    form = change_form(
        review, rationale="Looked again.", **fields, **{f"rating_{k}": "3" for k in _keys()}
    )
    refused = post(calibrating.em_client, calibrating.url(org.ada), form)
    assert refused.status_code == 400
    assert "Nothing changed: choose a different value to record a change." in text(refused)
    assert finals(review) == before
    assert ledger_count() == 0


def test_a_stale_version_is_refused_with_the_current_value(calibrating: Calibrating) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    # Both load the page at version 0; HR saves first.
    assert calibrating.em_client.get(calibrating.url(org.ada)).status_code == 200
    first = change_form(review, overall="5", rationale="Carried the launch.")
    assert post(calibrating.hr_client, calibrating.url(org.ada), first).status_code == 302
    after_first = finals(review)
    assert after_first[0] == 5
    assert after_first[3] == 1

    late = {"version": "0", "action": "save", "overall": "4", "rationale": "Solid."}
    refused = post(calibrating.em_client, calibrating.url(org.ada), late)
    assert refused.status_code == 409
    page = text(refused)
    assert "another calibrator" in page
    assert "The final rating is now 5" in page
    assert finals(review) == after_first
    rows = list(db.session.scalars(select(CalibrationChange)))
    assert [(c.actor_id, c.new_value) for c in rows] == [(org.hr.id, "5")]
    # The refused form offers the current version for the next attempt, keeps what the
    # late calibrator chose and wrote, and lists what is saved now beside it (issue 20).
    body = refused.get_data(as_text=True)
    assert 'name="version" value="1"' in body
    assert re.search(r'<input type="radio" name="overall" value="4" checked>', body)
    assert ">Solid.</textarea>" in body
    assert re.search(r"Saved meanwhile:.*<dt>Overall rating</dt><dd>5</dd>", body, re.S)


@pytest.mark.parametrize("version", ["", "abc", "-1", "7", "99999999999"])
def test_a_missing_or_bogus_version_changes_nothing(calibrating: Calibrating, version: str) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    before = finals(review)
    form = {"version": version, "action": "save", "overall": "4", "rationale": "Solid."}
    refused = post(calibrating.em_client, calibrating.url(org.ada), form)
    assert refused.status_code in {400, 409}
    assert finals(review) == before
    assert ledger_count() == 0


def test_nobody_calibrates_their_own_review(org: Org) -> None:
    # Dee rates Elena; a session over Dee's org holds Elena's review and her reports',
    # so Elena calibrates in it (her reports are in the group) but not herself.
    em_review = org.review(org.em)
    submit_manager_review(org.app, org.director, em_review, 5)
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    hr_client = client_for(org.app, org.hr)
    assert open_via_web(hr_client, org.cycle, org.director).status_code == 302
    session = db.session.scalar(select(CalibrationSession))
    assert session is not None
    url = f"/calibration/{session.id}/reviews/{em_review.id}"
    em_client = client_for(org.app, org.em)
    # She may calibrate her reports in this session...
    ada_url = f"/calibration/{session.id}/reviews/{org.review(org.ada).id}"
    assert em_client.get(ada_url).status_code == 200
    assert em_client.get(f"/calibration/{session.id}").status_code == 200

    before = finals(em_review)
    form = change_form(em_review, overall="5", potential="high", rationale="I deserve it.")
    refused = post(em_client, url, form)
    # One's own review is not even shown to a calibrator before release (see the next test).
    assert refused.status_code == 403
    assert finals(em_review) == before
    assert ledger_count() == 0
    own_page = em_client.get(url)
    assert own_page.status_code == 403
    assert 'name="rationale"' not in own_page.get_data(as_text=True)


def test_own_review_in_a_session_does_not_reveal_the_managers_rating(org: Org) -> None:
    """SPEC 3: the employee sees the manager assessment and final rating at release only.

    A manager calibrating in their own manager's org should not read their own
    proposed rating (Dee gave Elena 5) before release.
    """
    em_review = org.review(org.em)
    submit_manager_review(org.app, org.director, em_review, 5)
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    assert open_via_web(client_for(org.app, org.hr), org.cycle, org.director).status_code == 302
    session = db.session.scalar(select(CalibrationSession))
    assert session is not None
    em_client = client_for(org.app, org.em)
    own = em_client.get(f"/calibration/{session.id}/reviews/{em_review.id}")
    page = text(own)
    assert own.status_code == 403 or (
        "manager overall 5" not in page and "Final overall rating (now 5)" not in page
    )


# Who may see and change --------------------------------------------------------------


def test_a_manager_outside_the_group_is_refused(calibrating: Calibrating) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    before = finals(review)
    omar = client_for(org.app, org.om)
    assert omar.get(f"/calibration/{calibrating.session.id}").status_code == 403
    assert omar.get(calibrating.url(org.ada)).status_code == 403
    form = change_form(review, overall="1", rationale="Not mine to say.")
    assert post(omar, calibrating.url(org.ada), form).status_code == 403
    assert omar.get(f"/cycles/{org.cycle.id}/calibration").status_code == 403
    assert finals(review) == before
    assert ledger_count() == 0


@pytest.mark.parametrize("who", ["ada", "otto"])
def test_an_employee_is_refused_everywhere(calibrating: Calibrating, who: str) -> None:
    org = calibrating.org
    employee = client_for(org.app, getattr(org, who))
    review = org.review(org.ben)
    before = finals(review)
    session_id = calibrating.session.id
    assert employee.get(f"/cycles/{org.cycle.id}/calibration").status_code == 403
    assert employee.get(f"/calibration/{session_id}").status_code == 403
    assert employee.get(calibrating.url(org.ben)).status_code == 403
    form = change_form(review, overall="5", rationale="Friends.")
    assert post(employee, calibrating.url(org.ben), form).status_code == 403
    opened = post(
        employee,
        f"/cycles/{org.cycle.id}/calibration",
        {"group_kind": "manager_org", "manager_email": org.om.email},
    )
    assert opened.status_code == 403
    assert post(employee, f"/calibration/{session_id}/finish").status_code == 403
    assert post(employee, f"/cycles/{org.cycle.id}/finalise").status_code == 403
    assert finals(review) == before
    assert ledger_count() == 0
    assert count(CalibrationSession) == 1


def test_managers_do_not_calibrate_when_the_session_says_so(org: Org) -> None:
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    hr_client = client_for(org.app, org.hr)
    assert open_via_web(hr_client, org.cycle, org.em, managers_calibrate=False).status_code == 302
    session = db.session.scalar(select(CalibrationSession))
    assert session is not None
    assert not session.managers_calibrate
    em_client = client_for(org.app, org.em)
    review = org.review(org.ada)
    assert em_client.get(f"/calibration/{session.id}").status_code == 403
    url = f"/calibration/{session.id}/reviews/{review.id}"
    form = change_form(review, overall="5", rationale="Mine.")
    assert post(em_client, url, form).status_code == 403
    assert ledger_count() == 0
    assert hr_client.get(url).status_code == 200


def test_a_review_outside_the_session_is_not_found(calibrating: Calibrating) -> None:
    org = calibrating.org
    session_id = calibrating.session.id
    outside = org.review(org.otto)
    for client in (calibrating.hr_client, calibrating.em_client):
        assert client.get(f"/calibration/{session_id}/reviews/{outside.id}").status_code == 404
        assert client.get(f"/calibration/{session_id}/reviews/999999").status_code == 404
        form = change_form(outside, overall="5", rationale="Wrong session.")
        url = f"/calibration/{session_id}/reviews/{outside.id}"
        assert post(client, url, form).status_code == 404
    assert calibrating.hr_client.get("/calibration/999999").status_code == 404
    assert ledger_count() == 0
    assert finals(outside)[0] is None


# Finishing ---------------------------------------------------------------------------


def test_after_finish_changes_are_refused_and_the_page_says_so(calibrating: Calibrating) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    finished = post(calibrating.hr_client, f"/calibration/{calibrating.session.id}/finish")
    assert finished.status_code == 302
    session = db.session.get(CalibrationSession, calibrating.session.id, populate_existing=True)
    assert session is not None
    assert session.state == SessionState.FINISHED
    assert session.finished_at is not None
    before = finals(review)
    assert before[4] is True  # locked
    assert before[0] == 3

    form = change_form(review, overall="5", rationale="Late thought.")
    for client in (calibrating.em_client, calibrating.hr_client):
        refused = post(client, calibrating.url(org.ada), form)
        assert refused.status_code == 409
        page = text(refused)
        assert "This calibration session is finished; its ratings are locked." in page
        assert "This session is finished; the final values are locked: overall 3." in page
    assert finals(review) == before
    assert ledger_count() == 0
    # The page offers no form any more.
    page = calibrating.em_client.get(calibrating.url(org.ada)).get_data(as_text=True)
    assert "This session is finished" in html.unescape(page)
    assert 'name="rationale"' not in page

    again = post(
        calibrating.hr_client,
        f"/calibration/{calibrating.session.id}/finish",
        follow_redirects=True,
    )
    assert "Not finished: This session is already finished." in text(again)


# Opening sessions and finalising -----------------------------------------------------


def test_a_session_is_not_opened_outside_the_calibration_phase(org: Org) -> None:
    hr_client = client_for(org.app, org.hr)
    assert org.cycle.state == CycleState.MANAGER_REVIEW
    refused = open_via_web(hr_client, org.cycle, org.em)
    assert refused.status_code == 302
    assert refused.headers["Location"].endswith(f"/cycles/{org.cycle.id}/calibration")
    page = text(hr_client.get(refused.headers["Location"]))
    message = "No session opened: Calibration sessions are opened during the calibration phase."
    assert message in page
    assert count(CalibrationSession) == 0
    assert count(CalibrationMember) == 0
    assert finals(org.review(org.ada))[0] is None


def test_a_group_already_in_a_session_is_not_opened_again(calibrating: Calibrating) -> None:
    org = calibrating.org
    refused = open_via_web(calibrating.hr_client, org.cycle, org.em)
    assert refused.status_code == 302
    page = text(calibrating.hr_client.get(refused.headers["Location"]))
    assert "No session opened: Everyone in this group is already in a calibration session" in page
    assert count(CalibrationSession) == 1
    assert count(CalibrationMember) == 3


@pytest.mark.parametrize(
    ("form", "message"),
    [
        pytest.param(
            {"group_kind": "manager_org", "manager_email": "nobody@example.com"},
            "No session opened: Nobody has the email nobody@example.com.",
            id="unknown-manager",
        ),
        pytest.param(
            {"group_kind": "manager_org", "manager_email": ""},
            "No session opened: Choose a manager by name or email.",
            id="no-manager",
        ),
        pytest.param(
            {"group_kind": "department", "department_id": "999999"},
            "No session opened: Choose a department.",
            id="unknown-department",
        ),
        pytest.param(
            {"group_kind": "department", "department_id": "abc"},
            "No session opened: Choose a department.",
            id="bogus-department",
        ),
    ],
)
def test_a_session_needs_a_real_group(org: Org, form: dict[str, str], message: str) -> None:
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    hr_client = client_for(org.app, org.hr)
    refused = post(hr_client, f"/cycles/{org.cycle.id}/calibration", form, follow_redirects=True)
    assert refused.status_code == 200
    assert message in text(refused)
    assert count(CalibrationSession) == 0
    assert count(CalibrationMember) == 0


@pytest.mark.parametrize("kind", ["", "team", "DEPARTMENT", "manager-org"])
def test_a_bogus_group_kind_is_a_bad_request(org: Org, kind: str) -> None:
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    hr_client = client_for(org.app, org.hr)
    form = {"group_kind": kind, "manager_email": org.em.email, "managers_calibrate": "y"}
    assert post(hr_client, f"/cycles/{org.cycle.id}/calibration", form).status_code == 400
    assert count(CalibrationSession) == 0
    assert count(CalibrationMember) == 0


def test_finalise_when_nothing_is_left_writes_nothing(calibrating: Calibrating) -> None:
    # The session holds every submitted review: nothing is left to finalise.
    org = calibrating.org
    before = [finals(org.review(p)) for p in (org.ada, org.ben, org.cleo, org.otto)]
    refused = post(calibrating.hr_client, f"/cycles/{org.cycle.id}/finalise", follow_redirects=True)
    assert refused.status_code == 200
    assert "Every submitted review is already calibrated or finalised." in text(refused)
    assert ledger_count() == 0
    assert [finals(org.review(p)) for p in (org.ada, org.ben, org.cleo, org.otto)] == before


def test_finalise_once_then_nothing_is_left(org: Org) -> None:
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    hr_client = client_for(org.app, org.hr)
    done = post(hr_client, f"/cycles/{org.cycle.id}/finalise", follow_redirects=True)
    assert "3 reviews finalised with the manager's rating." in text(done)
    assert ledger_count() == 3
    for person, overall in zip((org.ada, org.ben, org.cleo), PROPOSALS, strict=True):
        rating, potential, _ratings, _version, locked = finals(org.review(person))
        assert (rating, potential, locked) == (overall, Potential.MEDIUM, True)
    assert finals(org.review(org.otto))[0] is None  # no submitted manager review

    again = post(hr_client, f"/cycles/{org.cycle.id}/finalise", follow_redirects=True)
    assert "Every submitted review is already calibrated or finalised." in text(again)
    assert ledger_count() == 3


def test_finalised_reviews_are_not_pulled_into_a_later_session(org: Org) -> None:
    # Once finalised (locked), a review cannot be calibrated any more: a session over
    # a group of only finalised reviews has nobody to calibrate and is not opened.
    advance(org.hr, org.cycle, CycleState.CALIBRATION)
    hr_client = client_for(org.app, org.hr)
    assert post(hr_client, f"/cycles/{org.cycle.id}/finalise").status_code == 302
    before = finals(org.review(org.ada))
    refused = open_via_web(hr_client, org.cycle, org.em)
    assert refused.status_code == 302
    assert refused.headers["Location"].endswith(f"/cycles/{org.cycle.id}/calibration")
    assert "No session opened" in text(hr_client.get(refused.headers["Location"]))
    assert count(CalibrationSession) == 0
    assert count(CalibrationMember) == 0
    assert finals(org.review(org.ada)) == before


def test_finalise_outside_calibration_is_refused(org: Org) -> None:
    hr_client = client_for(org.app, org.hr)
    refused = post(hr_client, f"/cycles/{org.cycle.id}/finalise", follow_redirects=True)
    assert "Reviews are finalised during the calibration phase." in text(refused)
    assert ledger_count() == 0
    assert finals(org.review(org.ada))[4] is False


# Acknowledgement ---------------------------------------------------------------------


def acknowledged(review: Review) -> tuple[Any, Any]:
    fresh = db.session.get(Review, review.id, populate_existing=True)
    assert fresh is not None
    return fresh.acknowledged_at, fresh.acknowledgement_comment


def test_acknowledging_before_release_is_refused(calibrating: Calibrating) -> None:
    org = calibrating.org
    review = org.review(org.ada)
    ada = client_for(org.app, org.ada)
    refused = post(
        ada, f"/reviews/{review.id}/acknowledge", {"comment": "Read it."}, follow_redirects=True
    )
    assert "Not acknowledged: The review is not released yet." in text(refused)
    assert acknowledged(review) == (None, None)


@pytest.fixture
def released(app: Flask, make_person: Any) -> tuple[Flask, Person, Person, Person, Review]:
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    em = make_person("Elena Manager", role=Role.MANAGER, level_key="engineering-manager")
    ada = make_person("Ada Ames", manager=em)
    ben = make_person("Ben Bauer", manager=em)
    cycle = launched_cycle(hr, CycleState.RELEASED)
    return app, em, ada, ben, review_of(cycle, ada)


def test_acknowledging_twice_is_refused(released: Any) -> None:
    app, _em, ada, _ben, review = released
    client = client_for(app, ada)
    first = post(
        client, f"/reviews/{review.id}/acknowledge", {"comment": " Thanks. "}, follow_redirects=True
    )
    assert "Thank you: your acknowledgement is recorded." in text(first)
    at, comment = acknowledged(review)
    assert at is not None
    assert comment == "Thanks."

    second = post(
        client, f"/reviews/{review.id}/acknowledge", {"comment": "Again"}, follow_redirects=True
    )
    assert "Not acknowledged: You already acknowledged this review." in text(second)
    assert acknowledged(review) == (at, "Thanks.")


@pytest.mark.parametrize("who", ["ben", "em"])
def test_someone_else_cannot_acknowledge(released: Any, who: str) -> None:
    app, em, _ada, ben, review = released
    client = client_for(app, {"ben": ben, "em": em}[who])
    refused = post(client, f"/reviews/{review.id}/acknowledge", {"comment": "On her behalf."})
    assert refused.status_code == 403
    assert acknowledged(review) == (None, None)


def test_a_comment_over_2000_characters_is_refused(released: Any) -> None:
    app, _em, ada, _ben, review = released
    client = client_for(app, ada)
    refused = post(
        client, f"/reviews/{review.id}/acknowledge", {"comment": "c" * 2001}, follow_redirects=True
    )
    assert "Keep the comment under 2000 characters." in text(refused)
    assert acknowledged(review) == (None, None)
    # 2000 characters are fine.
    accepted = post(client, f"/reviews/{review.id}/acknowledge", {"comment": "c" * 2000})
    assert accepted.status_code == 302
    at, comment = acknowledged(review)
    assert at is not None
    assert comment == "c" * 2000


def test_acknowledging_a_missing_review_is_not_found(released: Any) -> None:
    app, _em, ada, _ben, _review = released
    assert post(client_for(app, ada), "/reviews/999999/acknowledge").status_code == 404
