"""Faults: a database error at any statement of launch, calibration finish or release
leaves every row as it was; a killed bulk job leaves no archive and can be retried;
two processes writing one SQLite file lose nothing while a third reads beside them."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import zipfile
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import PG_URL, Client, csrf_token, sign_in
from cycle_helpers import cycle_fields
from flask import current_app
from populated import contents, cycle_in
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError

from reviews import create_app
from reviews.audit.models import AuditEvent
from reviews.cycles import operations as cycle_ops
from reviews.cycles.workflow import CycleState
from reviews.db import utcnow
from reviews.extensions import db
from reviews.growth.models import GrowthPlan
from reviews.jobs import operations as jobs_ops
from reviews.jobs.models import Job, JobState
from reviews.jobs.tasks import export_dir
from reviews.people.models import Person


class InjectedFault(Exception):
    pass


def _fail_at(statement_number: int):
    """A cursor hook that raises a database error on the Nth data statement."""
    seen = [0]
    failed: dict[int, str] = {}

    def before(conn, cursor, statement, *args):
        if statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK")):
            return
        seen[0] += 1
        if seen[0] == statement_number:
            failed[statement_number] = statement
            raise OperationalError(statement, {}, InjectedFault("disk full (injected)"))

    return before, seen, failed


@pytest.fixture
def client_as(app_config):
    """A client of an app that answers 500 like production instead of raising."""
    apps = []

    def make(email: str) -> Client:
        app = create_app({**app_config, "PROPAGATE_EXCEPTIONS": False})
        app.test_client_class = Client
        apps.append(app)
        client = app.test_client()
        assert sign_in(client, email).status_code == 302
        client.csrf = csrf_token(client, "/")
        return client

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _every_statement_fails_cleanly(client_as, hr_email: str, url: str, data: dict, done) -> int:
    """POST `url` once per statement it runs, failing at that statement: each attempt
    answers 500 and changes nothing; the attempt past the last statement succeeds."""
    client = client_as(hr_email)
    with client.application.app_context():
        engine = db.engine  # the client's app has an engine of its own
    before = contents()
    for n in range(1, 200):
        hook, seen, failed = _fail_at(n)
        event.listen(engine, "before_cursor_execute", hook)
        try:
            response = client.post(url, data={**data, "csrf_token": client.csrf})
        finally:
            event.remove(engine, "before_cursor_execute", hook)
        if seen[0] < n:  # the request ran fewer statements: it went through untouched
            assert response.status_code in (302, 303), response.get_data(as_text=True)
            db.session.expire_all()
            assert done(), "the unfailed attempt did its work"
            return n - 1
        assert response.status_code == 500, (n, response.status_code)
        assert "Something went wrong" in response.get_data(as_text=True)
        if contents() != before:
            # Only a read after the commit (rendering the redirect) may fail once the
            # work is in; then all of it must be in.
            db.session.expire_all()
            assert done(), f"a failure at statement {n} left a partial change"
            assert failed[n].lstrip().upper().startswith("SELECT"), failed[n]
            return n - 1
    raise AssertionError("never completed")


def test_a_failure_anywhere_in_launch_changes_nothing(app, client_as, make_person):
    org = cycle_in(make_person, CycleState.SELF_REVIEW)
    hr = org["hr"]
    with current_app.test_request_context():
        cycle = cycle_ops.create_cycle(hr, cycle_fields(name="Next half"))
        db.session.commit()
    statements = _every_statement_fails_cleanly(
        client_as,
        hr.email,
        f"/cycles/{cycle.id}/advance",
        {"target": "self_review"},
        lambda: db.session.get(type(cycle), cycle.id).state == CycleState.SELF_REVIEW,
    )
    assert statements >= 5  # the launch writes reviews, parts, notifications, audit


def test_a_failure_anywhere_in_calibration_finish_changes_nothing(app, client_as, make_person):
    org = cycle_in(make_person, CycleState.CALIBRATION)
    session = org["session"]
    _every_statement_fails_cleanly(
        client_as,
        org["hr"].email,
        f"/calibration/{session.id}/finish",
        {},
        lambda: db.session.get(type(session), session.id).state.value == "finished",
    )


def test_a_failure_anywhere_in_release_changes_nothing(app, client_as, make_person):
    org = cycle_in(make_person, CycleState.CALIBRATION)
    from reviews.calibration import operations as calibration_ops

    with current_app.test_request_context():
        calibration_ops.finish_session(org["hr"], org["session"])
        db.session.commit()
    cycle = org["cycle"]
    _every_statement_fails_cleanly(
        client_as,
        org["hr"].email,
        f"/cycles/{cycle.id}/advance",
        {"target": "released"},
        lambda: db.session.scalar(select(func.count()).select_from(GrowthPlan)) > 0,
    )


# --- a bulk job killed mid-way ----------------------------------------------------------


def _run_slow_job(config: dict, job_id: int) -> None:
    """In a child process: run the job with a renderer slow enough to be killed."""
    import reviews.jobs.pdfs as pdfs
    import reviews.jobs.tasks as tasks

    real = pdfs._render

    def slow(args):
        time.sleep(0.5)
        return real(args)

    pdfs._render = slow
    app = create_app(config)
    with app.app_context():
        tasks.run_job(job_id, workers=1)


def test_a_killed_job_leaves_no_archive_and_can_be_retried(app, app_config, client_as, make_person):
    org = cycle_in(make_person, CycleState.RELEASED)
    hr = org["hr"]
    plans = db.session.scalar(select(func.count()).select_from(GrowthPlan))
    assert plans >= 3
    with current_app.test_request_context():
        job_id = jobs_ops.start_plans_zip(hr, org["cycle"], None).id
        db.session.commit()  # and no more reads here: on SQLite they would hold the lock
    folder = export_dir(current_app)
    child = multiprocessing.get_context("spawn").Process(
        target=_run_slow_job, args=(app_config, job_id)
    )
    child.start()
    deadline = time.monotonic() + 60
    while not list(folder.glob(f"plans-{job_id}-*.part")):
        assert time.monotonic() < deadline, "the job never started writing"
        assert child.is_alive(), "the job ended before it could be killed"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    assert child.exitcode == -signal.SIGKILL

    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.RUNNING  # what a dead worker leaves behind
    assert job.file_name is None
    assert not list(folder.glob("*.zip")), "a half-written archive is offered"
    client = client_as(hr.email)
    assert client.get(f"/jobs/{job.id}/download").status_code == 404

    # Once its heartbeat is old the job counts as failed and HR retries it.
    db.session.execute(
        update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    retried = client.post(f"/jobs/{job.id}/retry", data={"csrf_token": client.csrf})
    assert retried.status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE, job.error
    archive = zipfile.ZipFile(folder / job.file_name)
    assert archive.testzip() is None
    assert len(archive.namelist()) == plans
    assert [p.name for p in folder.iterdir()] == [job.file_name]  # the killed run's part is gone
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    download.close()


# --- SQLite with two writer processes and a reader --------------------------------------


def _writer(config: dict, person_id: int, rounds: int, start, method: str | None) -> None:
    app = create_app(config)
    with app.app_context():
        start.wait(timeout=30)
        for n in range(rounds):
            # A read-modify-write (lost under deferred transactions) and an insert, in a
            # form post's request or, as the CLI and jobs run, outside any request.
            with app.test_request_context(method=method) if method else nullcontext():
                person = db.session.get(Person, person_id)
                person.session_version = person.session_version + 1
                db.session.add(AuditEvent(event="test.write", details={"pid": os.getpid(), "n": n}))
                db.session.commit()
        db.engine.dispose()


def _reader(config: dict, person_id: int, rounds: int, start) -> None:
    """Page views beside the writers: they read without the write lock, never fail,
    and never see the count go back."""
    app = create_app(config)
    with app.app_context():
        start.wait(timeout=30)
        seen: list[int] = []
        for _ in range(rounds):
            with app.test_request_context(method="GET"):
                query = select(Person.session_version).where(Person.id == person_id)
                seen.append(db.session.scalar(query))
                db.session.commit()
        assert seen == sorted(seen)
        db.engine.dispose()


@pytest.mark.skipif(bool(PG_URL), reason="about SQLite's locking; PostgreSQL has its own tests")
def test_two_writer_processes_on_sqlite_lose_nothing(app, app_config, make_person):
    person = make_person()
    person_id, start_version = person.id, person.session_version
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    db.session.commit()  # and no reads until the writers finish: they would hold the lock
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(3)
    rounds = 150
    processes = [
        ctx.Process(target=_writer, args=(app_config, person_id, rounds, start, method))
        for method in ("POST", None)
    ]
    processes.append(ctx.Process(target=_reader, args=(app_config, person_id, 2 * rounds, start)))
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
    assert [p.exitcode for p in processes] == [0, 0, 0]  # no "database is locked"
    db.session.expire_all()
    assert db.session.get(Person, person_id).session_version == start_version + 2 * rounds
    events = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.event == "test.write")
    )
    assert events == 2 * rounds
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before + 2 * rounds
    mode = db.session.connection().exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    assert Path(app_config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).exists()
