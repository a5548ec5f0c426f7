"""Background work: every growth-plan PDF of a cycle (or an org) into one ZIP, in shards.

`run_job` plans the job into shards of at most JOB_SHARD_SIZE plans (review-id
ranges of its scope, `JobShard`). On RQ each shard is a queued job of its own
that any worker, on any host sharing the exports folder, takes; without Redis
this process runs them one after the other. A shard renders its plans' HTML
here (it needs the database) while a pool of PDF processes turns them into
PDFs (PDF_WORKERS of them, replaced every few documents since WeasyPrint's
memory grows with each), and writes them into a part of its own. The job's
one progress bar counts plans over all shards; the shard that finishes last
(an atomic count) assembles the parts into the archive, which is moved into
place only when complete: a killed job never leaves a half-written archive, and
a retry runs again only the shards that did not finish.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from reviews.cycles.models import Review
from reviews.db import utcnow
from reviews.extensions import db
from reviews.growth.models import GrowthPlan
from reviews.jobs.lifeline import Heartbeat, dead_after
from reviews.jobs.models import Job, JobShard, JobState
from reviews.jobs.pdfs import render_all
from reviews.languages import force_locale, person_locale

PROGRESS_EVERY = 5
SHARD_ATTEMPTS = 3  # a shard that fails is run again this many times in all, then the job fails
SHARD_TIMEOUT = 3600  # seconds RQ lets one shard run


def export_dir(app: Flask) -> Path:
    """Where parts and archives are written: on every host that runs workers, the
    same folder (EXPORTS_DIR, e.g. a shared mount), since any of them may assemble."""
    configured = app.config.get("EXPORTS_DIR")
    path = Path(configured) if configured else Path(app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _in_scope(job: Job, *columns: Any) -> Select[Any]:
    """The reviews of the job's scope that have a plan, by id."""
    stmt = (
        select(*columns)
        .join(GrowthPlan, GrowthPlan.review_id == Review.id)
        .where(Review.cycle_id == job.cycle_id)
        .order_by(Review.id)
    )
    if job.scope_manager_id is not None:
        from reviews.cycles.queries import org_manager_ids

        stmt = stmt.where(Review.manager_id.in_(org_manager_ids(job.scope_manager_id)))
    return stmt


@contextmanager
def _app() -> Iterator[Flask]:
    """The app of the caller, or (an RQ work horse) one made here, in a reading
    request's context: the plans' HTML needs one for its links, and on SQLite its
    transactions begin deferred (taking the write lock only at a write), so shards
    rendering side by side read without queueing for the lock. Every write here is
    conditional on the row as it then is, or an increment."""
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    if app is None:
        from reviews import create_app

        app = create_app()
    with nullcontext() if has_app_context() else app.app_context(), app.test_request_context():
        yield app


# The job -------------------------------------------------------------------------------


def run_job(job_id: int, workers: int | None = None) -> None:
    """Entry point for RQ and for the in-process runner: plan the shards, then hand
    them to the RQ workers, or run them here one after the other."""
    with _app() as app:
        waiting = plan(app, job_id)
        if waiting is None:  # done already, or gone
            return
        if not waiting:  # every shard finished (a retry after the assembly failed)
            db.session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state == JobState.QUEUED)
                .values(state=JobState.RUNNING, heartbeat_at=utcnow())
            )
            db.session.commit()
            every = float(app.config.get("JOB_HEARTBEAT_SECONDS", 10))
            with Heartbeat(db.engine, job_id, every):
                assemble(app, job_id)
            return
        if app.config.get("REDIS_URL") and _current_rq_job() is not None:
            fan_out(app, waiting)
            return
        for shard_id in waiting:
            for attempt in range(SHARD_ATTEMPTS):
                try:
                    run_shard(shard_id, workers, final=attempt == SHARD_ATTEMPTS - 1)
                    break
                except Exception:
                    if attempt == SHARD_ATTEMPTS - 1:
                        raise


def plan(app: Flask, job_id: int) -> list[int] | None:
    """The ids of the job's shards still to run, planning them on the first run."""
    job = db.session.get(Job, job_id)
    if job is None or job.state == JobState.DONE:
        return None
    if job.shard_count == 0:
        size = max(1, int(app.config.get("JOB_SHARD_SIZE", 250)))
        ids = list(db.session.scalars(_in_scope(job, Review.id)))
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        try:
            if chunks:
                db.session.execute(
                    insert(JobShard),
                    [
                        {
                            "job_id": job_id,
                            "number": n,
                            "first_review_id": chunk[0],
                            "last_review_id": chunk[-1],
                            "total": len(chunk),
                            "done": 0,
                            "state": JobState.QUEUED,
                            "attempt": 0,
                        }
                        for n, chunk in enumerate(chunks)
                    ],
                )
            job.total, job.done, job.shards_done = len(ids), 0, 0
            job.shard_count = len(chunks)
            job.heartbeat_at = utcnow()
            db.session.commit()
        except IntegrityError:  # another run of the same job planned it first
            db.session.rollback()
    shards = db.session.scalars(
        select(JobShard.id)
        .where(JobShard.job_id == job_id, JobShard.state != JobState.DONE)
        .order_by(JobShard.number)
    )
    waiting = list(shards)
    db.session.commit()
    return waiting


def _current_rq_job() -> Any:
    from rq import get_current_job

    return get_current_job()


def fan_out(app: Flask, shard_ids: list[int]) -> None:
    """Queue each shard as an RQ job of its own, retried by RQ when it fails."""
    from redis import Redis
    from rq import Queue, Retry

    queue = Queue(app.config["JOBS_QUEUE"], connection=Redis.from_url(app.config["REDIS_URL"]))
    queue.enqueue_many(
        [
            Queue.prepare_data(
                "reviews.jobs.tasks.run_shard",
                (shard_id,),
                timeout=SHARD_TIMEOUT,
                retry=Retry(max=SHARD_ATTEMPTS - 1),
            )
            for shard_id in shard_ids
        ]
    )


# One shard -------------------------------------------------------------------------------


def run_shard(shard_id: int, workers: int | None = None, final: bool | None = None) -> None:
    """Entry point for RQ: render one shard's plans into its part; the shard that
    finishes last assembles the archive. `final`: no attempt follows this one
    (by default, what RQ says of its retries)."""
    with _app() as app:
        claimed = _claim(app, shard_id)
        if claimed is None:  # done, or being run by a live worker
            return
        shard, attempt = claimed
        every = float(app.config.get("JOB_HEARTBEAT_SECONDS", 10))
        with Heartbeat(db.engine, shard.job_id, every, shard_id=shard_id):
            try:
                name = _render_shard(
                    app, shard, attempt, workers or app.config.get("PDF_WORKERS", 2)
                )
            except Exception as exc:
                db.session.rollback()
                if final is None:
                    rq_job = _current_rq_job()
                    final = rq_job is None or not rq_job.retries_left
                _failed(shard, attempt, exc, final=final)
                raise
            if _finish(shard, attempt, name):
                assemble(app, shard.job_id)


def _claim(app: Flask, shard_id: int) -> tuple[JobShard, int] | None:
    """Take the shard, unless it is done or a worker that still beats has it; the
    plans it counted in an earlier attempt are taken off the job's progress."""
    shard = db.session.get(JobShard, shard_id)
    if shard is None or shard.state == JobState.DONE:
        db.session.commit()
        return None
    every = float(app.config.get("JOB_HEARTBEAT_SECONDS", 10))
    beat = shard.heartbeat_at
    if shard.state == JobState.RUNNING and beat and utcnow() - beat < dead_after(every):
        db.session.commit()
        return None
    attempt, counted = shard.attempt + 1, shard.done
    taken = db.session.execute(
        update(JobShard)
        .where(JobShard.id == shard_id, JobShard.attempt == shard.attempt)
        .values(
            state=JobState.RUNNING,
            attempt=attempt,
            done=0,
            error=None,
            worker=f"{socket.gethostname()}:{os.getpid()}"[:120],
            heartbeat_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(taken, "rowcount", 0) != 1:  # another worker took it meanwhile
        db.session.rollback()
        return None
    db.session.execute(
        update(Job)
        .where(Job.id == shard.job_id)
        .values(done=Job.done - counted, heartbeat_at=utcnow())
    )
    db.session.execute(
        update(Job)
        .where(Job.id == shard.job_id, Job.state == JobState.QUEUED)
        .values(state=JobState.RUNNING, error=None)
    )
    db.session.commit()
    db.session.refresh(shard)
    return shard, attempt


def _progress(shard: JobShard, attempt: int, plans: int) -> None:
    """`plans` more done, on the shard (while this attempt holds it) and the job."""
    counted = db.session.execute(
        update(JobShard)
        .where(
            JobShard.id == shard.id,
            JobShard.attempt == attempt,
            JobShard.state == JobState.RUNNING,
        )
        .values(done=JobShard.done + plans, heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(counted, "rowcount", 0) == 1:
        db.session.execute(
            update(Job)
            .where(Job.id == shard.job_id)
            .values(done=Job.done + plans, heartbeat_at=utcnow())
        )
    db.session.commit()


def _render_shard(app: Flask, shard: JobShard, attempt: int, workers: int) -> str:
    """Write the shard's PDFs into a part of its own (uncompressed: PDFs are
    compressed already); the name of the finished part."""
    from reviews.growth.views import growth_plan_html

    job = db.session.get_one(Job, shard.job_id)
    stmt = _in_scope(job, Review, GrowthPlan).where(
        Review.id.between(shard.first_review_id, shard.last_review_id)
    )
    pairs = [(r, p) for r, p in db.session.execute(stmt).all()]
    before = db.session.scalar(
        select(func.coalesce(func.sum(JobShard.total), 0)).where(
            JobShard.job_id == job.id, JobShard.number < shard.number
        )
    )
    width = max(4, len(str(job.total)))
    names = [
        f"{before + i + 1:0{width}d}-{_slug(r.subject.name)}.pdf" for i, (r, _p) in enumerate(pairs)
    ]
    folder = export_dir(app)
    stem = f"plans-{job.id}-{shard.number:05d}"
    for stale in folder.glob(f"{stem}-*.part"):  # left by a killed earlier attempt
        stale.unlink(missing_ok=True)
    token = secrets.token_hex(8)
    temporary = folder / f"{stem}-{token}.part"
    finished = folder / f"{stem}-{token}.shard"
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:
            pending = 0

            def write(name: str, pdf: bytes) -> None:
                nonlocal pending
                archive.writestr(name, pdf)
                pending += 1
                if pending == PROGRESS_EVERY:
                    _progress(shard, attempt, pending)
                    pending = 0

            # Each plan is written for its person, in their language (whoever asked for
            # the archive hands the plans out).
            def plan_html(review: Review, plan: GrowthPlan) -> str:
                with force_locale(person_locale(review.subject)):
                    return growth_plan_html(review, plan)

            render_all(
                [
                    (n, lambda r=r, p=p: plan_html(r, p))
                    for n, (r, p) in zip(names, pairs, strict=True)
                ],
                workers,
                write,
            )
            if pending:
                _progress(shard, attempt, pending)
        os.replace(temporary, finished)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return finished.name


def _finish(shard: JobShard, attempt: int, name: str) -> bool:
    """Mark the shard done (if this attempt still holds it) and count it on the job:
    True for the shard that completes the set."""
    marked = db.session.execute(
        update(JobShard)
        .where(
            JobShard.id == shard.id,
            JobShard.attempt == attempt,
            JobShard.state == JobState.RUNNING,
        )
        .values(state=JobState.DONE, file_name=name, finished_at=utcnow(), heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", 0) != 1:  # a later attempt took the shard over
        db.session.rollback()
        (export_dir(current_app) / name).unlink(missing_ok=True)
        return False
    counts = db.session.execute(
        update(Job)
        .where(Job.id == shard.job_id)
        .values(shards_done=Job.shards_done + 1, heartbeat_at=utcnow())
        .returning(Job.shards_done, Job.shard_count)
    ).one()
    db.session.commit()
    return bool(counts.shards_done >= counts.shard_count)


def _failed(shard: JobShard, attempt: int, exc: BaseException, *, final: bool) -> None:
    """The attempt failed: the shard waits for its retry, or (no retry left) fails,
    and with it the job, which then offers a retry of what did not finish."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    db.session.execute(
        update(JobShard)
        .where(JobShard.id == shard.id, JobShard.attempt == attempt)
        .values(state=JobState.FAILED if final else JobState.QUEUED, error=error)
        .execution_options(synchronize_session=False)
    )
    if final:
        db.session.execute(
            update(Job)
            .where(Job.id == shard.job_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
            .values(state=JobState.FAILED, error=error, finished_at=utcnow())
        )
    db.session.commit()


# The archive -----------------------------------------------------------------------------


def assemble(app: Flask, job_id: int) -> None:
    """Copy every shard's PDFs, in order, into the job's archive; then the parts go."""
    job = db.session.get(Job, job_id)
    if job is None or job.state == JobState.DONE:
        return
    shards = list(
        db.session.scalars(
            select(JobShard).where(JobShard.job_id == job_id).order_by(JobShard.number)
        )
    )
    folder = export_dir(app)
    final = folder / f"plans-{job_id}-{secrets.token_hex(8)}.zip"
    temporary = final.with_suffix(".part")
    written = 0
    try:
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:
            for shard in shards:
                with zipfile.ZipFile(folder / (shard.file_name or "")) as part:
                    for info in part.infolist():
                        with part.open(info) as source, archive.open(info.filename, "w") as target:
                            shutil.copyfileobj(source, target, 1 << 20)
                        written += 1
        os.replace(temporary, final)
        settled = db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state != JobState.DONE)
            .values(
                state=JobState.DONE,
                total=written,
                done=written,
                file_name=final.name,
                error=None,
                heartbeat_at=utcnow(),
                finished_at=utcnow(),
            )
        )
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        temporary.unlink(missing_ok=True)
        db.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
            .values(
                state=JobState.FAILED,
                error=f"{type(exc).__name__}: {exc}"[:500],
                finished_at=utcnow(),
            )
        )
        db.session.commit()
        raise
    if getattr(settled, "rowcount", 0) != 1:  # assembled meanwhile by another run
        final.unlink(missing_ok=True)
        return
    for shard in shards:
        (folder / (shard.file_name or "")).unlink(missing_ok=True)


def _slug(name: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_name.lower()).split())[:60]
