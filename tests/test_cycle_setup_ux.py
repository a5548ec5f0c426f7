"""HR setting up and ending a cycle (issue 20): a warning before launching over people
already in a running cycle, starting from an earlier cycle's settings, departments as
checkboxes, and a close that says how many reviews are unacknowledged."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from cycle_helpers import launched_cycle, release_with_manager_ratings, review_of
from flask import current_app
from sqlalchemy import select
from test_cycle_flow import login_as_fresh

from reviews.calibration import operations as calibration_ops
from reviews.cycles import operations as ops
from reviews.cycles.models import Cycle, ParticipantMode
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Department, Role


def page_text(response) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


@pytest.fixture
def org(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Milo Manager", role=Role.MANAGER, level_key="engineering-manager")
    platform, data = Department(name="Platform"), Department(name="Data")
    db.session.add_all([platform, data])
    ada = make_person("Ada Lovel", manager=boss)
    bea = make_person("Bea Brook", manager=boss)
    ada.department, bea.department, boss.department = platform, data, platform
    db.session.commit()
    return {
        "app": app,
        "hr": hr,
        "boss": boss,
        "ada": ada,
        "bea": bea,
        "platform": platform,
        "data": data,
    }


def _draft(hr, name: str, **overrides) -> Cycle:
    with current_app.test_request_context():
        cycle = ops.create_cycle(hr, ops.CycleFields.for_everyone(name, date.today(), **overrides))
        db.session.commit()
    return cycle


def test_launching_over_people_in_a_running_cycle_is_warned_about(org):
    running = launched_cycle(org["hr"], name="2026 H1 review")
    overlapping = _draft(org["hr"], "Extra review")
    separate = _draft(
        org["hr"],
        "Data review",
        participant_mode=ParticipantMode.DEPARTMENTS,
        department_ids=[org["data"].id],
    )
    client = login_as_fresh(org["app"], org["hr"])
    page = client.get(f"/cycles/{overlapping.id}").get_data(as_text=True)
    text = page_text(client.get(f"/cycles/{overlapping.id}"))
    # Everyone active (HR, Milo, Ada, Bea) is in the running cycle already.
    assert "Some participants are already in a running cycle: 4 in “2026 H1 review”." in text
    assert (
        'data-confirm="Launch “Extra review”? 4 of its participants are already in a running cycle'
        in html.unescape(page)
    )
    # The Data department's draft overlaps too (Bea); once the running one closes, nothing.
    assert "1 in “2026 H1 review”" in page_text(client.get(f"/cycles/{separate.id}"))
    running.state = CycleState.CLOSED  # as if it had run its course
    db.session.commit()
    assert "already in a running cycle" not in page_text(client.get(f"/cycles/{overlapping.id}"))


def test_closing_says_how_many_reviews_are_unacknowledged(org):
    cycle = launched_cycle(org["hr"], CycleState.MANAGER_REVIEW, peer_min=1)
    release_with_manager_ratings(org["hr"], cycle, lambda review: (3, {}))
    with current_app.test_request_context():
        calibration_ops.acknowledge(org["ada"], review_of(cycle, org["ada"]), "")
        db.session.commit()
    client = login_as_fresh(org["app"], org["hr"])
    response = client.get(f"/cycles/{cycle.id}")
    text = page_text(response)
    waiting = re.search(r"(\d+) of (\d+) reviews are not acknowledged yet\.", text)
    assert waiting is not None, text
    assert int(waiting.group(2)) - int(waiting.group(1)) == 1  # Ada acknowledged
    assert (
        f"Close “{cycle.name}”? {waiting.group(1)} of {waiting.group(2)} reviews are not "
        "acknowledged yet" in html.unescape(response.get_data(as_text=True))
    )


def test_a_new_cycle_starts_from_an_earlier_cycles_settings(org):
    earlier = launched_cycle(
        org["hr"],
        name="2026 H1 review",
        peer_min=2,
        peer_max=4,
        anonymity_threshold=4,
        participant_mode=ParticipantMode.DEPARTMENTS,
        department_ids=[org["platform"].id, org["data"].id],
        guidance=[10, 20, 40, 20, 10],
        guidance_tolerance=8,
    )
    client = login_as_fresh(org["app"], org["hr"])
    blank = client.get("/cycles/new").get_data(as_text=True)
    assert f'<option value="{earlier.id}"' in blank  # offered to start from
    page = client.get(f"/cycles/new?from={earlier.id}").get_data(as_text=True)
    shift = (earlier.period_end - earlier.period_start).days + 1
    assert f"moved on by {shift} days" in page
    name_field = re.search(r'<input[^>]*id="name"[^>]*>', page).group(0)
    assert 'value="' not in name_field or 'value=""' in name_field  # the new cycle is named anew
    for name, value in (
        ("peer_min", "2"),
        ("peer_max", "4"),
        ("anonymity_threshold", "4"),
        ("guidance", "10/20/40/20/10"),
        ("guidance_tolerance", "8"),
    ):
        assert re.search(rf'id="{name}"[^>]*value="{re.escape(value)}"', page), name
    start = earlier.period_start + timedelta(days=shift)
    assert re.search(rf'id="period_start"[^>]*value="{start.isoformat()}"', page)
    due = earlier.self_review_due + timedelta(days=shift)
    assert re.search(rf'id="self_review_due"[^>]*value="{due.isoformat()}"', page)
    boxes = re.findall(r'<input[^>]*name="department_ids"[^>]*>', page)
    checked = {re.search(r'value="(\d+)"', b).group(1) for b in boxes if "checked" in b}
    assert checked == {str(org["platform"].id), str(org["data"].id)}
    assert client.get("/cycles/new?from=999999").status_code == 404


def test_departments_are_chosen_with_checkboxes(org):
    from test_cycle_bad_input import cycle_form

    client = login_as_fresh(org["app"], org["hr"])
    page = client.get("/cycles/new").get_data(as_text=True)
    assert "<select" not in page.split('id="department_ids"')[1].split("</fieldset>")[0]
    assert "Hold Ctrl" not in page
    form = cycle_form(participant_mode="departments")
    response = client.post(
        "/cycles/new",
        data={
            **form,
            "department_ids": [str(org["platform"].id), str(org["data"].id)],
            "csrf_token": client.csrf,
        },
    )
    assert response.status_code == 302, page_text(response)
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == form["name"]))
    assert sorted(d.name for d in cycle.departments) == ["Data", "Platform"]


def test_calibration_offers_the_cycles_departments_and_takes_a_managers_name(org):
    empty = Department(name="Empty Team")
    db.session.add(empty)
    db.session.commit()
    cycle = launched_cycle(
        org["hr"],
        CycleState.CALIBRATION,
        participant_mode=ParticipantMode.DEPARTMENTS,
        department_ids=[org["platform"].id],
    )
    client = login_as_fresh(org["app"], org["hr"])
    page = client.get(f"/cycles/{cycle.id}/calibration").get_data(as_text=True)
    choice = page.split('id="department_id"')[1].split("</select>")[0]
    assert re.findall(r">([^<]+)</option>", choice) == ["Platform (2 reviews)"]  # Milo, Ada
    unknown = client.post(
        f"/cycles/{cycle.id}/calibration",
        data={
            "group_kind": "manager_org",
            "manager_email": "Nobody Known",
            "csrf_token": client.csrf,
        },
    )
    assert unknown.status_code == 302
    refused = page_text(client.get(unknown.headers["Location"]))
    assert "No session opened: Nobody is called or has the email Nobody Known." in refused
    opened = client.post(
        f"/cycles/{cycle.id}/calibration",
        data={
            "group_kind": "manager_org",
            "manager_email": "milo manager",
            "csrf_token": client.csrf,
        },
    )
    assert opened.status_code == 302
    assert "/calibration/" in opened.headers["Location"]
    assert "Milo Manager" in page_text(client.get(opened.headers["Location"]))
