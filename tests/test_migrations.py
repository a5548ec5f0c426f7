"""The real migrations build the schema the models describe, and carry a populated
cycle from the first revision to head."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import PG_URL, _pg_url, base_config
from flask_migrate import upgrade
from populated import cycle_in, raw_rows
from psycopg.types.json import Json
from sqlalchemy import create_engine, inspect, text

from reviews import ROOT, create_app
from reviews.cycles.workflow import CycleState
from reviews.db import compared_in_autogenerate
from reviews.extensions import db

# Indexes on an expression, which autogenerate cannot compare (reviews.db): checked by
# name instead (the PostgreSQL-only search index where the database has it).
EXPRESSION_INDEXES = {"ix_manager_figures_behind": "cycle_manager_figures"}
# Tables the migrations fill from other tables' rows (their backfill is compared with
# what the source database's triggers kept, not copied over).
DERIVED = {"cycle_group_figures", "cycle_manager_figures"}
# Columns the migrations that add them fill from other rows (kept by triggers since):
# not copied over, compared with the source's like every other column.
DERIVED_COLUMNS = {
    "department": {"active_people"},
    "review": {
        "self_done",
        "manager_done",
        "peers_done",
        "peers_approved",
        "peers_declined",
        "manager_overall",
    },
}


def _migrated_app(tmp_path):
    config = base_config(tmp_path)
    schema = None
    if PG_URL:
        schema = f"m_{uuid.uuid4().hex[:12]}"
        engine = create_engine(_pg_url())
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        config["SQLALCHEMY_DATABASE_URI"] = _pg_url()
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            "connect_args": {"options": f"-csearch_path={schema}"}
        }
    else:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'migrated.db'}"
    return create_app(config), schema


def _drop(schema):
    if schema:
        engine = create_engine(_pg_url())
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_migrations_upgrade_an_empty_database_without_drift(tmp_path):
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {t.name for t in db.metadata.sorted_tables} <= tables
            with db.engine.connect() as conn, warnings.catch_warnings():
                warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
                warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expr")
                context = MigrationContext.configure(
                    conn,
                    opts={"compare_type": True, "include_object": compared_in_autogenerate},
                )
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
            with db.engine.connect() as conn:
                if conn.dialect.name == "postgresql":
                    found = "SELECT tablename FROM pg_indexes WHERE indexname = :name"
                else:
                    found = (
                        "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = :name"
                    )
                for name, table in EXPRESSION_INDEXES.items():
                    assert conn.scalar(text(found), {"name": name}) == table
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


def test_setup_on_a_migrated_database_loads_framework_and_demo(tmp_path):
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade()
            result = app.test_cli_runner().invoke(args=["setup"])
            assert result.exit_code == 0, result.output
            assert "demo-password" in result.output
            again = app.test_cli_runner().invoke(args=["setup"])
            assert again.exit_code == 0
            assert "Loaded" not in again.output  # idempotent
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


def test_between_cycles_migration_upgrades_a_database_holding_data(tmp_path):
    """Cycles and parts written before evidence and upward feedback keep working."""
    from flask_migrate import downgrade

    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision="72a4e9297935")
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES (1, 'a@example.com', 'A', 'employee', true, 1,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO cycle (id, name, period_start, period_end, state,"
                        " participant_mode, peer_min, peer_max, peer_anonymous,"
                        " anonymity_threshold, peer_names_to_managers, reviewer_load_cap,"
                        " guidance, created_at, version) VALUES (1, 'Old', '2026-01-01',"
                        " '2026-06-30', 'draft', 'all', 2, 5, true, 3, true, 5, '[]',"
                        " CURRENT_TIMESTAMP, 1)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO review (id, cycle_id, subject_id, created_at,"
                        " final_version, final_locked) VALUES (1, 1, 1, CURRENT_TIMESTAMP, 0,"
                        " false)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO assessment (id, review_id, kind, author_id, state, ratings,"
                        " comments, answers, reopened, version, created_at, updated_at) VALUES"
                        " (1, 1, 'self', 1, 'draft', '{}', '{}', '{}', false, 1,"
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    )
                )
            upgrade()
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT upward_feedback FROM cycle")).scalar() in (
                    False,
                    0,
                )
                assert conn.execute(text("SELECT evidence FROM assessment")).scalar() is None
            downgrade(revision="72a4e9297935")
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM assessment")).scalar() == 1
            db.session.remove()
            db.engine.dispose()  # no connection outlives the test (PostgreSQL warns)
    finally:
        _drop(schema)


def test_part_quality_migration_fills_in_parts_submitted_before(tmp_path):
    """Submitted parts get the coach's figures from their texts; drafts stay NULL."""
    from flask_migrate import downgrade

    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision="eba4b33de352")
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES (1, 'a@example.com', 'A', 'employee', true, 1,"
                        " CURRENT_TIMESTAMP), (2, 'm@example.com', 'M', 'manager', true, 1,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO cycle (id, name, period_start, period_end, state,"
                        " participant_mode, peer_min, peer_max, peer_anonymous,"
                        " anonymity_threshold, peer_names_to_managers, reviewer_load_cap,"
                        " guidance, upward_feedback, created_at, version) VALUES (1, 'Old',"
                        " '2026-01-01', '2026-06-30', 'draft', 'all', 2, 5, true, 3, true,"
                        " 5, '[]', false, CURRENT_TIMESTAMP, 1)"
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
                        " submitted_at) VALUES"
                        " (1, 1, 'self', 1, 'draft', '{}', '{}', '{\"summary\": \"Bossy.\"}',"
                        " false, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, NULL),"
                        " (2, 1, 'manager', 2, 'submitted', '{}',"
                        ' \'{"delivery": "She is abrasive."}\','
                        ' \'{"summary": "On 3 March she shipped the release, which cut'
                        ' errors by 40%.", "strengths": ""}\', false, 1,'
                        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                    )
                )
            upgrade()
            with db.engine.connect() as conn:
                found = conn.execute(
                    text(
                        "SELECT id, quality_texts, quality_evidence, quality_personal"
                        " FROM assessment ORDER BY id"
                    )
                ).all()
            assert [tuple(r) for r in found] == [(1, None, None, None), (2, 2, 1, 1)]
            downgrade(revision="eba4b33de352")
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM assessment")).scalar() == 2
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


def test_counters_migration_counts_existing_rows_and_installs_the_triggers(tmp_path):
    """Reviews written before the counters get them from their rows; later writes
    keep them, and a downgrade keeps the rows."""
    from flask_migrate import downgrade

    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision="c3d58e0f7b21")
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES"
                        + ", ".join(
                            f" ({i}, 'p{i}@example.com', 'P{i}', 'employee', true, 1,"
                            " CURRENT_TIMESTAMP)"
                            for i in range(1, 5)
                        )
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO cycle (id, name, period_start, period_end, state,"
                        " participant_mode, peer_min, peer_max, peer_anonymous,"
                        " anonymity_threshold, peer_names_to_managers, reviewer_load_cap,"
                        " guidance, upward_feedback, created_at, version) VALUES (1, 'Old',"
                        " '2026-01-01', '2026-06-30', 'draft', 'all', 2, 5, true, 3,"
                        " true, 5, '[]', false, CURRENT_TIMESTAMP, 1)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO review (id, cycle_id, subject_id, manager_id, created_at,"
                        " final_version, final_locked) VALUES (1, 1, 1, 2, CURRENT_TIMESTAMP,"
                        " 0, false), (2, 1, 3, 2, CURRENT_TIMESTAMP, 0, false)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO peer_request (id, review_id, reviewer_id, state,"
                        " decline_reason, created_at) VALUES"
                        " (1, 1, 3, 'approved', NULL, CURRENT_TIMESTAMP),"
                        " (2, 1, 4, 'declined', 'Away.', CURRENT_TIMESTAMP),"
                        " (3, 2, 4, 'proposed', NULL, CURRENT_TIMESTAMP)"
                    )
                )
                conn.execute(
                    text(
                        "INSERT INTO assessment (id, review_id, kind, author_id,"
                        " peer_request_id, state, overall_rating, ratings, comments, answers,"
                        " reopened, version, created_at, updated_at, submitted_at) VALUES"
                        " (1, 1, 'self', 1, NULL, 'submitted', NULL, '{}', '{}', '{}', false,"
                        " 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                        " (2, 1, 'manager', 2, NULL, 'submitted', 4, '{}', '{}', '{}', false,"
                        " 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                        " (3, 1, 'peer', 3, 1, 'submitted', NULL, '{}', '{}', '{}', false,"
                        " 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),"
                        " (4, 2, 'self', 3, NULL, 'draft', NULL, '{}', '{}', '{}', false,"
                        " 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, NULL),"
                        " (5, 2, 'manager', 2, NULL, 'draft', NULL, '{}', '{}', '{}', false,"
                        " 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, NULL)"
                    )
                )
            upgrade()
            counts = (
                "SELECT id, self_done, manager_done, peers_done, peers_approved,"
                " peers_declined, manager_overall FROM review ORDER BY id"
            )
            with db.engine.connect() as conn:
                assert [tuple(r) for r in conn.execute(text(counts))] == [
                    (1, 1, 1, 1, 1, 1, 4),
                    (2, 0, 0, 0, 0, 0, None),
                ]
            with db.engine.begin() as conn:  # the triggers are in place
                conn.execute(
                    text(
                        "UPDATE assessment SET state = 'submitted', overall_rating = 2,"
                        " submitted_at = CURRENT_TIMESTAMP WHERE id = 5"
                    )
                )
                conn.execute(text("UPDATE peer_request SET state = 'approved' WHERE id = 3"))
            with db.engine.connect() as conn:
                assert tuple(conn.execute(text(counts)).all()[1]) == (2, 0, 1, 0, 1, 0, 2)
            downgrade(revision="c3d58e0f7b21")
            with db.engine.begin() as conn:  # no trigger left to name a dropped column
                conn.execute(text("UPDATE assessment SET state = 'draft', submitted_at = NULL"))
                assert conn.execute(text("SELECT count(*) FROM assessment")).scalar() == 5
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


def test_flask_db_check_finds_no_drift(tmp_path):
    """The command an operator runs, in its own process, against a migrated database."""
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade()
            db.session.remove()
            db.engine.dispose()
        url = (
            f"{PG_URL}?options=-csearch_path%3D{schema}"
            if schema
            else f"sqlite:///{tmp_path / 'migrated.db'}"
        )
        env = {**os.environ, "DATABASE_URL": url, "REVIEWS_INSTANCE_PATH": str(tmp_path)}
        env.pop("REDIS_URL", None)
        result = subprocess.run(
            [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "db", "check"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "No new upgrade operations detected" in result.stdout
    finally:
        _drop(schema)


def _revisions() -> list[str]:
    """Every revision from the first to head, in order."""
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    script = ScriptDirectory.from_config(config)
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def _plain(value):
    """A value read raw from one database, fit to bind raw into the other."""
    if PG_URL and isinstance(value, dict | list):
        return Json(value)
    return value


def _legacy_link(row: dict) -> str:
    from reviews.links import Link, url_of

    return url_of(Link(row["target"], row["target_id"]))


# Columns a later revision replaced: their value in the rows of an earlier revision, made
# from the row as the models hold it now (the migration must turn it back into that row).
LEGACY = {"notification": {"link": _legacy_link}}


def test_a_populated_cycle_survives_every_migration_from_the_first(app, make_person, tmp_path):
    # The source: a cycle through every phase, in a database built from the models.
    cycle_in(make_person, CycleState.RELEASED)
    source = {t.name: raw_rows(t.name) for t in db.metadata.sorted_tables}
    assert all(source[t] for t in ("person", "review", "peer_request", "assessment"))
    assert all(source[t] for t in ("calibration_session", "calibration_change", "growth_plan"))
    order = [t.name for t in db.metadata.sorted_tables]

    target, schema = _migrated_app(tmp_path)
    revisions = _revisions()
    assert revisions[0] == "d15d8c2fde61"
    try:
        with target.app_context():
            filled: dict[str, set[str]] = {}  # table -> columns already carried over
            for revision in revisions:
                upgrade(revision=revision)
                columns = {
                    name: {c["name"] for c in inspect(db.engine).get_columns(name)}
                    for name in inspect(db.engine).get_table_names()
                }
                with db.engine.begin() as conn:
                    # Rows of the tables this revision created, with the columns it has.
                    for name in order:
                        if name in DERIVED and name in columns:
                            filled[name] = set(source[name][0]) if source[name] else set()
                        if name in columns and name not in filled and source[name]:
                            cols = sorted(columns[name] & source[name][0].keys())
                            legacy = {
                                c: make
                                for c, make in LEGACY.get(name, {}).items()
                                if c in columns[name]
                            }
                            conn.execute(
                                text(
                                    f'INSERT INTO "{name}" ({", ".join([*cols, *legacy])}) '
                                    f"VALUES ({', '.join(':' + c for c in [*cols, *legacy])})"
                                ),
                                [
                                    {
                                        **{c: _plain(row[c]) for c in cols},
                                        **{c: make(row) for c, make in legacy.items()},
                                    }
                                    for row in source[name]
                                ],
                            )
                            filled[name] = set(cols)
                    # Columns this revision added to tables that already hold rows.
                    for name, done in filled.items():
                        if name in DERIVED:
                            continue
                        derived = DERIVED_COLUMNS.get(name, set()) & columns[name]
                        done.update(derived)  # the migration's own backfill, compared below
                        new = sorted((columns[name] & source[name][0].keys()) - done)
                        if not new:
                            continue
                        sets = ", ".join(f"{c} = :{c}" for c in new)
                        conn.execute(
                            text(f'UPDATE "{name}" SET {sets} WHERE id = :id'),
                            [
                                {"id": r["id"], **{c: _plain(r[c]) for c in new}}
                                for r in source[name]
                            ],
                        )
                        done.update(new)
            assert set(filled) == {name for name in order if source[name]}
            for name in order:
                migrated = raw_rows(name)
                key = sorted(source[name][0]) if source[name] else []
                assert sorted(map(repr, (tuple(r[k] for k in key) for r in migrated))) == sorted(
                    map(repr, (tuple(r[k] for k in key) for r in source[name]))
                ), name
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


def test_the_anonymity_migration_redacts_the_audit_log_of_a_database_holding_data(tmp_path):
    """Events that paired a peer or a report with whom they wrote about go (counted in one
    `audit.redacted` event), emails in details become ids, and an anonymous cycle with a
    threshold below three gets three."""
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision="d4a7e2c19b30")
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES (1, 'sam@example.com', 'Sam', 'employee', true, 1,"
                        " CURRENT_TIMESTAMP), (2, 'pia@example.com', 'Pia', 'employee', true,"
                        " 1, CURRENT_TIMESTAMP)"
                    )
                )
                for cycle_id, names_to_managers, threshold in ((1, False, 2), (2, True, 3)):
                    conn.execute(
                        text(
                            "INSERT INTO cycle (id, name, period_start, period_end, state,"
                            " participant_mode, peer_min, peer_max, peer_anonymous,"
                            " anonymity_threshold, peer_names_to_managers, reviewer_load_cap,"
                            " upward_feedback, guidance, created_at, version) VALUES (:id, 'C',"
                            " '2026-01-01', '2026-06-30', 'draft', 'all', 2, 5, true, :t, :n,"
                            " 5, true, '[]', CURRENT_TIMESTAMP, 1)"
                        ),
                        {"id": cycle_id, "t": threshold, "n": names_to_managers},
                    )
                events = [
                    (1, 2, "part.submitted", 1, 1, {"part": "peer"}),  # names hidden: goes
                    (2, 1, "part.submitted", 1, 1, {"part": "self"}),
                    (3, 2, "part.submitted", 1, 2, {"part": "peer"}),  # names shown: stays
                    (4, 2, "upward.submitted", 1, 2, {}),  # never attributable: goes
                    (5, 1, "peer.approved", 1, 1, {"reviewer": "pia@example.com"}),
                ]
                for event_id, actor, name, subject, cycle_id, details in events:
                    conn.execute(
                        text(
                            "INSERT INTO audit_event (id, at, actor_id, event, subject_id,"
                            " cycle_id, details) VALUES (:id, CURRENT_TIMESTAMP, :a, :e, :s,"
                            " :c, :d)"
                        ),
                        {
                            "id": event_id,
                            "a": actor,
                            "e": name,
                            "s": subject,
                            "c": cycle_id,
                            "d": Json(details) if PG_URL else json.dumps(details),
                        },
                    )
                if PG_URL:  # ids given by hand: move the sequence past them
                    conn.execute(
                        text("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), 100)")
                    )
            upgrade()
            rows = {r["id"]: r for r in raw_rows("audit_event")}
            assert set(rows) >= {2, 3, 5}
            assert 1 not in rows
            assert 4 not in rows
            redacted = sorted(
                (r["cycle_id"], _json(r["details"])["removed"])
                for r in rows.values()
                if r["event"] == "audit.redacted"
            )
            assert redacted == [(1, 1), (2, 1)]
            assert _json(rows[5]["details"]) == {"reviewer_id": 2}
            assert {r["id"]: r["anonymity_threshold"] for r in raw_rows("cycle")} == {1: 3, 2: 3}
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def test_the_coach_figures_migration_recomputes_every_submitted_part(app, make_person):
    """c4e7a1b9d203 stores the rebuilt coach's figures again on a database holding a
    cycle (figures left by the previous coach are replaced; drafts stay NULL)."""
    import importlib.util

    from alembic.operations import Operations

    from reviews.coach.analysis import text_quality

    cycle_in(make_person, CycleState.RELEASED)
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE assessment SET quality_texts = 99, quality_evidence = 99,"
                " quality_personal = 99 WHERE state = 'submitted'"
            )
        )
    path = ROOT / "migrations" / "versions" / "c4e7a1b9d203_coach_figures_recomputed.py"
    spec = importlib.util.spec_from_file_location("coach_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with db.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        module.upgrade()
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT state, comments, answers, quality_texts, quality_evidence,"
                " quality_personal FROM assessment"
            )
        ).all()
    submitted = [r for r in rows if r[0] == "submitted"]
    assert submitted
    for state, comments, answers, *stored in rows:
        if state != "submitted":
            assert stored == [None, None, None]
            continue
        comments, answers = (
            json.loads(v) if isinstance(v, str) else v for v in (comments, answers)
        )
        assert tuple(stored) == text_quality([*comments.values(), *answers.values()])


def _partial_keys(conn) -> dict[str, str]:
    """The definition of each of the two partial unique indexes, in this schema."""
    if conn.dialect.name == "postgresql":
        found = (
            "SELECT indexdef FROM pg_indexes WHERE indexname = :name"
            " AND schemaname = current_schema()"
        )
    else:
        found = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :name"
    names = ("uq_notification_dedupe_key", "uq_assessment_peer_request_id")
    return {name: conn.scalar(text(found), {"name": name}) for name in names}


def _unique_constraints(conn, table: str) -> list[str]:
    return [c["name"] for c in inspect(conn).get_unique_constraints(table)]


def test_the_partial_unique_keys_refuse_duplicates_and_take_many_empty_ones(tmp_path):
    """Migration e8f41a2b6c57: a reminder's key stays unique, many messages have none,
    the constraints become partial indexes (and back on downgrade). The part counters'
    triggers surviving SQLite's rebuild of `assessment` is checked by the counters'
    migration test, which updates parts after upgrading to head."""
    import pytest
    from flask_migrate import downgrade
    from sqlalchemy.exc import IntegrityError

    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade()
            insert = (
                "INSERT INTO notification (recipient_id, kind, subject, body, target,"
                " dedupe_key, created_at) VALUES (1, 'reminder', 'S', 'B', 'home', :key,"
                " CURRENT_TIMESTAMP)"
            )
            with db.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, session_version,"
                        " created_at) VALUES (1, 'p1@example.com', 'P1', 'employee', true, 1,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
                for key in (None, None, "goal-checkin:1:2026-12-05"):
                    conn.execute(text(insert), {"key": key})
            with db.engine.connect() as conn, pytest.raises(IntegrityError):
                conn.execute(text(insert), {"key": "goal-checkin:1:2026-12-05"})
            with db.engine.connect() as conn:
                assert conn.scalar(text("SELECT count(*) FROM notification")) == 3
                for name, definition in _partial_keys(conn).items():
                    assert definition is not None, name
                    assert "UNIQUE" in definition.upper()
                    assert "IS NOT NULL" in definition.upper()
                assert "uq_notification_dedupe_key" not in _unique_constraints(conn, "notification")
                assert "uq_assessment_peer_request_id" not in _unique_constraints(
                    conn, "assessment"
                )
            downgrade(revision="c5e1a7b3d920")
            with db.engine.connect() as conn:
                # whole again: PostgreSQL's constraint has an index of the same name
                assert not any(
                    "IS NOT NULL" in (d or "").upper() for d in _partial_keys(conn).values()
                )
                assert "uq_notification_dedupe_key" in _unique_constraints(conn, "notification")
                assert "uq_assessment_peer_request_id" in _unique_constraints(conn, "assessment")
                assert conn.scalar(text("SELECT count(*) FROM notification")) == 3
            upgrade()
            with db.engine.connect() as conn:
                assert all(_partial_keys(conn).values())
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)


def test_the_headcount_migration_counts_the_people_already_there(tmp_path):
    """Migration 6f3168a729f4 counts each department's active people from the rows a
    database holds, and its triggers keep the count after; a downgrade drops both."""
    from flask_migrate import downgrade

    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision="e8f41a2b6c57")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO department (id, name) VALUES (1, 'A'), (2, 'B')"))
                conn.execute(
                    text(
                        "INSERT INTO person (id, email, name, role, active, department_id,"
                        " session_version, created_at) VALUES"
                        " (1, 'p1@example.com', 'P1', 'employee', true, 1, 1, CURRENT_TIMESTAMP),"
                        " (2, 'p2@example.com', 'P2', 'employee', true, 1, 1, CURRENT_TIMESTAMP),"
                        " (3, 'p3@example.com', 'P3', 'employee', false, 1, 1, CURRENT_TIMESTAMP),"
                        " (4, 'p4@example.com', 'P4', 'employee', true, 2, 1, CURRENT_TIMESTAMP),"
                        " (5, 'p5@example.com', 'P5', 'employee', true, NULL, 1,"
                        " CURRENT_TIMESTAMP)"
                    )
                )
            upgrade()
            counts = "SELECT id, active_people FROM department ORDER BY id"
            with db.engine.connect() as conn:
                assert [tuple(r) for r in conn.execute(text(counts))] == [(1, 2), (2, 1)]
            with db.engine.begin() as conn:  # the triggers are in place
                conn.execute(text("UPDATE person SET department_id = 2 WHERE id IN (1, 5)"))
                conn.execute(text("UPDATE person SET active = true WHERE id = 3"))
            with db.engine.connect() as conn:
                assert [tuple(r) for r in conn.execute(text(counts))] == [(1, 2), (2, 3)]
            downgrade(revision="e8f41a2b6c57")
            with db.engine.begin() as conn:  # no trigger left to name a dropped column
                conn.execute(text("UPDATE person SET active = false"))
                assert "active_people" not in {
                    c["name"] for c in inspect(conn).get_columns("department")
                }
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)
