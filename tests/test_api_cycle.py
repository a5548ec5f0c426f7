"""A whole review cycle through the JSON API only: org import to acknowledgement,
with the tokens of HR, a manager, peers and the people reviewed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from reviews.api.operations import create_token
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Role

ORG = """email,name,manager_email,department,level,role
hana@example.com,Hana HR,,People,,hr
mia@example.com,Mia Manager,,Platform,engineering-manager,manager
ann@example.com,Ann Archer,mia@example.com,Platform,engineer,employee
ben@example.com,Ben Baker,mia@example.com,Platform,senior-engineer,employee
cat@example.com,Cat Cole,mia@example.com,Platform,engineer,employee
dan@example.com,Dan Dunn,mia@example.com,Platform,junior-engineer,employee
"""


class Api:
    """A token holder calling the API, failing loudly on unexpected answers."""

    def __init__(self, client, token: str) -> None:
        self.client, self.headers = client, {"Authorization": f"Bearer {token}"}

    def call(self, method: str, url: str, expect: int = 200, **kw):
        headers = {**self.headers, **kw.pop("headers", {})}
        answer = self.client.open("/api/v1" + url, method=method, headers=headers, **kw)
        assert answer.status_code == expect, (method, url, answer.status_code, answer.get_data())
        return answer

    def get(self, url: str, expect: int = 200, **kw):
        return self.call("GET", url, expect, **kw).get_json()

    def send(self, method: str, url: str, data=None, expect: int = 200, **kw):
        return self.call(method, url, expect, json=data or {}, **kw).get_json()


@pytest.fixture
def hr_api(app, make_person, client):
    hana = make_person("Hana HR", role=Role.HR, level_key=None, email="hana@example.com")
    with app.test_request_context():
        _row, secret = create_token(hana, hana, "hris")
        db.session.commit()
    return Api(client, secret)


def _token_for(app, email: str) -> str:
    from reviews.people.models import Person

    with app.test_request_context():
        person = db.session.scalar(select(Person).where(Person.email == email))
        _row, secret = create_token(person, person, "script")
        db.session.commit()
    return secret


def _part(keys, rating: int, answers: dict[str, str], **extra):
    return {
        "ratings": dict.fromkeys(keys, rating),
        "comments": {keys[0]: "Shipped the billing migration with zero downtime in March."},
        "answers": answers,
        **extra,
    }


def test_a_whole_cycle_through_the_api_only(app, client, hr_api):
    # HR loads the org: a dry run first writes nothing, then the import applies.
    dry = hr_api.call(
        "POST", "/org/import?dry_run=true", data=ORG, content_type="text/csv"
    ).get_json()
    assert dry["applied"] is False
    assert len(dry["changes"]["create"]) == 5
    assert len(hr_api.get("/people?limit=200")["items"]) == 1
    applied = hr_api.call("POST", "/org/import", data=ORG, content_type="text/csv").get_json()
    assert applied["applied"] is True
    assert len(hr_api.get("/people?limit=200")["items"]) == 6
    bad = hr_api.call(
        "POST", "/org/import", 422, data=ORG + "x@example.com,X,nobody@example.com,P,engineer,"
    )
    assert bad.get_json()["error"]["fields"]["line 8"]
    assert bad.get_json()["error"]["errors"][0]["line"] == 8
    tokens = {
        name: Api(client, _token_for(app, f"{name}@example.com"))
        for name in ("mia", "ann", "ben", "cat", "dan")
    }
    mia = tokens["mia"]
    keys = list(db.session.scalars(select(Competency.key).order_by(Competency.id)))
    framework = hr_api.get("/framework")
    assert {c["key"] for c in framework["competencies"]} == set(keys)
    assert framework["opportunities"]

    # HR creates, edits (over the version read) and launches the cycle.
    today = date.today()
    created = hr_api.send(
        "POST",
        "/cycles",
        {
            "name": "API cycle",
            "period_start": (today - timedelta(days=180)).isoformat(),
            "period_end": today.isoformat(),
            "self_review_due": (today + timedelta(days=7)).isoformat(),
            "peer_feedback_due": (today + timedelta(days=14)).isoformat(),
            "manager_review_due": (today + timedelta(days=21)).isoformat(),
            "calibration_due": (today + timedelta(days=28)).isoformat(),
            "peer_min": 3,
            "anonymity_threshold": 3,
            "peer_names_to_managers": False,
        },
        expect=201,
    )
    cycle_id = created["id"]
    assert created["warnings"] == []
    assert created["upward_feedback"] is False
    stale = hr_api.send("PATCH", f"/cycles/{cycle_id}", {"name": "x", "version": 99}, expect=409)
    assert stale["error"]["current_version"] == created["version"]
    hr_api.send(
        "PATCH",
        f"/cycles/{cycle_id}",
        {"name": "API cycle H2"},
        headers={"If-Match": f'"{created["version"]}"'},
    )
    launched = hr_api.send("POST", f"/cycles/{cycle_id}/advance", {"target": "self_review"})
    assert launched["state"] == "self_review"
    assert hr_api.get(f"/cycles/{cycle_id}/progress")["total"]["reviews"] == 6

    # Each person writes and submits a self-review, with a stale save refused.
    reviews = {}
    for name in ("ann", "ben", "cat", "dan"):
        mine = tokens[name].get(f"/reviews?cycle_id={cycle_id}")["items"]
        assert [r["subject_name"].split()[0].lower() for r in mine] == [name]
        review_id = mine[0]["id"]
        reviews[name] = review_id
        part = tokens[name].call("GET", f"/reviews/{review_id}/self")
        etag = part.headers["ETag"]
        answers = {"accomplishments": "Led the search rewrite.", "growth": "Design reviews."}
        saved = tokens[name].send(
            "PUT",
            f"/reviews/{review_id}/self",
            _part(keys, 3, answers),
            headers={"If-Match": etag},
        )
        assert saved["state"] == "draft"
        conflict = tokens[name].send(
            "PUT",
            f"/reviews/{review_id}/self",
            _part(keys, 4, answers),
            expect=409,
            headers={"If-Match": etag},
        )
        assert conflict["error"]["current_version"] == saved["version"]
        tokens[name].send(
            "POST",
            f"/reviews/{review_id}/self/submit",
            _part(keys, 3, answers, version=saved["version"]),
        )
    # Nobody writes another person's self-review, nor the manager's part.
    tokens["ben"].get(f"/reviews/{reviews['ann']}/self", expect=403)
    tokens["ann"].get(f"/reviews/{reviews['ann']}/manager", expect=403)

    # Nominations: each proposes three peers, the manager approves them.
    peers_of = {"ann": ("ben", "cat", "dan"), "ben": ("cat", "dan", "ann"),
                "cat": ("dan", "ann", "ben"), "dan": ("ann", "ben", "cat")}  # fmt: skip
    for name, peers in peers_of.items():
        for peer in peers:
            tokens[name].send(
                "POST", f"/reviews/{reviews[name]}/nominations",
                {"email": f"{peer}@example.com"}, expect=201,
            )  # fmt: skip
        listing = mia.get(f"/reviews/{reviews[name]}/nominations")
        assert listing["can_decide"] is True
        for request in listing["requests"]:
            mia.send("POST", f"/reviews/{reviews[name]}/nominations/{request['id']}/approve")
    tokens["dan"].get(f"/reviews/{reviews['ann']}/nominations", expect=403)

    # Peer feedback.
    hr_api.send("POST", f"/cycles/{cycle_id}/advance", {"target": "peer_feedback"})
    for name in ("ann", "ben", "cat", "dan"):
        inbox = tokens[name].get("/requests")["items"]
        assert len(inbox) == 3
        for item in inbox:
            feedback = tokens[name].get(f"/requests/{item['id']}/feedback")
            tokens[name].send(
                "POST",
                f"/requests/{item['id']}/feedback/submit",
                _part(
                    keys,
                    4,
                    {
                        "strengths": f"Written by {name}: clear design docs.",
                        "growth_areas": "Delegating more.",
                        "suggestion": "Pair with juniors weekly.",
                    },
                    version=feedback["version"],
                ),
            )
    # A peer is not a reader of the review it wrote for.
    tokens["ben"].get(f"/reviews/{reviews['ann']}", expect=403)

    # Manager reviews.
    hr_api.send("POST", f"/cycles/{cycle_id}/advance", {"target": "manager_review"})
    for name, rating in (("ann", 3), ("ben", 4), ("cat", 3), ("dan", 2)):
        part = mia.get(f"/reviews/{reviews[name]}/manager")
        mia.send(
            "POST",
            f"/reviews/{reviews[name]}/manager/submit",
            _part(
                keys,
                rating,
                {"summary": "Solid half.", "strengths": "Ownership.", "growth_areas": "Scope."},
                overall=rating,
                potential="medium",
                readiness="not_yet",
                version=part["version"],
            ),
        )
    seen_by_manager = mia.get(f"/reviews/{reviews['ann']}")
    assert seen_by_manager["peers"]["submitted"] == 3
    assert all(e["author_name"] is None for e in seen_by_manager["peers"]["entries"])

    # Calibration: HR opens a session; the manager calibrates one person; HR finishes.
    hr_api.send("POST", f"/cycles/{cycle_id}/advance", {"target": "calibration"})
    session = hr_api.send(
        "POST",
        f"/cycles/{cycle_id}/calibration",
        {"group_kind": "manager_org", "manager_email": "mia@example.com"},
        expect=201,
    )
    group = mia.get(f"/calibration/{session['id']}")
    assert len(group["people"]) == 4
    assert sum(b["count"] for b in group["distribution"]) == 4
    dan_row = next(p for p in group["people"] if p["review_id"] == reviews["dan"])
    changed = mia.send(
        "POST",
        f"/calibration/{session['id']}/reviews/{reviews['dan']}",
        {"overall": 3, "rationale": "Peers describe steady delivery.",
         "version": dan_row["final_version"]},
    )  # fmt: skip
    assert changed["final_rating"] == 3
    late = mia.send(
        "POST",
        f"/calibration/{session['id']}/reviews/{reviews['dan']}",
        {"overall": 4, "rationale": "Second thoughts.", "version": dan_row["final_version"]},
        expect=409,
    )
    assert late["error"]["current_version"] == changed["final_version"]
    tokens["ann"].get(f"/calibration/{session['id']}", expect=403)
    hr_api.send("POST", f"/calibration/{session['id']}/finish")

    # Release: people read their review, acknowledge it and get their plan.
    hr_api.send("POST", f"/cycles/{cycle_id}/advance", {"target": "released"})
    own = tokens["dan"].get(f"/reviews/{reviews['dan']}")
    assert own["result"]["final_rating"] == 3
    assert own["manager"]["state"] == "submitted"
    assert len(own["peers"]["entries"]) == 3
    text = str(own["peers"])
    assert all(e["author_name"] is None and e["submitted_on"] is None
               for e in own["peers"]["entries"])  # fmt: skip
    assert "Ann" not in text
    assert "Ben" not in text
    ack = tokens["dan"].send(
        "POST", f"/reviews/{reviews['dan']}/acknowledge", {"comment": "Thanks."}
    )
    assert ack["comment"] == "Thanks."
    tokens["dan"].send("POST", f"/reviews/{reviews['dan']}/acknowledge", {}, expect=409)
    plan = tokens["dan"].call("GET", f"/reviews/{reviews['dan']}/plan")
    assert plan.get_json()["items"]
    agreed = tokens["dan"].send(
        "POST", f"/reviews/{reviews['dan']}/plan/agree", {},
        headers={"If-Match": plan.headers["ETag"]},
    )  # fmt: skip
    assert agreed["employee_agreed_at"]
    pdf = tokens["dan"].call("GET", f"/reviews/{reviews['dan']}/plan.pdf")
    assert pdf.data.startswith(b"%PDF")
    assert hr_api.get(f"/cycles/{cycle_id}/progress")["total"]["acknowledged"] == 1

    # HR exports the report and reads the audit log; no peer author is in either.
    report = hr_api.call("GET", f"/cycles/{cycle_id}/report.csv").get_data(as_text=True)
    assert "Dan Dunn" in report
    assert "Written by" not in report
    events = hr_api.get(f"/audit?cycle={cycle_id}&limit=200")["items"]
    kinds = {e["event"] for e in events}
    assert {"cycle.created", "part.submitted", "calibration.changed",
            "review.acknowledged"} <= kinds  # fmt: skip
    tokens["ann"].get("/audit", expect=403)
