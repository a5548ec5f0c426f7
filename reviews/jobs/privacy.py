"""Background jobs: who asked for a ZIP of growth plans, and the archives themselves."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from reviews.cycles.models import Review
from reviews.extensions import db
from reviews.jobs.models import Job
from reviews.privacy import Forgetting, holding


def _forget(f: Forgetting) -> None:
    """Archives that hold the person's growth plan are deleted; their jobs can be run again."""
    from reviews.jobs.tasks import export_dir

    cycles = select(Review.cycle_id).where(Review.subject_id == f.person.id)
    for job in db.session.scalars(
        select(Job).where(Job.cycle_id.in_(cycles), Job.file_name.is_not(None))
    ):
        path = export_dir(current_app) / (job.file_name or "")
        path.unlink(missing_ok=True)
        job.file_name = None


holding(
    "jobs",
    columns=("job.requester_id", "job.scope_manager_id"),
    forget=_forget,
    keeps="Who asked for a job and for whose org (by id); any archive holding the person's "
    "growth plan is deleted.",
)
