"""Background work: building every growth-plan PDF of a cycle (or an org) into one ZIP.

HTML is rendered here (it needs the database); WeasyPrint runs in a pool of
worker processes that are replaced every few documents, since its memory
grows with each one.  The ZIP is written to a temporary file and moved into
place only when complete: a killed job never leaves a half-written archive.
"""

from __future__ import annotations

import multiprocessing
import os
import secrets
import zipfile
from collections import deque
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import select, update

from reviews.cycles.models import Review
from reviews.db import utcnow
from reviews.documents.pdf import render_pdf, stylesheet
from reviews.extensions import db
from reviews.growth.models import GrowthPlan
from reviews.jobs.lifeline import Heartbeat, die_with_parent
from reviews.jobs.models import Job, JobState

TASKS_PER_WORKER = 25
PROGRESS_EVERY = 5
IN_FLIGHT_PER_WORKER = 4


def export_dir(app: Flask) -> Path:
    path = Path(app.instance_path) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _render(args: tuple[str, str]) -> bytes:
    html, css = args
    return render_pdf(html, css)


def _pool(workers: int) -> Any:
    """Worker processes forked from a warm forkserver (see `reviews.jobs.renderer`).

    multiprocessing.Pool rather than ProcessPoolExecutor: the latter's
    max_tasks_per_child hangs when it replaces workers on Python 3.11.  Workers
    are replaced every few documents, since WeasyPrint's memory grows with each."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reviews.jobs.renderer"])
    return context.Pool(workers, initializer=die_with_parent, maxtasksperchild=TASKS_PER_WORKER)


def _reviews_in_scope(job: Job) -> list[tuple[Review, GrowthPlan]]:
    stmt = (
        select(Review, GrowthPlan)
        .join(GrowthPlan, GrowthPlan.review_id == Review.id)
        .where(Review.cycle_id == job.cycle_id)
        .order_by(Review.id)
    )
    if job.scope_manager_id is not None:
        from reviews.cycles.queries import org_manager_ids

        stmt = stmt.where(Review.manager_id.in_(org_manager_ids(job.scope_manager_id)))
    return [(r, p) for r, p in db.session.execute(stmt).all()]


def _progress(job_id: int, **values: Any) -> None:
    """Progress of a job still queued or running: a run its page already failed (its
    heartbeats starved) does not write over that, nor over a retry's fresh start."""
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_([JobState.QUEUED, JobState.RUNNING]))
        .values(heartbeat_at=utcnow(), **values)
    )
    db.session.commit()


def run_job(job_id: int, workers: int | None = None) -> None:
    """Entry point for RQ and for the in-process runner."""
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]
    if app is None:
        from reviews import create_app

        app = create_app()
    context = nullcontext() if has_app_context() else app.app_context()
    with context:
        every = float(app.config.get("JOB_HEARTBEAT_SECONDS", 10))
        with Heartbeat(db.engine, job_id, every):
            _run(app, job_id, workers or app.config.get("PDF_WORKERS", 2))


def _run(app: Flask, job_id: int, workers: int) -> None:
    from reviews.growth.views import growth_plan_html

    job = db.session.get(Job, job_id)
    if job is None or job.state == JobState.DONE:
        return
    pairs = _reviews_in_scope(job)
    _progress(job_id, state=JobState.RUNNING, total=len(pairs), done=0, error=None)
    folder = export_dir(app)
    for stale in folder.glob(f"plans-{job_id}-*.part"):  # left by a killed earlier run
        stale.unlink(missing_ok=True)
    final = folder / f"plans-{job_id}-{secrets.token_hex(8)}.zip"
    temporary = final.with_suffix(".part")
    try:
        css = stylesheet()
        with (
            app.test_request_context(),
            zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive,
        ):
            written = 0

            def write(name: str, pdf: bytes) -> None:
                nonlocal written
                archive.writestr(name, pdf)
                written += 1
                if written % PROGRESS_EVERY == 0 or written == len(pairs):
                    _progress(job_id, done=written)

            names = [f"{i + 1:04d}-{_slug(r.subject.name)}.pdf" for i, (r, _p) in enumerate(pairs)]
            if workers <= 1:
                for name, (review, plan) in zip(names, pairs, strict=True):
                    write(name, _render((growth_plan_html(review, plan), css)))
            else:
                # A pipeline: this process renders each plan's HTML (it needs the
                # database) while the workers turn earlier ones into PDFs; at most
                # a few documents per worker wait in memory.
                from reviews.jobs.renderer import render

                pool = _pool(workers)
                waiting: deque[tuple[str, Any]] = deque()
                try:
                    for name, (review, plan) in zip(names, pairs, strict=True):
                        html = growth_plan_html(review, plan)
                        waiting.append((name, pool.apply_async(render, ((html, css),))))
                        while len(waiting) > IN_FLIGHT_PER_WORKER * workers:
                            done_name, result = waiting.popleft()
                            write(done_name, result.get())
                    while waiting:
                        done_name, result = waiting.popleft()
                        write(done_name, result.get())
                finally:
                    pool.terminate()
                    pool.join()
        os.replace(temporary, final)
        _progress(
            job_id,
            state=JobState.DONE,
            done=len(pairs),
            file_name=final.name,
            finished_at=utcnow(),
        )
    except Exception as exc:
        db.session.rollback()
        temporary.unlink(missing_ok=True)
        _progress(
            job_id,
            state=JobState.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:500],
            finished_at=utcnow(),
        )
        raise


def _slug(name: str) -> str:
    import unicodedata

    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_name.lower()).split())[:60]
