from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    send_file,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from reviews import access, params
from reviews.audit.operations import record
from reviews.calibration.scoring import distribution_of_counts
from reviews.charts import completion_svg, distribution_svg
from reviews.cycles.models import Cycle, Review
from reviews.cycles.operations import remind_due
from reviews.cycles.workflow import LABELS
from reviews.documents.filenames import disposition, filename
from reviews.documents.pdf import render_pdf, stylesheet
from reviews.errors import BadParameter
from reviews.extensions import db
from reviews.languages import gettext, ngettext, pgettext
from reviews.people.forms import ConfirmForm
from reviews.people.models import Department
from reviews.reports import exports
from reviews.reports import queries as q
from reviews.reports.managers import COUNT_LIMIT as MANAGERS_COUNT_LIMIT
from reviews.reports.managers import NotListed as ManagerNotListed
from reviews.reports.managers import managers_page, writers_page
from reviews.reports.spreadsheets import csv_batches, xlsx_batches

bp = Blueprint("reports", __name__)


def _scope(cycle: Cycle) -> q.Scope:
    """HR: the filters asked for. A manager: their own org, narrowed by the filters."""
    scope = q.Scope(
        department_id=params.integer("department"), manager_id=params.integer("manager")
    )
    if access.is_hr(current_user):
        return scope
    if not access.can_export_org(current_user, cycle):
        abort(403)
    if scope.manager_id and scope.manager_id != current_user.id:
        from reviews.people.queries import is_below

        if not is_below(scope.manager_id, current_user.id):
            abort(403)
        return scope
    return q.Scope(department_id=scope.department_id, manager_id=current_user.id)


def _readers() -> frozenset[str]:
    """Which answers the report's reader reads: HR all, a manager the line's."""
    return exports.HR_READS if access.is_hr(current_user) else exports.LINE_READS


def _launched(cycle_id: int) -> Cycle:
    cycle = db.get_or_404(Cycle, cycle_id)
    if cycle.framework_snapshot is None:
        abort(404)  # a draft has no reviews to report on
    return cycle


def _filename(cycle: Cycle, what: str, ext: str) -> str:
    return filename(cycle.name, what, ext=ext)


def _attachment(cycle: Cycle, what: str, ext: str, *, inline: bool = False) -> dict[str, str]:
    return disposition(_filename(cycle, what, ext), inline=inline)


BEHIND = 25  # managers on the dashboard: the least complete
LATE_SHOWN = 200  # overdue tasks listed on the dashboard (all of them in the CSV)
MANAGERS_PAGE = 100
QUALITY_PAGE = 100  # managers on a page of the feedback-quality report


def _dashboard_data(cycle: Cycle) -> dict[str, Any]:
    total, by_department, dists = q.department_figures(cycle)
    changes = q.calibration_changes(cycle)
    phases = [
        (gettext("Self-reviews"), total.self_done, total.reviews),
        (
            ngettext(
                "At least %(num)d peer approved", "At least %(num)d peers approved", cycle.peer_min
            ),
            total.nominated,
            total.reviews,
        ),
        (gettext("Peer feedback"), total.peer_done, total.peer_total),
        (gettext("Manager reviews"), total.manager_done, total.manager_total),
        (gettext("Calibrated (final locked)"), total.calibrated, total.manager_total),
        (gettext("Acknowledged"), total.acknowledged, total.reviews),
    ]
    buckets = distribution_of_counts(dists.overall, cycle.guidance, cycle.guidance_tolerance / 100)
    return {
        "total": total,
        "by_department": by_department,
        "dists": dists,
        "changes": changes,
        "phases": phases,
        "buckets": buckets,
        "completion_chart": completion_svg(
            phases, gettext("Completion of %(name)s", name=cycle.name)
        ),
        "distribution_chart": distribution_svg(
            buckets,
            [str(v) for v in range(1, 6)],
            gettext("Ratings in %(name)s against the guidance", name=cycle.name),
        ),
    }


@bp.get("/cycles/<int:cycle_id>/dashboard")
@access.hr_only
def dashboard(cycle_id: int) -> Any:
    cycle = _launched(cycle_id)
    today = date.today()
    data = _dashboard_data(cycle)
    behind, managers = q.manager_completion(cycle, limit=BEHIND)
    return render_template(
        "reports/dashboard.html",
        cycle=cycle,
        late=q.overdue(cycle, today, limit=LATE_SHOWN),
        late_count=q.overdue_count(cycle, today, data["total"]),
        late_shown=LATE_SHOWN,
        today=today,
        departments=list(db.session.scalars(select(Department).order_by(Department.name))),
        confirm=ConfirmForm(),
        behind=behind,
        managers=managers,
        **data,
    )


@bp.get("/cycles/<int:cycle_id>/dashboard/managers")
@access.hr_only
def manager_completion(cycle_id: int) -> Any:
    """Completion for every manager (as frozen at launch), a page at a time after a given
    manager (`after`: their id, 0 for the reviews without a manager)."""
    cycle = _launched(cycle_id)
    params.only("sort", "after", paged_by_links=True)
    order = params.choice("sort", ["behind", "name"], "behind") or "behind"
    after = params.integer("after")
    try:
        found = managers_page(cycle, order, MANAGERS_PAGE, after=after)
    except ManagerNotListed:
        raise BadParameter(
            gettext("The parameter “%(name)s” must be a manager this list shows.", name="after"),
            "after",
        ) from None
    return render_template(
        "reports/managers.html",
        cycle=cycle,
        rows=found.rows,
        found=found,
        count_limit=MANAGERS_COUNT_LIMIT,
        sort=order,
    )


@bp.post("/cycles/<int:cycle_id>/remind")
@access.hr_only
def remind(cycle_id: int) -> Any:
    cycle = _launched(cycle_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    queued = remind_due(date.today(), cycle_id=cycle.id)
    record("cycle.reminded", actor=current_user, cycle_id=cycle.id, queued=queued)
    flash(
        ngettext(
            "%(num)d reminder sent (at most one per person and task a day).",
            "%(num)d reminders sent (at most one per person and task a day).",
            queued,
        ),
        "success",
    )
    return redirect(url_for("reports.dashboard", cycle_id=cycle.id))


@bp.get("/cycles/<int:cycle_id>/report.csv")
@access.signed_in
def report_csv(cycle_id: int) -> Any:
    cycle = _launched(cycle_id)
    scope = _scope(cycle)
    record(
        "export.cycle_report",
        actor=current_user,
        cycle_id=cycle.id,
        format="csv",
        department=scope.department_id,
        manager=scope.manager_id,
    )
    readers = _readers()
    header = exports.report_header(cycle, readers)
    return Response(
        stream_with_context(
            csv_batches(header, exports.report_batches(cycle, scope, readers, current_user.id))
        ),
        mimetype="text/csv; charset=utf-8",
        headers=_attachment(cycle, pgettext("file name", "report"), "csv"),
    )


@bp.get("/cycles/<int:cycle_id>/report.xlsx")
@access.signed_in
def report_xlsx(cycle_id: int) -> Any:
    cycle = _launched(cycle_id)
    scope = _scope(cycle)
    record(
        "export.cycle_report",
        actor=current_user,
        cycle_id=cycle.id,
        format="xlsx",
        department=scope.department_id,
        manager=scope.manager_id,
    )
    readers = _readers()
    handle = xlsx_batches(
        "Reviews",
        exports.report_header(cycle, readers),
        exports.report_batches(cycle, scope, readers, current_user.id),
    )
    return send_file(
        handle,
        as_attachment=True,
        download_name=_filename(cycle, pgettext("file name", "report"), "xlsx"),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.get("/cycles/<int:cycle_id>/calibration.csv")
@access.hr_only
def ledger_csv(cycle_id: int) -> Any:
    cycle = _launched(cycle_id)
    scope = _scope(cycle)
    record("export.calibration_ledger", actor=current_user, cycle_id=cycle.id)
    return Response(
        stream_with_context(
            csv_batches(exports.LEDGER_HEADER, exports.ledger_batches(cycle, scope))
        ),
        mimetype="text/csv; charset=utf-8",
        headers=_attachment(cycle, pgettext("file name", "calibration"), "csv"),
    )


@bp.get("/cycles/<int:cycle_id>/summary.pdf")
@access.hr_only
def summary_pdf(cycle_id: int) -> Any:
    """The dashboard's figures and charts for leadership: no individual peer content."""
    cycle = _launched(cycle_id)
    html = render_template(
        "documents/cycle_summary.html",
        cycle=cycle,
        generated=date.today(),
        labels=LABELS,
        **_dashboard_data(cycle),
    )
    pdf = render_pdf(html, stylesheet())
    record("export.cycle_summary_pdf", actor=current_user, cycle_id=cycle.id)
    return Response(
        pdf,
        mimetype="application/pdf",
        headers=_attachment(cycle, pgettext("file name", "summary"), "pdf", inline=True),
    )


@bp.get("/cycles/<int:cycle_id>/feedback-quality")
@access.hr_only
def feedback_quality(cycle_id: int) -> Any:
    """Per manager: how concrete their written reviews are (the coach's checks), a
    page of managers at a time by name (`after`: the manager the page starts after).

    Shown only for managers with at least five submitted reviews, so that no
    single comment can be inferred from a figure.
    """
    from reviews.calibration.queries import MIN_QUALITY_GROUP, quality_by_author, quality_shares

    cycle = _launched(cycle_id)
    params.only("after", paged_by_links=True)
    after = params.integer("after", low=1)
    try:
        found = writers_page(cycle, QUALITY_PAGE, after=after)
    except ManagerNotListed:
        raise BadParameter(
            gettext("The parameter “%(name)s” must be a manager this report shows.", name="after"),
            "after",
        ) from None
    figures = quality_by_author(
        select(Review.id).where(Review.cycle_id == cycle.id), [pid for pid, _ in found.people]
    )
    table = [
        (
            name,
            figures[pid][0],
            quality_shares(*figures[pid][1:]) if figures[pid][0] >= MIN_QUALITY_GROUP else None,
        )
        for pid, name in found.people
        if pid in figures
    ]
    return render_template(
        "reports/feedback_quality.html",
        cycle=cycle,
        table=table,
        found=found,
        count_limit=MANAGERS_COUNT_LIMIT,
        minimum=MIN_QUALITY_GROUP,
    )
