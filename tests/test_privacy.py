"""Personal data (everything about one person) and anonymising a departed person."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from conftest import PASSWORD, post, sign_in
from cycle_helpers import advance, approved_peer, launched_cycle, review_of
from flask import current_app
from sqlalchemy import func, select
from test_exports import (
    acknowledge,
    csv_rows,
    fetch,
    finalise_and_release,
    keys_of,
    manager_review,
    pdf_text,
    peer_feedback,
    self_review,
    spread,
)

from reviews.api.models import ApiToken
from reviews.audit.models import AuditEvent
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import Assessment, PartKind, PeerRequest, RequestState, Review
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.growth import operations as growth_ops
from reviews.growth.models import GrowthPlan
from reviews.notifications.models import Notification
from reviews.people.models import Department, Person, Role

SELF_TEXT = "Shipped things (Devon Clarke)."
ABOUT_DEVON = "Kim says Devon explains well"
DEVON_WROTE = "Devon says Kim ships fast"
DECLINE = "Devon is on parental leave"
ACK = "Devon read it on the train"
PLAN_NOTES = "Devon wants to lead the storage migration"
PLAN_COMMENT = "Devon agrees with the plan"
ITEM_TITLE = "Shadow Devon's on-call mentor"
ITEM_TEXT = "Devon pairs with the SRE team"
ITEM_NOTE = "Devon to book the first session"
FREE_TEXTS = (
    SELF_TEXT,
    ABOUT_DEVON,
    DEVON_WROTE,
    DECLINE,
    ACK,
    PLAN_NOTES,
    PLAN_COMMENT,
    ITEM_TITLE,
    ITEM_TEXT,
    ITEM_NOTE,
)


@pytest.fixture
def released(app, make_person):
    """A released, named cycle around Devon, who wrote and received feedback everywhere.

    Elena manages Devon, Kim and Lou. Devon: a self-review, feedback from Kim, feedback
    written for Kim, a declined request from Lou's review, Elena's review, an
    acknowledgement with a comment, a growth plan with notes and a free item, an API token.
    """
    platform = Department(name="Platform")
    db.session.add(platform)
    db.session.commit()
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    em = make_person("Elena Marsh", role=Role.MANAGER, level_key="engineering-manager")
    dev = make_person("Devon Clarke", email="devon.clarke@example.com", manager=em)
    kim = make_person("Kim Park", manager=em, level_key="senior-engineer")
    lou = make_person("Lou Reyes", manager=em, level_key="junior-engineer")
    for person in (em, dev, kim, lou):
        person.department = platform
    db.session.commit()
    cycle = launched_cycle(
        hr, CycleState.SELF_REVIEW, peer_min=1, peer_anonymous=False, anonymity_threshold=1
    )
    keys = keys_of(cycle)
    reviews = {p.id: review_of(cycle, p) for p in (dev, kim, lou)}
    self_review(dev, reviews[dev.id], spread(keys, 2))
    self_review(kim, reviews[kim.id], spread(keys, 3))
    peer_feedback(em, reviews[dev.id], kim, spread(keys, 1), ABOUT_DEVON)
    peer_feedback(em, reviews[dev.id], lou, {keys[0]: 2, keys[1]: 5}, "Lou on Devon")
    peer_feedback(em, reviews[kim.id], dev, spread(keys, 4), DEVON_WROTE)
    request = approved_peer(em, reviews[lou.id], dev)
    with current_app.test_request_context():
        cycle_ops.decline_request(dev, request, DECLINE)
        db.session.commit()
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    manager_review(em, reviews[dev.id], 4, spread(keys, 0), "high", "within_a_year")
    manager_review(em, reviews[kim.id], 3, spread(keys, 2), "medium", "not_yet")
    manager_review(em, reviews[lou.id], 2, spread(keys, 3), "low", "not_yet")
    finalise_and_release(hr, cycle)
    acknowledge(dev, reviews[dev.id], ACK)
    plan = db.session.scalar(select(GrowthPlan).where(GrowthPlan.review_id == reviews[dev.id].id))
    assert plan is not None
    with current_app.test_request_context():
        growth_ops.set_notes(em, plan, plan.version, PLAN_NOTES)
        item = growth_ops.add_item(
            em,
            plan,
            plan.version,
            opportunity_key=None,
            title=ITEM_TITLE,
            description=ITEM_TEXT,
            start=date.today(),
            weeks=6,
        )
        growth_ops.update_item(
            em,
            plan,
            plan.version,
            item.id,
            start=item.start_date,
            end=item.end_date,
            notes=ITEM_NOTE,
        )
        plan.employee_comment = PLAN_COMMENT
        from reviews.api.operations import create_token

        create_token(dev, dev, "Laptop script")
        db.session.commit()
    return cycle, hr, em, dev, kim, lou


def _person(person_id: int) -> Person:
    return db.session.get(Person, person_id, populate_existing=True)


def test_personal_data_json_holds_everything_about_the_person(app, released, login_as):
    cycle, hr, em, dev, _kim, _lou = released
    review = review_of(cycle, dev)
    notifications = db.session.scalar(
        select(func.count()).where(Notification.recipient_id == dev.id)
    )
    events = db.session.scalar(select(func.count()).where(AuditEvent.subject_id == dev.id))
    assert notifications >= 3
    assert events >= 5
    status, data, headers = fetch(login_as(hr), f"/people/{dev.id}/data.json")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert "attachment" in headers["Content-Disposition"]
    found = json.loads(data)
    assert found["person"] == {
        "email": "devon.clarke@example.com",
        "name": "Devon Clarke",
        "role": "employee",
        "active": True,
        "department": "Platform",
        "level": "engineer",
        "manager": em.email,
        "created_at": dev.created_at.isoformat(),
        "deactivated_at": None,
        "mail_notifications": True,
        "language": None,
    }
    (entry,) = found["reviews"]
    assert entry["cycle"] == cycle.name
    assert entry["level"] == "engineer"
    assert entry["manager"] == em.email
    own = db.session.scalar(
        select(Assessment).where(
            Assessment.review_id == review.id, Assessment.kind == PartKind.SELF
        )
    )
    assert entry["self_review"]["state"] == "submitted"
    assert entry["self_review"]["answers"] == own.answers
    assert entry["self_review"]["answers"]["accomplishments"] == SELF_TEXT
    assert entry["self_review"]["ratings"] == own.ratings
    assert entry["self_review"]["comments"] == own.comments
    boss = db.session.scalar(
        select(Assessment).where(
            Assessment.review_id == review.id, Assessment.kind == PartKind.MANAGER
        )
    )
    assert entry["manager_review"]["state"] == "submitted"
    assert entry["manager_review"]["answers"] == boss.answers
    # As Devon reads it: the final ratings, no proposal, no potential nor readiness.
    assert entry["manager_review"]["ratings"] == review.final_ratings
    assert entry["manager_review"]["ratings_are_final"] is True
    assert entry["manager_review"]["overall"] is None
    assert "potential" not in entry["manager_review"]
    assert "promotion_readiness" not in entry["manager_review"]
    assert entry["final"] == {"rating": review.final_rating, "ratings": review.final_ratings}
    assert "calibration_changes" not in found
    assert entry["final"]["rating"] == 4
    assert entry["acknowledged_at"] == review.acknowledged_at.isoformat()
    assert entry["acknowledgement_comment"] == ACK
    # A named cycle: Devon reads who wrote what.
    peers = entry["peer_feedback"]["entries"]
    assert entry["peer_feedback"]["withheld"] is None
    assert sorted((p["author"], p["answers"]["strengths"]) for p in peers) == [
        ("Kim Park", ABOUT_DEVON),
        ("Lou Reyes", "Lou on Devon"),
    ]
    plan = db.session.scalar(select(GrowthPlan).where(GrowthPlan.review_id == review.id))
    assert entry["growth_plan"]["target_level"] == plan.target_level_key
    assert entry["growth_plan"]["focus"] == plan.focus
    assert entry["growth_plan"]["notes"] == PLAN_NOTES
    assert entry["growth_plan"]["employee_comment"] == PLAN_COMMENT
    assert [i["title"] for i in entry["growth_plan"]["items"]] == [i.title for i in plan.items]
    assert {"title": ITEM_TITLE, "notes": ITEM_NOTE}.items() <= entry["growth_plan"]["items"][
        -1
    ].items()
    (written,) = found["peer_feedback_written"]
    assert written["about"] == "Kim Park"
    assert written["answers"]["strengths"] == DEVON_WROTE
    assert len(found["notifications"]) == notifications
    assert len(found["api_tokens"]) == 1
    assert found["api_tokens"][0]["name"] == "Laptop script"
    assert "token_hash" not in data.decode()
    # What Devon did, and what happened to their account; not others' judgements of them.
    kinds = {e["event"] for e in found["audit_events"]}
    assert {"part.submitted", "review.acknowledged", "api.token_created"} <= kinds
    assert not {e for e in kinds if e.startswith(("calibration.", "export."))}
    # The export is itself recorded, naming the person and HR.
    export = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "export.personal_data"))
    assert (export.actor_id, export.subject_id, export.details) == (
        hr.id,
        dev.id,
        {"format": "json"},
    )


def test_personal_data_pdf_names_the_person(app, released, login_as):
    cycle, hr, _em, dev, _kim, _lou = released
    status, data, headers = fetch(login_as(hr), f"/people/{dev.id}/data.pdf")
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "Devon Clarke" in text
    assert "devon.clarke@example.com" in text
    assert "Personal data" in text
    flat = " ".join(text.split())
    for free_text in (SELF_TEXT, ABOUT_DEVON, DEVON_WROTE, ACK, PLAN_NOTES, PLAN_COMMENT):
        assert free_text in flat
    assert f"{ITEM_TITLE} ({date.today():%-d %b %Y}" in flat
    assert ITEM_TEXT in flat
    assert ITEM_NOTE in flat
    # Answers under their questions, ratings by competency name beside self, manager, final.
    assert f"Accomplishments this period: {SELF_TEXT}" in flat
    assert "potential High" not in flat  # the line's judgement, not part of Devon's reading
    assert "Within a year" not in flat
    review = review_of(cycle, dev)
    names = {c["key"]: c["name"] for c in cycle.framework_snapshot["competencies"]}
    own = db.session.scalar(
        select(Assessment).where(
            Assessment.review_id == review.id, Assessment.kind == PartKind.SELF
        )
    )
    key = next(iter(review.final_ratings))
    squashed = "".join(text.split())  # the PDF's text splits kerned pairs ("T echnical")
    for key, name in names.items():
        row = f"{name}{own.ratings[key]}{review.final_ratings[key]}"
        assert row.replace(" ", "") in squashed
    assert "Kim Park" in flat  # a named cycle: Devon reads the authors
    assert "Laptop script" in flat
    assert "review.acknowledged" in flat
    export = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "export.personal_data"))
    assert (export.actor_id, export.subject_id, export.details) == (
        hr.id,
        dev.id,
        {"format": "pdf"},
    )


def test_only_hr_reaches_personal_data_and_anonymising(app, released):
    from test_cycle_flow import login_as_fresh

    _cycle, _hr, em, dev, kim, _lou = released
    for person in (dev, kim, em):  # the person themselves, a colleague, their manager
        client = login_as_fresh(app, person)
        for url in (f"/people/{dev.id}/data.json", f"/people/{dev.id}/data.pdf"):
            assert fetch(client, url)[0] == 403, (person.name, url)
        assert post(client, f"/people/{dev.id}/anonymise").status_code == 403
    assert db.session.scalar(select(func.count()).where(AuditEvent.event.like("export.%"))) == 0
    assert _person(dev.id).name == "Devon Clarke"


def _snapshot(person_id: int) -> dict:
    """Everything about a person that anonymising must either keep or remove."""
    person = _person(person_id)
    return {
        "name": person.name,
        "email": person.email,
        "password_hash": person.password_hash,
        "active": person.active,
        "parts": sorted(
            (p.id, p.state.value, p.ratings, p.comments, p.answers, p.overall_rating)
            for p in db.session.scalars(
                select(Assessment)
                .join(Review, Review.id == Assessment.review_id)
                .where((Review.subject_id == person_id) | (Assessment.author_id == person_id))
            )
        ),
    }


def test_anonymising_an_active_person_is_refused(app, released, login_as):
    _cycle, hr, _em, dev, _kim, _lou = released
    before = _snapshot(dev.id)
    client = login_as(hr)
    response = post(client, f"/people/{dev.id}/anonymise")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Only a deactivated person can be anonymised." in page
    assert _snapshot(dev.id) == before
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.event == "person.anonymised"))
    # Without the CSRF token nothing happens either.
    assert client.post(f"/people/{dev.id}/anonymise").status_code == 400


NUM = re.compile(r'<td class="num">(.*?)</td>', re.S)
CHART = re.compile(r'<figure class="chart-figure">(.*?)</figure>', re.S)


def _dashboard_figures(client, cycle_id: int) -> tuple[list[str], list[str]]:
    response = client.get(f"/cycles/{cycle_id}/dashboard")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    numbers, charts = NUM.findall(html), CHART.findall(html)
    assert numbers
    assert len(charts) == 2
    return numbers, charts


def _report(client, cycle_id: int) -> tuple[list[list[str]], list[list[str]]]:
    """Report rows in review order without the two identity columns and the answers'
    columns (the figures), and the identities with each row's answers."""
    status, data, _ = fetch(client, f"/cycles/{cycle_id}/report.csv")
    assert status == 200
    rows = csv_rows(data)
    assert rows[0][:2] == ["Employee", "Email"]
    answers = next(i for i, h in enumerate(rows[0]) if h.startswith(("Self: ", "Manager: ")))
    return (
        [row[2:answers] for row in rows[1:]],
        [row[:2] + row[answers:] for row in rows[1:]],
    )


def test_anonymising_a_departed_person_removes_identity_and_text_and_keeps_numbers(
    app, released, login_as
):
    cycle, hr, em, dev, _kim, _lou = released
    client = login_as(hr)
    assert post(client, f"/people/{dev.id}/deactivate").status_code == 302
    assert not _person(dev.id).active
    review_id = review_of(cycle, dev).id
    before = _snapshot(dev.id)
    report_before, identities_before = _report(client, cycle.id)
    figures_before = _dashboard_figures(client, cycle.id)
    assert ["Devon Clarke", "devon.clarke@example.com"] in [i[:2] for i in identities_before]

    response = post(client, f"/people/{dev.id}/anonymise")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{dev.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The person is anonymised" in page

    person = _person(dev.id)
    assert person.name == f"Former employee {dev.id}"
    assert person.email == f"former-{dev.id}@anonymised.invalid"
    assert person.password_hash is None
    assert not person.active
    assert person.deactivated_at is not None
    # Kept: level, department, manager line and the review itself.
    assert person.level.key == "engineer"
    assert person.department.name == "Platform"
    assert person.manager_id == em.id
    # Every part by or about them keeps its ratings and loses its text.
    after = _snapshot(dev.id)
    assert len(after["parts"]) == len(before["parts"]) == 5  # self, manager, 2 peers, 1 written
    for (pid, state, ratings, comments, answers, overall), old in zip(
        after["parts"], before["parts"], strict=True
    ):
        assert (pid, state, ratings, overall) == (old[0], old[1], old[2], old[5])
        assert old[4], "every part had text before"
        assert (comments, answers) == ({}, {}), pid
    review = db.session.get(Review, review_id, populate_existing=True)
    assert review.acknowledged_at is not None
    assert review.acknowledgement_comment is None
    assert (review.final_rating, review.final_locked) == (4, True)
    declined = db.session.scalar(
        select(PeerRequest).where(
            PeerRequest.reviewer_id == dev.id, PeerRequest.state == RequestState.DECLINED
        )
    )
    assert declined.decline_reason == "[removed]"
    plan = db.session.scalar(
        select(GrowthPlan)
        .where(GrowthPlan.review_id == review_id)
        .execution_options(populate_existing=True)
    )
    assert (plan.notes, plan.employee_comment) == ("", "")
    assert plan.items  # the plan's structure and dates stay
    assert not db.session.scalar(select(func.count()).where(Notification.recipient_id == dev.id))
    assert not db.session.scalar(select(func.count()).where(ApiToken.person_id == dev.id))
    # They cannot sign in any more, with the old address or the new one.
    fresh = app.test_client()
    assert sign_in(fresh, "devon.clarke@example.com", PASSWORD).status_code != 302
    assert sign_in(fresh, person.email, PASSWORD).status_code != 302
    # The figures: report numbers and dashboard identical; only the identity changed.
    report_after, identities_after = _report(client, cycle.id)
    assert report_after == report_before
    # Their review's written answers went with their identity; everyone else's stay.
    former = next(i for i in identities_after if i[0] == f"Former employee {dev.id}")
    assert former[1] == f"former-{dev.id}@anonymised.invalid"
    assert not any(former[2:])
    assert any(next(i for i in identities_before if i[0] == "Devon Clarke")[2:])
    assert [i for i in identities_after if i[0] != f"Former employee {dev.id}"] == [
        i for i in identities_before if i[0] != "Devon Clarke"
    ]
    assert _dashboard_figures(client, cycle.id) == figures_before
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "person.anonymised"))
    assert (event.actor_id, event.subject_id) == (hr.id, dev.id)

    # A second time is refused, and changes nothing.
    again = post(client, f"/people/{dev.id}/anonymise")
    assert again.status_code == 302
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "already anonymised" in page
    assert _person(dev.id).name == f"Former employee {dev.id}"
    assert (
        db.session.scalar(select(func.count()).where(AuditEvent.event == "person.anonymised")) == 1
    )
    # Text written about them in the growth plan's own items goes too (the items stay).
    for item in plan.items:
        db.session.refresh(item)
        assert ITEM_NOTE not in item.notes
        assert ITEM_TEXT not in item.description
        assert ITEM_TITLE not in item.title


def test_an_anonymised_person_leaves_no_trace_in_exports(app, released, login_as):
    """After anonymising, the old name, email and their free text are in no export."""
    cycle, hr, em, dev, _kim, _lou = released
    client = login_as(hr)
    assert post(client, f"/people/{dev.id}/deactivate").status_code == 302
    assert post(client, f"/people/{dev.id}/anonymise").status_code == 302
    assert _person(dev.id).email.endswith("@anonymised.invalid")
    exports = {
        "report.csv": f"/cycles/{cycle.id}/report.csv",
        "calibration.csv": f"/cycles/{cycle.id}/calibration.csv",
        "their personal data": f"/people/{dev.id}/data.json",
        "their manager's personal data": f"/people/{em.id}/data.json",
        "audit.csv": "/audit.csv",
    }
    leaks = []
    for label, url in exports.items():
        status, data, _ = fetch(client, url)
        assert status == 200, url
        text = data.decode("utf-8")
        for trace in ("Devon Clarke", "devon.clarke@example.com", *FREE_TEXTS):
            if trace in text:
                leaks.append((label, trace))
    assert leaks == []
