"""A stretch opportunity meant for one career track (issue 20): "Take on a trial
people-leadership scope" is proposed to people whose plan aims at management, never to
an engineer whose plan stays on the IC track; HR sets the track on the catalogue form."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from test_cycle_flow import login_as_fresh
from test_migrations import _drop, _migrated_app

from reviews.extensions import db
from reviews.framework.models import Opportunity as OpportunityRow
from reviews.framework.models import Track
from reviews.growth.planner import CompetencyTarget, Opportunity, plan_growth
from reviews.people.models import Role

TRIAL = Opportunity(
    "trial", "Trial", "Lead for a while.", ("people",), ("senior", "lead"), 12, "management"
)
SHADOW = Opportunity("shadow", "Shadow", "Pair.", ("people",), ("senior", "lead"), 4)


def _proposed(target_track: str | None) -> list[str]:
    plan = plan_growth(
        ratings={"people": 1},
        current_level="senior",
        target_level="lead",
        targets=[CompetencyTarget("people", "People", 3, 1.0)],
        catalogue=[TRIAL, SHADOW],
        start=date(2026, 12, 7),
        target_track=target_track,
    )
    return [item.opportunity_key for item in plan.items]


def test_a_track_opportunity_is_proposed_only_on_its_track():
    assert _proposed("ic") == ["shadow"]
    assert _proposed(None) == ["shadow"]  # a person with no level has no track
    assert sorted(_proposed("management")) == ["shadow", "trial"]


def test_the_shipped_trial_is_for_the_management_track(app):
    trial = db.session.scalar(
        select(OpportunityRow).where(OpportunityRow.key == "try-management-trial")
    )
    assert trial.track == Track.MANAGEMENT
    assert [lv.key for lv in trial.levels] == ["senior-engineer", "tech-lead"]


def test_hr_sets_the_track_on_the_catalogue_form(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    client = login_as_fresh(app, hr)
    trial = db.session.scalar(
        select(OpportunityRow).where(OpportunityRow.key == "try-management-trial")
    )
    url = f"/framework/opportunities/{trial.id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert re.search(
        r'<input[^>]*checked[^>]*value="management"|value="management"[^>]*checked', page
    )
    assert "Hold Ctrl" not in page  # competencies and levels are checkboxes
    form = {
        "version": str(trial.version),
        "title": trial.title,
        "description": trial.description,
        "duration_weeks": str(trial.duration_weeks),
        "competencies": [str(c.id) for c in trial.competencies],
        "levels": [str(lv.id) for lv in trial.levels],
        "track": "",
        "csrf_token": client.csrf,
    }
    assert client.post(url, data=form).status_code == 302
    db.session.expire_all()
    assert db.session.get(OpportunityRow, trial.id).track is None
    bad = client.post(url, data={**form, "track": "sales", "version": str(trial.version + 1)})
    assert bad.status_code == 400
    db.session.expire_all()
    assert db.session.get(OpportunityRow, trial.id).track is None


def test_the_migration_marks_the_shipped_trial(tmp_path):
    from flask_migrate import downgrade, upgrade

    before = "f550874beaea"
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision=before)
            with db.engine.begin() as conn:
                for n, key in enumerate(("try-management-trial", "own-a-spike"), start=1):
                    conn.execute(
                        text(
                            "INSERT INTO opportunity (id, key, title, description,"
                            " duration_weeks, source, active, version)"
                            f" VALUES ({n}, '{key}', 'T{n}', '', 4, '', true, 1)"
                        )
                    )
            upgrade()
            with db.engine.connect() as conn:
                rows = dict(conn.execute(text("SELECT key, track FROM opportunity")).all())
            assert rows == {"try-management-trial": "management", "own-a-spike": None}
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text("UPDATE opportunity SET track = 'sales'"))
            downgrade(revision=before)
            with db.engine.connect() as conn:
                columns = conn.execute(text("SELECT * FROM opportunity")).keys()
            assert "track" not in columns
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)
