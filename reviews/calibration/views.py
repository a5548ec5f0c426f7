from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from reviews import access, params
from reviews.calibration import operations as ops
from reviews.calibration.inputs import parse_change, parse_version
from reviews.calibration.models import (
    CalibrationChange,
    CalibrationMember,
    CalibrationSession,
    GroupKind,
    SessionState,
)
from reviews.calibration.queries import add_details, session_data, session_row
from reviews.charts import distribution_svg
from reviews.cycles.models import Cycle, Review, cycle_group_figures
from reviews.cycles.parts import POTENTIAL, READINESS
from reviews.cycles.reading import read_review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import LABELS
from reviews.errors import Conflict, DomainError, Invalid
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext, lazy_gettext, ngettext
from reviews.paging import COUNT_LIMIT, bounded_count
from reviews.people.forms import ConfirmForm
from reviews.people.lookup import find_person
from reviews.people.models import Department
from reviews.review_templates.definition import REVIEW_PARTS
from reviews.review_templates.queries import templates_of
from reviews.web import failure

bp = Blueprint("calibration", __name__)

SORTS = {
    "name": lambda r: r.name.lower(),
    "manager": lambda r: (r.manager_name.lower(), r.name.lower()),
    "department": lambda r: (r.department.lower(), r.name.lower()),
    "level": lambda r: (r.level_key or "", r.name.lower()),
    "final": lambda r: (-(r.final or 0), r.name.lower()),
    "potential": lambda r: (
        {"high": 0, "medium": 1, "low": 2}.get(r.final_potential or "", 3),
        r.name.lower(),
    ),
    "gap": lambda r: (-(abs(r.gap) if r.gap is not None else -1), r.name.lower()),
}


def _session_or_404(session_id: int) -> CalibrationSession:
    session = db.session.scalar(
        select(CalibrationSession)
        .where(CalibrationSession.id == session_id)
        .options(joinedload(CalibrationSession.cycle))
    )
    if session is None:
        abort(404)
    if not access.can_calibrate(current_user, session):
        abort(403)
    return session


def uncalibrated_count(cycle: Cycle, limit: int | None = None) -> int:
    """Reviews with a submitted manager part that no session holds and nothing locked;
    with `limit`, counted up to limit + 1 (the page says "more than")."""
    found = ops.uncalibrated(cycle)
    if limit is not None:
        return bounded_count(found, Review.id, limit)
    return db.session.scalar(select(func.count()).select_from(found.subquery())) or 0


def _refused(message: str, back: str) -> Any:
    """`failure` with a message that holds the reason in a sentence of its own ("No
    session opened: %(reason)s"), rather than a lead glued before the reason."""
    return failure(DomainError(message), back)


@bp.get("/cycles/<int:cycle_id>/calibration")
@access.signed_in
def sessions(cycle_id: int) -> Any:
    cycle = db.get_or_404(Cycle, cycle_id)
    all_sessions = list(
        db.session.scalars(
            select(CalibrationSession)
            .where(CalibrationSession.cycle_id == cycle.id)
            .order_by(CalibrationSession.opened_at)
        )
    )
    visible = [s for s in all_sessions if access.can_calibrate(current_user, s)]
    if not visible and not access.is_hr(current_user):
        abort(403)
    sizes = dict(
        db.session.execute(
            select(CalibrationMember.session_id, func.count())
            .where(CalibrationMember.session_id.in_([s.id for s in all_sessions] or [-1]))
            .group_by(CalibrationMember.session_id)
        ).all()
    )
    uncalibrated = uncalibrated_count(cycle, COUNT_LIMIT)
    # Only the departments the cycle's reviews belong to (as frozen at launch), with how
    # many reviews each holds: a department outside the cycle would open an empty session.
    # From the cycle's kept figures (a few hundred rows), not its 100,000 reviews.
    g = cycle_group_figures
    departments = db.session.execute(
        select(Department.id, Department.name, func.sum(g.c.reviews))
        .join(g, (g.c.cycle_id == cycle.id) & (g.c.department_key == Department.id))
        .group_by(Department.id, Department.name)
        .having(func.sum(g.c.reviews) > 0)
        .order_by(Department.name)
    ).all()
    return render_template(
        "calibration/sessions.html",
        cycle=cycle,
        sessions=visible,
        sizes=sizes,
        uncalibrated=uncalibrated,
        departments=departments,
        confirm=ConfirmForm(),
        labels=LABELS,
        errors={},
    )


@bp.post("/cycles/<int:cycle_id>/calibration")
@access.hr_only
def open_session(cycle_id: int) -> Any:
    cycle = db.get_or_404(Cycle, cycle_id)
    kind_value = request.form.get("group_kind", "")
    if kind_value not in {k.value for k in GroupKind}:
        abort(400)
    kind = GroupKind(kind_value)
    department = manager = None
    dep = request.form.get("department_id", "")
    if kind == GroupKind.DEPARTMENT and dep.isdigit() and len(dep) < 10:
        department = db.session.get(Department, int(dep))
    back = url_for("calibration.sessions", cycle_id=cycle.id)
    if kind == GroupKind.MANAGER_ORG:
        named = request.form.get("manager_email", "").strip()[:254]
        if named:
            manager, problem = find_person(named)
            if problem:
                return _refused(gettext("No session opened: %(reason)s", reason=problem), back)
    try:
        session = ops.open_session(
            current_user,
            cycle,
            kind,
            department=department,
            manager=manager,
            managers_calibrate=request.form.get("managers_calibrate") == "y",
        )
    except DomainError as exc:
        return _refused(gettext("No session opened: %(reason)s", reason=exc.message), back)
    flash(gettext("Calibration of %(name)s is open.", name=session.name), "success")
    return redirect(url_for("calibration.session_page", session_id=session.id))


@bp.post("/cycles/<int:cycle_id>/finalise")
@access.hr_only
def finalise(cycle_id: int) -> Any:
    cycle = db.get_or_404(Cycle, cycle_id)
    back = url_for("calibration.sessions", cycle_id=cycle.id)
    try:
        n = ops.finalise_uncalibrated(current_user, cycle)
    except DomainError as exc:
        return failure(exc, back)
    flash(
        ngettext(
            "%(num)d review finalised with the manager's rating.",
            "%(num)d reviews finalised with the manager's rating.",
            n,
        ),
        "success",
    )
    return redirect(back)


PAGE_SIZE = 100  # people rows per page
BOX_NAMES = 12  # names listed in each 9-box cell; the rest are a link to the table
TOP_MANAGERS = 20  # rows of the rater tables before "show all"
LEDGER_ROWS = 200  # latest changes shown; the CSV export has them all
BANDS = {
    "2": lazy_gettext("Exceeds (4\u20135)"),
    "1": lazy_gettext("Meets (3)"),
    "0": lazy_gettext("Below (1\u20132)"),
}


def _band(rating: int | None) -> str | None:
    if rating is None:
        return None
    return "0" if rating <= 2 else "1" if rating == 3 else "2"


def _filters() -> dict[str, str]:
    """The session page's filters as given, each refused with a 400 when malformed."""
    manager = params.integer("manager")
    return {
        "manager": str(manager) if manager is not None else "",
        "department": params.text("department", max_length=200),
        "level": params.text("level", max_length=60),
        "rating": params.choice("rating", ["1", "2", "3", "4", "5"]) or "",
        "potential": params.choice("potential", list(POTENTIAL)) or "",
        "band": params.choice("band", list(BANDS)) or "",
    }


def _outliers_first(managers: dict[int, Any]) -> list[Any]:
    """Lenient and severe managers first, then those tested, by the size of their leniency."""
    return sorted(
        managers.values(),
        key=lambda b: (not b.flagged, not b.tested, -abs(b.estimate), b.rater),
    )


@bp.get("/calibration/<int:session_id>")
@access.signed_in
def session_page(session_id: int) -> Any:
    session = _session_or_404(session_id)
    data = session_data(session, current_user.id, ledger_limit=LEDGER_ROWS)
    snapshot = FrameworkSnapshot(session.cycle.framework_snapshot or {})
    rows = data.rows
    filters = _filters()
    if filters["manager"]:
        rows = [r for r in rows if str(r.manager_id) == filters["manager"]]
    if filters["department"]:
        rows = [r for r in rows if r.department == filters["department"]]
    if filters["level"]:
        rows = [r for r in rows if r.level_key == filters["level"]]
    if filters["rating"]:
        rows = [r for r in rows if str(r.final) == filters["rating"]]
    if filters["potential"]:
        rows = [r for r in rows if r.final_potential == filters["potential"]]
    if filters["band"]:
        rows = [r for r in rows if _band(r.final) == filters["band"]]
    sort = params.choice("sort", SORTS, "name") or "name"
    rows = sorted(rows, key=SORTS[sort])
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(params.page(), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    add_details(session, shown)
    labels = [s["label"] for s in snapshot.performance] or [str(v) for v in range(1, 6)]
    buckets = data.buckets(session.cycle.guidance)
    chart = distribution_svg(
        buckets,
        [str(v) for v in range(1, 6)],
        gettext("Final ratings in %(name)s against the guidance", name=session.name),
    )
    grid: dict[tuple[str, str], list[Any]] = {}
    for r in data.rows:
        band = _band(r.final)
        if band is not None and r.final_potential:
            grid.setdefault((band, r.final_potential), []).append(r)
    for names in grid.values():
        names.sort(key=SORTS["name"])
    everyone = params.choice("raters", ["all", "top"]) == "all"
    raters = _outliers_first(data.model.managers)
    # Within one manager's org no manager could be judged: their peers' ratings do not
    # reach other teams (or the teams are small), which only a wider group changes.
    needs_department = (
        session.group_kind == GroupKind.MANAGER_ORG
        and bool(data.model.managers)
        and not data.model.tested
    )
    quality = sorted(
        data.quality.items(),
        key=lambda item: (item[1] is None, item[1][1] if item[1] else 0, item[0]),
    )
    return render_template(
        "calibration/session.html",
        session=session,
        data=data,
        rows=shown,
        matching=len(rows),
        page=page,
        pages=pages,
        page_size=PAGE_SIZE,
        chart=chart,
        buckets=buckets,
        scale_labels=labels,
        grid=grid,
        bands=BANDS,
        box_names=BOX_NAMES,
        raters=raters if everyone else raters[:TOP_MANAGERS],
        quality=quality if everyone else quality[:TOP_MANAGERS],
        all_raters=everyone,
        needs_department=needs_department,
        top_managers=TOP_MANAGERS,
        filters=filters,
        sort=sort,
        snapshot=snapshot,
        potential=POTENTIAL,
        readiness=READINESS,
        confirm=ConfirmForm(),
        snapshot_names={c.key: c.name for c in snapshot.competencies},
        departments=sorted({r.department for r in data.rows}),
        levels=sorted({r.level_key for r in data.rows if r.level_key}),
        ledger_rows=LEDGER_ROWS,
    )


def member_review(session: CalibrationSession, review_id: int) -> Review | None:
    return db.session.scalar(
        select(Review)
        .join(CalibrationMember, CalibrationMember.review_id == Review.id)
        .where(CalibrationMember.session_id == session.id, Review.id == review_id)
        .options(joinedload(Review.subject), joinedload(Review.manager))
    )


def _member_or_404(session: CalibrationSession, review_id: int) -> Review:
    review = member_review(session, review_id)
    if review is None:
        abort(404)
    return review


def _saved_now(
    review: Review, typed: dict[str, str], snapshot: FrameworkSnapshot
) -> list[tuple[str, str]]:
    """After a conflict: the final values saved meanwhile, where they differ from what this
    calibrator chose (shown beside the form, which keeps their choice)."""
    found = []
    if (typed.get("overall") or "") not in ("", str(review.final_rating)):
        found.append((gettext("Overall rating"), str(review.final_rating or gettext("none"))))
    current_potential = review.final_potential.value if review.final_potential else ""
    if (typed.get("potential") or "") not in ("", current_potential):
        found.append((gettext("Potential"), str(POTENTIAL.get(current_potential, gettext("none")))))
    finals = review.final_ratings or {}
    for c in snapshot.competencies:
        chosen = typed.get(f"rating_{c.key}") or ""
        if chosen and chosen != str(finals.get(c.key, "")):
            found.append((c.name, str(finals.get(c.key, gettext("none")))))
    return found


@bp.route("/calibration/<int:session_id>/reviews/<int:review_id>", methods=["GET", "POST"])
@access.signed_in
def person(session_id: int, review_id: int) -> Any:
    session = _session_or_404(session_id)
    review = _member_or_404(session, review_id)
    if not access.can_calibrate_review(current_user, session, review):
        abort(403)  # one's own review is calibrated by others and not shown here
    snapshot = FrameworkSnapshot(session.cycle.framework_snapshot or {})
    _data, row = session_row(session, current_user.id, review.id)
    errors: dict[str, str] = {}
    status = 200
    values: dict[str, str] = {}
    saved_now: list[tuple[str, str]] = []
    if request.method == "POST":
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        data = Fields.of_form(request.form)
        try:
            change, rationale = parse_change(data, snapshot.keys, suggestion=row.suggestion)
            version = parse_version(data)
            if version is None:
                raise Invalid(gettext("The form was incomplete; reload the page and try again."))
            if change.overall is not None and request.form.get("action") == "adopt":
                values["overall"] = str(change.overall)
            ops.change_final(current_user, session, review, version, change, rationale)
        except Conflict as conflict:
            review = conflict.current
            errors["form"] = gettext(
                "%(problem)s What you chose and wrote is kept in the form; what is "
                "saved now differs as listed here. Check it and save again.",
                problem=conflict.message,
            )
            saved_now = _saved_now(review, values, snapshot)
            status = 409
        except DomainError as exc:
            errors = dict(exc.fields) or {"form": exc.message}
            status = 409 if session.state == SessionState.FINISHED else 400
        else:
            flash(
                gettext(
                    "%(name)s's final values are saved and recorded.", name=review.subject.name
                ),
                "success",
            )
            return redirect(
                url_for("calibration.session_page", session_id=session.id) + f"#row-{review.id}"
            )
    history = list(
        db.session.scalars(
            select(CalibrationChange)
            .where(CalibrationChange.review_id == review.id)
            .options(joinedload(CalibrationChange.actor))
            .order_by(CalibrationChange.at.desc(), CalibrationChange.id.desc())
        )
    )
    # The words beside the figures are the review as this calibrator may read it (HR, the
    # line above the person): the one read model, anonymity included. A manager who
    # calibrates another line's people compares figures only.
    relations = access.review_relations(current_user, review)
    return render_template(
        "calibration/person.html",
        session=session,
        review=review,
        row=row,
        snapshot=snapshot,
        errors=errors,
        values=values,
        saved_now=saved_now,
        history=history,
        potential=POTENTIAL,
        readiness=READINESS,
        reading=read_review(review, relations) if relations else None,
        templates=templates_of(session.cycle, REVIEW_PARTS),
        rating_labels={int(s["value"]): s["label"] for s in snapshot.performance},
    ), status


@bp.post("/calibration/<int:session_id>/finish")
@access.hr_only
def finish(session_id: int) -> Any:
    session = _session_or_404(session_id)
    try:
        ops.finish_session(current_user, session)
    except DomainError as exc:
        return _refused(
            gettext("Not finished: %(reason)s", reason=exc.message),
            url_for("calibration.session_page", session_id=session.id),
        )
    flash(
        gettext(
            "Calibration of %(name)s is finished; its final ratings are locked.", name=session.name
        ),
        "success",
    )
    return redirect(url_for("calibration.sessions", cycle_id=session.cycle_id))


@bp.post("/reviews/<int:review_id>/acknowledge")
@access.signed_in
def acknowledge(review_id: int) -> Any:
    review = db.get_or_404(Review, review_id)
    if not access.can_acknowledge(current_user, review):
        abort(403)
    back = url_for("cycles.review", review_id=review.id)
    try:
        ops.acknowledge(current_user, review, request.form.get("comment", ""))
    except DomainError as exc:
        return _refused(gettext("Not acknowledged: %(reason)s", reason=exc.message), back)
    flash(gettext("Thank you: your acknowledgement is recorded."), "success")
    return redirect(back)
