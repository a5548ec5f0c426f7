"""The bulk growth-plan ZIP: built by a job, with progress, scoped, atomic, on RQ too."""

from __future__ import annotations

import io
import os
import uuid
import zipfile

import pytest
from conftest import TEST_REDIS_URL, csrf_token, redis_or_skip
from cycle_helpers import advance, launched_cycle
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import func, select, update
from worker_helpers import ROOT, worker_command, worker_env

from reviews.calibration import operations as calibration_ops
from reviews.cycles.models import Assessment, Cycle, PartKind, PartState, Potential, Review
from reviews.cycles.queries import org_manager_ids
from reviews.cycles.workflow import CycleState
from reviews.demo import DEMO_PASSWORD, build_synthetic_org
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.growth.models import GrowthPlan
from reviews.jobs import operations as jobs_ops
from reviews.jobs.models import Job, JobState
from reviews.jobs.tasks import export_dir, run_job
from reviews.people.models import Person


def _released_org(size: int) -> Cycle:
    """A synthetic org of `size` people whose cycle is released with a plan for each."""
    build_synthetic_org(size)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    ratings = dict.fromkeys(db.session.scalars(select(Competency.key)), 2)
    db.session.execute(
        update(Assessment)
        .where(Assessment.kind == PartKind.MANAGER)
        .values(
            state=PartState.SUBMITTED,
            overall_rating=3,
            potential=Potential.MEDIUM,
            ratings=ratings,
            submitted_at=func.now(),
        )
    )
    db.session.commit()
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        calibration_ops.finalise_uncalibrated(hr, cycle)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    return cycle


def _client(app, email: str):
    client = app.test_client()
    token = csrf_token(client)
    assert (
        client.post(
            "/auth/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}
        ).status_code
        == 302
    )
    client.csrf = csrf_token(client, "/")
    return client


def _zip_of(client, cycle: Cycle) -> tuple[Job, zipfile.ZipFile]:
    started = client.post(f"/cycles/{cycle.id}/plans.zip", data={"csrf_token": client.csrf})
    assert started.status_code == 302
    page = client.get(started.headers["Location"])
    assert page.status_code == 200
    job = db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert job.state == JobState.DONE, job.error
    assert "Download the ZIP" in page.get_data(as_text=True)
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    # Slugged like every export (issue 20): no spaces from the cycle's name.
    name = "-".join(cycle.name.lower().split()) + "-growth-plans.zip"
    assert f"filename={name}" in download.headers["Content-Disposition"]
    data = download.data
    download.close()
    return job, zipfile.ZipFile(io.BytesIO(data))


def test_bulk_zip_of_every_plan_of_a_cycle(app):
    """60 plans: more than pdfs.TASKS_PER_WORKER for each of the two workers, so workers are
    replaced mid-job; the benchmark builds the ZIP of a whole large cycle."""
    cycle = _released_org(62)  # HR (no level) and the director (no manager) get no plan
    plans = db.session.scalar(select(func.count()).select_from(GrowthPlan))
    assert plans == 60
    job, archive = _zip_of(_client(app, "hr@example.com"), cycle)
    assert (job.total, job.done) == (60, 60)
    assert job.heartbeat_at is not None
    names = archive.namelist()
    assert len(names) == 60
    subjects = {r.subject.name for r in db.session.scalars(select(Review).join(GrowthPlan))}
    for name in names:
        pdf = archive.read(name)
        assert pdf.startswith(b"%PDF")
        first = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
        assert any(subject in first for subject in subjects), name
    # Nothing half-written is left next to the finished archive.
    assert not list(export_dir(current_app).glob("*.part"))


def test_a_managers_zip_holds_only_their_org(app):
    cycle = _released_org(60)
    em = db.session.scalar(select(Person).where(Person.email == "em@example.com"))
    expected = set(
        db.session.scalars(
            select(Person.name)
            .join(Review, Review.subject_id == Person.id)
            .join(GrowthPlan, GrowthPlan.review_id == Review.id)
            .where(Review.manager_id.in_(org_manager_ids(em.id)))
        )
    )
    assert 0 < len(expected) < 59
    job, archive = _zip_of(_client(app, "em@example.com"), cycle)
    assert job.total == len(expected)
    found = set()
    for name in archive.namelist():
        text = PdfReader(io.BytesIO(archive.read(name))).pages[0].extract_text()
        found |= {n for n in expected if n in text}
    assert found == expected
    # Someone else cannot see or download the job, nor start one without reports.
    leaf = db.session.scalar(
        select(Person)
        .where(
            Person.level_id.is_not(None),
            ~Person.id.in_(select(Person.manager_id).where(Person.manager_id.is_not(None))),
        )
        .limit(1)
    )
    dev = _client(app, leaf.email)
    assert dev.get(f"/jobs/{job.id}").status_code == 403
    assert dev.get(f"/jobs/{job.id}/download").status_code == 403
    assert (
        dev.post(f"/cycles/{cycle.id}/plans.zip", data={"csrf_token": dev.csrf}).status_code == 403
    )


def test_a_failed_job_leaves_no_archive_and_can_be_retried(app, monkeypatch):
    cycle = _released_org(12)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    with current_app.test_request_context():
        job = jobs_ops.start_plans_zip(hr, cycle, None)
        db.session.commit()

    def broken(_args):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr("reviews.jobs.pdfs._render", broken)
    with pytest.raises(RuntimeError):
        run_job(job.id, workers=1)
    db.session.refresh(job)
    assert job.state == JobState.FAILED
    assert "renderer crashed" in job.error
    folder = export_dir(current_app)
    assert not list(folder.glob(f"plans-{job.id}-*"))
    monkeypatch.undo()
    with current_app.test_request_context():
        jobs_ops.retry(hr, job)
        db.session.commit()
    run_job(job.id, workers=1)
    db.session.refresh(job)
    assert job.state == JobState.DONE
    assert zipfile.ZipFile(folder / job.file_name).testzip() is None


def test_the_job_runs_on_an_rq_worker(app):
    from rq import Queue, SimpleWorker

    url = TEST_REDIS_URL
    connection = redis_or_skip(url)
    cycle = _released_org(10)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    # a queue of its own: a run on the other database may be using the default one
    name = f"rq-test-{uuid.uuid4().hex[:8]}"
    queue = Queue(name, connection=connection)
    current_app.config.update(REDIS_URL=url, JOBS_QUEUE=name)
    try:
        with current_app.test_request_context():
            job = jobs_ops.start_plans_zip(hr, cycle, None)
            db.session.commit()
            jobs_ops.enqueue(job.id)
        assert db.session.get(Job, job.id).state == JobState.QUEUED  # waits for a worker
        assert queue.count == 1
        SimpleWorker([queue], connection=connection).work(burst=True)
    finally:
        current_app.config["REDIS_URL"] = None
        queue.delete(delete_jobs=True)
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE, job.error
    assert job.done == job.total == db.session.scalar(select(func.count()).select_from(GrowthPlan))
    assert job.total > 0


def _descendants(pid: int) -> set[int]:
    """Every living process under `pid` (zombies, already dead, are not counted)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    living = set()
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] != "Z":
                    living.add(pid)
        except OSError:
            pass
    return living


def test_a_killed_workers_job_fails_within_a_minute_leaves_no_process_and_can_be_retried(
    app, tmp_path
):
    import signal
    import subprocess
    import time

    url = TEST_REDIS_URL
    connection = redis_or_skip(url)
    cycle = _released_org(12)
    queue = f"kill-test-{uuid.uuid4().hex[:8]}"
    current_app.config.update(REDIS_URL=url, JOBS_QUEUE=queue, JOB_HEARTBEAT_SECONDS=0.5)
    env = worker_env(app, queue, PDF_WORKERS="2", JOB_HEARTBEAT_SECONDS="0.5")
    # The schedule has its own tests (test_mail_delivery); this one is about the kill.
    flask = worker_command("--no-schedule")
    client = _client(app, "hr@example.com")
    started = client.post(f"/cycles/{cycle.id}/plans.zip", data={"csrf_token": client.csrf})
    job_path = started.headers["Location"]
    job_id = int(job_path.rsplit("/", 1)[1])
    with (tmp_path / "worker.log").open("wb") as log:
        worker = subprocess.Popen(flask, cwd=ROOT, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        processes: set[int] = set()
        while True:  # running, with its PDF processes started
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            db.session.commit()
            processes = _descendants(worker.pid)
            if job.state == JobState.RUNNING and len(processes) >= 4:  # horse, server, 2 PDFs
                break
            assert job.state != JobState.DONE, "the job ended before the test could kill it"
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        killed_at = time.monotonic()
        while _alive(processes) and time.monotonic() - killed_at < 15:
            time.sleep(0.1)
        assert not _alive(processes), "the worker's children outlived it"

        while True:  # failed by the job page once the heartbeats stopped
            page = client.get(job_path).get_data(as_text=True)
            if "The job failed" in page:
                break
            assert time.monotonic() - killed_at < 60, page
            time.sleep(0.5)
        assert "The worker running this job stopped" in page
        assert "Retry" in page

        retried = client.post(f"{job_path}/retry", data={"csrf_token": client.csrf})
        assert retried.status_code == 302
        finished = subprocess.run(
            [*flask, "--burst"], cwd=ROOT, env=env, capture_output=True, timeout=180, check=False
        )
        assert finished.returncode == 0, finished.stderr
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        assert job.state == JobState.DONE, job.error
        assert job.total > 0
        assert job.done == job.total
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(30)
        current_app.config.update(REDIS_URL=None)
        connection.delete(f"rq:queue:{queue}")


def test_a_long_queued_job_is_stalled_only_when_no_worker_is_alive(app):
    """Queued for over ten minutes, a job whose queue has a live worker is waiting its
    turn behind others, not stalled: no alarm, and no retry that would queue it twice.
    With no worker alive, or Redis not answering, the page says so and offers a retry."""
    from datetime import timedelta

    from rq import Queue, Worker

    from reviews.db import utcnow
    from reviews.errors import PhaseClosed

    connection = redis_or_skip(TEST_REDIS_URL)
    cycle = _released_org(10)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    queue_name = f"stall-test-{uuid.uuid4().hex[:8]}"
    current_app.config.update(REDIS_URL=TEST_REDIS_URL, JOBS_QUEUE=queue_name)
    worker = Worker([Queue(queue_name, connection=connection)], connection=connection)
    try:
        with current_app.test_request_context():
            job = jobs_ops.start_plans_zip(hr, cycle, None)
        job.created_at = job.heartbeat_at = utcnow() - timedelta(minutes=11)
        db.session.commit()
        client = _client(app, "hr@example.com")
        assert jobs_ops.stalled(job)  # nobody listens on the queue
        assert "No worker has taken the job yet" in client.get(f"/jobs/{job.id}").get_data(
            as_text=True
        )

        worker.register_birth()  # alive, busy elsewhere
        assert jobs_ops.live_workers() == 1
        assert not jobs_ops.stalled(job)
        page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
        assert "Waiting for a worker" in page
        assert "No worker has taken" not in page
        with current_app.test_request_context(), pytest.raises(PhaseClosed):
            jobs_ops.retry(hr, job)

        worker.register_death()
        assert jobs_ops.live_workers() == 0
        assert jobs_ops.stalled(job)
        current_app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing answers
        assert jobs_ops.stalled(job)
        with current_app.test_request_context():
            jobs_ops.retry(hr, job)
        assert job.state == JobState.QUEUED
        assert not jobs_ops.stalled(job)  # queued again just now
    finally:
        current_app.config.update(REDIS_URL=None)
        worker.register_death()
