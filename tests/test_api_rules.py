"""API rules beyond the walkthrough: CSRF on cookie calls, clear 4xx bodies,
anonymity before the threshold, versions, and bounded queries."""

from __future__ import annotations

import re

from conftest import count_queries
from cycle_helpers import approved_peer, launched_cycle, part, review_of
from sqlalchemy import func, select

from reviews.api.operations import create_token
from reviews.audit.models import AuditEvent
from reviews.cycles.models import PartKind
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Role


def _token(app, person) -> dict[str, str]:
    with app.test_request_context():
        _row, secret = create_token(person, person, "test")
        db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def submit_peer(request) -> None:
    from reviews.cycles import operations as ops
    from reviews.cycles.parts import PartInput

    with app_context():
        feedback = ops.peer_assessment(request)
        ops.save_part(
            request.reviewer,
            feedback,
            feedback.version,
            PartInput(
                ratings={"technical-fluency": 4},
                answers={"strengths": "Docs.", "growth_areas": "Tests.", "suggestion": "Pair."},
            ),
            submit=True,
        )
        db.session.commit()


def app_context():
    from flask import current_app

    return current_app.test_request_context()


def test_cookie_calls_that_write_need_the_csrf_token(app, make_person, login_as):
    hr = make_person("Hana", role=Role.HR, level_key=None)
    web = login_as(hr)
    body = {"name": "Cookie cycle", "period_start": "2026-01-01", "period_end": "2026-06-30"}
    before = _events()
    refused = web.post("/api/v1/cycles", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "csrf_failed"
    assert _events() == before
    accepted = web.post("/api/v1/cycles", json=body, headers={"X-CSRFToken": web.csrf})
    assert accepted.status_code == 201
    # Reading needs no token, and a bearer call needs none either.
    assert web.get("/api/v1/cycles").status_code == 200
    bearer = app.test_client().post("/api/v1/cycles", json=body, headers=_token(app, hr))
    assert bearer.status_code == 201


def test_a_token_call_is_judged_by_the_token_not_the_cookie(app, make_person, login_as):
    hr = make_person("Hana", role=Role.HR, level_key=None)
    web = login_as(hr)  # signed in as HR in the browser...
    answer = web.get("/api/v1/audit", headers={"Authorization": "Bearer rvw_not-a-token"})
    assert answer.status_code == 401  # ...but a bad token is not rescued by the cookie


def test_bad_input_gets_a_json_error_that_names_the_field(app, make_person, client):
    hr = make_person("Hana", role=Role.HR, level_key=None)
    headers = _token(app, hr)
    before = _events()
    cases = [
        ({"data": "not json", "content_type": "text/plain"}, 400, None),
        ({"data": "{broken", "content_type": "application/json"}, 400, None),
        ({"json": ["a", "list"]}, 400, None),
        ({"json": {"period_start": "2026-01-01", "period_end": "2026-06-30"}}, 422, "name"),
        ({"json": {"name": "x", "period_start": "soon", "period_end": "2026-06-30"}}, 422,
         "period_start"),
        ({"json": {"name": "x", "period_start": "2026-01-01", "period_end": "2026-06-30",
                   "guidance": [100]}}, 422, "guidance"),
        ({"json": {"name": "x", "period_start": "2026-01-01", "period_end": "2026-06-30",
                   "colour": "red"}}, 422, "body"),
        ({"json": {"name": "x", "period_start": "2026-07-01", "period_end": "2026-06-30"}}, 422,
         "period_end"),
        ({"json": {"name": "x\u0000", "period_start": "2026-01-01", "period_end": "2026-06-30",
                   "participant_emails": ["a\u0000@example.com"]}}, 422,
         "participant_emails.0"),
    ]  # fmt: skip
    for kwargs, status, field in cases:
        answer = client.post("/api/v1/cycles", headers=headers, **kwargs)
        assert answer.status_code == status, (kwargs, answer.get_json())
        error = answer.get_json()["error"]
        assert error["message"]
        if field:
            assert field in error["fields"], (kwargs, error)
    assert _events() == before
    assert client.get("/api/v1/cycles/99999", headers=headers).status_code == 404
    assert client.get("/api/v1/nowhere", headers=headers).get_json()["error"]["code"]
    # the audit log's filters as the page takes them: a misspelt one is refused, named
    misspelt = client.get("/api/v1/audit?evnt=cycle", headers=headers)
    assert misspelt.status_code == 400
    assert "evnt" in str(misspelt.get_json()["error"])
    assert client.get("/api/v1/audit?event=CYCLE&limit=5", headers=headers).status_code == 200


def test_edits_need_a_version_and_stale_ones_are_refused(app, make_person, client):
    hr = make_person("Hana", role=Role.HR, level_key=None)
    ada = make_person("Ada")
    cycle = launched_cycle(hr)
    review = review_of(cycle, ada)
    headers = _token(app, ada)
    url = f"/api/v1/reviews/{review.id}/self"
    no_version = client.put(url, headers=headers, json={"ratings": {}})
    assert no_version.status_code == 428
    assert no_version.get_json()["error"]["fields"]["version"]
    read = client.get(url, headers=headers)
    etag = read.headers["ETag"]
    assert re.fullmatch(r'"\d+"', etag)
    bad_rating = client.put(url, headers={**headers, "If-Match": etag}, json={"ratings": {"x": 9}})
    assert bad_rating.status_code == 422
    assert "ratings.x" in bad_rating.get_json()["error"]["fields"]
    unknown = client.put(url, headers={**headers, "If-Match": etag}, json={"ratings": {"x": 3}})
    assert unknown.status_code == 422
    # Ada is an engineer: she grows towards a level above hers, never a lower one.
    lower = client.put(
        url, headers={**headers, "If-Match": etag}, json={"desired_level": "junior-engineer"}
    )
    assert lower.status_code == 422
    assert lower.get_json()["error"]["fields"]["desired_level"] == (
        "Choose a level above your own from the ladder."
    )
    first = client.put(
        url, headers={**headers, "If-Match": etag}, json={"answers": {"growth": "Design."}}
    )
    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    second = client.put(
        url, headers={**headers, "If-Match": etag}, json={"answers": {"growth": "Other."}}
    )
    assert second.status_code == 409
    assert second.get_json()["error"]["current_version"] == first.get_json()["version"]
    assert part(review, PartKind.SELF).answers == {"growth": "Design."}
    incomplete = client.post(
        url + "/submit", headers={**headers, "If-Match": first.headers["ETag"]}, json={}
    )
    assert incomplete.status_code == 422
    assert "answers.accomplishments" in incomplete.get_json()["error"]["fields"]


def test_the_person_sees_no_peer_feedback_below_the_threshold(app, make_person, client):
    from cycle_helpers import advance, release_with_manager_ratings

    hr = make_person("Hana", role=Role.HR, level_key=None)
    boss = make_person("Bo", role=Role.MANAGER, level_key="engineering-manager")
    ada = make_person("Ada", manager=boss)
    peers = [make_person(f"Peer {i}") for i in range(2)]
    cycle = launched_cycle(hr, anonymity_threshold=3)
    review = review_of(cycle, ada)
    for peer in peers:
        submit_peer(approved_peer(boss, review, peer))
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    release_with_manager_ratings(hr, cycle, lambda r: (3, {}))
    own = client.get(f"/api/v1/reviews/{review.id}", headers=_token(app, ada)).get_json()
    assert own["peers"]["submitted"] == 2
    assert own["peers"]["entries"] == []
    assert "Too few peers" in own["peers"]["withheld"]
    text = str(own)
    assert "Peer 0" not in text.replace("'name': 'Peer 0'", "")  # only as asked, never as author


def test_review_lists_keep_a_bounded_number_of_queries(app, make_person, client):
    hr = make_person("Hana", role=Role.HR, level_key=None)
    boss = make_person("Bo", role=Role.MANAGER, level_key="engineering-manager")
    team = [make_person(f"Dev {i}", manager=boss) for i in range(3)]
    headers = _token(app, hr)
    client.get("/api/v1/me", headers=headers)  # the token's first use is recorded once
    counts = []
    for extra in (0, 30):
        for i in range(extra):
            make_person(f"More {extra}-{i}", manager=boss)
        cycle = launched_cycle(hr, name=f"Cycle {extra}")
        for dev in team:
            approved_peer(boss, review_of(cycle, dev), team[(team.index(dev) + 1) % 3])
        for url in (
            f"/api/v1/reviews?cycle_id={cycle.id}&limit=200",
            "/api/v1/people?limit=200",
            "/api/v1/cycles",
        ):
            with count_queries() as statements:
                assert client.get(url, headers=headers).status_code == 200
            counts.append((url.split("?")[0], len(statements)))
    half = len(counts) // 2
    assert [c for _u, c in counts[:half]] == [c for _u, c in counts[half:]], counts


def test_upward_results_through_the_api_are_aggregates_at_the_threshold_only(
    app, make_person, client
):
    from between_helpers import client_for
    from conftest import post
    from cycle_helpers import advance

    hr = make_person("Hana", role=Role.HR, level_key=None)
    boss = make_person("Bo Boss", role=Role.MANAGER, level_key="engineering-manager")
    small = make_person("Sid Small", role=Role.MANAGER, level_key="engineering-manager")
    reports = [make_person(f"Report{n} Zed", manager=boss) for n in range(3)]
    few = [make_person(f"Few{n} Yan", manager=small) for n in range(2)]
    cycle = launched_cycle(hr, upward_feedback=True, anonymity_threshold=3)
    key = "people-management"
    for person in reports + few:
        answered = post(
            client_for(app, person),
            f"/cycles/{cycle.id}/upward",
            {f"rating_{key}": "4", "comment": f"Note from {person.name}"},
        )
        assert answered.status_code == 302
    advance(hr, cycle, CycleState.CALIBRATION)
    below = client.get(f"/api/v1/cycles/{cycle.id}/upward/{small.id}", headers=_token(app, small))
    assert below.status_code == 200
    assert below.get_json() == {"manager_id": small.id, "threshold": 3, "shown": False}
    at = client.get(f"/api/v1/cycles/{cycle.id}/upward/{boss.id}", headers=_token(app, boss))
    data = at.get_json()
    assert data["shown"] is True
    assert data["responses"] == 3
    assert next(c for c in data["competencies"] if c["key"] == key)["mean"] == 4.0
    text = at.get_data(as_text=True)
    for person in reports:
        assert person.email not in text
        assert f'"{person.name}"' not in text  # only inside the comments they wrote
    refused = client.get(
        f"/api/v1/cycles/{cycle.id}/upward/{boss.id}", headers=_token(app, reports[0])
    )
    assert refused.status_code == 403


def test_feedback_and_evidence_through_the_api(app, make_person, client):
    hr = make_person("Hana", role=Role.HR, level_key=None)
    boss = make_person("Bo", role=Role.MANAGER, level_key="engineering-manager")
    ada = make_person("Ada", manager=boss)
    peer = make_person("Pia")
    pia, ada_token, bo = _token(app, peer), _token(app, ada), _token(app, boss)
    given = client.post(
        f"/api/v1/people/{ada.id}/feedback",
        headers=pia,
        json={"body": "Your incident write-up was clear.", "competencies": ["technical-fluency"]},
    )
    assert given.status_code == 201
    assert given.get_json()["author"] == "Pia"  # never anonymous
    private = client.post(
        f"/api/v1/people/{ada.id}/feedback",
        headers=pia,
        json={"body": "Just for you.", "visibility": "recipient"},
    )
    assert private.status_code == 201
    assert (
        client.post(
            f"/api/v1/people/{ada.id}/feedback", headers=ada_token, json={"body": "me"}
        ).status_code
        == 403
    )
    mine = client.get(f"/api/v1/people/{ada.id}/feedback", headers=ada_token).get_json()
    assert len(mine["items"]) == 2
    managers = client.get(f"/api/v1/people/{ada.id}/feedback", headers=bo).get_json()
    assert [n["body"] for n in managers["items"]] == ["Your incident write-up was clear."]
    assert client.get(f"/api/v1/people/{ada.id}/feedback", headers=pia).status_code == 403

    cycle = launched_cycle(hr)
    review = review_of(cycle, ada)
    url = f"/api/v1/reviews/{review.id}/self"
    etag = client.get(url, headers=ada_token).headers["ETag"]
    note_id = given.get_json()["id"]
    cited = client.put(
        url,
        headers={**ada_token, "If-Match": etag},
        json={
            "ratings": {"technical-fluency": 5},
            "evidence": {
                "technical-fluency": [
                    {"kind": "feedback", "id": note_id},
                    {"kind": "link", "url": "https://example.com/doc", "title": "Design doc"},
                ]
            },
        },
    )
    assert cited.status_code == 200, cited.get_json()
    assert cited.get_json()["evidence"]["technical-fluency"][0] == {
        "kind": "feedback",
        "id": note_id,
    }
    stolen = client.put(
        url,
        headers={**ada_token, "If-Match": cited.headers["ETag"]},
        json={"evidence": {"technical-fluency": [{"kind": "feedback", "id": 99999}]}},
    )
    assert stolen.status_code == 422
    assert "evidence.technical-fluency" in stolen.get_json()["error"]["fields"]
    assert part(review, PartKind.SELF).evidence["technical-fluency"][0]["id"] == note_id
