"""The RQ worker `flask worker` runs: each job in a forked work horse that ends with it.

RQ puts each horse in a process group of its own, so a worker killed with SIGKILL
(an OOM kill, a `kill -9`, a host that stops) left its horse running the job alone,
unseen. Here the horse asks to be killed with its worker (`die_with_parent`); the
job, silent, is then failed by its heartbeat's absence and offered for retry.
"""

from __future__ import annotations

from typing import Any

from flask import has_app_context
from rq import Worker

from reviews.jobs.lifeline import die_with_parent


class ReviewsWorker(Worker):
    def fork_work_horse(self, job: Any, queue: Any) -> None:
        from reviews.schedule import FORK_LOCK

        with FORK_LOCK:  # not while the schedule's thread is mid-task
            super().fork_work_horse(job, queue)

    def main_work_horse(self, job: Any, queue: Any) -> None:
        die_with_parent()
        if has_app_context():  # the worker's connections stay the worker's (the schedule's)
            from reviews.extensions import db

            db.engine.dispose(close=False)
        super().main_work_horse(job, queue)
