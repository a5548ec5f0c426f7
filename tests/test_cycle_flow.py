"""A whole cycle through the web client, anonymity, concurrency and launch cost."""

from __future__ import annotations

import re
import threading
from datetime import date, timedelta

import pytest
from conftest import PG_URL, count_queries, post
from cycle_helpers import advance, approved_peer, cycle_fields, launched_cycle, part, review_of
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy import text as sql

from reviews.cycles import operations as ops
from reviews.cycles.models import (
    Assessment,
    Cycle,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.demo import build_synthetic_org
from reviews.errors import Conflict
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.notifications.models import Notification
from reviews.people.models import Person, Role

KEYS_SQL = select(Competency.key).order_by(Competency.position)


def _keys() -> list[str]:
    return list(db.session.scalars(KEYS_SQL))


def _ratings(value: int) -> dict[str, str]:
    return {f"rating_{k}": str(value) for k in _keys()}


def _version(client, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="version" value="(\d+)"', page).group(1)


@pytest.fixture
def team(app, make_person):
    hr = make_person("Hannah HR", role=Role.HR, level_key=None)
    director = make_person("Dina Director", role=Role.MANAGER, level_key="director-of-engineering")
    em = make_person(
        "Elena Manager", role=Role.MANAGER, manager=director, level_key="engineering-manager"
    )
    reports = [
        make_person(name, manager=em)
        for name in ("Ada Ames", "Ben Bauer", "Cleo Costa", "Dev Dube", "Eva Eze")
    ]
    return hr, director, em, reports


def test_a_whole_cycle_through_the_web(app, team, login_as):
    hr, director, em, reports = team
    ada, ben, cleo, dev, eva = reports
    hr_client = login_as(hr)
    today = date.today()
    form = {
        "name": "2026 H2 review",
        "period_start": str(today - timedelta(days=180)),
        "period_end": str(today),
        "participant_mode": "all",
        "self_review_due": str(today + timedelta(days=7)),
        "peer_feedback_due": str(today + timedelta(days=14)),
        "manager_review_due": str(today + timedelta(days=21)),
        "calibration_due": str(today + timedelta(days=28)),
        "peer_min": "2",
        "peer_max": "4",
        "peer_anonymous": "y",
        "anonymity_threshold": "3",
        "peer_names_to_managers": "y",
        "reviewer_load_cap": "5",
        "guidance": "5/20/50/20/5",
    }
    created = post(hr_client, "/cycles/new", form)
    assert created.status_code == 302
    cycle = db.session.scalar(select(Cycle))
    assert cycle.state == CycleState.DRAFT
    assert "Launch" in hr_client.get(f"/cycles/{cycle.id}").get_data(as_text=True)

    assert (
        post(hr_client, f"/cycles/{cycle.id}/advance", {"target": "self_review"}).status_code == 302
    )
    db.session.refresh(cycle)
    assert cycle.state == CycleState.SELF_REVIEW
    assert cycle.framework_snapshot["levels"][0]["name"] == "Junior Engineer"
    reviews = {r.subject_id: r for r in db.session.scalars(select(Review))}
    assert len(reviews) == 8  # everyone active: HR, director, manager and five reports
    assert reviews[ada.id].manager_id == em.id
    assert reviews[ada.id].level_key == "engineer"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "self_review_open")
        )
        == 8
    )

    # Self-reviews: the task is on the home page, the form saves, then submits.
    clients = {p.id: login_as_fresh(app, p) for p in reports}
    for person in reports:
        client = clients[person.id]
        review_id = reviews[person.id].id
        home = client.get("/").get_data(as_text=True)
        assert "Write your self-review" in home
        assert "Nominate peers" in home
        url = f"/reviews/{review_id}/self"
        draft = post(
            client,
            url,
            {
                "version": _version(client, url),
                "action": "draft",
                "accomplishments": "Shipped the billing migration.",
            },
        )
        assert draft.status_code == 302
        submitted = post(
            client,
            url,
            {
                **_ratings(3),
                "version": _version(client, url),
                "action": "submit",
                "accomplishments": "Shipped the billing migration.",
                "growth": "Lead a design review.",
                "desired_level": "senior-engineer",
            },
        )
        assert submitted.status_code == 302, submitted.get_data(as_text=True)[:2000]
        assert "It is read-only now" in client.get(url).get_data(as_text=True)
    self_parts = db.session.scalars(
        select(Assessment).where(
            Assessment.kind == PartKind.SELF, Assessment.author_id.in_([p.id for p in reports])
        )
    ).all()
    assert {p.state for p in self_parts} == {PartState.SUBMITTED}

    # Nominations: Ada proposes three peers; the manager approves two and adds one.
    ada_client, em_client = clients[ada.id], login_as_fresh(app, em)
    ada_review = reviews[ada.id]
    for peer in (ben, cleo, dev):
        answer = post(
            ada_client,
            f"/reviews/{ada_review.id}/nominations",
            {"action": "add", "email": peer.email},
        )
        assert answer.status_code == 302
    assert "Approve Ada Ames&#39;s peers" in em_client.get("/").get_data(as_text=True)
    requests = {r.reviewer_id: r for r in db.session.scalars(select(PeerRequest))}
    assert {r.state for r in requests.values()} == {RequestState.PROPOSED}
    for peer in (ben, cleo, dev):
        assert (
            post(
                em_client,
                f"/reviews/{ada_review.id}/nominations",
                {"action": "approve", "request_id": requests[peer.id].id},
            ).status_code
            == 302
        )

    # Peer feedback: Cleo declines, Ben and Dev write; the manager adds Eva, who writes too.
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    cleo_client = clients[cleo.id]
    assert "Give feedback to Ada Ames" in cleo_client.get("/").get_data(as_text=True)
    declined = post(
        cleo_client,
        f"/requests/{requests[cleo.id].id}/decline",
        {"reason": "We have not worked together this half."},
    )
    assert declined.status_code == 302
    assert (
        post(
            em_client,
            f"/reviews/{ada_review.id}/nominations",
            {"action": "add", "email": eva.email},
        ).status_code
        == 302
    )
    db.session.expire_all()
    eva_request = db.session.scalar(select(PeerRequest).where(PeerRequest.reviewer_id == eva.id))
    assert eva_request.state == RequestState.APPROVED
    for peer, request_id in (
        (ben, requests[ben.id].id),
        (dev, requests[dev.id].id),
        (eva, eva_request.id),
    ):
        client = clients[peer.id]
        url = f"/requests/{request_id}"
        answer = post(
            client,
            url,
            {
                "version": _version(client, url),
                "action": "submit",
                "strengths": f"{peer.name} says: clear design docs.",
                "growth_areas": "Delegate more.",
                "suggestion": "Pair with a junior each sprint.",
                "rating_technical-fluency": "4",
            },
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:1500]
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Assessment)
            .where(Assessment.kind == PartKind.PEER, Assessment.state == PartState.SUBMITTED)
        )
        == 3
    )

    # Manager reviews: side by side with self and peers; skip level reads only.
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    page = em_client.get(f"/reviews/{ada_review.id}/manager").get_data(as_text=True)
    assert "from 3 ratings" in page  # technical fluency: three peer ratings
    for person in reports:
        url = f"/reviews/{reviews[person.id].id}/manager"
        answer = post(
            em_client,
            url,
            {
                **_ratings(4),
                "version": _version(em_client, url),
                "action": "submit",
                "overall": "4",
                "potential": "high",
                "readiness": "within_a_year",
                "summary": "A strong half.",
                "strengths": "Ownership.",
                "growth_areas": "Influence beyond the team.",
            },
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:1500]
    director_client = login_as_fresh(app, director)
    assert director_client.get(f"/reviews/{ada_review.id}").status_code == 200
    assert director_client.get(f"/reviews/{ada_review.id}/manager").status_code == 403
    skip_view = director_client.get(f"/reviews/{ada_review.id}").get_data(as_text=True)
    assert "Ben Bauer" in skip_view  # managers see names in this cycle

    advance(hr, cycle, CycleState.CALIBRATION)
    progress = hr_client.get(f"/cycles/{cycle.id}").get_data(as_text=True)
    assert "5 / 8" in progress  # self-reviews: the five reports of eight participants
    assert "3 / 3" in progress  # peer feedback submitted of approved requests
    # Before release the employee sees neither peer feedback nor the manager review.
    own = ada_client.get(f"/reviews/{ada_review.id}").get_data(as_text=True)
    assert "shared with you when the review is released" in own
    assert "A strong half." not in own


def login_as_fresh(app, person):
    from conftest import PASSWORD, csrf_token

    client = app.test_client()
    token = csrf_token(client)
    assert (
        client.post(
            "/auth/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    client.csrf = csrf_token(client, "/")
    return client


def _peer_feedback(manager, review, peers, texts):
    for peer, text in zip(peers, texts, strict=True):
        request = approved_peer(manager, review, peer)
        feedback = ops.peer_assessment(request)
        ops.save_part(
            peer,
            feedback,
            feedback.version,
            PartInput(
                ratings={"technical-fluency": 4},
                answers={
                    "strengths": text,
                    "growth_areas": "More tests.",
                    "suggestion": "Run a lunch-and-learn.",
                },
            ),
            submit=True,
        )
        db.session.commit()


@pytest.mark.parametrize("submitted", [2, 3])
def test_anonymity_threshold_and_no_author_in_the_html(app, team, login_as, submitted):
    hr, _director, em, reports = team
    subject, peers = reports[0], reports[1 : 1 + submitted]
    cycle = launched_cycle(hr, CycleState.PEER_FEEDBACK)
    review = review_of(cycle, subject)
    texts = [f"Distinct strength number {i}." for i in range(submitted)]
    with app.test_request_context():
        _peer_feedback(em, review, peers, texts)
    advance(hr, cycle, CycleState.RELEASED)
    html = login_as(subject).get(f"/reviews/{review.id}").get_data(as_text=True)
    if submitted < 3:
        assert "Too few peers responded" in html
        assert not any(text in html for text in texts)
    else:
        assert all(text in html for text in texts)
        for peer in peers:
            assert peer.name not in html
            assert peer.email not in html
            assert peer.name.split()[0] not in html
        # No time finer than the day, and no date tied to an entry.
        assert not re.search(r"\d{1,2}:\d{2}", html.split('id="peers"')[1].split("</section>")[0])
        assert "A peer" in html


def test_second_save_of_a_stale_draft_is_refused_with_the_current_content(app, team, login_as):
    hr, _director, _em, reports = team
    cycle = launched_cycle(hr)
    review = review_of(cycle, reports[0])
    url = f"/reviews/{review.id}/self"
    first, second = login_as_fresh(app, reports[0]), login_as_fresh(app, reports[0])
    loaded = _version(first, url)
    assert _version(second, url) == loaded
    saved = post(
        first,
        url,
        {"version": loaded, "action": "draft", "accomplishments": "Written in the first tab."},
    )
    assert saved.status_code == 302
    refused = post(
        second,
        url,
        {"version": loaded, "action": "draft", "accomplishments": "Written in the second tab."},
    )
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "saved elsewhere" in page
    assert "Written in the first tab." in page
    stored = part(review, PartKind.SELF)
    db.session.refresh(stored)
    assert stored.answers == {"accomplishments": "Written in the first tab."}
    assert stored.version == int(loaded) + 1


def test_concurrent_saves_from_two_threads_land_exactly_once(app, team):
    hr, _director, _em, reports = team
    cycle = launched_cycle(hr)
    review_id = review_of(cycle, reports[0]).id
    author_id = reports[0].id
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(text: str) -> None:
        with app.app_context(), app.test_request_context():
            start.wait(timeout=10)
            author = db.session.get(Person, author_id)
            stored = db.session.scalar(
                select(Assessment).where(
                    Assessment.review_id == review_id, Assessment.kind == PartKind.SELF
                )
            )
            try:
                ops.save_part(
                    author, stored, 1, PartInput(answers={"accomplishments": text}), submit=False
                )
                db.session.commit()
                outcomes.append("saved")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    db.session.commit()  # end this test's own transaction (on SQLite it holds the lock)
    threads = [threading.Thread(target=writer, args=(t,)) for t in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "saved"]
    stored = db.session.scalar(
        select(Assessment).where(
            Assessment.review_id == review_id, Assessment.kind == PartKind.SELF
        )
    )
    db.session.refresh(stored)
    assert stored.version == 2
    assert stored.answers["accomplishments"] in ("one", "two")


def _launch_statements(size: int) -> tuple[int, int]:
    build_synthetic_org(size)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    with current_app.test_request_context():
        cycle = ops.create_cycle(hr, cycle_fields())
        db.session.commit()
        with count_queries() as statements:
            ops.advance_cycle(hr, cycle, CycleState.SELF_REVIEW)
            db.session.commit()
    return len(statements), db.session.scalar(select(func.count()).select_from(Review))


@pytest.mark.parametrize("size", [60, 600])
def test_launch_does_a_constant_number_of_statements(app, size):
    statements, reviews = _launch_statements(size)
    assert reviews == size
    # The same small number at both sizes: set-based, not one insert per person (three
    # of them write the cycle's figures per group: reviews.cycles.figures; one reads the
    # review templates chosen for the cycle, to freeze them).
    assert statements <= 26, statements
    test_launch_does_a_constant_number_of_statements.counts[size] = statements
    if len(test_launch_does_a_constant_number_of_statements.counts) == 2:
        counts = test_launch_does_a_constant_number_of_statements.counts
        assert counts[60] == counts[600]


test_launch_does_a_constant_number_of_statements.counts = {}


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's planner statistics")
def test_launch_leaves_postgresql_statistics_of_the_new_cycle(app):
    """Right after launch the planner knows the cycle's size: without statistics it
    took 10,000 reviews for a few dozen rows and read them thousands of times over."""
    _statements, reviews = _launch_statements(60)
    assert reviews == 60
    estimate = db.session.execute(
        sql("EXPLAIN (FORMAT JSON) SELECT * FROM review WHERE cycle_id = :c"),
        {"c": db.session.scalar(select(Review.cycle_id))},
    ).scalar()
    assert estimate[0]["Plan"]["Plan Rows"] == 60


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's planner statistics")
def test_launch_samples_few_rows_for_its_own_analyze_only(app):
    """Launch's ANALYZE takes a small sample (the row counts are what the planner
    lacks); the rest of its transaction has the server's statistics target again."""
    build_synthetic_org(60)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    server_target = db.session.execute(sql("SHOW default_statistics_target")).scalar()
    with current_app.test_request_context():
        cycle = ops.create_cycle(hr, cycle_fields())
        db.session.commit()
        with count_queries() as statements:
            ops.advance_cycle(hr, cycle, CycleState.SELF_REVIEW)
        assert "SET LOCAL default_statistics_target = 10" in statements
        assert db.session.execute(sql("SHOW default_statistics_target")).scalar() == server_target
        db.session.commit()


def test_remind_is_idempotent_per_day(app, team, runner):
    hr, _director, _em, _reports = team
    launched_cycle(hr)
    due = (date.today() + timedelta(days=7)).isoformat()
    first = runner.invoke(args=["cycles", "remind", "--today", due])
    assert first.exit_code == 0, first.output
    assert "Queued 8 reminders" in first.output  # everyone's self-review is a draft
    again = runner.invoke(args=["cycles", "remind", "--today", due])
    assert "Queued 0 reminders" in again.output
    early = runner.invoke(args=["cycles", "remind", "--today", date.today().isoformat()])
    assert "Queued 0 reminders" in early.output  # due in 7 days: too early to remind
