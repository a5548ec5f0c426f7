"""Starting background jobs: on RQ when REDIS_URL is set, else in a thread of this process."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import current_app

from reviews.audit.operations import record
from reviews.cycles.models import Cycle
from reviews.cycles.workflow import CycleState, reached
from reviews.db import utcnow
from reviews.errors import PhaseClosed
from reviews.extensions import db
from reviews.jobs.models import Job, JobState
from reviews.people.models import Person

STALLED_AFTER = timedelta(minutes=10)


def start_plans_zip(actor: Person, cycle: Cycle, scope_manager: Person | None) -> Job:
    if not reached(cycle.state, CycleState.RELEASED):
        raise PhaseClosed("Growth plans exist once the cycle is released.")
    job = Job(
        kind="growth_plans_zip",
        requester_id=actor.id,
        cycle_id=cycle.id,
        scope_manager_id=scope_manager.id if scope_manager else None,
    )
    db.session.add(job)
    db.session.flush()
    record(
        "export.growth_plans_zip",
        actor=actor,
        cycle_id=cycle.id,
        job=job.id,
        scope="org" if scope_manager else "cycle",
        scope_manager_id=scope_manager.id if scope_manager else None,
    )
    return job


def stalled(job: Job) -> bool:
    beat = job.heartbeat_at or job.created_at
    return job.state in (JobState.QUEUED, JobState.RUNNING) and utcnow() - beat > STALLED_AFTER


def retry(actor: Person, job: Job) -> None:
    if not (job.state == JobState.FAILED or stalled(job)):
        raise PhaseClosed("Only a failed or stalled job can be retried.")
    job.state, job.done, job.error, job.file_name = JobState.QUEUED, 0, None, None
    job.heartbeat_at = utcnow()
    db.session.flush()
    record("job.retried", actor=actor, job=job.id)


def enqueue(job_id: int) -> None:
    """Hand a committed job to a worker."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    url = app.config.get("REDIS_URL")
    if url:
        from redis import Redis
        from rq import Queue

        Queue(app.config["JOBS_QUEUE"], connection=Redis.from_url(url)).enqueue(
            "reviews.jobs.tasks.run_job", job_id, job_timeout=3 * 3600
        )
        return
    from reviews.jobs.tasks import run_job

    def work() -> None:
        try:
            run_job(job_id)
        except Exception:  # the job row says it failed; the page offers a retry
            app.logger.exception("background job %s failed", job_id)

    if app.config.get("JOBS_INLINE"):
        work()
        return

    def in_thread() -> None:
        with app.app_context():
            work()

    threading.Thread(target=in_thread, name=f"job-{job_id}", daemon=True).start()
