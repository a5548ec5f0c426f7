"""The review-templates migration carries every answer written before it, unchanged,
under the built-in questions it freezes into each launched cycle."""

from __future__ import annotations

import json

from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from test_migrations import _drop, _migrated_app
from test_review_template_definition import ANSWERS

from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.review_templates.builtin import DEFAULTS
from reviews.review_templates.queries import template_of

BEFORE = "a7d3e9f1c5b2"
ANSWERED = (
    '{"summary": "Shipped the release on 3 March.", "strengths": "Calm under pressure",'
    ' "growth_areas": "Delegation"}'
)


def _cycle(conn, cycle_id, state, *, snapshot="NULL", templates=None, upward=False):
    """A cycle row as the revision under test found it (`templates`: SQL, a column that
    exists from d3b66ff0f000 on)."""
    frozen = ("templates, ", f"{templates}, ") if templates is not None else ("", "")
    conn.execute(
        text(
            "INSERT INTO cycle (id, name, period_start, period_end, state, participant_mode,"
            " peer_min, peer_max, peer_anonymous, anonymity_threshold, peer_names_to_managers,"
            " reviewer_load_cap, guidance, upward_feedback, guidance_tolerance,"
            f" framework_snapshot, {frozen[0]}launched_at, created_at, version) VALUES"
            f" ({cycle_id}, 'C{cycle_id}', '2026-01-01', '2026-06-30', '{state}', 'all', 2, 5,"
            f" true, 3, true, 5, '[]', {'true' if upward else 'false'}, 5, {snapshot},"
            f" {frozen[1]}CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1)"
        )
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
                _cycle(conn, 1, "released", snapshot="'{}'")
                _cycle(conn, 2, "draft")
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
            assert set(released.templates) == {"self", "peer", "manager", "upward"}
            for part, questions in ANSWERS.items():
                frozen = template_of(released, part)
                assert frozen == DEFAULTS[part]
                assert [(q.key, q.label, q.required) for q in frozen.questions] == questions
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


UPWARD_BEFORE = "d3b66ff0f000"


def test_upward_answers_move_to_the_built_in_question_word_for_word(tmp_path):
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision=UPWARD_BEFORE)
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES (1, 'm@example.com', 'M', 'manager', true, 1,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
                _cycle(conn, 1, "closed", snapshot="'{}'", templates="'{}'", upward=True)
                _cycle(conn, 2, "draft", snapshot="'{}'", upward=True)
                for id_, comment in ((7, "Runs great one-to-ones; it's “calm”."), (8, "")):
                    conn.execute(
                        text(
                            "INSERT INTO upward_answer (id, cycle_id, manager_id, ratings,"
                            " comment) VALUES (:id, 1, 1, '{\"people-management\": 4}',"
                            " :comment)"
                        ),
                        {"id": id_, "comment": comment},
                    )
            upgrade()
            with db.engine.connect() as conn:
                rows = dict(
                    conn.execute(text("SELECT id, answers FROM upward_answer ORDER BY id")).all()
                )
                ratings = conn.execute(
                    text("SELECT ratings FROM upward_answer WHERE id = 7")
                ).scalar()
            loads = lambda v: json.loads(v) if isinstance(v, str) else v  # noqa: E731
            assert loads(rows[7]) == {"comment": "Runs great one-to-ones; it's “calm”."}
            assert loads(rows[8]) == {}
            assert loads(ratings) == {"people-management": 4}
            closed = db.session.get(Cycle, 1)
            assert closed.templates["upward"] == DEFAULTS["upward"].as_json()  # frozen
            assert db.session.get(Cycle, 2).templates is None
            db.session.remove()
            with db.engine.begin() as conn:  # a template may now be for upward feedback
                conn.execute(
                    text(
                        "INSERT INTO review_template (name, part, definition, created_at,"
                        " updated_at, version) VALUES ('U', 'upward', '{}', CURRENT_TIMESTAMP,"
                        " CURRENT_TIMESTAMP, 1)"
                    )
                )
            db.session.remove()
            downgrade(revision=UPWARD_BEFORE)
            with db.engine.connect() as conn:
                back = dict(
                    conn.execute(text("SELECT id, comment FROM upward_answer ORDER BY id")).all()
                )
                templates = conn.execute(text("SELECT templates FROM cycle WHERE id = 1")).scalar()
            assert back == {7: "Runs great one-to-ones; it's “calm”.", 8: ""}
            assert "upward" not in loads(templates)
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)
