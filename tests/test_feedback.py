"""Continuous feedback: given any time, never anonymous, read by the line it was meant for."""

from __future__ import annotations

import pytest
from between_helpers import client_for
from conftest import count_queries, post
from sqlalchemy import func, select

from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.feedback.models import FeedbackNote, FeedbackVisibility
from reviews.notifications.models import Notification
from reviews.people.models import Role


@pytest.fixture
def line(make_person):
    director = make_person("Dana Director", role=Role.MANAGER, level_key="director-of-engineering")
    boss = make_person("Ben Boss", role=Role.MANAGER, manager=director)
    sam = make_person("Sam Subject", manager=boss)
    pia = make_person("Pia Peer", manager=boss)
    outsider = make_person("Olga Outsider")
    hr = make_person("Hal HR", role=Role.HR, level_key=None)
    return director, boss, sam, pia, outsider, hr


def give(client, email, body, visibility="managers", kind="feedback", competencies=()):
    return post(
        client,
        "/feedback/give",
        {
            "email": email,
            "body": body,
            "visibility": visibility,
            "kind": kind,
            "competencies": list(competencies),
        },
    )


def test_form_says_feedback_is_never_anonymous(line, login_as):
    _, _, sam, *_ = line
    page = login_as(sam).get("/feedback/give").get_data(as_text=True)
    assert "Not anonymous" in page
    assert "your name is shown" in page


def test_given_feedback_reaches_the_recipient_and_their_line_with_the_authors_name(line, app):
    director, boss, sam, pia, outsider, hr = line
    client = client_for(app, pia)
    response = give(
        client,
        sam.email,
        "You unblocked the release by pairing on the flaky tests.",
        competencies=["technical-fluency"],
    )
    assert response.status_code == 302
    give(client, sam.email, "Private thanks for the review.", visibility="recipient", kind="praise")
    notes = list(db.session.scalars(select(FeedbackNote).order_by(FeedbackNote.id)))
    assert [n.visibility for n in notes] == [
        FeedbackVisibility.MANAGERS,
        FeedbackVisibility.RECIPIENT,
    ]
    assert notes[0].competencies == ["technical-fluency"]
    events = db.session.scalars(select(AuditEvent.event).where(AuditEvent.subject_id == sam.id))
    assert list(events) == ["feedback.given", "feedback.given"]
    assert db.session.scalar(select(Notification).where(Notification.recipient_id == sam.id))

    client = client_for(app, sam)
    mine = client.get("/feedback").get_data(as_text=True)
    assert "pairing on the flaky tests" in mine
    assert "Private thanks" in mine
    assert "From Pia Peer" in mine
    assert "Technical Fluency" in mine

    for manager in (boss, director):
        client = client_for(app, manager)
        page = client.get(f"/people/{sam.id}/feedback")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "pairing on the flaky tests" in text
        assert "From Pia Peer" in text
        assert "Private thanks" not in text  # recipient only

    for stranger in (outsider, hr):
        client = client_for(app, stranger)
        assert client.get(f"/people/{sam.id}/feedback").status_code == 403


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"email": "nobody@example.com", "body": "x"}, "Nobody has the email"),
        ({"email": "SELF", "body": "Great job"}, "not to yourself"),
        ({"email": "PEER", "body": "   "}, "Write your feedback"),
        ({"email": "PEER", "body": "x" * 5001}, "5000 characters or fewer"),
        (
            {"email": "PEER", "body": "Good", "competencies": ["made-up"]},
            "Choose competencies from the framework",
        ),
        ({"email": "PEER", "body": "Good", "visibility": "everyone"}, "Choose one of"),
        ({"email": "LEFT", "body": "Good"}, "has left"),
    ],
)
def test_bad_feedback_is_refused_and_changes_nothing(
    line, login_as, client, make_person, data, error
):
    _, _, sam, pia, *_ = line
    left = make_person("Lee Left", active=False)
    emails = {"SELF": sam.email, "PEER": pia.email, "LEFT": left.email}
    login_as(sam)
    data = {"visibility": "managers", "kind": "feedback", **data}
    data["email"] = emails.get(data["email"], data["email"])
    response = post(client, "/feedback/give", data)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert db.session.scalar(select(FeedbackNote)) is None


@pytest.mark.parametrize("n", [3, 30])
def test_timeline_query_count_does_not_grow_with_the_feedback(line, app, n):
    director, boss, sam, pia, *_ = line
    for i in range(n):
        db.session.add(
            FeedbackNote(
                author_id=pia.id if i % 2 else director.id,
                recipient_id=sam.id,
                kind="feedback",
                visibility="managers",
                body=f"Note {i}",
                competencies=["technical-fluency"],
            )
        )
    db.session.commit()
    client = client_for(app, boss)
    with count_queries() as mine:
        assert client.get(f"/people/{sam.id}/feedback").status_code == 200
    client = client_for(app, sam)
    with count_queries() as own:
        page = client.get("/feedback")
    assert page.get_data(as_text=True).count("Note ") == n
    assert len(mine) <= 12, mine
    assert len(own) <= 12, own


def test_personal_data_holds_and_anonymising_removes_feedback_and_goal_texts(line, app):
    import json
    from datetime import date, timedelta

    from reviews.goals import operations as goals_ops
    from reviews.goals.models import Goal, GoalCheckIn, GoalComment

    _director, boss, sam, pia, _outsider, hr = line
    give(client_for(app, pia), sam.email, "Sharp incident write-up on Friday.")
    give(client_for(app, sam), pia.email, "Thanks for the pairing session.")
    with app.test_request_context():
        goal = goals_ops.create_goal(
            sam,
            sam,
            goals_ops.GoalFields(
                title="Own the on-call handbook",
                outcome="Handbook reviewed by the team",
                period_start=date.today(),
                period_end=date.today() + timedelta(days=60),
                due_date=date.today() + timedelta(days=60),
            ),
            known_competencies=set(),
        )
        entry = goals_ops.check_in(sam, goal, note="First draft out", confidence=4, progress=30)
        goals_ops.comment(boss, goal, body="Add the paging policy.", checkin=entry)
        db.session.commit()
    hr_client = client_for(app, hr)
    response = hr_client.get(f"/people/{sam.id}/data.json")
    data = json.loads(response.get_data(as_text=True))
    response.close()
    texts = {n["text"] for n in data["continuous_feedback"]}
    assert texts == {"Sharp incident write-up on Friday.", "Thanks for the pairing session."}
    assert data["goals"][0]["title"] == "Own the on-call handbook"
    assert data["goals"][0]["check_ins"][0]["note"] == "First draft out"
    assert data["goals"][0]["comments"][0]["text"] == "Add the paging policy."
    # The PDF a person is handed holds them too, readable.
    from test_exports import pdf_text

    response = hr_client.get(f"/people/{sam.id}/data.pdf")
    flat = " ".join(pdf_text(response.get_data()).split())
    response.close()
    for text in (
        f"{pia.name} → {sam.name}",
        "Sharp incident write-up on Friday.",
        "Thanks for the pairing session.",
        "Own the on-call handbook · On track, 30% · due",
        "Handbook reviewed by the team",
        "First draft out (30%, confidence 4)",
        f"{boss.name}: Add the paging policy.",
    ):
        assert text in flat, text

    # Sam leaves (nobody reports to them), and is anonymised.
    assert post(hr_client, f"/people/{sam.id}/deactivate").status_code == 302
    assert post(hr_client, f"/people/{sam.id}/anonymise").status_code == 302
    db.session.expire_all()
    assert set(db.session.scalars(select(FeedbackNote.body))) == {"[removed]"}
    assert db.session.scalar(select(Goal.title)) == "[removed]"
    assert db.session.scalar(select(GoalCheckIn.note)) == "[removed]"
    assert db.session.scalar(select(GoalComment.body)) == "[removed]"
    assert db.session.scalar(select(func.count()).select_from(FeedbackNote)) == 2  # kept, blank
