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
