"""Background jobs: who asked for a ZIP of growth plans, and the archives themselves."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import delete, select

from reviews.cycles.models import Review
from reviews.extensions import db
from reviews.jobs.models import Job, JobShard, JobState
from reviews.languages import force_locale, gettext, person_locale
from reviews.privacy import Forgetting, holding


def _forget(f: Forgetting) -> None:
    """Archives, and the finished parts of unfinished ones, that hold the person's
    growth plan are deleted; their jobs can be run again."""
    from reviews.jobs.tasks import export_dir

    folder = export_dir(current_app)
    cycles = select(Review.cycle_id).where(Review.subject_id == f.person.id)
    for job in db.session.scalars(select(Job).where(Job.cycle_id.in_(cycles))):
        parts = [
            name
            for name in db.session.scalars(
                select(JobShard.file_name).where(JobShard.job_id == job.id)
            )
            if name
        ]
        if not (job.file_name or job.shard_count):
            continue
        for name in [job.file_name, *parts]:
            if name:
                (folder / name).unlink(missing_ok=True)
        db.session.execute(delete(JobShard).where(JobShard.job_id == job.id))
        job.shard_count = job.shards_done = job.done = 0
        job.file_name = None
        job.state = JobState.FAILED
        # Stored with the job: in the language of the person who follows it.
        with force_locale(person_locale(job.requester)):
            job.error = gettext(
                "It held the growth plan of a person whose data was erased: retry to build it "
                "again."
            )


holding(
    "jobs",
    columns=("job.requester_id", "job.scope_manager_id"),
    forget=_forget,
    keeps="Who asked for a job and for whose org (by id); any archive holding the person's "
    "growth plan is deleted.",
)
