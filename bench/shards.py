"""The sharded growth-plan ZIP on 1, 2, ... RQ worker processes (issue 22).

Called by `python -m bench` once a cycle is released: for each number of
workers it starts that many `flask worker` processes on a queue of their own
(each rendering with PDF_WORKERS=1, so one worker is one process rendering, as
one per core on any number of hosts), waits until they listen, starts the ZIP
of one manager's org, and times it from the job's start to its archive. The
workers' start-up is not timed: in production they are already running. Runs
for each worker count alternate, and the median is kept, since a shared
machine drifts.

Redis: REDIS_URL, else redis://127.0.0.1:6379/14 (a database of its own; the
queue is emptied after).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
SHARDS_PER_WORKER = 6  # the shard size is chosen for at least this many shards a worker


def _workers(env: dict[str, str], count: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--no-schedule"]
    started = []
    for n in range(count):
        log = (logs / f"worker-{count}-{n}.log").open("wb")
        started.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
        )
        log.close()
    return started


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(10)


def one_run(
    app: Any, hr: Any, cycle: Any, manager: Any, env: dict[str, str], workers: int, logs: Path
) -> dict[str, Any]:
    """Seconds from the job's start to its archive with `workers` worker processes."""
    from redis import Redis
    from rq import Queue, Worker

    from reviews.extensions import db
    from reviews.jobs import operations as job_ops
    from reviews.jobs.models import Job, JobState

    connection = Redis.from_url(env["REDIS_URL"])
    queue_name = env["JOBS_QUEUE"]
    running = _workers(env, workers, logs)
    try:
        deadline = time.monotonic() + 120
        while len(Worker.all(queue=Queue(queue_name, connection=connection))) < workers:
            if time.monotonic() > deadline or any(w.poll() is not None for w in running):
                raise SystemExit(f"the bench's RQ workers did not start; see {logs}")
            time.sleep(0.1)
        app.config.update(
            REDIS_URL=env["REDIS_URL"],
            JOBS_QUEUE=queue_name,
            JOB_SHARD_SIZE=int(env["JOB_SHARD_SIZE"]),
        )
        with app.test_request_context():
            job = job_ops.start_plans_zip(hr, cycle, manager)
            db.session.commit()
            job_id = job.id
        start = time.perf_counter()
        with app.test_request_context():
            job_ops.enqueue(job_id)
        while True:
            state = db.session.get(Job, job_id).state
            db.session.commit()
            if state in (JobState.DONE, JobState.FAILED):
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
        job = db.session.get(Job, job_id)
        if job.state != JobState.DONE:
            raise SystemExit(f"the bench's ZIP job failed: {job.error}")
        result = {"seconds": seconds, "plans": job.total, "shards": job.shard_count}
        db.session.commit()
        return result
    finally:
        _stop(running)
        app.config.update(REDIS_URL=None)
        Queue(queue_name, connection=connection).empty()
        connection.delete(f"rq:queue:{queue_name}")


def measure(
    app: Any, hr: Any, cycle: Any, manager: Any, plans: int, counts: list[int], runs: int
) -> dict[str, Any]:
    """The sharded ZIP of `manager`'s org on each number of workers in `counts`."""
    import tempfile

    shard_size = max(1, plans // (SHARDS_PER_WORKER * max(counts)))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FLASK_")},
        "REDIS_URL": os.environ.get("REDIS_URL") or DEFAULT_REDIS,
        "JOBS_QUEUE": f"bench-shards-{uuid.uuid4().hex[:8]}",
        "PDF_WORKERS": "1",
        "JOB_SHARD_SIZE": str(shard_size),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
        "PYTHONPATH": str(ROOT),
    }
    logs = Path(tempfile.mkdtemp(prefix="reviews-bench-workers-"))
    times: dict[int, list[float]] = {n: [] for n in counts}
    shards = 0
    for _ in range(runs):
        for n in counts:
            print(f"    ZIP of {plans} plans on {n} worker process(es)", flush=True)
            run = one_run(app, hr, cycle, manager, env, n, logs)
            times[n].append(run["seconds"])
            plans, shards = run["plans"], run["shards"]
    out: dict[str, Any] = {
        "plans": plans,
        "runs": runs,
        "shard_size": shard_size,
        "shards": shards,
        "rq_workers": True,
    }
    for n, seconds_of_runs in times.items():
        seconds = statistics.median(seconds_of_runs)
        out[f"workers_{n}"] = {
            "seconds": round(seconds, 2),
            "plans_per_second": round(plans / seconds, 2),
            "all_seconds": [round(t, 2) for t in seconds_of_runs],
        }
    first, last = min(counts), max(counts)
    out["speedup"] = round(
        out[f"workers_{first}"]["seconds"] / out[f"workers_{last}"]["seconds"], 2
    )
    return out
