"""SQLite: page views read without the write lock, every other transaction takes it
up front, and a page view that writes after all upgrades its transaction first."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from typing import Any

import pytest
from between_helpers import client_for
from conftest import PG_URL, post
from flask import Flask, has_request_context, request
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError

from reviews.api.models import ApiToken
from reviews.api.operations import create_token
from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.people.models import Person, Role

pytestmark = pytest.mark.skipif(
    bool(PG_URL), reason="about SQLite's locking; PostgreSQL has its own transactions"
)


def database_file(app: Flask) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


@contextmanager
def after_first_read(method: str | None, probe: Callable[[], None]) -> Iterator[None]:
    """Call `probe` once, right after the first SELECT of a request with that method
    (None: outside any request), while the request's transaction is open."""
    done = threading.Event()

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if done.is_set() or not statement.lstrip().upper().startswith("SELECT"):
            return
        if (request.method if has_request_context() else None) != method:
            return
        done.set()
        probe()

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    assert done.is_set(), "the probe never ran"


def write_elsewhere(app: Flask, person_id: int, outcome: list[str]) -> Callable[[], None]:
    """A second connection that commits a write at once, or notes why it could not."""

    def probe() -> None:
        other = sqlite3.connect(database_file(app), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("UPDATE person SET name = 'Written elsewhere' WHERE id = ?", (person_id,))
            other.execute("COMMIT")
            outcome.append("written")
        except sqlite3.OperationalError as exc:
            outcome.append(str(exc))
        finally:
            other.close()

    return probe


def on_disk(app: Flask, person_id: int, columns: str = "name") -> Any:
    with closing(sqlite3.connect(database_file(app))) as other:
        row = other.execute(f"SELECT {columns} FROM person WHERE id = ?", (person_id,)).fetchone()
    return row[0] if len(row) == 1 else row


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_page_view_leaves_the_write_lock_free(app, make_person, method):
    dev, bystander = make_person(), make_person()
    client = client_for(app, dev)
    outcome: list[str] = []
    with after_first_read(method, write_elsewhere(app, bystander.id, outcome)):
        page = client.open("/", method=method)
    assert page.status_code == 200
    assert outcome == ["written"]  # not "database is locked": the page held no write lock
    assert on_disk(app, bystander.id) == "Written elsewhere"


@pytest.mark.parametrize("request_method", ["POST", None])
def test_everything_else_takes_the_write_lock_up_front(app, make_person, request_method):
    """A form post, and work outside any request (CLI, jobs), lock before their first read,
    so concurrent read-modify-writes are never lost."""
    dev, bystander = make_person(), make_person()
    client = client_for(app, dev)
    outcome: list[str] = []
    with after_first_read(request_method, write_elsewhere(app, bystander.id, outcome)):
        if request_method == "POST":
            assert post(client, "/auth/logout").status_code == 302
        else:
            db.session.scalar(select(func.count()).select_from(Person))
            db.session.commit()
    assert outcome == ["database is locked"]
    assert on_disk(app, bystander.id) != "Written elsewhere"


def test_an_api_read_with_a_token_records_its_use_over_a_newer_snapshot(app, make_person, client):
    """The token's last use is written after the request read the token: another
    connection commits in between, so the read snapshot is stale. Without the upgrade
    to BEGIN IMMEDIATE SQLite refuses that write at once (SQLITE_BUSY_SNAPSHOT)."""
    dev, bystander = make_person(), make_person()
    _token, secret = create_token(None, dev, "HRIS")
    db.session.commit()
    outcome: list[str] = []
    with after_first_read("GET", write_elsewhere(app, bystander.id, outcome)):
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200, me.get_data(as_text=True)
    assert me.get_json()["email"] == dev.email
    assert outcome == ["written"]
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None
    assert on_disk(app, bystander.id) == "Written elsewhere"


def test_an_export_records_its_audit_event_over_a_newer_snapshot(app, make_person):
    hr, bystander = make_person(role=Role.HR), make_person()
    client = client_for(app, hr)
    exports = (
        select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "export.audit_log")
    )
    assert db.session.scalar(exports) == 0
    outcome: list[str] = []
    with after_first_read("GET", write_elsewhere(app, bystander.id, outcome)):
        response = client.get("/audit.csv")
        body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert outcome == ["written"]
    assert "export.audit_log" in body  # recorded, committed, then the log is read
    db.session.expire_all()
    assert db.session.scalar(exports) == 1
    assert on_disk(app, bystander.id) == "Written elsewhere"


def test_two_threads_serve_pages_side_by_side(app, make_person):
    """Both requests sit inside their transactions at the same moment; with the write
    lock taken by every transaction the second would wait for the first, which waits
    for the second."""
    people = [make_person(), make_person()]
    clients = [client_for(app, p) for p in people]
    together = threading.Barrier(2)
    waiting: set[int] = set()
    statuses: list[int] = []
    errors: list[str] = []

    def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        me = threading.get_ident()
        if has_request_context() and me not in waiting and statement.startswith("SELECT"):
            waiting.add(me)
            together.wait(timeout=5)

    def serve(client: Any) -> None:
        with app.app_context():
            try:
                for _ in range(5):
                    statuses.append(client.get("/").status_code)
                    statuses.append(client.get("/people").status_code)
            except Exception as exc:
                errors.append(repr(exc))
            finally:
                db.session.remove()

    db.session.commit()

    event.listen(db.engine, "after_cursor_execute", after)
    try:
        threads = [threading.Thread(target=serve, args=(c,)) for c in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        event.remove(db.engine, "after_cursor_execute", after)
    assert errors == []
    assert statuses == [200] * 20
    assert len(waiting) == 2


def test_a_savepoint_in_a_page_view_stays_a_savepoint(app, make_person):
    """SAVEPOINT upgrades the transaction too: upgrading at the first write inside it
    would COMMIT, ending the savepoint along with the read transaction."""
    dev, bystander = make_person("Dev"), make_person()
    dev_id, bystander_id = dev.id, bystander.id
    db.session.commit()
    outcome: list[str] = []
    with app.app_context(), app.test_request_context("/", method="GET"):
        assert db.session.get(Person, dev_id).name == "Dev"
        write_elsewhere(app, bystander_id, outcome)()  # the read snapshot is now stale
        person = db.session.get(Person, dev_id)
        nested = db.session.begin_nested()
        person.name = "Undone"
        db.session.flush()
        nested.rollback()
        assert person.name == "Dev"
        person.email = "kept@example.com"
        db.session.commit()
        db.session.remove()
    assert outcome == ["written"]
    assert on_disk(app, dev_id, "name, email") == ("Dev", "kept@example.com")
    assert on_disk(app, bystander_id) == "Written elsewhere"


def test_an_upgrade_that_times_out_leaves_a_transaction_open(app, make_person):
    """Busy past the timeout, the write fails as any locked write does, and the
    connection stays inside a transaction: a later write still takes the lock first
    and the transaction's end still commits or rolls back, never autocommit."""
    dev = make_person("Dev")
    dev_id = dev.id
    db.session.commit()
    holder = sqlite3.connect(database_file(app), timeout=0, isolation_level=None)
    rename = update(Person).where(Person.id == dev_id)
    try:
        with app.app_context(), app.test_request_context("/", method="GET"):
            db.session.connection().exec_driver_sql("PRAGMA busy_timeout=0")
            assert db.session.get(Person, dev_id).name == "Dev"
            holder.execute("BEGIN IMMEDIATE")
            with pytest.raises(OperationalError, match="database is locked"):
                db.session.execute(rename.values(name="Never"))
            assert db.session.connection().connection.dbapi_connection.in_transaction
            holder.execute("ROLLBACK")
            db.session.execute(rename.values(name="Renamed"))
            assert on_disk(app, dev_id) == "Dev"  # not autocommitted
            db.session.commit()
            db.session.connection().exec_driver_sql("PRAGMA busy_timeout=10000")
            db.session.remove()
    finally:
        holder.close()
    assert on_disk(app, dev_id) == "Renamed"


def test_a_peer_form_opened_twice_at_once_gives_both_the_same_draft(app, make_person):
    """The first view of a peer request creates the peer's draft. When another request
    (a second tab) creates it between this one's read and its insert, the page uses
    that draft instead of failing on the unique constraint."""
    from cycle_helpers import advance, approved_peer, launched_cycle, review_of

    from reviews.cycles.workflow import CycleState

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bea Boss", role=Role.MANAGER, level_key="engineering-manager")
    subject = make_person("Sam Subject", manager=boss)
    peer = make_person("Pia Peer", manager=boss)
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW)
    peer_request = approved_peer(boss, review_of(cycle, subject), peer)
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    request_id, review_id = peer_request.id, peer_request.review_id
    web = client_for(app, peer)

    def other_tab() -> None:
        other = sqlite3.connect(database_file(app), timeout=5, isolation_level=None)
        try:
            other.execute(
                "INSERT INTO assessment (review_id, kind, author_id, peer_request_id, state,"
                " ratings, comments, answers, reopened, version, created_at, updated_at)"
                " VALUES (?, 'peer', ?, ?, 'draft', '{}', '{}', '{}', 0, 1,"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                (review_id, peer.id, request_id),
            )
        finally:
            other.close()

    with after_first_read("GET", other_tab):
        page = web.get(f"/requests/{request_id}")
    assert page.status_code == 200
    assert "Sam Subject" in page.get_data(as_text=True)
    with closing(sqlite3.connect(database_file(app))) as other:
        drafts = other.execute(
            "SELECT count(*) FROM assessment WHERE peer_request_id = ?", (request_id,)
        ).fetchone()[0]
    assert drafts == 1
