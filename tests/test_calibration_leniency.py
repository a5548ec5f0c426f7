"""The rater-effects model on the calibration page, the person page and the API.

Four teams of six under one director. Each person has an ability (2, 3 or 4);
their three peers (two from other teams) rate it, a point up or down on some
competencies; Fay, Gus
and Hal rate what they see, Lena two points higher (5 at most). The peers cross
team lines, so the model can tell Lena's leniency from a strong team.
"""

from __future__ import annotations

import pytest
from conftest import post
from cycle_helpers import advance, launched_cycle, part, review_of, submit_manager_review
from flask import current_app
from sqlalchemy import select
from test_cycle_flow import login_as_fresh

from reviews.calibration import queries
from reviews.calibration.models import CalibrationSession
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import Assessment, PartKind, PartState
from reviews.cycles.workflow import CycleState
from reviews.db import utcnow
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Role

SIZE = 6


@pytest.fixture
def group(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dora Director", role=Role.MANAGER, level_key="director-of-engineering")
    managers = [
        make_person(name, role=Role.MANAGER, manager=director, level_key="engineering-manager")
        for name in ("Lena", "Fay", "Gus", "Hal")
    ]
    teams = {
        m: [make_person(f"{m.name} report {i}", manager=m) for i in range(SIZE)] for m in managers
    }
    everyone = [p for people in teams.values() for p in people]
    ability = {p.id: 2 + (i % 3) for i, p in enumerate(everyone)}
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW)
    keys = list(db.session.scalars(select(Competency.key)))
    for t, (manager, people) in enumerate(teams.items()):
        others = [p for m, ps in teams.items() if m is not manager for p in ps]
        for i, person in enumerate(people):
            review = review_of(cycle, person)
            outside = len(others)
            peers = [
                people[(i + 1) % SIZE],
                others[(3 * i + t) % outside],
                others[(3 * i + t + 7) % outside],
            ]
            for j, peer in enumerate(peers):
                request = cycle_ops.add_peer(hr, review, peer)
                db.session.flush()
                peer_part = part(review, PartKind.PEER, peer) or Assessment(
                    review_id=review.id,
                    kind=PartKind.PEER,
                    author_id=peer.id,
                    peer_request_id=request.id,
                )
                # a point up or down on some competencies: peers see the ability, roughly
                peer_part.ratings = {
                    key: ability[person.id] + ((k + i + j + t) % 4 == 0) - ((k + i + j) % 4 == 2)
                    for k, key in enumerate(keys)
                }
                peer_part.state = PartState.SUBMITTED
                peer_part.submitted_at = utcnow()
                db.session.add(peer_part)
    db.session.commit()
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    lena, fay = managers[0], managers[1]
    for manager, people in teams.items():
        for person in people:
            lift = 2 if manager is lena else 0
            value = min(5, ability[person.id] + lift)
            submit_manager_review(
                manager, review_of(cycle, person), value, dict.fromkeys(keys, value)
            )
    advance(hr, cycle, CycleState.CALIBRATION)
    return hr, director, lena, fay, teams, cycle


def _open_session(client, cycle, director) -> CalibrationSession:
    opened = post(
        client,
        f"/cycles/{cycle.id}/calibration",
        {"group_kind": "manager_org", "manager_email": director.email, "managers_calibrate": "y"},
    )
    assert opened.status_code == 302
    return db.session.scalar(select(CalibrationSession))


def test_the_page_names_the_lenient_manager_and_explains_each_suggestion(group, login_as):
    hr, director, lena, fay, teams, cycle = group
    client = login_as(hr)
    session = _open_session(client, cycle, director)
    page = client.get(f"/calibration/{session.id}").get_data(as_text=True)
    assert "Rater leniency" in page
    table = page[page.index('id="bias-h"') : page.index('id="quality-h"')]
    lena_row = table[table.index(">Lena<") : table.index("</tr>", table.index(">Lena<"))]
    fay_row = table[table.index(">Fay<") : table.index("</tr>", table.index(">Fay<"))]
    assert "lenient" in lena_row
    assert "in line" not in lena_row
    assert "in line" in fay_row
    assert "Holm" in table

    ann = review_of(cycle, teams[lena][0])
    person = client.get(f"/calibration/{session.id}/reviews/{ann.id}").get_data(as_text=True)
    assert "Lowered: this manager&#39;s ratings run" in person
    assert "Adopt the suggestion (3)" in person
    bob = review_of(cycle, teams[fay][0])
    person = client.get(f"/calibration/{session.id}/reviews/{bob.id}").get_data(as_text=True)
    assert "No correction: the manager&#39;s ratings are in line" in person
    assert "Adopt the suggestion" not in person  # Fay's 3 stands


def test_the_api_reports_leniency_with_its_evidence(group, login_as, runner):
    hr, director, lena, fay, teams, cycle = group
    session = _open_session(login_as(hr), cycle, director)
    result = runner.invoke(args=["users", "token", hr.email])
    token = result.output.strip().splitlines()[-1]
    client = current_app.test_client()
    body = client.get(
        f"/api/v1/calibration/{session.id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    raters = {r["manager_id"]: r for r in body["raters"]}
    assert raters[lena.id]["verdict"] == "lenient"
    assert raters[lena.id]["leniency"] > 1
    assert raters[lena.id]["ci_low"] > 0
    assert raters[lena.id]["reviews"] == SIZE
    # every peer of Lena's people also rates someone outside her team (her own people
    # are peers in other teams too): all their ratings link the team to the rest
    assert raters[lena.id]["linking_ratings"] == 3 * SIZE
    assert raters[lena.id]["p_adjusted"] < 0.05
    assert raters[fay.id]["verdict"] == "in line"
    people = {p["subject_id"]: p for p in body["people"]}
    for person in teams[lena]:
        row = people[person.id]
        assert row["suggestion"] < row["manager_overall"]
        assert row["suggestion_reason"].startswith("Lowered:")
    for person in teams[fay]:
        row = people[person.id]
        assert row["suggestion"] == row["manager_overall"]  # a fair manager's rating stands
        assert row["suggestion_reason"].startswith("No correction:")


def test_the_model_is_fitted_when_ratings_change_not_on_every_view(group, login_as, monkeypatch):
    hr, director, lena, _fay, _teams, cycle = group
    client = login_as(hr)
    session = _open_session(client, cycle, director)
    fits = []
    real = queries.fit

    def counting(*args, **kwargs):
        fits.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "fit", counting)
    for _ in range(3):
        assert client.get(f"/calibration/{session.id}").status_code == 200
    assert len(fits) == 1
    # A peer part changes (its version moves): the next view fits again.
    peer_part = db.session.scalar(
        select(Assessment).where(Assessment.kind == PartKind.PEER).limit(1)
    )
    peer_part.ratings = dict.fromkeys(peer_part.ratings, 4)
    db.session.commit()
    assert client.get(f"/calibration/{session.id}").status_code == 200
    assert len(fits) == 2
    # A calibrator whose own review is in the group gets a model without it.
    own = login_as_fresh(current_app, lena)
    assert own.get(f"/calibration/{session.id}").status_code == 200
    assert len(fits) == 3
