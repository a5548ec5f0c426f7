"""Issue 20, calibration: the person page shows the words beside the numbers, the band
around the guidance is the cycle's own setting, and a manager's-org session says when
only a department session can compare its managers."""

from __future__ import annotations

import html
import re

import pytest
from between_helpers import client_for
from conftest import post
from cycle_helpers import (
    advance,
    approved_peer,
    calibrate_org,
    launched_cycle,
    review_of,
    submit_manager_review,
)
from flask import current_app
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from test_cycle_bad_input import cycle_form
from test_migrations import _drop, _migrated_app

from reviews.api.operations import create_token
from reviews.calibration import operations as cal
from reviews.calibration.models import CalibrationSession, GroupKind
from reviews.cycles import operations as ops
from reviews.cycles.models import Cycle
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Department, Person, Role

PEERS = ("Quentin Quill", "Ramona Reed", "Saul Sparrow")


def _keys() -> list[str]:
    return list(db.session.scalars(select(Competency.key)))


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def _bearer(app, person: Person) -> dict[str, str]:
    with app.test_request_context():
        _row, secret = create_token(person, person, "test")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _in_department(name: str, *people: Person) -> Department:
    department = Department(name=name)
    db.session.add(department)
    db.session.flush()
    for person in people:
        person.department_id = department.id
    db.session.commit()
    return department


def _rate(cycle, people: list[Person], overall: list[int]) -> None:
    keys = _keys()
    for person, value in zip(people, overall, strict=True):
        submit_manager_review(
            person.manager, review_of(cycle, person), value, dict.fromkeys(keys, value)
        )


# The person page: the written review one link away, and its words beside the numbers ------


@pytest.fixture
def two_lines(app, make_person):
    """One department, two managers side by side, three reports each; the manager reviews
    are in and the cycle is in calibration, with a department session open."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    mia = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    nils = make_person("Nils Neighbour", role=Role.MANAGER, level_key="engineering-manager")
    ann = [make_person(f"Ann {i}", manager=mia) for i in range(3)]
    bob = [make_person(f"Bob {i}", manager=nils) for i in range(3)]
    department = _in_department("Platform", mia, nils, *ann, *bob)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    _rate(cycle, ann, [4, 3, 3])
    _rate(cycle, bob, [3, 3, 2])
    advance(hr, cycle, CycleState.CALIBRATION)
    session = cal.open_session(
        hr,
        cycle,
        GroupKind.DEPARTMENT,
        department=department,
        manager=None,
        managers_calibrate=True,
    )
    db.session.commit()
    return hr, mia, nils, ann, cycle, session


def test_the_person_page_links_to_the_written_review_and_shows_the_managers_words(two_lines):
    hr, mia, nils, ann, cycle, session = two_lines
    review = review_of(cycle, ann[0])
    url = f"/calibration/{session.id}/reviews/{review.id}"
    hr_client = client_for(current_app, hr)
    page = _page(hr_client, url)
    assert f'href="/reviews/{review.id}"' in page
    assert _page(hr_client, f"/reviews/{review.id}")  # the link leads to a page HR may read
    # The manager's own words, and the overall ratings in the performance scale's words.
    written = page[page.index('id="written-h"') :]
    assert "Summary for Ann 0." in written
    assert "Ownership." in written  # strengths
    assert "Influence." in written  # growth areas
    assert "4 — Exceeds expectations" in page  # the proposal, the suggestion, the final
    assert "Final overall rating (now 4 — Exceeds expectations)" in page

    # The direct manager calibrates and may read the review: the same link and words.
    own_line = _page(client_for(current_app, mia), url)
    assert f'href="/reviews/{review.id}"' in own_line
    assert "Summary for Ann 0." in own_line

    # A manager calibrating in the same department but not in Ann's line compares figures:
    # no link to a review they may not open, and none of its words.
    neighbour = client_for(current_app, nils)
    assert neighbour.get(f"/reviews/{review.id}").status_code == 403
    other_line = _page(neighbour, url)
    assert f'href="/reviews/{review.id}"' not in other_line
    assert "Summary for Ann 0." not in other_line
    assert "Ownership." not in other_line
    assert 'id="written-not-shown"' in other_line
    assert "4 — Exceeds expectations" in other_line  # the figures, with their words


def _anonymous_calibration(make_person, *, names_to_managers: bool):
    """Sam's three peers (in another team) wrote feedback in an anonymous cycle that does or
    does not show their names to managers and HR; the cycle is in calibration."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dora Director", role=Role.MANAGER, level_key="engineering-manager")
    max_ = make_person("Max Manager", role=Role.MANAGER, manager=director)
    olga = make_person("Olga Other", role=Role.MANAGER, manager=director)
    sam = make_person("Sam Subject", manager=max_)
    peers = [make_person(name, manager=olga) for name in PEERS]
    cycle = launched_cycle(
        hr,
        peer_anonymous=True,
        anonymity_threshold=3,
        peer_names_to_managers=names_to_managers,
    )
    review = review_of(cycle, sam)
    requests = [approved_peer(max_, review, peer) for peer in peers]
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    for n, (peer, request) in enumerate(zip(peers, requests, strict=True)):
        with current_app.test_request_context():
            feedback = ops.peer_assessment(request)
            ops.save_part(
                peer,
                feedback,
                feedback.version,
                PartInput(
                    answers={
                        "strengths": f"qzpeerwords{n}",
                        "growth_areas": "Scope.",
                        "suggestion": "Pair more.",
                    }
                ),
                submit=True,
            )
            db.session.commit()
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    submit_manager_review(max_, review, 3, dict.fromkeys(_keys(), 3))
    session = calibrate_org(hr, cycle, director)
    return hr, review, session


@pytest.mark.parametrize("names_to_managers", [False, True], ids=["names-hidden", "names-shown"])
def test_peer_authors_on_the_person_page_follow_the_cycle(app, make_person, names_to_managers):
    hr, review, session = _anonymous_calibration(make_person, names_to_managers=names_to_managers)
    client = client_for(app, hr)
    page = _page(client, f"/calibration/{session.id}/reviews/{review.id}")
    start = page.index('id="written-h"')
    written = page[start : page.index("</section>", start)]
    # The peers' words are there either way (three responded: the threshold is met)...
    assert all(f"qzpeerwords{n}" in written for n in range(3))
    # ...and their names only where the cycle shows them to HR, anywhere in the page.
    named = [name for name in PEERS if name in page]
    assert named == (list(PEERS) if names_to_managers else [])
    # The same facts as the review page itself: one read model, never re-decided.
    review_page = _page(client, f"/reviews/{review.id}")
    assert [name for name in PEERS if name in review_page] == named
    if not names_to_managers:
        # and no order by author: the entries come as the read model orders them
        order = [int(n) for n in re.findall(r"qzpeerwords(\d)", written)]
        assert order == [int(n) for n in re.findall(r"qzpeerwords(\d)", review_page)]


# The tolerance around the guidance, a cycle setting ------------------------------------


@pytest.fixture
def hr(app, make_person) -> Person:
    return make_person("Hana HR", role=Role.HR, level_key=None)


def _cycle() -> Cycle:
    cycle = db.session.scalar(select(Cycle))
    assert cycle is not None
    db.session.refresh(cycle)
    return cycle


def test_the_tolerance_round_trips_through_the_cycle_form(app, hr):
    client = client_for(app, hr)
    new = _page(client, "/cycles/new")
    assert re.search(r'<input[^>]*name="guidance_tolerance"[^>]*value="5"', new)
    assert post(client, "/cycles/new", cycle_form(guidance_tolerance="10")).status_code == 302
    cycle = _cycle()
    assert cycle.guidance_tolerance == 10
    assert "5 / 20 / 50 / 20 / 5 % ±10 points" in _page(client, f"/cycles/{cycle.id}")
    edit = _page(client, f"/cycles/{cycle.id}/edit")
    assert re.search(r'<input[^>]*name="guidance_tolerance"[^>]*value="10"', edit)

    version = str(cycle.version)
    for bad in ("26", "-1", "2.5", "ten", ""):
        refused = post(
            client,
            f"/cycles/{cycle.id}/edit",
            cycle_form(guidance_tolerance=bad, name="Renamed", version=version),
        )
        assert refused.status_code == 400, bad
        page = html.unescape(refused.get_data(as_text=True))
        assert 'id="guidance_tolerance-error"' in page, bad
        assert "Enter the tolerance as whole points from 0 to 25." in page, bad
        cycle = _cycle()
        assert (cycle.guidance_tolerance, cycle.name, str(cycle.version)) == (
            10,
            "2026 H2 review",
            version,
        ), bad

    saved = post(
        client, f"/cycles/{cycle.id}/edit", cycle_form(guidance_tolerance="0", version=version)
    )
    assert saved.status_code == 302
    assert _cycle().guidance_tolerance == 0
    # A form from before the setting existed does not post it: the setting keeps its value.
    older = cycle_form(name="Older form", version=str(_cycle().version))
    assert post(client, f"/cycles/{cycle.id}/edit", older).status_code == 302
    assert (_cycle().name, _cycle().guidance_tolerance) == ("Older form", 0)


def test_the_tolerance_round_trips_through_the_api(app, hr):
    from test_rules_defects import _cycle_body

    api = app.test_client()
    headers = _bearer(app, hr)
    created = api.post("/api/v1/cycles", json=_cycle_body(guidance_tolerance=8), headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["guidance_tolerance"] == 8
    cycle_id = body["id"]
    assert _cycle().guidance_tolerance == 8
    read = api.get(f"/api/v1/cycles/{cycle_id}", headers=headers).get_json()
    assert read["guidance_tolerance"] == 8

    renamed = api.patch(
        f"/api/v1/cycles/{cycle_id}",
        json={"name": "Renamed", "version": body["version"]},
        headers=headers,
    )
    assert renamed.status_code == 200, renamed.get_json()
    assert renamed.get_json()["guidance_tolerance"] == 8  # a PATCH keeps what it leaves out
    version = renamed.get_json()["version"]

    for bad in (26, -1, "7", 2.5, None, True):
        refused = api.patch(
            f"/api/v1/cycles/{cycle_id}",
            json={"guidance_tolerance": bad, "name": "Not saved", "version": version},
            headers=headers,
        )
        assert refused.status_code == 422, (bad, refused.get_json())
        assert refused.get_json()["error"]["fields"]["guidance_tolerance"], bad
        assert (_cycle().guidance_tolerance, _cycle().name) == (8, "Renamed"), bad

    changed = api.patch(
        f"/api/v1/cycles/{cycle_id}",
        json={"guidance_tolerance": 0, "version": version},
        headers=headers,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["guidance_tolerance"] == 0
    assert _cycle().guidance_tolerance == 0
    # A cycle created without it gets the 5 points the band always had.
    plain = api.post("/api/v1/cycles", json=_cycle_body(name="Plain"), headers=headers)
    assert plain.get_json()["guidance_tolerance"] == 5
    schema = api.get("/api/v1/openapi.json").get_json()
    assert "guidance_tolerance" in str(schema)


def _deviation_cells(page: str) -> dict[int, bool]:
    """Rating -> whether the distribution table marks its share outside the band."""
    table = page[page.index('id="dist-h"') : page.index('id="ninebox-h"')]
    rows = re.findall(r'<th scope="row">(\d) ·.*?<td class="num ?([^"]*)">[^<]*pts</td>', table)
    return {int(rating): "warn-text" in cls for rating, cls in rows}


def test_the_distribution_band_is_the_cycles_tolerance(app, make_person, hr):
    from reviews.reports.views import _dashboard_data

    mia = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    people = [make_person(f"Ann {i}", manager=mia) for i in range(5)]
    # Guidance 5/20/50/20/5: ratings 2, 3, 3, 3, 4 put 60% on 3, ten points over its 50%.
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW, guidance_tolerance=15)
    _rate(cycle, people, [2, 3, 3, 3, 4])
    session = calibrate_org(hr, cycle, mia)
    client = client_for(app, hr)
    headers = _bearer(app, hr)

    page = _page(client, f"/calibration/{session.id}")
    assert "shaded: ±15 points" in page
    assert _deviation_cells(page) == dict.fromkeys(range(1, 6), False)
    api = client.get(f"/api/v1/calibration/{session.id}", headers=headers).get_json()
    assert [b["outside_band"] for b in api["distribution"]] == [False] * 5
    dashboard = _page(client, f"/cycles/{cycle.id}/dashboard")
    assert "shaded: ±15 points" in dashboard
    assert [b.outside for b in _dashboard_data(_cycle())["buckets"]] == [False] * 5

    # The same ratings under the old fixed band of 5 points: 3 is off the guidance.
    db.session.execute(update(Cycle).where(Cycle.id == cycle.id).values(guidance_tolerance=5))
    db.session.commit()
    page = _page(client, f"/calibration/{session.id}")
    assert "shaded: ±5 points" in page
    assert _deviation_cells(page) == {1: False, 2: False, 3: True, 4: False, 5: False}
    api = client.get(f"/api/v1/calibration/{session.id}", headers=headers).get_json()
    assert [b["outside_band"] for b in api["distribution"]] == [False, False, True, False, False]
    assert [b.outside for b in _dashboard_data(_cycle())["buckets"]] == [
        False,
        False,
        True,
        False,
        False,
    ]


def test_the_tolerance_migration_gives_existing_cycles_five_points(tmp_path):
    from flask_migrate import downgrade, upgrade

    before = "c4e7a1b9d203"
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision=before)
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES (1, 'a@example.com', 'A', 'hr', true, 1,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO cycle (id, name, period_start, period_end, state,"
                        " participant_mode, peer_min, peer_max, peer_anonymous,"
                        " anonymity_threshold, peer_names_to_managers, reviewer_load_cap,"
                        " guidance, created_at, version) VALUES (1, 'Old', '2026-01-01',"
                        " '2026-06-30', 'draft', 'all', 2, 5, true, 3, true, 5,"
                        " '[5, 20, 50, 20, 5]', CURRENT_TIMESTAMP, 1)"
                    )
                )
            upgrade()
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT guidance_tolerance FROM cycle")).scalar() == 5
            assert db.session.get(Cycle, 1).guidance_tolerance == 5
            db.session.rollback()
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text("UPDATE cycle SET guidance_tolerance = 26"))
            downgrade(revision=before)
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT name FROM cycle")).scalar() == "Old"
                columns = conn.execute(text("SELECT * FROM cycle")).keys()
                assert "guidance_tolerance" not in columns
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


# Leniency within one manager's org --------------------------------------------------------


def test_a_manager_org_session_says_a_department_session_compares_managers(app, make_person, hr):
    mia = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    nils = make_person("Nils Neighbour", role=Role.MANAGER, level_key="engineering-manager")
    ann = [make_person(f"Ann {i}", manager=mia) for i in range(4)]
    bob = [make_person(f"Bob {i}", manager=nils) for i in range(4)]
    data = _in_department("Data", nils, *bob)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    _rate(cycle, ann, [5, 5, 4, 5])
    _rate(cycle, bob, [3, 3, 2, 3])
    # No peer of Mia's people rates anyone outside her team: leniency cannot be told.
    org = calibrate_org(hr, cycle, mia)
    department = cal.open_session(
        hr, cycle, GroupKind.DEPARTMENT, department=data, manager=None, managers_calibrate=True
    )
    db.session.commit()
    client = client_for(app, hr)

    page = _page(client, f"/calibration/{org.id}")
    table = page[page.index('id="bias-h"') : page.index('id="quality-h"')]
    assert "cannot tell from team strength" in table
    note = re.search(r'<p class="notice" id="needs-department">(.*?)</p>', table, re.S)
    assert note is not None
    sentence = re.sub(r"<[^>]+>", "", note.group(1))
    assert sentence.endswith(".")
    assert sentence.count(". ") == 0  # one sentence
    assert "one manager's org" in sentence
    assert "open a department session" in sentence
    assert f'href="/cycles/{cycle.id}/calibration#open-h"' in note.group(1)
    assert 'id="open-h"' in _page(client, f"/cycles/{cycle.id}/calibration")
    # Mia calibrates her org too: she is told to ask HR.
    mine = _page(client_for(app, mia), f"/calibration/{org.id}")
    assert "ask HR to open a department session" in mine

    # A department session is the wider group already: no such note.
    assert 'id="needs-department"' not in _page(client, f"/calibration/{department.id}")
    assert db.session.scalar(select(CalibrationSession).where(CalibrationSession.id == org.id))


def test_the_sessions_page_counts_from_the_cycle_alone(app, make_person, hr, monkeypatch):
    """The department choices and their reviews come from the cycle's figures, each
    session's size from its own members (not every cycle's), and the reviews in no
    session are counted up to the limit ("more than")."""
    mia = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    ann = [make_person(f"Ann {i}", manager=mia) for i in range(3)]
    bob = [make_person(f"Bob {i}", manager=mia) for i in range(2)]
    _in_department("Data", *ann)
    _in_department("Web", *bob)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    _rate(cycle, [*ann, *bob], [3, 3, 3, 3, 3])
    advance(hr, cycle, CycleState.CALIBRATION)
    client = client_for(app, hr)
    page = _page(client, f"/cycles/{cycle.id}/calibration")
    assert ">Data (3 reviews)</option>" in page
    assert ">Web (2 reviews)</option>" in page
    assert "5 submitted reviews are in no session." in page
    data = db.session.scalar(select(Department).where(Department.name == "Data"))
    cal.open_session(
        hr, cycle, GroupKind.DEPARTMENT, department=data, manager=None, managers_calibrate=True
    )
    db.session.commit()
    page = _page(client, f"/cycles/{cycle.id}/calibration")
    assert "2 submitted reviews are in no session." in page
    assert '<td class="num">3</td>' in page  # the session's size
    monkeypatch.setattr("reviews.paging.COUNT_LIMIT", 1)
    monkeypatch.setattr("reviews.calibration.views.COUNT_LIMIT", 1)
    page = _page(client, f"/cycles/{cycle.id}/calibration")
    assert "More than 1 submitted reviews are in no session." in page
