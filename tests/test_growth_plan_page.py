"""The growth-plan page: proposed at release, edited by the manager, agreed by both."""

from __future__ import annotations

import re
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import PASSWORD, csrf_token, post
from cycle_helpers import advance, launched_cycle, part, review_of
from flask import current_app
from sqlalchemy import select

from reviews.calibration import operations as calibration_ops
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import PartKind
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Level, Opportunity
from reviews.growth.models import GrowthPlan, PlanMode
from reviews.people.models import Role

# Below the senior-engineer expectations (tf 4, cl 3, ei 3, st 2, cm 3, pm 2, tg 3, pi 3,
# pp 3, sc 2, cb 3): technical fluency by 2, coaching and communication by 1 each.
ADA_RATINGS = {
    "technical-fluency": 2,
    "communication-and-listening": 2,
    "emotional-intelligence": 3,
    "strategic-thinking": 2,
    "coaching-and-mentorship": 2,
    "people-management": 2,
    "technical-guidance": 3,
    "process-improvement": 3,
    "project-planning": 3,
    "stakeholder-communication": 3,
    "culture-building": 3,
}
ADA_FOCUS = ["technical-fluency", "coaching-and-mentorship", "communication-and-listening"]
# Everything at 3: only technical fluency falls short; padded with the most room to grow.
BEA_RATINGS = dict.fromkeys(ADA_RATINGS, 3)
BEA_FOCUS = ["technical-fluency", "coaching-and-mentorship"]

CONFLICT = "the plan changed since you opened it"


def _submit_manager_review(manager, review, overall: int, ratings: dict[str, int]) -> None:
    manager_part = part(review, PartKind.MANAGER)
    with current_app.test_request_context():
        cycle_ops.save_part(
            manager,
            manager_part,
            manager_part.version,
            PartInput(
                ratings=ratings,
                overall=overall,
                potential="medium",
                readiness="not_yet",
                answers={"summary": "Solid half.", "strengths": "Care.", "growth_areas": "Depth."},
            ),
            submit=True,
        )
        db.session.commit()


@pytest.fixture
def org(app, make_person):
    """HR, a director, a manager with two engineers, and someone outside the team.

    The manager's reviews are submitted and finalised; the cycle is not released yet.
    """
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    director = make_person("Dora Director", role=Role.MANAGER, level_key="director-of-engineering")
    manager = make_person(
        "Milo Manager", role=Role.MANAGER, manager=director, level_key="engineering-manager"
    )
    ada = make_person("Ada Lovel", manager=manager, level_key="engineer")
    bea = make_person("Bea Peer", manager=manager, level_key="engineer")
    olga = make_person("Olga Other", manager=director, level_key="engineer")
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    _submit_manager_review(manager, review_of(cycle, ada), 2, ADA_RATINGS)
    _submit_manager_review(manager, review_of(cycle, bea), 3, BEA_RATINGS)
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        assert calibration_ops.finalise_uncalibrated(hr, cycle) == 2
        db.session.commit()
    clients: dict[int, Any] = {}

    def as_(person):
        """A signed-in client of its own per person."""
        if person.id not in clients:
            client = current_app.test_client()
            response = client.post(
                "/auth/login",
                data={
                    "email": person.email,
                    "password": PASSWORD,
                    "csrf_token": csrf_token(client),
                },
            )
            assert response.status_code == 302
            client.csrf = csrf_token(client, "/")
            clients[person.id] = client
        return clients[person.id]

    return SimpleNamespace(
        hr=hr,
        director=director,
        manager=manager,
        ada=ada,
        bea=bea,
        olga=olga,
        cycle=cycle,
        as_=as_,
        ada_review=review_of(cycle, ada).id,
        bea_review=review_of(cycle, bea).id,
    )


@pytest.fixture
def released(org):
    advance(org.hr, org.cycle, CycleState.RELEASED)
    org.ada_plan = _plan_id(org.ada_review)
    org.bea_plan = _plan_id(org.bea_review)
    org.url = f"/reviews/{org.ada_review}/plan"
    return org


def _plan_id(review_id: int) -> int:
    plan = db.session.scalar(select(GrowthPlan).where(GrowthPlan.review_id == review_id))
    assert plan is not None, review_id
    return plan.id


def _plan(plan_id: int) -> GrowthPlan:
    db.session.expire_all()
    return db.session.get(GrowthPlan, plan_id)


def _state(plan_id: int) -> tuple:
    """Everything an edit could change, to prove that a refused one changed nothing."""
    plan = _plan(plan_id)
    return (
        plan.version,
        plan.notes,
        plan.employee_comment,
        plan.manager_agreed_at,
        plan.employee_agreed_at,
        [
            (
                i.id,
                i.position,
                i.opportunity_key,
                i.title,
                i.description,
                list(i.competencies),
                i.start_date,
                i.end_date,
                list(i.checkins),
                i.notes,
            )
            for i in plan.items
        ],
    )


def _items(plan_id: int) -> list:
    return list(_plan(plan_id).items)


def _version(plan_id: int) -> str:
    return str(_plan(plan_id).version)


def _text(response) -> str:
    return response.get_data(as_text=True)


# Before and at release -------------------------------------------------------------


def test_before_release_there_is_no_plan_to_see(org):
    url = f"/reviews/{org.ada_review}/plan"
    for person in (org.ada, org.manager, org.director, org.hr):
        client = org.as_(person)
        assert client.get(url).status_code == 404, person.name
        assert client.get(url + ".pdf").status_code == 404, person.name
        assert post(client, url, {"action": "agree", "version": "1"}).status_code == 404
    # Those with no relation to the review are refused before anything else.
    for person in (org.bea, org.olga):
        assert org.as_(person).get(url).status_code == 403, person.name
    assert db.session.scalar(select(GrowthPlan)) is None


def test_release_proposes_a_plan_for_each_reviewed_report(released):
    for plan_id, focus in ((released.ada_plan, ADA_FOCUS), (released.bea_plan, BEA_FOCUS)):
        plan = _plan(plan_id)
        assert plan.mode == PlanMode.GROW
        assert plan.target_level_key == "senior-engineer"
        assert plan.focus == focus
        assert plan.version == 1
        assert plan.manager_agreed_at is None
        assert plan.employee_agreed_at is None
        items = list(plan.items)
        assert 2 <= len(items) <= 2 * len(focus)
        assert [i.position for i in items] == list(range(len(items)))
        keys = [i.opportunity_key for i in items]
        assert len(set(keys)) == len(keys)
        for n, item in enumerate(items):
            assert set(item.competencies) & set(focus), item.title
            assert item.start_date == items[0].start_date + timedelta(weeks=2 * n)
            assert item.end_date > item.start_date
            assert item.checkins[-1] == item.end_date.isoformat()
    # Only reviews with a final rating get a plan (not the manager's, the director's...).
    assert len(db.session.scalars(select(GrowthPlan)).all()) == 2


def test_the_subject_sees_the_plan_and_others_do_not(released):
    page = released.as_(released.ada).get(released.url)
    assert page.status_code == 200
    html = _text(page)
    assert "Gap table" in html
    assert "<svg" in html
    for name in ("Technical Fluency", "Coaching and Mentorship", "Communication and Listening"):
        assert name in html
    for item in _items(released.ada_plan):
        assert item.title in html
    assert 'name="comment"' in html
    assert 'value="agree"' in html
    assert 'value="add"' not in html  # no editing forms for the subject
    assert 'value="remove"' not in html
    manager_page = _text(released.as_(released.manager).get(released.url))
    assert 'value="add"' in manager_page
    assert 'value="remove"' in manager_page
    assert 'name="comment"' not in manager_page
    for reader in (released.director, released.hr):
        page = released.as_(reader).get(released.url)
        assert page.status_code == 200, reader.name
        assert 'value="add"' not in _text(page)
        assert 'value="agree"' not in _text(page)
    for outsider in (released.bea, released.olga):
        client = released.as_(outsider)
        assert client.get(released.url).status_code == 403, outsider.name
        assert client.get(released.url + ".pdf").status_code == 403, outsider.name
    # Bea sees her own plan.
    assert released.as_(released.bea).get(f"/reviews/{released.bea_review}/plan").status_code == 200
    assert released.as_(released.ada).get("/reviews/999999/plan").status_code == 404


# The manager edits -------------------------------------------------------------------


def test_the_manager_edits_the_plan(released):
    client = released.as_(released.manager)
    url, plan_id = released.url, released.ada_plan
    before = _items(plan_id)
    in_plan = {i.opportunity_key for i in before}
    extra = db.session.scalar(
        select(Opportunity)
        .join(Opportunity.levels)
        .where(
            Opportunity.active.is_(True),
            Opportunity.key.not_in(in_plan),
            Level.key.in_(["engineer", "senior-engineer"]),  # Ada's level and target
        )
        .order_by(Opportunity.key)
    )
    extra_key, extra_title = extra.key, extra.title
    extra_competencies = sorted(c.key for c in extra.competencies)
    version = _plan(plan_id).version

    # A catalogue item, by key: the catalogue's title and description, whatever is posted.
    added = post(
        client,
        url,
        {
            "action": "add",
            "version": str(version),
            "opportunity": extra_key,
            "title": "ignored",
            "start": "2026-09-07",
            "weeks": "8",
        },
    )
    assert added.status_code == 302
    assert added.headers["Location"].endswith(url)
    items = _items(plan_id)
    assert len(items) == len(before) + 1
    last = items[-1]
    assert (last.opportunity_key, last.title, last.position) == (
        extra_key,
        extra_title,
        len(before),
    )
    assert sorted(last.competencies) == extra_competencies
    assert (last.start_date, last.end_date) == (date(2026, 9, 7), date(2026, 11, 2))
    assert last.checkins == ["2026-10-05", "2026-11-02"]
    assert _plan(plan_id).version == version + 1

    # A free-text item.
    added = post(
        client,
        url,
        {
            "action": "add",
            "version": _version(plan_id),
            "opportunity": "",
            "title": "  Pair with the platform team  ",
            "description": "Two afternoons a week.",
            "start": "2026-10-01",
            "weeks": "3",
        },
    )
    assert added.status_code == 302
    free = _items(plan_id)[-1]
    assert free.opportunity_key is None
    assert (free.title, free.description) == (
        "Pair with the platform team",
        "Two afternoons a week.",
    )
    assert list(free.competencies) == []
    assert (free.start_date, free.end_date) == (date(2026, 10, 1), date(2026, 10, 22))
    assert free.checkins == ["2026-10-22"]
    assert _plan(plan_id).version == version + 2
    page = _text(client.get(url))
    assert "Pair with the platform team" in page
    assert "The plan is saved." in page

    # Remove the second item: the rest close ranks.
    ids = [i.id for i in _items(plan_id)]
    gone = ids[1]
    removed = post(
        client, url, {"action": "remove", "version": _version(plan_id), "item_id": str(gone)}
    )
    assert removed.status_code == 302
    remaining = _items(plan_id)
    assert [i.id for i in remaining] == [i for i in ids if i != gone]
    assert [i.position for i in remaining] == list(range(len(remaining)))

    # Move the last item up, then down again.
    ids = [i.id for i in remaining]
    moved = post(client, url, {"action": "up", "version": _version(plan_id), "item_id": ids[-1]})
    assert moved.status_code == 302
    assert [i.id for i in _items(plan_id)] == [*ids[:-2], ids[-1], ids[-2]]
    moved = post(client, url, {"action": "down", "version": _version(plan_id), "item_id": ids[-1]})
    assert moved.status_code == 302
    assert [i.id for i in _items(plan_id)] == ids
    assert [i.position for i in _items(plan_id)] == list(range(len(ids)))

    # New dates and notes for the first item: the check-ins follow.
    first = ids[0]
    updated = post(
        client,
        url,
        {
            "action": "update",
            "version": _version(plan_id),
            "item_id": str(first),
            "start": "2026-05-04",
            "end": "2026-07-27",
            "notes": "Start after the launch.",
        },
    )
    assert updated.status_code == 302
    item = _items(plan_id)[0]
    assert (item.start_date, item.end_date) == (date(2026, 5, 4), date(2026, 7, 27))
    assert item.checkins == ["2026-06-01", "2026-06-29", "2026-07-27"]
    assert item.notes == "Start after the launch."

    # The plan's notes.
    noted = post(
        client, url, {"action": "notes", "version": _version(plan_id), "notes": "Review in June."}
    )
    assert noted.status_code == 302
    assert _plan(plan_id).notes == "Review in June."
    page = _text(client.get(url))
    assert "Review in June." in page
    assert "Start after the launch." in page
    assert _plan(plan_id).version == version + 7  # one version per saved edit


def test_the_manager_page_offers_every_edit(released):
    """Each action the view accepts from the manager has its form on the page."""
    html = _text(released.as_(released.manager).get(released.url))
    for action in ("add", "remove", "up", "down", "update", "agree", "notes"):
        assert f'name="action" value="{action}"' in html, action


def test_durations_of_one_and_fifty_two_weeks_are_accepted(released):
    client = released.as_(released.manager)
    url, plan_id = released.url, released.ada_plan
    for weeks, end in (("1", date(2026, 9, 14)), ("52", date(2027, 9, 6))):
        data = {"action": "add", "title": f"{weeks} weeks", "start": "2026-09-07", "weeks": weeks}
        assert post(client, url, {**data, "version": _version(plan_id)}).status_code == 302
        item = _items(plan_id)[-1]
        assert (item.title, item.end_date) == (f"{weeks} weeks", end)
    # A blank start means today, as the form proposes.
    data = {"action": "add", "title": "Now", "start": "", "weeks": "2"}
    assert post(client, url, {**data, "version": _version(plan_id)}).status_code == 302
    assert _items(plan_id)[-1].start_date == date.today()


def test_a_malformed_start_date_is_refused_not_replaced(released):
    # The update action refuses a date it cannot read; adding must not quietly use today.
    client = released.as_(released.manager)
    url, plan_id = released.url, released.ada_plan
    before = _state(plan_id)
    for start in ("2026-02-30", "next monday", "07/09/2026"):
        data = {"action": "add", "title": "Dated", "start": start, "weeks": "4"}
        response = post(client, url, {**data, "version": str(before[0])})
        assert response.status_code == 400, start
        assert _state(plan_id) == before, start


def test_refused_edits_change_nothing(released):
    client = released.as_(released.manager)
    url, plan_id = released.url, released.ada_plan
    items = _items(plan_id)
    first, in_plan = items[0].id, items[0].opportunity_key
    other_plans_item = _items(released.bea_plan)[0].id
    retired = db.session.scalar(
        select(Opportunity)
        .where(Opportunity.key.not_in([i.opportunity_key for i in items]))
        .order_by(Opportunity.key)
    )
    retired.active = False
    retired_key = retired.key
    db.session.commit()
    add = {"action": "add", "start": "2026-09-07", "weeks": "6", "opportunity": ""}
    update = {"action": "update", "item_id": str(first), "notes": ""}
    refusals = [
        ({**add, "opportunity": in_plan}, "This opportunity is already in the plan."),
        (
            {**add, "opportunity": "no-such-opportunity"},
            "Choose an opportunity from the catalogue for this level.",
        ),
        (
            {**add, "opportunity": retired_key},
            "Choose an opportunity from the catalogue for this level.",
        ),
        ({**add, "title": "Zero weeks", "weeks": "0"}, "Choose a duration from 1 to 52 weeks."),
        ({**add, "title": "Sixty weeks", "weeks": "60"}, "Choose a duration from 1 to 52 weeks."),
        ({**add, "title": "Odd weeks", "weeks": "six"}, "Choose a duration from 1 to 52 weeks."),
        ({**add, "opportunity": in_plan, "weeks": "0"}, "Choose a duration from 1 to 52 weeks."),
        ({**add, "title": ""}, "Title is needed."),
        ({**add, "title": "   "}, "Title is needed."),
        ({**add, "title": "x" * 201}, "200 characters or fewer"),
        ({**add, "title": "Long", "description": "x" * 2001}, "2000 characters or fewer"),
        (
            {**update, "start": "2026-06-01", "end": "2026-05-31"},
            "The end date cannot be before the start date.",
        ),
        ({**update, "start": "2026-06-01", "end": "2027-06-03"}, "Keep an item within a year."),
        ({**update, "start": "2026-06-01", "end": "soon"}, "Enter a date as YYYY-MM-DD."),
        ({**update, "start": "", "end": "2026-06-30"}, "Enter the start date."),
        (
            {**update, "start": "2026-06-01", "end": "2026-06-30", "notes": "x" * 2001},
            "2000 characters or fewer",
        ),
        ({"action": "up", "item_id": str(first)}, "That item cannot move further."),
        ({"action": "down", "item_id": str(items[-1].id)}, "That item cannot move further."),
        ({"action": "remove", "item_id": str(other_plans_item)}, "That item is not in this plan."),
        ({"action": "remove", "item_id": "abc"}, "That item is not in this plan."),
        (
            {
                **update,
                "item_id": str(other_plans_item),
                "start": "2026-06-01",
                "end": "2026-06-30",
            },
            "That item is not in this plan.",
        ),
        ({"action": "notes", "notes": "x" * 4001}, "4000 characters or fewer"),
    ]
    before, other_before = _state(plan_id), _state(released.bea_plan)
    for data, message in refusals:
        response = post(client, url, {**data, "version": str(before[0])})
        assert response.status_code == 400, (data, response.status_code)
        assert message in _text(response), data
        assert _state(plan_id) == before, data
    assert _state(released.bea_plan) == other_before


def test_a_stale_version_is_refused_with_the_current_plan(released):
    client = released.as_(released.manager)
    url, plan_id = released.url, released.ada_plan
    opened = _version(plan_id)
    saved = post(
        client,
        url,
        {"action": "add", "version": opened, "title": "Write the runbook", "weeks": "2"},
    )
    assert saved.status_code == 302
    current = _state(plan_id)
    first = str(current[-1][0][0])
    stale = [
        {"action": "add", "title": "Another", "weeks": "2"},
        {"action": "remove", "item_id": first},
        {"action": "down", "item_id": first},
        {"action": "update", "item_id": first, "start": "2026-06-01", "end": "2026-06-30"},
        {"action": "notes", "notes": "Overwrites?"},
    ]
    for data in stale:
        for version in (opened, "", "abc", "99"):
            response = post(client, url, {**data, "version": version})
            assert response.status_code == 409, (data, version)
            html = _text(response)
            assert CONFLICT in html
            assert "Write the runbook" in html  # the current plan is what is shown
            assert f'name="version" value="{current[0]}"' in html
            assert _state(plan_id) == current, (data, version)
    # What was typed stays in the form it was typed in (issue 20), beside the current plan.
    kept = _text(post(client, url, {**stale[0], "version": opened}))
    assert 'id="title" name="title" maxlength="200" value="Another"' in kept
    kept = _text(post(client, url, {**stale[3], "version": opened}))
    assert f'id="start-{first}" name="start" value="2026-06-01"' in kept
    assert "<details open><summary>Edit dates and notes" in kept
    kept = _text(post(client, url, {**stale[4], "version": opened}))
    assert ">Overwrites?</textarea>" in kept
    employee = released.as_(released.ada)
    for data in ({"action": "comment", "comment": "Hi"}, {"action": "agree"}):
        response = post(employee, url, {**data, "version": opened})
        assert response.status_code == 409
        assert CONFLICT in _text(response)
    assert ">Hi</textarea>" in _text(
        post(employee, url, {"action": "comment", "comment": "Hi", "version": opened})
    )
    assert _state(plan_id) == current


# The employee and agreement ----------------------------------------------------------


def test_the_employee_cannot_edit_but_can_comment_and_agree(released):
    client = released.as_(released.ada)
    url, plan_id = released.url, released.ada_plan
    before = _state(plan_id)
    version, first = str(before[0]), str(before[-1][0][0])
    edits = [
        {"action": "add", "title": "Promote me", "weeks": "4"},
        {"action": "remove", "item_id": first},
        {"action": "up", "item_id": str(before[-1][1][0])},
        {"action": "down", "item_id": first},
        {"action": "update", "item_id": first, "start": "2026-06-01", "end": "2026-06-30"},
        {"action": "notes", "notes": "Mine now."},
    ]
    for data in edits:
        assert post(client, url, {**data, "version": version}).status_code == 403, data
        assert _state(plan_id) == before, data
    commented = post(
        client, url, {"action": "comment", "version": version, "comment": "Happy with this."}
    )
    assert commented.status_code == 302
    plan = _plan(plan_id)
    assert plan.employee_comment == "Happy with this."
    assert [i.id for i in plan.items] == [row[0] for row in before[-1]]
    agreed = post(client, url, {"action": "agree", "version": _version(plan_id)})
    assert agreed.status_code == 302
    plan = _plan(plan_id)
    assert plan.employee_agreed_at is not None
    assert plan.manager_agreed_at is None
    assert not plan.agreed
    manager_page = _text(released.as_(released.manager).get(url))
    assert "Happy with this." in manager_page
    assert "Not agreed yet" in manager_page


def test_a_long_comment_is_refused(released):
    client = released.as_(released.ada)
    url, plan_id = released.url, released.ada_plan
    before = _state(plan_id)
    refused = post(
        client, url, {"action": "comment", "version": str(before[0]), "comment": "x" * 4001}
    )
    assert refused.status_code == 400
    assert "4000 characters or fewer" in _text(refused)
    assert _state(plan_id) == before
    kept = post(
        client, url, {"action": "comment", "version": str(before[0]), "comment": "y" * 4000}
    )
    assert kept.status_code == 302
    assert _plan(plan_id).employee_comment == "y" * 4000


def test_both_agree_and_a_manager_edit_asks_again(released):
    url, plan_id = released.url, released.ada_plan
    employee, manager = released.as_(released.ada), released.as_(released.manager)
    assert post(employee, url, {"action": "agree", "version": _version(plan_id)}).status_code == 302
    assert post(manager, url, {"action": "agree", "version": _version(plan_id)}).status_code == 302
    plan = _plan(plan_id)
    assert plan.manager_agreed_at is not None
    assert plan.employee_agreed_at is not None
    assert plan.agreed
    for client in (employee, manager):
        html = _text(client.get(url))
        assert "Agreed by both" in html
        assert "not yet" not in html.split('id="agree-h"')[1]
        assert 'value="agree"' not in html  # nothing left to agree to
    # A comment does not undo the agreement...
    assert (
        post(
            employee, url, {"action": "comment", "version": _version(plan_id), "comment": "Thanks"}
        ).status_code
        == 302
    )
    assert _plan(plan_id).agreed
    # ...a manager's edit does: both agree again.
    first = _items(plan_id)[0].id
    edited = post(
        manager,
        url,
        {
            "action": "update",
            "version": _version(plan_id),
            "item_id": str(first),
            "start": "2026-06-01",
            "end": "2026-06-29",
            "notes": "",
        },
    )
    assert edited.status_code == 302
    plan = _plan(plan_id)
    assert plan.manager_agreed_at is None
    assert plan.employee_agreed_at is None
    html = _text(employee.get(url))
    assert "Not agreed yet" in html
    assert 'value="agree"' in html


@pytest.mark.parametrize(
    "edit",
    [
        {"action": "add", "title": "One more", "weeks": "2"},
        {"action": "remove"},
        {"action": "down"},
        {"action": "notes", "notes": "Changed."},
    ],
)
def test_every_manager_edit_clears_the_agreement(released, edit):
    url, plan_id = released.url, released.ada_plan
    employee, manager = released.as_(released.ada), released.as_(released.manager)
    post(employee, url, {"action": "agree", "version": _version(plan_id)})
    post(manager, url, {"action": "agree", "version": _version(plan_id)})
    assert _plan(plan_id).agreed
    data = {**edit, "item_id": str(_items(plan_id)[0].id), "version": _version(plan_id)}
    assert post(manager, url, data).status_code == 302
    plan = _plan(plan_id)
    assert (plan.manager_agreed_at, plan.employee_agreed_at) == (None, None)


def test_the_skip_level_manager_reads_but_neither_edits_nor_agrees(released):
    url, plan_id = released.url, released.ada_plan
    # The employee has agreed; a skip-level agreement must not complete the plan.
    post(released.as_(released.ada), url, {"action": "agree", "version": _version(plan_id)})
    before = _state(plan_id)
    version, first = str(before[0]), str(before[-1][0][0])
    for reader in (released.director, released.hr):
        client = released.as_(reader)
        assert client.get(url).status_code == 200
        for data in (
            {"action": "add", "title": "From above", "weeks": "4"},
            {"action": "remove", "item_id": first},
            {"action": "down", "item_id": first},
            {"action": "update", "item_id": first, "start": "2026-06-01", "end": "2026-06-30"},
            {"action": "notes", "notes": "Skip."},
            {"action": "agree"},
            {"action": "comment", "comment": "Skip."},
        ):
            response = post(client, url, {**data, "version": version})
            assert response.status_code == 403, (reader.name, data)
            assert _state(plan_id) == before, (reader.name, data)
    plan = _plan(plan_id)
    assert plan.manager_agreed_at is None
    assert not plan.agreed


def test_outsiders_cannot_post(released):
    url, plan_id = released.url, released.ada_plan
    before = _state(plan_id)
    for outsider in (released.bea, released.olga):
        client = released.as_(outsider)
        for data in ({"action": "agree"}, {"action": "comment", "comment": "Hi"}):
            response = post(client, url, {**data, "version": str(before[0])})
            assert response.status_code == 403
    assert _state(plan_id) == before


def test_an_unknown_action_is_a_bad_request(released):
    url, plan_id = released.url, released.ada_plan
    before = _state(plan_id)
    for person in (released.manager, released.ada):
        client = released.as_(person)
        for action in ("delete", "", "ADD", "agree "):
            response = post(client, url, {"action": action, "version": str(before[0])})
            assert response.status_code == 400, (person.name, action)
        response = post(client, url, {"version": str(before[0])})
        assert response.status_code == 400
    assert _state(plan_id) == before


# The PDF -------------------------------------------------------------------------------


def test_the_pdf_for_the_subject_and_the_manager_only(released):
    pdf_url = released.url + ".pdf"
    for person in (released.ada, released.manager):
        response = released.as_(person).get(pdf_url)
        assert response.status_code == 200, person.name
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        disposition = response.headers["Content-Disposition"]
        cycle = "-".join(released.cycle.name.lower().split())  # "2026 H1" -> "2026-h1"
        name = f"ada-lovel-{cycle}-growth-plan.pdf"
        assert f'inline; filename="{name}"' in disposition
    assert released.as_(released.bea).get(pdf_url).status_code == 403
    assert f'href="/reviews/{released.ada_review}/plan.pdf"' in _text(
        released.as_(released.ada).get(released.url)
    )


# The top of the ladder ------------------------------------------------------------------


def test_people_at_the_top_of_the_ladder_get_a_broadening_plan(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    chief = make_person("Cyd Chief", role=Role.MANAGER, level_key=None)
    dora = make_person("Dora Top", manager=chief, level_key="director-of-engineering")
    dan = make_person("Dan Five", manager=chief, level_key="director-of-engineering")
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    # Every director expectation met; technical fluency (expected 4) has room to grow.
    top = {**dict.fromkeys(BEA_RATINGS, 5), "technical-fluency": 4}
    _submit_manager_review(chief, review_of(cycle, dora), 4, top)
    _submit_manager_review(chief, review_of(cycle, dan), 5, dict.fromkeys(BEA_RATINGS, 5))
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        calibration_ops.finalise_uncalibrated(hr, cycle)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    dora_plan = _plan(_plan_id(review_of(cycle, dora).id))
    dan_plan = _plan(_plan_id(review_of(cycle, dan).id))
    for plan in (dora_plan, dan_plan):
        assert plan.mode == PlanMode.BROADEN
        assert plan.target_level_key == "director-of-engineering"
        assert "top of the ladder" in plan.notes
    assert dora_plan.focus == ["technical-fluency"]
    assert dan_plan.focus == []
    assert list(dan_plan.items) == []
    client = current_app.test_client()
    client.post(
        "/auth/login",
        data={"email": dan.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    url = f"/reviews/{review_of(cycle, dan).id}/plan"
    page = client.get(url)
    assert page.status_code == 200
    assert "top of the ladder" in _text(page)
    pdf = client.get(url + ".pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"


def test_the_catalogue_offers_only_what_suits_the_persons_level(released):
    """Ada is an engineer aiming at senior engineer: neither her plan nor the manager's
    catalogue holds an opportunity meant only for other levels (a director's stretch)."""
    wanted = {"engineer", "senior-engineer"}
    suits = {
        o.key: o.title
        for o in db.session.scalars(select(Opportunity).where(Opportunity.active.is_(True)))
        if wanted & {lv.key for lv in o.levels}
    }
    elsewhere = db.session.scalar(
        select(Opportunity)
        .join(Opportunity.levels)
        .where(Level.key == "director-of-engineering", Opportunity.key.not_in(list(suits)))
    )
    assert elsewhere is not None
    assert {i.opportunity_key for i in _items(released.ada_plan)} <= set(suits)
    client = released.as_(released.manager)
    page = client.get(released.url).get_data(as_text=True)
    offered = re.findall(r'<option value="([a-z0-9-]+)"\s*>', page.split('id="opportunity"')[1])
    assert set(offered) == set(suits)
    assert elsewhere.title not in page
    version = _plan(released.ada_plan).version
    refused = post(
        client,
        released.url,
        {
            "action": "add",
            "version": str(version),
            "opportunity": elsewhere.key,
            "start": "2026-09-07",
            "weeks": "6",
        },
    )
    assert refused.status_code == 400
    assert "Choose an opportunity from the catalogue for this level." in refused.get_data(
        as_text=True
    )
    assert _plan(released.ada_plan).version == version
