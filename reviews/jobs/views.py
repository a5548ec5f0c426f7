from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    send_from_directory,
    url_for,
)
from flask_login import current_user

from reviews import access
from reviews.cycles.models import Cycle
from reviews.documents.filenames import filename
from reviews.errors import DomainError
from reviews.extensions import db
from reviews.jobs import operations as ops
from reviews.jobs.models import Job, JobState
from reviews.jobs.tasks import export_dir
from reviews.languages import pgettext
from reviews.people.forms import ConfirmForm
from reviews.web import after_commit, failure

bp = Blueprint("jobs", __name__)


@bp.post("/cycles/<int:cycle_id>/plans.zip")
@access.signed_in
def start_plans_zip(cycle_id: int) -> Any:
    """HR: every plan of the cycle; a manager: the plans of their whole org."""
    cycle = db.get_or_404(Cycle, cycle_id)
    scope = None
    if not access.can_export_org(current_user, cycle):
        abort(403)
    if not access.is_hr(current_user):
        scope = current_user
    try:
        job = ops.start_plans_zip(current_user, cycle, scope)
    except DomainError as exc:
        return failure(exc, url_for("home.index"))
    after_commit(lambda: ops.enqueue(job.id))
    return redirect(url_for("jobs.job_page", job_id=job.id))


def _own_job(job_id: int) -> Job:
    job = db.get_or_404(Job, job_id)
    if job.requester_id != current_user.id:
        abort(403)
    return job


@bp.get("/jobs/<int:job_id>")
@access.signed_in
def job_page(job_id: int) -> Any:
    job = _own_job(job_id)
    ops.reap(job)  # a job whose worker died is failed here, and offered for retry
    return render_template(
        "jobs/job.html", job=job, stalled=ops.stalled(job), confirm=ConfirmForm(), JobState=JobState
    )


@bp.get("/jobs/<int:job_id>/download")
@access.signed_in
def download(job_id: int) -> Any:
    job = _own_job(job_id)
    if job.state != JobState.DONE or not job.file_name:
        abort(404)
    return send_from_directory(
        export_dir(current_app),
        job.file_name,
        as_attachment=True,
        download_name=filename(job.cycle.name, pgettext("file name", "growth plans"), ext="zip"),
        mimetype="application/zip",
    )


@bp.post("/jobs/<int:job_id>/retry")
@access.signed_in
def retry(job_id: int) -> Any:
    job = _own_job(job_id)
    try:
        ops.retry(current_user, job)
    except DomainError as exc:
        return failure(exc, url_for("jobs.job_page", job_id=job.id))
    after_commit(lambda: ops.enqueue(job.id))
    return redirect(url_for("jobs.job_page", job_id=job.id))
