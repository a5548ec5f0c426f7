"""The growth-plan ZIP in shards: one archive with every plan once, in order; one
progress bar; retries that run only what did not finish; a shard queued twice
runs once; several worker processes share one job's shards."""

from __future__ import annotations

import contextlib
import io
import itertools
import subprocess
import time
import uuid
import zipfile

from conftest import TEST_REDIS_URL, redis_or_skip
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import func, select, update
from test_jobs import _client, _released_org
from worker_helpers import ROOT, worker_command, worker_env

from reviews.cycles.models import Review
from reviews.db import utcnow
from reviews.extensions import db
from reviews.growth.models import GrowthPlan
from reviews.jobs import operations as jobs_ops
from reviews.jobs import pdfs, tasks
from reviews.jobs.models import Job, JobShard, JobState
from reviews.people.models import Person
from reviews.privacy import anonymise


def _hr() -> Person:
    return db.session.scalar(select(Person).where(Person.email == "hr@example.com"))


def _start(cycle) -> int:
    with current_app.test_request_context():
        job = jobs_ops.start_plans_zip(_hr(), cycle, None)
        db.session.commit()
        return job.id


def _shards(job_id: int) -> list[JobShard]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(JobShard).where(JobShard.job_id == job_id).order_by(JobShard.number)
        )
    )


def _counting_renders(monkeypatch, fails=lambda call: False):
    """The PDFs rendered, in order; render call number `call` (from 0) fails where
    `fails(call)` says so."""
    real = pdfs._render
    rendered: list[int] = []
    calls = {"n": 0}

    def render(args):
        call = calls["n"]
        calls["n"] += 1
        if fails(call):
            raise RuntimeError(f"cannot render plan call {call}")
        rendered.append(call)
        return real(args)

    monkeypatch.setattr(pdfs, "_render", render)
    return rendered


def test_a_job_in_shards_is_one_archive_with_every_plan_once_in_order(app):
    app.config["JOB_SHARD_SIZE"] = 3
    cycle = _released_org(12)  # 10 plans: shards of 3, 3, 3 and 1
    plans = db.session.scalar(select(func.count()).select_from(GrowthPlan))
    assert plans == 10
    job_id = _start(cycle)
    tasks.run_job(job_id, workers=1)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.DONE, job.error
    assert (job.total, job.done, job.shard_count, job.shards_done) == (10, 10, 4, 4)
    shards = _shards(job_id)
    assert [s.total for s in shards] == [3, 3, 3, 1]
    assert all(s.state == JobState.DONE and s.done == s.total for s in shards)
    # The shards cut the plans by review id, with no gap and no overlap.
    for before, after in itertools.pairwise(shards):
        assert before.last_review_id < after.first_review_id
    folder = tasks.export_dir(current_app)
    assert [p.name for p in folder.iterdir()] == [job.file_name]  # the parts are gone
    archive = zipfile.ZipFile(folder / job.file_name)
    assert archive.testzip() is None
    names = archive.namelist()
    assert [n.split("-", 1)[0] for n in names] == [f"{i:04d}" for i in range(1, 11)]
    in_order = list(
        db.session.scalars(
            select(Person.name)
            .join(Review, Review.subject_id == Person.id)
            .join(GrowthPlan, GrowthPlan.review_id == Review.id)
            .order_by(Review.id)
        )
    )
    for name, subject in zip(names, in_order, strict=True):
        text = PdfReader(io.BytesIO(archive.read(name))).pages[0].extract_text()
        assert subject in text, (name, subject)


def test_progress_is_one_bar_over_every_shard(app, monkeypatch):
    app.config["JOB_SHARD_SIZE"] = 4
    cycle = _released_org(12)
    job_id = _start(cycle)
    waiting = tasks.plan(app, job_id)
    assert len(waiting) == 3
    tasks.run_shard(waiting[0], workers=1)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.state, job.done, job.total, job.shards_done) == (JobState.RUNNING, 4, 10, 1)
    client = _client(app, "hr@example.com")
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert 'max="10" value="4"' in page
    assert "In 3 parts that the workers take in parallel: 1 done." in page
    for shard_id in waiting[1:]:
        tasks.run_shard(shard_id, workers=1)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "10 plans are ready." in page


def test_a_shard_that_fails_once_is_run_again_without_anyone_asking(app, monkeypatch):
    app.config["JOB_SHARD_SIZE"] = 4
    cycle = _released_org(12)
    rendered = _counting_renders(monkeypatch, fails=lambda call: call == 0)
    job_id = _start(cycle)
    tasks.run_job(job_id, workers=1)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.DONE, job.error
    assert (job.done, job.total) == (10, 10)
    assert len(rendered) == 10  # the first shard again, then the others
    assert [s.attempt for s in _shards(job_id)] == [2, 1, 1]


def test_a_retry_runs_only_the_shards_that_did_not_finish(app, monkeypatch):
    app.config["JOB_SHARD_SIZE"] = 4
    cycle = _released_org(12)
    # Shards of 4, 4 and 2 plans: every attempt at the last one fails.
    rendered = _counting_renders(monkeypatch, fails=lambda call: call >= 8)
    job_id = _start(cycle)
    with contextlib.suppress(RuntimeError):
        tasks.run_job(job_id, workers=1)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.FAILED
    assert "cannot render plan call 10" in job.error  # its third attempt
    assert [s.state for s in _shards(job_id)] == [JobState.DONE, JobState.DONE, JobState.FAILED]
    assert job.done == 8  # the failed shard's plans are not counted
    assert job.file_name is None
    folder = tasks.export_dir(current_app)
    assert not list(folder.glob("*.zip"))
    assert not list(folder.glob("*.part"))

    monkeypatch.undo()
    rendered = _counting_renders(monkeypatch)
    client = _client(app, "hr@example.com")
    app.config.update(JOBS_INLINE=True, PDF_WORKERS=1)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "The job failed" in page
    assert "Retry" in page
    assert client.post(f"/jobs/{job_id}/retry", data={"csrf_token": client.csrf}).status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.DONE, job.error
    assert len(rendered) == 2  # the last shard's plans only
    archive = zipfile.ZipFile(folder / job.file_name)
    assert len(archive.namelist()) == 10
    assert [p.name for p in folder.iterdir()] == [job.file_name]


def test_a_shard_queued_twice_runs_once(app, monkeypatch):
    app.config["JOB_SHARD_SIZE"] = 5
    cycle = _released_org(12)
    job_id = _start(cycle)
    first, second = tasks.plan(app, job_id)
    rendered = _counting_renders(monkeypatch)
    # A live worker holds the first shard: a second copy of it in the queue stands back.
    db.session.execute(
        update(JobShard)
        .where(JobShard.id == first)
        .values(state=JobState.RUNNING, attempt=1, heartbeat_at=utcnow())
    )
    db.session.commit()
    tasks.run_shard(first, workers=1)
    assert rendered == []
    # Its worker died (no beat for long): the copy takes it over.
    db.session.execute(
        update(JobShard)
        .where(JobShard.id == first)
        .values(heartbeat_at=utcnow().replace(year=2000))
    )
    db.session.commit()
    tasks.run_shard(first, workers=1)
    assert len(rendered) == 5
    tasks.run_shard(first, workers=1)  # done: a third copy does nothing
    assert len(rendered) == 5
    tasks.run_shard(second, workers=1)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.DONE
    assert job.done == job.total == 10
    assert len(rendered) == 10


def test_erasing_a_person_deletes_the_parts_that_hold_their_plan(app, monkeypatch):
    app.config["JOB_SHARD_SIZE"] = 4
    cycle = _released_org(12)
    job_id = _start(cycle)
    waiting = tasks.plan(app, job_id)
    tasks.run_shard(waiting[0], workers=1)
    folder = tasks.export_dir(current_app)
    assert len(list(folder.glob(f"plans-{job_id}-*.shard"))) == 1
    managers = select(Person.manager_id).where(Person.manager_id.is_not(None))
    subject = db.session.scalar(
        select(Person)
        .join(Review, Review.subject_id == Person.id)
        .join(GrowthPlan)
        .where(Person.id.not_in(managers))
        .order_by(Review.id)
    )
    subject.active = False  # a departed person
    db.session.commit()
    with current_app.test_request_context():
        anonymise(_hr(), subject)
        db.session.commit()
    assert not list(folder.iterdir())
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.FAILED
    assert "erased" in job.error
    assert _shards(job_id) == []
    # The shards left in the queue find nothing to do; a retry plans afresh.
    for shard_id in waiting[1:]:
        tasks.run_shard(shard_id, workers=1)
    app.config["JOBS_INLINE"] = True
    client = _client(app, "hr@example.com")
    assert client.post(f"/jobs/{job_id}/retry", data={"csrf_token": client.csrf}).status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.DONE, job.error
    archive = zipfile.ZipFile(folder / job.file_name)
    assert len(archive.namelist()) == job.total == 10


def test_several_worker_processes_share_one_jobs_shards(app, tmp_path):
    """Three `flask worker` processes, as on three hosts sharing the exports folder:
    each takes shards from the queue, and the archive holds every plan once."""
    connection = redis_or_skip(TEST_REDIS_URL)
    cycle = _released_org(14)  # 12 plans in 6 shards
    queue = f"shards-test-{uuid.uuid4().hex[:8]}"
    current_app.config.update(REDIS_URL=TEST_REDIS_URL, JOBS_QUEUE=queue, JOB_SHARD_SIZE=2)
    env = worker_env(app, queue, PDF_WORKERS="1", JOB_SHARD_SIZE="2")
    flask = worker_command("--no-schedule")
    workers, logs = [], []
    try:
        for n in range(3):
            log = (tmp_path / f"worker-{n}.log").open("wb")
            logs.append(log)
            workers.append(subprocess.Popen(flask, cwd=ROOT, env=env, stdout=log, stderr=log))
        from rq import Queue, Worker

        deadline = time.monotonic() + 60
        while len(Worker.all(queue=Queue(queue, connection=connection))) < 3:
            assert time.monotonic() < deadline, "the workers did not start"
            assert all(w.poll() is None for w in workers), (tmp_path / "worker-0.log").read_text()
            time.sleep(0.2)
        client = _client(app, "hr@example.com")
        started = client.post(f"/cycles/{cycle.id}/plans.zip", data={"csrf_token": client.csrf})
        job_id = int(started.headers["Location"].rsplit("/", 1)[1])
        deadline = time.monotonic() + 180
        while True:
            db.session.expire_all()
            state = db.session.get(Job, job_id).state
            db.session.commit()  # no transaction open while the workers write (SQLite)
            if state in (JobState.DONE, JobState.FAILED):
                break
            assert time.monotonic() < deadline, "\n".join(
                p.read_text()[-6000:] for p in tmp_path.glob("*.log")
            )
            time.sleep(0.2)
        job = db.session.get(Job, job_id)
        assert job.state == JobState.DONE, job.error
        shards = _shards(job_id)
        assert len(shards) == 6
        assert all(s.state == JobState.DONE for s in shards)
        ran_by = {s.worker for s in shards}
        assert len(ran_by) >= 2, ran_by  # the shards were shared out
        archive = zipfile.ZipFile(tasks.export_dir(current_app) / job.file_name)
        names = archive.namelist()
        assert [n.split("-", 1)[0] for n in names] == [f"{i:04d}" for i in range(1, 13)]
        assert all(archive.read(n).startswith(b"%PDF") for n in names)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(10)
        for log in logs:
            log.close()
        current_app.config.update(REDIS_URL=None)
        connection.delete(f"rq:queue:{queue}")


def test_an_archive_that_could_not_be_assembled_is_assembled_on_retry(app, monkeypatch):
    app.config.update(JOB_SHARD_SIZE=4, PDF_WORKERS=1)
    cycle = _released_org(12)
    job_id = _start(cycle)

    def full_disk(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tasks.shutil, "copyfileobj", full_disk)
    tasks.run_job(job_id, workers=1)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.FAILED
    assert "No space left on device" in job.error
    assert all(s.state == JobState.DONE for s in _shards(job_id))
    folder = tasks.export_dir(current_app)
    assert len(list(folder.glob("*.shard"))) == 3  # the parts wait for the retry
    assert not list(folder.glob("*.zip"))

    monkeypatch.undo()
    rendered = _counting_renders(monkeypatch)
    app.config["JOBS_INLINE"] = True
    client = _client(app, "hr@example.com")
    assert client.post(f"/jobs/{job_id}/retry", data={"csrf_token": client.csrf}).status_code == 302
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert job.state == JobState.DONE, job.error
    assert rendered == []  # nothing rendered again
    assert len(zipfile.ZipFile(folder / job.file_name).namelist()) == 10
    assert [p.name for p in folder.iterdir()] == [job.file_name]
