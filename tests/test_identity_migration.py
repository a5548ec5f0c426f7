"""The identity-provider migration on a database holding people: those an org import
created or updated are marked as kept by the CSV import, the rest as kept by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from test_migrations import _drop, _migrated_app

from reviews.audit.models import AuditEvent
from reviews.extensions import db

BEFORE = "b7d2e4f6a813"


def test_the_migration_marks_imported_people_and_downgrades(tmp_path) -> None:
    app, schema = _migrated_app(tmp_path)
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            now = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
            with db.engine.begin() as conn:
                for n, email in enumerate(("made@x.com", "moved@x.com", "hand@x.com"), start=1):
                    conn.execute(
                        text(
                            "INSERT INTO person (id, email, name, role, active, session_version,"
                            " created_at) VALUES (:id, :email, :name, 'employee', true, 1, :at)"
                        ),
                        {"id": n, "email": email, "name": f"P{n}", "at": now},
                    )
                conn.execute(
                    AuditEvent.__table__.insert(),
                    [
                        {
                            "at": now,
                            "event": "person.created",
                            "subject_id": 1,
                            "details": {"source": "org import"},
                        },
                        {
                            "at": now,
                            "event": "person.updated",
                            "subject_id": 2,
                            "details": {"source": "org import", "fields": ["manager"]},
                        },
                        {
                            "at": now,
                            "event": "person.created",
                            "subject_id": 3,
                            "details": {"source": "form"},
                        },
                        {
                            "at": now,
                            "event": "person.updated",
                            "subject_id": 3,
                            "details": {"fields": ["name"]},
                        },
                    ],
                )
            upgrade()
            with db.engine.connect() as conn:
                rows = dict(conn.execute(text("SELECT email, source FROM person")).all())
            assert rows == {"made@x.com": "csv", "moved@x.com": "csv", "hand@x.com": "local"}
            with pytest.raises(IntegrityError), db.engine.begin() as conn:
                conn.execute(text("UPDATE person SET source = 'fax' WHERE id = 3"))
            downgrade(revision=BEFORE)
            with db.engine.connect() as conn:
                columns = conn.execute(text("SELECT * FROM person")).keys()
                tables = {
                    r[0]
                    for r in conn.execute(
                        text(
                            "SELECT table_name FROM information_schema.tables"
                            " WHERE table_schema = current_schema()"
                            if db.engine.dialect.name == "postgresql"
                            else "SELECT name FROM sqlite_master WHERE type = 'table'"
                        )
                    )
                }
            assert "source" not in columns
            assert "scim_active_unset" not in columns
            assert "external_identity" not in tables
            upgrade()  # and up again, with the people still there
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM person")).scalar() == 3
            db.session.remove()
            db.engine.dispose()
    finally:
        _drop(schema)
