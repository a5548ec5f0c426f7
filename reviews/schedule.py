"""Work on a schedule, run by `flask worker`, once across however many workers run.

Each task has a period; time is cut into slots of that period, and the worker that
sets the slot's key in Redis first (SET NX, kept for two periods) runs the task
for that slot; every other worker finds the key taken and skips it. The tasks are
idempotent as well (reminders once per person, task and day; each mail claimed
before it is sent), so a slot run twice after Redis lost its keys sends nothing
twice. The CLI commands (`cycles remind`, `goals remind`, `notifications send`)
stay for those who prefer cron.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError

from reviews.db import utcnow
from reviews.extensions import db

log = logging.getLogger(__name__)

# Held while a scheduled task runs, and by the worker while it forks a job's work horse
# (reviews.jobs.worker): a fork must never copy a lock this thread holds mid-task
# (SQLAlchemy's statement cache, a connection pool), or the horse would wait forever.
FORK_LOCK = threading.Lock()


def _deliver() -> str:
    from reviews.notifications.delivery import deliver

    return deliver().summary()


def _cycle_reminders() -> str:
    from reviews.cycles.operations import remind_due

    queued = remind_due(date.today())
    db.session.commit()
    return f"queued {queued} review reminders"


def _goal_reminders() -> str:
    from reviews.goals.operations import remind_checkins

    queued = remind_checkins(date.today())
    db.session.commit()
    return f"queued {queued} check-in reminders"


@dataclass(frozen=True)
class Task:
    name: str
    every_seconds: int
    run: Callable[[], str]


# In this order within a tick: the reminders a slot queues go out with the same tick's
# delivery, not at the next minute's.
TASKS = (
    Task("cycle-reminders", 3600, _cycle_reminders),
    Task("goal-reminders", 3600, _goal_reminders),
    Task("deliver", 60, _deliver),
)


def slot_key(task: Task, moment: datetime) -> str:
    """One key per task and slot, per deployment (its JOBS_QUEUE) sharing the Redis."""
    slot = int(moment.timestamp()) // task.every_seconds
    return f"reviews:schedule:{current_app.config['JOBS_QUEUE']}:{task.name}:{slot}"


def run_due(redis: Redis, runner: str, moment: datetime | None = None) -> list[str]:
    """Run each task whose current slot no worker has taken; returns what this one ran."""
    moment = moment or utcnow()
    ran: list[str] = []
    for task in TASKS:
        try:
            taken = redis.set(slot_key(task, moment), runner, nx=True, ex=2 * task.every_seconds)
        except RedisError:
            log.exception("the schedule cannot reach Redis")
            return ran
        if not taken:
            continue
        try:
            said = task.run()
            log.info("schedule: %s: %s", task.name, said)
        except Exception:  # one failing task must not stop the others, or the next slot
            db.session.rollback()
            log.exception("schedule: %s failed", task.name)
        ran.append(task.name)
    return ran


class Scheduler:
    """A thread of the worker's main process that runs `run_due` every `tick` seconds."""

    def __init__(self, app: Flask, redis: Redis, runner: str, tick: float = 15) -> None:
        self.app, self.redis, self.runner, self.tick = app, redis, runner, tick
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="schedule", daemon=True)

    def _loop(self) -> None:
        while not self.stopped.is_set():
            started = time.monotonic()
            with FORK_LOCK, self.app.app_context():
                try:
                    run_due(self.redis, self.runner)
                finally:
                    db.session.remove()
            self.stopped.wait(max(0.0, self.tick - (time.monotonic() - started)))

    def start(self) -> Scheduler:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=30)
