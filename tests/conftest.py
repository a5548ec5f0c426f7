"""Fixtures: one fresh database per test, on SQLite or (TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, event, select, text

from reviews import create_app
from reviews.extensions import db
from reviews.framework.models import Level
from reviews.framework.operations import ensure_default_framework
from reviews.people.models import Person, Role

PG_URL = os.environ.get("TEST_DATABASE_URL")

# Fuzz tests (tests/test_fuzz.py): a few fixed examples per form in `make test` so CI
# stays quick and repeatable; HYPOTHESIS_PROFILE=fuzz searches wider, at random.
_FUZZ_HEALTH = [
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
]
settings.register_profile(
    "ci",
    max_examples=4,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_FUZZ_HEALTH,
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")),
    deadline=None,
    database=None,
    suppress_health_check=_FUZZ_HEALTH,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
PASSWORD = "correct horse battery"
# A key production accepts (reviews.config.check_production_secret).
PRODUCTION_SECRET = "5b0c9e1f7a3d48e2b6c1d0f9a8e7b6c5d4e3f2a1"


def _pg_url() -> str:
    assert PG_URL
    return (
        PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        if PG_URL.startswith("postgresql://")
        else PG_URL
    )


def base_config(tmp: Path) -> dict[str, Any]:
    return {
        "REVIEWS_ENV": "testing",
        "SECRET_KEY": "test-secret",
        "INSTANCE_PATH": str(tmp),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "JOBS_INLINE": True,  # background jobs run in the request, so tests see them finish
        "PDF_WORKERS": 2,
        "SERVER_NAME": None,
        # Each app counts in its own memory, whatever REDIS_URL says (tests/test_security.py
        # checks the Redis storage with a key prefix of its own).
        "RATE_LIMIT_STORAGE_URL": "memory://",
    }


def stamp_latest_migration() -> None:
    """The schema comes from the models (create_all), which is what the latest migration
    builds (tests/test_migrations.py): record it, as `flask db upgrade` would."""
    from reviews.readiness import expected_revisions

    db.session.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
    for revision in expected_revisions():
        db.session.execute(
            text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": revision}
        )


class Database:
    """Hands every test a clean database holding the default framework."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.schema = f"t_{uuid.uuid4().hex[:12]}" if PG_URL else None
        if self.schema:
            engine = create_engine(_pg_url())
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            engine.dispose()
        self.template = tmp / "template.db"
        app = create_app(self.config(self.template))
        with app.app_context():
            db.create_all()
            stamp_latest_migration()
            ensure_default_framework()
            db.session.commit()
            db.engine.dispose()

    def config(self, sqlite_file: Path) -> dict[str, Any]:
        config = base_config(self.tmp)
        if self.schema:
            config["SQLALCHEMY_DATABASE_URI"] = _pg_url()
            config["SQLALCHEMY_ENGINE_OPTIONS"] = {
                "connect_args": {"options": f"-csearch_path={self.schema}"}
            }
        else:
            config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{sqlite_file}"
        return config

    def fresh(self, tmp_path: Path) -> dict[str, Any]:
        if self.schema is None:
            target = tmp_path / "test.db"
            shutil.copyfile(self.template, target)
            return {**self.config(target), "INSTANCE_PATH": str(tmp_path)}
        config = self.config(self.template)
        app = create_app(config)
        with app.app_context():
            tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            ensure_default_framework()
            db.session.commit()
            db.engine.dispose()
        return {**config, "INSTANCE_PATH": str(tmp_path)}

    def drop(self) -> None:
        if self.schema:
            engine = create_engine(_pg_url())
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = Database(tmp_path_factory.mktemp("db"))
    yield database
    database.drop()


@pytest.fixture
def app_config(database: Database, tmp_path: Path) -> dict[str, Any]:
    return database.fresh(tmp_path)


class Client(FlaskClient):
    """Each request runs in its own app context, as in production.

    The test's own session ends its transaction first (on SQLite it would hold
    the write lock) and sees the request's changes afterwards.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app(app_config)
    app.test_client_class = Client
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


def level(key: str) -> Level:
    found = db.session.scalar(select(Level).where(Level.key == key))
    assert found is not None, key
    return found


@pytest.fixture
def make_person(app: Flask) -> Callable[..., Person]:
    from reviews.auth.operations import hash_password

    counter = iter(range(1, 1_000_000))
    hashed = hash_password(PASSWORD)

    def make(
        name: str | None = None,
        *,
        email: str | None = None,
        manager: Person | None = None,
        level_key: str | None = "engineer",
        role: Role = Role.EMPLOYEE,
        password: bool = True,
        active: bool = True,
    ) -> Person:
        n = next(counter)
        person = Person(
            name=name or f"Person {n}",
            email=email or f"person{n}@example.com",
            manager=manager,
            level=level(level_key) if level_key else None,
            role=role,
            password_hash=hashed if password else None,
            active=active,
        )
        db.session.add(person)
        db.session.commit()
        return person

    return make


TOKEN = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, url: str = "/auth/login") -> str:
    page = client.get(url)
    match = TOKEN.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} ({page.status_code})"
    return match.group(1)


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Any:
    token = csrf_token(client)
    return client.post(
        "/auth/login", data={"email": email, "password": password, "csrf_token": token}
    )


@pytest.fixture
def login_as(client: FlaskClient) -> Callable[[Person], FlaskClient]:
    def login(person: Person) -> FlaskClient:
        response = sign_in(client, person.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.csrf = csrf_token(client, "/")  # type: ignore[attr-defined]
        return client

    return login


def post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST a form with the signed-in client's CSRF token."""
    return client.post(url, data={**(data or {}), "csrf_token": client.csrf}, **kw)  # type: ignore[attr-defined]


@contextmanager
def count_queries() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


@pytest.fixture
def mailbox(app: Flask) -> Iterator[Any]:
    """A real SMTP server on the loopback (tests/smtp_helpers.py), and the app mailing to it."""
    from aiosmtpd.controller import Controller
    from smtp_helpers import Mailbox, free_port

    handler = Mailbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_STARTTLS=False,
        PUBLIC_URL="https://reviews.example.com",
    )
    yield handler
    controller.stop()


TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_or_skip(url: str = TEST_REDIS_URL) -> Any:
    """A connection to the test Redis; without one the test is skipped (failed in CI)."""
    import redis

    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("Redis is not answering on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379")
    return connection


def pytest_configure(config: Any) -> None:
    """The pseudo-locale's catalog, which the tests offer (reviews.languages), is built
    from the committed template when `make catalogs` has not built it since."""
    from reviews.catalogs import build
    from reviews.languages import PSEUDO, TRANSLATIONS

    compiled = TRANSLATIONS / PSEUDO / "LC_MESSAGES" / "messages.mo"
    template = TRANSLATIONS / "messages.pot"
    if not compiled.exists() or compiled.stat().st_mtime < template.stat().st_mtime:
        build()
