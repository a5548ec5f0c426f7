"""A production start refuses mistakes: each refusal tested by starting the real process.

gunicorn (with the project's gunicorn.conf.py, and without it), `flask run --debug`,
`flask setup` and `flask demo`, on a SQLite database of the test's own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PRODUCTION_SECRET

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# The processes start on SQLite files of their own: once is enough, in the SQLite pass
# (tests/test_serve.py starts production on PostgreSQL).
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")), reason="runs in the SQLite pass only"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp: Path, **values: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REVIEWS_", "FLASK_", "SECRET_KEY", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        REVIEWS_ENV="production",
        REVIEWS_INSTANCE_PATH=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'reviews.db'}",
        SECRET_KEY=PRODUCTION_SECRET,
        PORT=str(_free_port()),
        WEB_CONCURRENCY="2",
    )
    for key, value in values.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _flask(*args: str) -> list[str]:
    return [str(BIN / "flask"), "--app", "wsgi", *args]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database `flask db upgrade` brought to the latest migration (copied per test)."""
    folder = tmp_path_factory.mktemp("migrated")
    done = _run(_flask("db", "upgrade"), _env(folder))
    assert done.returncode == 0, done.stderr
    return folder / "reviews.db"


@pytest.fixture
def instance(tmp_path: Path, migrated: Path) -> Path:
    import sqlite3

    # The backup API, not a file copy: the database may hold pages in its WAL file.
    with sqlite3.connect(migrated) as source, sqlite3.connect(tmp_path / "reviews.db") as copy:
        source.backup(copy)
    return tmp_path


def _refusal(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal's one line (gunicorn adds nothing of its own when its master refuses)."""
    assert result.returncode != 0, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if "Reviews cannot start" in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("secret", "said"),
    [
        (None, "SECRET_KEY is not set"),
        ("changeme", "SECRET_KEY looks like a placeholder"),
        ("abc", "SECRET_KEY is 3 bytes; production needs at least 32"),
        ("a" * 40, "SECRET_KEY repeats a few characters"),
        ("please-changeme-before-going-live-0123456789", "placeholder"),
    ],
)
def test_gunicorn_refuses_a_missing_short_or_placeholder_secret(instance, secret, said):
    result = _run([str(BIN / "gunicorn"), "wsgi:app"], _env(instance, SECRET_KEY=secret))
    assert said in _refusal(result)


def test_gunicorn_without_its_config_stops_instead_of_restarting_workers(instance):
    """Without gunicorn.conf.py's check, each worker refuses with exit status 3, on which
    gunicorn's master stops ("Worker failed to boot") instead of starting it again."""
    result = _run(
        [str(BIN / "gunicorn"), "--config", "/dev/null", "wsgi:app"],
        _env(instance, SECRET_KEY="changeme"),
    )
    assert result.returncode != 0, result.stderr  # it ended (within _run's timeout)
    assert "Worker failed to boot" in result.stderr
    assert "SECRET_KEY looks like a placeholder" in result.stderr


def test_gunicorn_refuses_a_database_behind_the_latest_migration(tmp_path):
    result = _run([str(BIN / "gunicorn"), "wsgi:app"], _env(tmp_path))  # an empty database
    line = _refusal(result)
    assert "an empty database, not at the latest migration" in line
    assert "run `flask db upgrade` first" in line


def test_flask_run_refuses_debug_mode_in_production(instance):
    port = _free_port()
    result = _run(_flask("run", "--debug", "--port", str(port)), _env(instance))
    assert "debug mode is on" in _refusal(result)
    result = _run(_flask("run", "--port", str(port)), _env(instance, FLASK_DEBUG="1"))
    assert "debug mode is on" in _refusal(result)


def test_production_setup_never_loads_the_demo(instance):
    setup = _run(_flask("setup"), _env(instance))
    assert setup.returncode == 0, setup.stderr
    assert "the demo organisation is not loaded" in setup.stdout
    assert "demo-password" not in setup.stdout
    import sqlite3

    with sqlite3.connect(instance / "reviews.db") as conn:
        assert conn.execute("SELECT count(*) FROM person").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM competency").fetchone()[0] > 0

    demo = _run(_flask("demo"), _env(instance))
    assert demo.returncode == 1
    assert demo.stderr.strip().splitlines() == [
        "Error: the demo organisation is not loaded in production: "
        "its accounts share a published password"
    ]


def test_the_worker_refuses_an_unmigrated_database(tmp_path):
    result = _run(_flask("worker", "--burst"), _env(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0"))
    assert result.returncode == 1
    assert "not at the latest migration" in result.stderr.strip().splitlines()[-1]


def test_a_migrated_production_start_serves(instance):
    """The refusals refuse only what they should: with everything right, gunicorn answers
    /healthz with the migration state."""
    import http.client
    import json
    import time

    env = _env(instance)
    log = instance / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            conn = http.client.HTTPConnection("127.0.0.1", int(env["PORT"]), timeout=2)
            try:
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                body = json.loads(response.read())
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer:\n" + log.read_text()
                time.sleep(0.3)
            finally:
                conn.close()
        assert response.status == 200
        assert body["migrations"]["up_to_date"] is True
    finally:
        process.terminate()
        process.wait(30)
