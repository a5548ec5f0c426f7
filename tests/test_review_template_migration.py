"""The review-templates migration carries every answer written before it, unchanged,
under the built-in questions it freezes into each launched cycle."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from test_migrations import _drop, _migrated_app
from test_review_template_definition import ANSWERS

from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.review_templates.definition import DEFAULTS
from reviews.review_templates.queries import template_of

BEFORE = "a7d3e9f1c5b2"
ANSWERED = (
    '{"summary": "Shipped the release on 3 March.", "strengths": "Calm under pressure",'
    ' "growth_areas": "Delegation"}'
)


def test_a_database_holding_answers_is_carried_through(tmp_path):
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES (1, 'a@example.com', 'A', 'employee', true, 1,"
                        " CURRENT_TIMESTAMP), (2, 'm@example.com', 'M', 'manager', true, 1,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
                for cycle_id, state, snapshot in ((1, "released", "'{}'"), (2, "draft", "NULL")):
                    conn.execute(
                        text(
                            "INSERT INTO cycle (id, name, period_start, period_end, state,"
                            " participant_mode, peer_min, peer_max, peer_anonymous,"
                            " anonymity_threshold, peer_names_to_managers, reviewer_load_cap,"
                            " guidance, upward_feedback, guidance_tolerance,"
                            " framework_snapshot, launched_at, created_at, version) VALUES"
                            f" ({cycle_id}, 'C{cycle_id}', '2026-01-01', '2026-06-30',"
                            f" '{state}', 'all', 2, 5, true, 3, true, 5, '[]', false, 5,"
                            f" {snapshot}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
                        )
                    )
                conn.execute(
                    text(
                        "INSERT INTO review (id, cycle_id, subject_id, manager_id, created_at,"
                        " final_version, final_locked) VALUES (1, 1, 1, 2, CURRENT_TIMESTAMP,"
                        " 0, false)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO assessment (id, review_id, kind, author_id, state, ratings,"
                        " comments, answers, reopened, version, created_at, updated_at,"
                        " submitted_at) VALUES (1, 1, 'manager', 2, 'submitted', '{\"x\": 4}',"
                        f" '{{}}', '{ANSWERED}', false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
            upgrade()
            with db.engine.connect() as conn:
                answers, choices = conn.execute(
                    text("SELECT answers, choices FROM assessment WHERE id = 1")
                ).one()
            assert db.session.get(Cycle, 2).templates is None
            released = db.session.get(Cycle, 1)
            assert set(released.templates) == {"self", "peer", "manager"}
            for part, questions in ANSWERS.items():
                frozen = template_of(released, part)
                assert frozen == DEFAULTS[part]
                assert [(q.key, q.label, q.required) for q in frozen.questions] == questions
            import json

            assert (json.loads(answers) if isinstance(answers, str) else answers) == json.loads(
                ANSWERED
            )
            assert choices in ({}, "{}")
            db.session.remove()
            downgrade(revision=BEFORE)
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM assessment")).scalar() == 1
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)
