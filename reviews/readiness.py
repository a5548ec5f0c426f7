"""Whether this process may serve: the checks a production start makes, and the health
endpoints' answers.

One place decides; `gunicorn.conf.py` (before any worker forks), `wsgi.py` (any
other server, and `flask run`), `flask worker` and `/healthz` ask it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from flask import Flask
from sqlalchemy import inspect, text

from reviews import ROOT
from reviews.config import ConfigError
from reviews.extensions import db


@cache
def expected_revisions() -> frozenset[str]:
    """The heads of `migrations/versions`: what `flask db upgrade` brings a database to."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(ROOT / "migrations")).get_heads())


def current_revisions() -> frozenset[str]:
    """The revisions the database says it is at (none for an empty database)."""
    if not inspect(db.engine).has_table("alembic_version"):
        return frozenset()
    rows = db.session.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return frozenset(rows)


def migration_state() -> dict[str, Any]:
    current, expected = current_revisions(), expected_revisions()
    return {
        "current": sorted(current),
        "expected": sorted(expected),
        "up_to_date": current == expected,
    }


def refuse_unmigrated(app: Flask) -> None:
    """A server must not start on a database `flask db upgrade` has not brought up to date."""
    with app.app_context():
        state = migration_state()
        db.session.remove()
        db.engine.dispose()  # the server forks after this: no connection crosses it
    if not state["up_to_date"]:
        at = ", ".join(state["current"]) or "an empty database"
        raise ConfigError(
            f"the database is at {at}, not at the latest migration "
            f"({', '.join(state['expected'])}): run `flask db upgrade` first"
        )


def refuse_to_serve(app: Flask) -> None:
    """Every check a production server makes before it answers anyone."""
    if app.config["REVIEWS_ENV"] == "production":
        refuse_unmigrated(app)


def health() -> tuple[dict[str, Any], int]:
    """`/healthz`: the database answers and is at the latest migration."""
    try:
        db.session.execute(text("SELECT 1"))
        state = migration_state()
    except Exception:  # any failure of the database means unhealthy
        db.session.rollback()
        return {"status": "error", "database": "unreachable"}, 503
    if not state["up_to_date"]:
        return {"status": "error", "database": "ok", "migrations": state}, 503
    return {"status": "ok", "database": "ok", "migrations": state}, 200


def readiness(app: Flask) -> tuple[dict[str, Any], int]:
    """`/readyz`: healthy, and Redis answers when jobs are configured to use it."""
    body, status = health()
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from redis.exceptions import RedisError

        try:
            Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
            body["redis"] = "ok"
        except RedisError:
            body["redis"] = "unreachable"
            body["status"] = "error"
            status = 503
    return body, status
