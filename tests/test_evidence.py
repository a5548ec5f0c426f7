"""Ratings cite evidence gathered between cycles: feedback, goals, check-ins and links."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from between_helpers import client_for
from conftest import post
from cycle_helpers import advance, launched_cycle, part, review_of
from sqlalchemy import select

from reviews.calibration import operations as calibration_ops
from reviews.calibration.models import GroupKind
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import PartKind
from reviews.cycles.workflow import CycleState
from reviews.evidence.citations import coverage, parse_evidence, unsupported_extremes
from reviews.extensions import db
from reviews.feedback.models import FeedbackNote
from reviews.framework.models import Competency
from reviews.goals.models import GoalCheckIn
from reviews.people.models import Role

TODAY = date.today()


class Form(dict):
    def getlist(self, key):
        value = self.get(key)
        return value if isinstance(value, list) else ([value] if value else [])


def test_parse_evidence_keeps_allowed_refs_and_valid_links_only():
    form = Form(
        {
            "evidence_tf": ["feedback:1", "goal:2", "feedback:1"],
            "evidence_url_tf": "https://wiki.example.com/rfc-12",
            "evidence_title_tf": "RFC 12",
            "evidence_cm": ["checkin:9"],
        }
    )
    cited, errors = parse_evidence(form, ["tf", "cm"], {"feedback:1", "goal:2"})
    assert cited["tf"] == [
        {"kind": "feedback", "id": 1},
        {"kind": "goal", "id": 2},
        {"kind": "link", "url": "https://wiki.example.com/rfc-12", "title": "RFC 12"},
    ]
    assert errors == {"evidence_cm": "Cite only evidence listed here."}
    for url, title, field in [
        ("javascript:alert(1)", "x", "evidence_url_tf"),
        ("https://ok.example.com", "", "evidence_title_tf"),
        ("", "Only a title", "evidence_url_tf"),
        ("https://" + "a" * 600, "x", "evidence_url_tf"),
    ]:
        _, errors = parse_evidence(
            Form({"evidence_url_tf": url, "evidence_title_tf": title}), ["tf"], set()
        )
        assert field in errors
    _, errors = parse_evidence(Form({"evidence_zz": ["goal:2"]}), ["tf"], {"goal:2"})
    assert "unknown competency" in errors["form"]


def test_unsupported_extremes_are_ratings_of_1_or_5_without_any_citation():
    ratings = {"a": 5, "b": 1, "c": 3, "d": 5}
    parts = [{"a": [{"kind": "goal", "id": 1}]}, None, {"d": [{"kind": "link", "url": "u"}]}]
    assert unsupported_extremes(ratings, parts) == ["b"]
    assert coverage(["a", "b"], parts) == {"a": 1, "b": 0}


@pytest.fixture
def people(make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Ben Boss", role=Role.MANAGER, level_key="engineering-manager")
    sam = make_person("Sam Subject", manager=boss)
    pia = make_person("Pia Peer", manager=boss)
    return hr, boss, sam, pia


def _keys():
    return list(db.session.scalars(select(Competency.key).order_by(Competency.id)))


def _self_form(keys, version, **extra):
    data = {f"rating_{k}": "3" for k in keys}
    data.update({f"comment_{k}": "Did the work." for k in keys})
    data.update(
        accomplishments="Shipped the queue migration.",
        growth="Lead a larger project.",
        version=str(version),
        action="submit",
    )
    data.update(extra)
    return data


def _manager_form(keys, version, ratings, **extra):
    data = {f"rating_{k}": str(ratings.get(k, 3)) for k in keys}
    data.update(
        overall="4",
        potential="high",
        readiness="within_a_year",
        summary="Strong half: the queue migration landed on time.",
        strengths="Ownership of the migration.",
        growth_areas="Delegation.",
        version=str(version),
        action="submit",
    )
    data.update(extra)
    return data


def test_feedback_and_checkins_become_cited_evidence_seen_by_the_manager_and_calibration(
    app, people
):
    hr, boss, sam, pia = people
    keys = _keys()
    tf, pm = "technical-fluency", "people-management"

    # During the year: Pia gives feedback, Sam keeps a goal and checks in on it.
    response = post(
        client_for(app, pia),
        "/feedback/give",
        {
            "email": sam.email,
            "body": "Your spike on the queue saved us a month.",
            "visibility": "managers",
            "kind": "praise",
            "competencies": [tf],
        },
    )
    assert response.status_code == 302
    note = db.session.scalar(select(FeedbackNote))
    sam_client = client_for(app, sam)
    goal_form = {
        "title": "Migrate payments to the queue",
        "outcome": "Three services on the queue.",
        "competencies": [tf],
        "period_start": (TODAY - timedelta(days=60)).isoformat(),
        "period_end": (TODAY + timedelta(days=60)).isoformat(),
        "due_date": (TODAY + timedelta(days=30)).isoformat(),
        "status": "on_track",
        "progress": "10",
        "checkin_every_days": "14",
    }
    assert post(sam_client, "/goals/new", goal_form).status_code == 302
    goal_id = int(re.search(r"/goals/(\d+)", sam_client.get("/goals").get_data(as_text=True))[1])
    for progress in ("40", "80"):
        response = post(
            sam_client,
            f"/goals/{goal_id}/checkins",
            {"note": f"Now at {progress}%.", "confidence": "4", "progress": progress},
        )
        assert response.status_code == 302
    checkins = list(db.session.scalars(select(GoalCheckIn.id).order_by(GoalCheckIn.id)))

    # The next cycle: the self-review lists all of it as selectable evidence.
    cycle = launched_cycle(hr)
    review = review_of(cycle, sam)
    page = sam_client.get(f"/reviews/{review.id}/self").get_data(as_text=True)
    assert f'name="evidence_{tf}" value="feedback:{note.id}"' in page
    assert f'value="goal:{goal_id}"' in page
    for checkin_id in checkins:
        assert f'value="checkin:{checkin_id}"' in page
    assert "Praise from Pia Peer" in page

    self_part = part(review, PartKind.SELF)
    response = post(
        sam_client,
        f"/reviews/{review.id}/self",
        _self_form(
            keys,
            self_part.version,
            **{
                f"evidence_{tf}": [f"feedback:{note.id}", f"checkin:{checkins[-1]}"],
                f"evidence_url_{tf}": "https://wiki.example.com/queue-rfc",
                f"evidence_title_{tf}": "Queue RFC",
            },
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.refresh(self_part)
    assert len(self_part.evidence[tf]) == 3

    # The manager sees the cited evidence and the coverage per competency.
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    boss_client = client_for(app, boss)
    page = boss_client.get(f"/reviews/{review.id}/manager").get_data(as_text=True)
    assert "Evidence coverage" in page
    assert "Praise from Pia Peer" in page
    assert "Check-in on “Migrate payments to the queue”" in page
    assert "Queue RFC" in page
    manager_part = part(review, PartKind.MANAGER)
    response = post(
        boss_client,
        f"/reviews/{review.id}/manager",
        _manager_form(keys, manager_part.version, {tf: 5, pm: 1}),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    # The read view shows the citations too.
    assert "Queue RFC" in boss_client.get(f"/reviews/{review.id}").get_data(as_text=True)

    # Calibration: the 5 is backed; the 1 on People Management is flagged.
    advance(hr, cycle, CycleState.CALIBRATION)
    with app.test_request_context():
        session = calibration_ops.open_session(
            hr,
            cycle,
            GroupKind.MANAGER_ORG,
            department=None,
            manager=boss,
            managers_calibrate=False,
        )
        db.session.commit()
    hr_client = client_for(app, hr)
    page = hr_client.get(f"/calibration/{session.id}").get_data(as_text=True)
    assert "1 extreme rating without evidence" in page
    person = hr_client.get(f"/calibration/{session.id}/reviews/{review.id}").get_data(as_text=True)
    assert "People Management (1)" in person
    assert "Technical Fluency (5)" not in person

    # The manager cites evidence for the 1 (HR reopens the part): the flag clears.
    with app.test_request_context():
        cycle_ops.reopen_part(hr, manager_part)
        db.session.commit()
    db.session.refresh(manager_part)
    response = post(
        boss_client,
        f"/reviews/{review.id}/manager",
        _manager_form(
            keys,
            manager_part.version,
            {tf: 5, pm: 1},
            **{
                f"evidence_url_{pm}": "https://wiki.example.com/1-1-notes",
                f"evidence_title_{pm}": "1:1 notes on team hand-offs",
            },
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    page = hr_client.get(f"/calibration/{session.id}").get_data(as_text=True)
    assert "without evidence" not in page


def test_evidence_the_writer_may_not_read_cannot_be_cited(app, people):
    hr, boss, sam, pia = people
    keys = _keys()
    tf = "technical-fluency"
    pia_client = client_for(app, pia)
    for visibility in ("recipient", "managers"):
        post(
            pia_client,
            "/feedback/give",
            {"email": sam.email, "body": f"Note {visibility}", "visibility": visibility},
        )
    private, shared = db.session.scalars(select(FeedbackNote).order_by(FeedbackNote.id))
    # Feedback to somebody else.
    post(client_for(app, sam), "/feedback/give", {"email": pia.email, "body": "To Pia"})
    other = db.session.scalar(select(FeedbackNote).where(FeedbackNote.recipient_id == pia.id))
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    review = review_of(cycle, sam)
    boss_client = client_for(app, boss)
    page = boss_client.get(f"/reviews/{review.id}/manager").get_data(as_text=True)
    assert f"feedback:{shared.id}" in page
    assert f"feedback:{private.id}" not in page  # recipient only: not the manager's to cite
    manager_part = part(review, PartKind.MANAGER)
    for ref in (f"feedback:{private.id}", f"feedback:{other.id}", "goal:999999"):
        response = post(
            boss_client,
            f"/reviews/{review.id}/manager",
            _manager_form(keys, manager_part.version, {}, **{f"evidence_{tf}": [ref]}),
        )
        assert response.status_code == 400
        assert "Cite only evidence listed here." in response.get_data(as_text=True)
    response = post(
        boss_client,
        f"/reviews/{review.id}/manager/autosave",
        {f"evidence_{tf}": f"feedback:{other.id}", "version": str(manager_part.version)},
    )
    assert response.status_code == 422
    db.session.refresh(manager_part)
    assert manager_part.evidence is None
    assert manager_part.state.value == "draft"
