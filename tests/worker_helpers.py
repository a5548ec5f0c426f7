"""Real `flask worker` processes for the tests that need them: on the test's own
database (its schema on PostgreSQL), the test Redis and a queue of the test's own."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from conftest import TEST_REDIS_URL

ROOT = Path(__file__).resolve().parent.parent  # where `flask --app wsgi` runs


def database_url(app: Any) -> str:
    """The test's database as a URL a subprocess can use (its schema on PostgreSQL)."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {})
    if "options" in options:
        url += "?options=" + quote(options["options"])
    return url


def worker_env(app: Any, queue: str, **settings: str) -> dict[str, str]:
    """The environment of a worker process for the test's app: this process's, less
    its app settings, with `settings` (the app's config names) on top."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REVIEWS_", "FLASK_"))},
        "DATABASE_URL": database_url(app),
        "REDIS_URL": TEST_REDIS_URL,
        "JOBS_QUEUE": queue,
        "SECRET_KEY": "worker-test",
        "REVIEWS_INSTANCE_PATH": str(app.instance_path),
        **settings,
    }


def worker_command(*options: str) -> list[str]:
    """`flask worker` from this virtualenv, with `options` (e.g. --no-schedule)."""
    return [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "worker", *options]
