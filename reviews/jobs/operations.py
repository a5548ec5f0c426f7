"""Starting background jobs: on RQ when REDIS_URL is set, else in a thread of this process."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, update

from reviews.audit.operations import record
from reviews.cycles.models import Cycle
from reviews.cycles.workflow import CycleState, reached
from reviews.db import utcnow
from reviews.errors import PhaseClosed
from reviews.extensions import db
from reviews.jobs.lifeline import dead_after
from reviews.jobs.models import Job, JobShard, JobState
from reviews.languages import gettext
from reviews.people.models import Person

# A job no worker has taken for this long: the workers may be down; a retry is offered.
STALLED_AFTER = timedelta(minutes=10)


def start_plans_zip(actor: Person, cycle: Cycle, scope_manager: Person | None) -> Job:
    if not reached(cycle.state, CycleState.RELEASED):
        raise PhaseClosed(gettext("Growth plans exist once the cycle is released."))
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
    """Queued for long with no worker to take it (a running job is `reap`ed instead). A
    job that waits behind others while the queue's workers are alive is only waiting:
    a retry would queue it twice."""
    beat = job.heartbeat_at or job.created_at
    if job.state != JobState.QUEUED or utcnow() - beat <= STALLED_AFTER:
        return False
    return not live_workers()


def live_workers() -> int:
    """The RQ workers alive on the jobs queue: registered, and beating within their
    time to live (RQ forgets a worker that stops beating). 0 without RQ, where jobs
    run in a thread of the web process and end with it, or when Redis does not answer."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return 0
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue, Worker

    connection = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return len(Worker.all(queue=Queue(current_app.config["JOBS_QUEUE"], connection=connection)))
    except RedisError:
        return 0


def reap(job: Job) -> bool:
    """A running job whose worker stopped beating is failed, and so offered for retry.

    Conditional on the row as it is now: a job that finishes meanwhile stays done."""
    every = float(current_app.config.get("JOB_HEARTBEAT_SECONDS", 10))
    silent_since = utcnow() - dead_after(every)
    if job.state != JobState.RUNNING or (job.heartbeat_at or job.created_at) >= silent_since:
        return False
    # Stored with the job, in the language of the page's reader: its requester (views).
    error = gettext("The worker running this job stopped (it was restarted or killed).")
    result = db.session.execute(
        update(Job)
        .where(
            Job.id == job.id,
            Job.state == JobState.RUNNING,
            func.coalesce(Job.heartbeat_at, Job.created_at) < silent_since,
        )
        .values(
            state=JobState.FAILED,
            error=error,
            finished_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(job)
    return getattr(result, "rowcount", 0) == 1


def retry(actor: Person, job: Job) -> None:
    reap(job)  # a running job whose worker died is failed first
    if not (job.state == JobState.FAILED or stalled(job)):
        raise PhaseClosed(gettext("Only a failed or stalled job can be retried."))
    job.state, job.error, job.file_name = JobState.QUEUED, None, None
    job.heartbeat_at = utcnow()
    if job.shard_count == 0:  # not planned yet (or a job from before shards): afresh
        job.done = 0
    else:  # the shards that finished stay finished; the others run again
        db.session.execute(
            update(JobShard)
            .where(JobShard.job_id == job.id, JobShard.state != JobState.DONE)
            .values(state=JobState.QUEUED, heartbeat_at=None)
            .execution_options(synchronize_session=False)
        )
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
