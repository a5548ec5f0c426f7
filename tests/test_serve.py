"""`make serve` in production mode: gunicorn and the RQ worker on PostgreSQL and Redis.

Runs in the PostgreSQL pass of the suite (TEST_DATABASE_URL), in a database of
its own, and needs Redis on 127.0.0.1:6379. The server sits behind a pretend
reverse proxy (TRUSTED_PROXIES=1) that says the original request was HTTPS.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import socket
import subprocess
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PRODUCTION_SECRET

from reviews.demo import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
REDIS_URL = "redis://127.0.0.1:6379/0"

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="make serve is tested against PostgreSQL: set TEST_DATABASE_URL"
)


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not answering on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def fresh_database() -> Iterator[str]:
    import psycopg

    assert PG_URL
    name = f"serve_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Browser:
    """Just enough of a browser: one cookie jar, a proxy's headers, no redirects followed.

    The session cookie is Secure in production; this client sends it over the
    loopback's plain HTTP as the proxy would over its own.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "reviews.example.com",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            from urllib.parse import urlencode

            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Flask-WTF checks the referrer on HTTPS posts, as a browser sends it.
            headers["Referer"] = f"https://reviews.example.com{path}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response

    def csrf(self, path: str) -> str:
        page = self.request("GET", path).body.decode()
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, page[:500]
        return match.group(1)


def _wait_for(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.3)
    pytest.fail("make serve did not answer within a minute:\n" + log.read_text())


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_serve_signs_in_and_runs_a_bulk_job(fresh_database: str, tmp_path: Path) -> None:
    _redis_or_skip()
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REVIEWS_", "FLASK_"))},
        "DATABASE_URL": fresh_database,
        "REDIS_URL": REDIS_URL,
        "JOBS_QUEUE": f"serve-test-{uuid.uuid4().hex[:8]}",  # no other worker takes our job
        "SECRET_KEY": PRODUCTION_SECRET,
        "REVIEWS_INSTANCE_PATH": str(tmp_path),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "PDF_WORKERS": "1",
        "TRUSTED_PROXIES": "1",
    }
    flask = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi"]
    # Production never loads the demo (its accounts share a published password): the
    # demo is loaded as in development, into the database production then serves.
    for command, profile in ((["db", "upgrade"], "production"), (["setup"], "development")):
        subprocess.run(
            [*flask, *command],
            cwd=ROOT,
            env={**env, "REVIEWS_ENV": profile},
            check=True,
            capture_output=True,
        )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        # -o: the test runs inside the installed venv; never reinstall it from here.
        process = subprocess.Popen(
            ["make", "-s", "-o", ".venv/.installed", "serve"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pgid = process.pid
    try:
        _wait_for(port, process, log)
        browser = Browser(port)

        token = browser.csrf("/auth/login")
        signed_in = browser.request(
            "POST",
            "/auth/login",
            {"email": "hr@example.com", "password": DEMO_PASSWORD, "csrf_token": token},
        )
        assert signed_in.status == 302, signed_in.body[:500]
        # It passed Flask-WTF's HTTPS referrer check: ProxyFix gave the proxy's scheme and host.
        assert signed_in.headers["Location"] == "/"
        assert "Secure" in signed_in.headers["Set-Cookie"]
        home = browser.request("GET", "/")
        assert home.status == 200
        assert "Strict-Transport-Security" in home.headers
        assert "Sign out" in home.body.decode()

        import psycopg

        with psycopg.connect(fresh_database) as conn:
            cycle_id, plans = conn.execute(
                "SELECT c.id, count(g.id) FROM cycle c JOIN review r ON r.cycle_id = c.id "
                "JOIN growth_plan g ON g.review_id = r.id "
                "WHERE c.state IN ('released', 'closed') GROUP BY c.id"
            ).fetchone()
            # The sign-in is recorded with the client's address, not the proxy's.
            (sign_in,) = conn.execute(
                "SELECT details FROM audit_event WHERE event = 'auth.signed_in'"
            ).fetchone()
        assert plans > 0
        assert sign_in["ip"] == "203.0.113.9"

        started = browser.request(
            "POST", f"/cycles/{cycle_id}/plans.zip", {"csrf_token": browser.csrf("/")}
        )
        assert started.status == 302, started.body[:500]
        job_path = started.headers["Location"]
        deadline = time.monotonic() + 180
        while True:
            page = browser.request("GET", job_path).body.decode()
            if "Download the ZIP" in page:
                break
            body = page.split("</head>", 1)[-1]  # the page's texts, not the script's
            assert "failed" not in body, page
            assert time.monotonic() < deadline, (
                "the worker did not finish the ZIP:\n" + (log.read_text()[-3000:])
            )
            time.sleep(1)
        download = browser.request("GET", job_path + "/download")
        assert download.status == 200
        archive = zipfile.ZipFile(io.BytesIO(download.body))
        assert len(archive.namelist()) == plans
        assert all(archive.read(name).startswith(b"%PDF") for name in archive.namelist())
    finally:
        os.killpg(pgid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.2)
    stray = _group_alive(pgid)
    if stray:
        os.killpg(pgid, signal.SIGKILL)
    output = log.read_text()
    assert not stray, "gunicorn or the worker outlived make serve:\n" + output
    assert "Shutting down: Master" in output, output
    assert "Warm shut down requested" in output or "Worker" in output, output
