"""Goals: set for a period, seeded from the growth plan, checked in on, commented, reminded."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from between_helpers import client_for
from conftest import count_queries, post
from cycle_helpers import launched_cycle, release_with_manager_ratings
from sqlalchemy import func, select

from reviews.audit.models import AuditEvent
from reviews.cycles.workflow import CycleState
from reviews.errors import Conflict
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.goals import operations as goals_ops
from reviews.goals.models import Goal, GoalCheckIn, GoalComment, GoalSource, GoalStatus
from reviews.growth.models import GrowthPlan
from reviews.links import Link
from reviews.notifications.models import Notification
from reviews.people.models import Role

TODAY = date.today()


@pytest.fixture
def line(make_person):
    director = make_person("Dana Director", role=Role.MANAGER, level_key="director-of-engineering")
    boss = make_person("Ben Boss", role=Role.MANAGER, manager=director)
    sam = make_person("Sam Subject", manager=boss)
    pia = make_person("Pia Peer", manager=boss)
    hr = make_person("Hal HR", role=Role.HR, level_key=None)
    return director, boss, sam, pia, hr


def goal_form(**overrides):
    data = {
        "title": "Lead the payments migration",
        "outcome": "All three payment services run on the new queue by the due date.",
        "competencies": ["technical-guidance"],
        "period_start": TODAY.isoformat(),
        "period_end": (TODAY + timedelta(days=180)).isoformat(),
        "due_date": (TODAY + timedelta(days=150)).isoformat(),
        "status": "not_started",
        "progress": "0",
        "checkin_every_days": "14",
    }
    data.update(overrides)
    return data


def make_goal(owner, app, **overrides):
    fields = {
        "title": "A goal",
        "outcome": "Something measurable",
        "period_start": TODAY - timedelta(days=30),
        "period_end": TODAY + timedelta(days=60),
        "due_date": TODAY + timedelta(days=60),
        "checkin_every_days": 14,
    }
    fields.update(overrides)
    with app.test_request_context():
        goal = goals_ops.create_goal(
            owner, owner, goals_ops.GoalFields(**fields), known_competencies=set()
        )
        db.session.commit()
    return goal


def test_a_person_sets_a_goal_checks_in_and_the_manager_comments(line, app):
    _director, boss, sam, pia, hr = line
    client = client_for(app, sam)
    response = post(client, "/goals/new", goal_form())
    assert response.status_code == 302
    goal = db.session.scalar(select(Goal))
    assert goal.owner_id == sam.id
    assert goal.source == GoalSource.OWN
    assert goal.competencies == ["technical-guidance"]

    response = post(
        client,
        f"/goals/{goal.id}/checkins",
        {"note": "Queue consumer is live for refunds.", "confidence": "4", "progress": "30"},
    )
    assert response.status_code == 302
    db.session.refresh(goal)
    assert goal.progress == 30
    assert goal.status == GoalStatus.ON_TRACK
    checkin = db.session.scalar(select(GoalCheckIn))

    boss_client = client_for(app, boss)
    page = boss_client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Queue consumer is live" in page
    assert "Save check-in" not in page
    response = post(
        boss_client,
        f"/goals/{goal.id}/comments",
        {"body": "Nice. Loop in the SRE team early.", "checkin_id": str(checkin.id)},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(GoalComment.checkin_id)) == checkin.id
    # The manager may not check in on someone else's goal, nor a peer see it.
    assert post(boss_client, f"/goals/{goal.id}/checkins", {"note": "x"}).status_code == 403
    assert client_for(app, pia).get(f"/goals/{goal.id}").status_code == 403
    assert client_for(app, hr).get(f"/people/{sam.id}/goals").status_code == 403
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Loop in the SRE team early" in page
    events = set(
        db.session.scalars(select(AuditEvent.event).where(AuditEvent.subject_id == sam.id))
    )
    assert {"goal.created", "goal.checked_in", "goal.commented"} <= events


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"title": ""}, "Name the goal"),
        ({"outcome": ""}, "how you will know"),
        ({"period_end": (TODAY - timedelta(days=1)).isoformat()}, "ends after it starts"),
        ({"due_date": (TODAY + timedelta(days=400)).isoformat()}, "within the period"),
        ({"progress": "101"}, "from 0 to 100"),
        ({"progress": "lots"}, "Enter a whole number from 0 to 100"),
        ({"checkin_every_days": "0"}, "from 1 to 365"),
        ({"status": "finished"}, "Choose one of"),
        ({"competencies": ["nope"]}, "Choose competencies from the framework"),
        ({"due_date": "31/02/2026"}, "Enter a date"),
    ],
)
def test_bad_goal_input_is_refused_and_writes_nothing(line, app, overrides, error):
    sam = line[2]
    response = post(client_for(app, sam), "/goals/new", goal_form(**overrides))
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Goal)) == 0


def test_only_self_or_direct_manager_sets_goals(line, app):
    director, boss, sam, pia, _hr = line
    assert post(client_for(app, pia), f"/goals/new?for={sam.id}", goal_form()).status_code == 403
    assert (
        post(client_for(app, director), f"/goals/new?for={sam.id}", goal_form()).status_code == 403
    )
    assert post(client_for(app, boss), f"/goals/new?for={sam.id}", goal_form()).status_code == 302
    assert db.session.scalar(select(Goal.owner_id)) == sam.id
    assert client_for(app, sam).get("/goals/new?for=999999").status_code == 404


def test_a_stale_edit_gets_409_with_the_saved_version(line, app):
    director, boss, sam, *_ = line
    goal = make_goal(sam, app)
    loaded = goal.version
    sam_client, boss_client = client_for(app, sam), client_for(app, boss)
    first = post(
        boss_client,
        f"/goals/{goal.id}/edit",
        goal_form(
            title="Boss's wording", version=str(loaded), period_start=goal.period_start.isoformat()
        ),
    )
    assert first.status_code == 302
    second = post(
        sam_client,
        f"/goals/{goal.id}/edit",
        goal_form(
            title="Sam's wording", version=str(loaded), period_start=goal.period_start.isoformat()
        ),
    )
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "changed elsewhere" in text
    assert "Boss&#39;s wording" in text
    db.session.expire_all()
    assert db.session.get(Goal, goal.id).title == "Boss's wording"
    # A skip-level manager reads but does not edit.
    assert post(client_for(app, director), f"/goals/{goal.id}/edit", goal_form()).status_code == 403


def test_checkin_reminders_are_queued_once_per_due_date(line, app, runner):
    sam = line[2]
    goal = make_goal(sam, app, checkin_every_days=7)
    done = make_goal(sam, app, title="Done one")
    done.status = GoalStatus.DONE
    db.session.commit()
    later = (TODAY + timedelta(days=8)).isoformat()
    result = runner.invoke(args=["goals", "remind", "--today", later])
    assert result.exit_code == 0, result.output
    assert "Queued 1 check-in reminder" in result.output
    again = runner.invoke(args=["goals", "remind", "--today", later])
    assert "Queued 0" in again.output
    next_day = runner.invoke(
        args=["goals", "remind", "--today", (TODAY + timedelta(days=9)).isoformat()]
    )
    assert "Queued 0" in next_day.output  # the same check-in is still the one due
    messages = list(
        db.session.scalars(select(Notification).where(Notification.recipient_id == sam.id))
    )
    assert len(messages) == 1
    assert messages[0].link == Link("goals.goal_page", goal.id)
    # After a check-in nothing is due until the next interval has passed.
    with app.test_request_context():
        goals_ops.check_in(sam, goal, note="Moved", confidence=3, progress=10)
        db.session.commit()
    assert "Queued 0" in runner.invoke(args=["goals", "remind", "--today", later]).output


def test_goals_are_seeded_from_the_growth_plan(line, app, make_person):
    _director, _boss, sam, _pia, hr = line
    keys = list(db.session.scalars(select(Competency.key)))
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    release_with_manager_ratings(hr, cycle, lambda review: (3, dict.fromkeys(keys, 2)))
    plan = db.session.scalar(
        select(GrowthPlan).join(GrowthPlan.review).where(GrowthPlan.review.has(subject_id=sam.id))
    )
    assert plan is not None
    assert plan.focus
    client = client_for(app, sam)
    page = client.get("/goals").get_data(as_text=True)
    assert "Suggested by the growth plan" in page
    focus_key = plan.focus[0]
    form = client.get(f"/goals/new?seed=focus:{focus_key}").get_data(as_text=True)
    assert "Proposed by the growth plan" in form
    name = db.session.scalar(select(Competency.name).where(Competency.key == focus_key))
    response = post(
        client,
        "/goals/new",
        goal_form(seed=f"focus:{focus_key}", title=f"Grow {name}", competencies=[focus_key]),
    )
    assert response.status_code == 302
    goal = db.session.scalar(select(Goal))
    assert goal.source == GoalSource.FOCUS
    assert goal.growth_plan_id == plan.id
    # A taken-up suggestion is no longer suggested, in another language either (its
    # title there is German, the goal's English).
    assert f"seed=focus:{focus_key}" not in client.get("/goals").get_data(as_text=True)
    sam.locale = "de"
    db.session.commit()
    assert f"seed=focus:{focus_key}" not in client.get("/goals").get_data(as_text=True)


@pytest.mark.parametrize("n", [2, 20])
def test_goal_pages_keep_a_bounded_query_count(line, app, n):
    _director, boss, sam, *_ = line
    goals = [make_goal(sam, app, title=f"Goal {i}") for i in range(n)]
    with app.test_request_context():
        for i in range(n):
            entry = goals_ops.check_in(
                sam, goals[0], note=f"Check-in {i}", confidence=3, progress=i
            )
            goals_ops.comment(boss, goals[0], body=f"Comment {i}", checkin=entry)
        db.session.commit()
    for viewer, url in (
        (sam, "/goals"),
        (boss, f"/people/{sam.id}/goals"),
        (boss, f"/goals/{goals[0].id}"),
    ):
        client = client_for(app, viewer)
        with count_queries() as statements:
            assert client.get(url).status_code == 200
        assert len(statements) <= 16, (url, statements)


def test_home_lists_due_checkins_and_pending_upward_feedback(line, app):
    _director, boss, sam, _pia, hr = line
    goal = make_goal(sam, app, title="Write the runbook", checkin_every_days=7)
    goal.created_at -= timedelta(days=10)  # set ten days ago: a check-in is due
    db.session.commit()
    cycle = launched_cycle(hr, upward_feedback=True)
    page = client_for(app, sam).get("/").get_data(as_text=True)
    assert "Check in on “Write the runbook”" in page
    assert f"/goals/{goal.id}" in page
    assert "Give Ben Boss upward feedback" in page
    assert f"/cycles/{cycle.id}/upward" in page
    post(client_for(app, sam), f"/cycles/{cycle.id}/upward", {"rating_people-management": "4"})
    with app.test_request_context():
        goals_ops.check_in(sam, goal, note="Drafted", confidence=4, progress=50)
        db.session.commit()
    page = client_for(app, sam).get("/").get_data(as_text=True)
    assert "Check in on" not in page
    assert "upward feedback" not in page.split("My tasks")[1].split("</section>")[0]
    boss_page = client_for(app, boss).get("/").get_data(as_text=True)
    assert f"/people/{sam.id}/goals" in boss_page
    assert f"/cycles/{cycle.id}/upward/{boss.id}" in boss_page


def test_concurrent_goal_edits_from_two_threads_land_exactly_once(line, app):
    import threading

    from reviews.people.models import Person

    _director, boss, sam, _pia, _hr = line
    goal = make_goal(sam, app)
    goal_id, version = goal.id, goal.version
    writers = {"owner": sam.id, "manager": boss.id}
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(who: str) -> None:
        with app.app_context(), app.test_request_context():
            start.wait(timeout=10)
            actor = db.session.get(Person, writers[who])
            stored = db.session.get(Goal, goal_id)
            fields = goals_ops.GoalFields(
                title=f"Worded by the {who}",
                outcome=stored.outcome,
                period_start=stored.period_start,
                period_end=stored.period_end,
                due_date=stored.due_date,
            )
            try:
                goals_ops.update_goal(actor, stored, version, fields, known_competencies=set())
                db.session.commit()
                outcomes.append("saved")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    db.session.commit()
    threads = [threading.Thread(target=writer, args=(w,)) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "saved"]
    db.session.expire_all()
    stored = db.session.get(Goal, goal_id)
    assert stored.version == version + 1
    assert stored.title in ("Worded by the owner", "Worded by the manager")


def test_bad_checkins_and_comments_are_refused_with_a_reason(line, app):
    _director, boss, sam, _pia, _hr = line
    goal = make_goal(sam, app)
    sam_client = client_for(app, sam)
    page = sam_client.get(f"/goals/{goal.id}").get_data(as_text=True)
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    for data, message in [
        ({"note": "", "confidence": "3", "progress": "10"}, "Write what moved"),
        ({"note": "x", "confidence": "9", "progress": "10"}, "Choose 1 to 5"),
        ({"note": "x", "confidence": "3", "progress": "250"}, "from 0 to 100"),
    ]:
        response = post(sam_client, f"/goals/{goal.id}/checkins", data)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    boss_client = client_for(app, boss)
    response = post(boss_client, f"/goals/{goal.id}/comments", {"body": "  "})
    assert response.status_code == 400
    assert "Write a comment" in response.get_data(as_text=True)
    other = make_goal(sam, app, title="Other")
    with app.test_request_context():
        entry = goals_ops.check_in(sam, other, note="n", confidence=3, progress=5)
        db.session.commit()
    response = post(
        boss_client, f"/goals/{goal.id}/comments", {"body": "Hi", "checkin_id": str(entry.id)}
    )
    assert response.status_code == 400
    assert "not part of this goal" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(GoalCheckIn)) == 1
    assert db.session.scalar(select(func.count()).select_from(GoalComment)) == 0
