"""The real migrations build the schema the models describe, on an empty database."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from conftest import PG_URL, _pg_url, base_config
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from reviews import create_app
from reviews.extensions import db


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
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"
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
            db.engine.dispose()
    finally:
        _drop(schema)
