"""A running job shows it is alive, and ends with the process that started it.

`Heartbeat` writes the job's `heartbeat_at` every JOB_HEARTBEAT_SECONDS from a thread
of its own (not only when a document is done, which can take longer than the
limit on a busy machine); a job silent for longer than `dead_after` is failed by
`reviews.jobs.operations.reap` and offered for retry.

`die_with_parent` asks Linux to kill this process when its parent dies: RQ runs
each job in a forked "work horse", which would otherwise go on alone after its
worker was killed, and the PDF processes end with the forkserver that made them.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading
from datetime import timedelta
from types import TracebackType

from sqlalchemy import update
from sqlalchemy.engine import Engine

from reviews.db import utcnow
from reviews.jobs.models import Job, JobShard, JobState

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
# Silence this many beats long means the worker is gone.
BEATS_MISSED = 4.5


def dead_after(every_seconds: float) -> timedelta:
    return timedelta(seconds=every_seconds * BEATS_MISSED)


def die_with_parent() -> None:
    """SIGKILL this process when its parent ends (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class Heartbeat:
    """Beat for one job (and the shard of it this process runs) while the block runs."""

    def __init__(
        self, engine: Engine, job_id: int, every_seconds: float, shard_id: int | None = None
    ) -> None:
        self.engine = engine
        self.job_id = job_id
        self.shard_id = shard_id
        self.every = every_seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job_id}", daemon=True)

    def _beat(self) -> None:
        while not self.stopped.wait(self.every):
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        update(Job)
                        .where(Job.id == self.job_id, Job.state == JobState.RUNNING)
                        .values(heartbeat_at=utcnow())
                    )
                    if self.shard_id is not None:
                        conn.execute(
                            update(JobShard)
                            .where(JobShard.id == self.shard_id, JobShard.state == JobState.RUNNING)
                            .values(heartbeat_at=utcnow())
                        )
            except Exception:  # a missed beat is survivable; the next one may pass
                log.exception("heartbeat of job %s failed", self.job_id)

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopped.set()
        self.thread.join(timeout=self.every + 5)
