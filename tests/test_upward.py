"""Upward feedback: anonymous always, aggregates only, nothing below the threshold."""

from __future__ import annotations

import io
import zipfile

import pytest
from between_helpers import client_for
from conftest import post
from cycle_helpers import advance, launched_cycle
from sqlalchemy import func, select

from reviews.audit.models import AuditEvent
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Role
from reviews.review_templates.builtin import DEFAULTS
from reviews.upward.aggregate import SPREAD_MINIMUM, summarise
from reviews.upward.models import UpwardAnswer, UpwardParticipation

PM, CM, CL = "people-management", "coaching-and-mentorship", "communication-and-listening"


@pytest.fixture
def org(make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dee Director", role=Role.MANAGER, level_key="director-of-engineering")
    boss = make_person("Bo Boss", role=Role.MANAGER, manager=director)
    small = make_person("Sid Smallteam", role=Role.MANAGER, manager=director)
    reports = [
        make_person(f"Report{n} Zed", email=f"report{n}@example.com", manager=boss)
        for n in range(3)
    ]
    few = [make_person(f"Few{n} Yan", email=f"few{n}@example.com", manager=small) for n in range(2)]
    return hr, director, boss, small, reports, few


def answer(app, person, cycle, ratings, comment=""):
    data = {f"rating_{k}": str(v) for k, v in ratings.items()}
    data["comment"] = comment
    return post(client_for(app, person), f"/cycles/{cycle.id}/upward", data)


def test_the_answer_table_has_no_author_column():
    assert not {"author_id", "created_at", "submitted_at"} & set(
        UpwardAnswer.__table__.columns.keys()
    )


def _rows(ratings, comments=()):
    """(ratings, answers) pairs as stored, the comments answering the built-in question."""
    texts = list(comments) + [""] * (len(ratings) - len(comments))
    return [(r, {"comment": c} if c else {}) for r, c in zip(ratings, texts, strict=True)]


def test_summarise_shows_nothing_below_the_threshold_or_while_collecting():
    ratings = [{PM: 4}, {PM: 2}]
    names = [(PM, "People Management")]
    questions = DEFAULTS["upward"].questions
    below = summarise(1, _rows(ratings, ["a", "b"]), names, questions, threshold=3, closed=True)
    assert below.shown is False
    assert below.responses is None
    assert below.competencies == []
    assert below.comments == []
    collecting = summarise(
        1, _rows([*ratings, {PM: 3}]), names, questions, threshold=3, closed=False
    )
    assert collecting.shown is False
    at = summarise(
        1,
        _rows([*ratings, {PM: 3}, {}], ["zeta", " ", "alpha"]),
        names,
        questions,
        threshold=3,
        closed=True,
    )
    assert at.responses == 4
    assert at.competencies[0].mean == 3.0
    assert at.competencies[0].responses == 3
    # Three answers: a spread would show each one; it waits for SPREAD_MINIMUM.
    assert at.competencies[0].bands is None
    assert at.comments == ["alpha", "zeta"]  # sorted: order says nothing about who or when
    # A competency fewer than the threshold rated shows no figure, and no count either.
    sparse = summarise(1, _rows([{PM: 5}, {PM: 4}, {}]), names, questions, threshold=3, closed=True)
    assert sparse.competencies[0].mean is None
    assert sparse.competencies[0].responses is None
    # From SPREAD_MINIMUM answers on, the spread shows in three bands only.
    many = [{PM: v} for v in (1, 2, 3, 4, 5, 5)]
    wide = summarise(1, _rows(many), names, questions, threshold=3, closed=True)
    assert wide.competencies[0].bands == (2, 1, 3)
    assert len(many) >= SPREAD_MINIMUM


def test_below_the_threshold_nothing_shows_and_at_it_only_aggregates_without_authors(app, org):
    hr, director, boss, small, reports, few = org
    author_marks = [p.name for p in reports + few] + [p.email for p in reports + few]
    cycle = launched_cycle(hr, upward_feedback=True, anonymity_threshold=3)
    form = client_for(app, reports[0]).get(f"/cycles/{cycle.id}/upward").get_data(as_text=True)
    assert "Anonymous:" in form
    assert "Bo Boss" in form
    comments = ["Runs great one-to-ones.", "Shares context early.", "Could delegate more."]
    for person, value, comment in zip(reports, (5, 4, 3), comments, strict=True):
        response = answer(app, person, cycle, {PM: value, CM: value, CL: 4}, comment)
        assert response.status_code == 302
    for person in few:
        assert answer(app, person, cycle, {PM: 1}, "Too few to show me.").status_code == 302
    # Answering twice is refused and changes nothing.
    again = answer(app, reports[0], cycle, {PM: 1})
    assert again.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(UpwardAnswer)) == 5

    # While collecting, even the manager at the threshold sees nothing.
    boss_client = client_for(app, boss)
    page = boss_client.get(f"/cycles/{cycle.id}/upward/{boss.id}").get_data(as_text=True)
    assert "still being collected" in page
    assert "Runs great" not in page

    advance(hr, cycle, CycleState.CALIBRATION)
    small_page = client_for(app, small).get(f"/cycles/{cycle.id}/upward/{small.id}")
    text = small_page.get_data(as_text=True)
    assert small_page.status_code == 200
    assert "Too few reports answered" in text
    assert "Too few to show me." not in text
    assert "1.0" not in text

    for viewer in (boss, director, hr):
        page = client_for(app, viewer).get(f"/cycles/{cycle.id}/upward/{boss.id}")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Ratings from 3 reports" in text
        assert "4.0" in text  # People Management: (5 + 4 + 3) / 3
        for c in comments:
            assert c in text
        assert text.index("Could delegate") < text.index("Runs great") < text.index("Shares")
        for mark in author_marks:
            assert mark not in text
    for outsider in (reports[0], small):
        page = client_for(app, outsider).get(f"/cycles/{cycle.id}/upward/{boss.id}")
        assert page.status_code == 403

    hr_client = client_for(app, hr)
    export = hr_client.get(f"/cycles/{cycle.id}/upward.csv").get_data(as_text=True)
    assert "Bo Boss" in export
    assert ",3,4.0," in export
    small_row = next(line for line in export.splitlines() if line.startswith("Sid Smallteam"))
    assert "fewer than 3" in small_row
    assert "1" not in small_row.split(",", 3)[3].replace("fewer than 3", "")
    for url in (f"/cycles/{cycle.id}/report.csv", f"/cycles/{cycle.id}/report.xlsx"):
        response = hr_client.get(url)
        body = response.get_data()
        response.close()
        if url.endswith(".xlsx"):
            with zipfile.ZipFile(io.BytesIO(body)) as z:
                body = b"".join(z.read(n) for n in z.namelist())
        text = body.decode("utf-8", "replace")
        for c in [*comments, "Too few to show me."]:
            assert c not in text
    for mark in author_marks:
        assert mark not in export
    # The audit trail says how many answered when the cycle reached calibration, never
    # who answered about whom, nor when.
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.event.startswith("upward")))
    advanced = db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.event == "cycle.advanced", AuditEvent.cycle_id == cycle.id)
        .order_by(AuditEvent.id.desc())
    )
    assert advanced.details["target"] == "calibration"
    assert advanced.details["upward_answers"] == 5


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"rating_people-management": "9"}, 400, "Choose a rating from 1 to 5"),
        ({"comment": "x" * 2001}, 400, "under 2000"),
        ({"rating_people-management": ["3", "4"]}, 400, "Give one rating"),
        ({}, 400, "Rate at least one competency"),
    ],
)
def test_bad_upward_answers_are_refused_and_write_nothing(app, org, data, status, message):
    hr, _director, _boss, _small, reports, _few = org
    cycle = launched_cycle(hr, upward_feedback=True)
    response = post(client_for(app, reports[0]), f"/cycles/{cycle.id}/upward", data)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UpwardParticipation)) == 0


def test_cycles_without_the_option_or_people_without_a_manager_get_no_form(app, org):
    hr, director, _boss, _small, reports, _few = org
    plain = launched_cycle(hr)
    assert client_for(app, reports[0]).get(f"/cycles/{plain.id}/upward").status_code == 404
    cycle = launched_cycle(hr, upward_feedback=True, name="With upward")
    assert client_for(app, director).get(f"/cycles/{cycle.id}/upward").status_code == 403
    advance(hr, cycle, CycleState.CALIBRATION)
    closed = answer(app, reports[1], cycle, {PM: 3})
    assert closed.status_code in (200, 409)
    assert db.session.scalar(select(func.count()).select_from(UpwardAnswer)) == 0
