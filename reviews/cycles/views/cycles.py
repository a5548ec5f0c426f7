"""HR's cycle pages: the list, creating and editing a draft, the cycle page, moving it
on, deleting a draft; and a manager's team page."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from wtforms import SelectChoice

from reviews import access, params
from reviews.cycles import operations as ops
from reviews.cycles.forms import CycleForm
from reviews.cycles.inputs import TEMPLATE_FIELDS, cycle_warnings, parse_cycle
from reviews.cycles.models import Cycle, Review
from reviews.cycles.org import COUNT_LIMIT, ORG_PAGE, NotInOrg, org_reviews
from reviews.cycles.reading import cycle_policy
from reviews.cycles.views import bp
from reviews.cycles.visibility import Viewer, peer_figures_shown
from reviews.cycles.workflow import APPROVAL_OPEN, LABELS, CycleState, next_transition
from reviews.errors import BadParameter, DomainError, Invalid
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext, ngettext
from reviews.people.forms import ConfirmForm
from reviews.people.models import Department
from reviews.web import failure


@bp.get("/cycles")
@access.hr_only
def cycle_list() -> Any:
    cycles = list(db.session.scalars(select(Cycle).order_by(Cycle.created_at.desc())))
    counts = dict(
        db.session.execute(select(Review.cycle_id, func.count()).group_by(Review.cycle_id)).all()
    )
    return render_template("cycles/list.html", cycles=cycles, counts=counts, labels=LABELS)


def _cycle_or_404(cycle_id: int) -> Cycle:
    return db.get_or_404(Cycle, cycle_id)


DATES = (
    "period_start",
    "period_end",
    "self_review_due",
    "peer_feedback_due",
    "manager_review_due",
    "calibration_due",
)


def _form_for(cycle: Cycle | None, source: Cycle | None = None) -> CycleForm:
    """The form showing what was posted, or the cycle's settings, or those of `source`
    (an earlier cycle to start from, its dates moved on by `_shift`), or the defaults."""
    if request.method == "POST":
        form = CycleForm()
    else:
        shown = cycle or source
        form = CycleForm(obj=shown, formdata=None) if shown else CycleForm(formdata=None)
        if shown is not None:
            form.participant_mode.data = shown.participant_mode.value
            form.department_ids.data = [d.id for d in shown.departments]
            form.participant_emails.data = "\n".join(p.email for p in shown.participants)
            form.guidance.data = "/".join(str(g) for g in shown.guidance)
        if cycle is not None:
            form.version.data = str(cycle.version)
        elif source is not None:
            form.name.data = ""
            for name in DATES:
                day = getattr(source, name)
                getattr(form, name).data = day + _shift(source) if day else None
    form.department_ids.choices = [
        SelectChoice(d.id, d.name)
        for d in db.session.scalars(select(Department).order_by(Department.name))
    ]
    _template_choices(form, cycle or source, cycle)
    return form


def _asked(cycle: Cycle) -> list[tuple[str, str, Any, Any]]:
    """Each part's questions: (its name, the part, the template as asked, the chosen row
    or None). A launched cycle names the templates it froze, and reads no rows."""
    from reviews.review_templates.definition import PART_NAMES
    from reviews.review_templates.queries import chosen, templates_of

    rows = chosen(cycle) if cycle.templates is None else {}
    return [
        (PART_NAMES[part], part, t, rows.get(part))
        for part, t in templates_of(cycle).items()
        if part != "upward" or cycle.upward_feedback
    ]


def _template_choices(form: CycleForm, shown: Cycle | None, cycle: Cycle | None) -> None:
    """The review templates each part may ask; a cycle's (or its source's) own choice is
    kept in the list even when it has been archived since."""
    from reviews.review_templates.queries import chosen
    from reviews.review_templates.views import choices_for

    picked = (
        {
            part: row.id
            for part, row in chosen(shown).items()
            # a copy starts from the earlier cycle's templates still in use, not archived
            if shown is cycle or row.archived_at is None
        }
        if shown
        else {}
    )
    for part in TEMPLATE_FIELDS:
        select_field = getattr(form, f"{part}_template")
        select_field.choices = choices_for(part, picked.get(part) if shown is cycle else None)
        if request.method != "POST":
            select_field.data = str(picked.get(part, ""))


def _shift(source: Cycle) -> timedelta:
    """How far a copy's dates move: the next period starts the day after the source's
    ended and lasts as long; deadlines keep their distance from it."""
    return source.period_end - source.period_start + timedelta(days=1)


def _show_errors(form: CycleForm, exc: DomainError) -> None:
    for name, message in exc.fields.items():
        target = getattr(form, name, None)
        if target is not None and name != "version":
            target.errors = [message]
        else:
            form.form_errors.append(message)
    if not exc.fields:
        form.form_errors.append(exc.message)


def _save_cycle(cycle: Cycle | None) -> Any:
    source = None
    if cycle is None and request.method == "GET" and (from_id := params.integer("from")):
        source = _cycle_or_404(from_id)
    form = _form_for(cycle, source)
    warnings = cycle_warnings(cycle) if cycle is not None else []
    status = 200
    if request.method == "POST":
        try:
            fields = parse_cycle(Fields.of_form(request.form), current=cycle)
            if cycle is None:
                cycle = ops.create_cycle(current_user, fields)
            else:
                version = _version(request.form.get("version", ""))
                ops.update_cycle(current_user, cycle, version, fields)
        except DomainError as exc:
            db.session.rollback()
            _show_errors(form, exc)
            status = exc.status if exc.status != 422 else 400
            if cycle is not None:
                warnings = []
        else:
            flash(gettext("“%(name)s” is saved.", name=cycle.name), "success")
            for _name, message in cycle_warnings(cycle):
                flash(message, "warning")
            return redirect(url_for("cycles.cycle_detail", cycle_id=cycle.id))
    earlier = (
        list(
            db.session.scalars(
                select(Cycle)
                .where(Cycle.state != CycleState.DRAFT)
                .order_by(Cycle.period_end.desc(), Cycle.id.desc())
                .limit(20)
            )
        )
        if cycle is None
        else []
    )
    return render_template(
        "cycles/edit.html",
        form=form,
        cycle=cycle,
        warnings=warnings,
        earlier=earlier,
        source=source,
        shift=_shift(source).days if source else 0,
    ), status


def _version(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid(
            gettext("The form was incomplete; reload the page and edit again."), "version"
        )
    return int(raw)


@bp.route("/cycles/new", methods=["GET", "POST"])
@access.hr_only
def cycle_new() -> Any:
    return _save_cycle(None)


@bp.route("/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@access.hr_only
def cycle_edit(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    if cycle.state != CycleState.DRAFT:
        flash(gettext("A launched cycle cannot be edited."), "error")
        return redirect(url_for("cycles.cycle_detail", cycle_id=cycle.id))
    return _save_cycle(cycle)


@bp.get("/cycles/<int:cycle_id>")
@access.hr_only
def cycle_detail(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    from reviews.reports.queries import completion

    total, departments = completion(cycle, "department")
    participants = (
        ops.count_participants(cycle) if cycle.state == CycleState.DRAFT else total.reviews
    )
    return render_template(
        "cycles/detail.html",
        cycle=cycle,
        total=total,
        departments=departments,
        participants=participants,
        asked=_asked(cycle),
        transition=next_transition(cycle.state),
        labels=LABELS,
        confirm=ConfirmForm(),
        today=date.today(),
        warnings=cycle_warnings(cycle),
        overlaps=ops.overlapping_cycles(cycle) if cycle.state == CycleState.DRAFT else [],
    )


@bp.post("/cycles/<int:cycle_id>/advance")
@access.hr_only
def cycle_advance(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    target_value = request.form.get("target", "")
    if target_value not in {s.value for s in CycleState}:
        abort(400)
    back = url_for("cycles.cycle_detail", cycle_id=cycle_id)
    try:
        ops.advance_cycle(current_user, cycle, CycleState(target_value))
    except DomainError as exc:
        return failure(exc, back)
    flash(
        gettext(
            "“%(name)s” moved to the %(phase)s phase.", name=cycle.name, phase=LABELS[cycle.state]
        ),
        "success",
    )
    return redirect(back)


@bp.post("/cycles/<int:cycle_id>/delete")
@access.hr_only
def cycle_delete(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    try:
        ops.delete_cycle(current_user, cycle)
    except DomainError as exc:
        return failure(exc, url_for("cycles.cycle_detail", cycle_id=cycle_id))
    flash(gettext("The draft cycle is deleted."), "success")
    return redirect(url_for("cycles.cycle_list"))


@bp.get("/cycles/<int:cycle_id>/team")
@access.signed_in
def team(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    if cycle.state == CycleState.DRAFT:
        abort(404)
    after = params.integer("after", low=1)
    try:
        found = org_reviews(cycle, current_user, after)
    except NotInOrg:
        raise BadParameter(
            gettext(
                "The parameter “%(name)s” must be a review in your org in this cycle.", name="after"
            ),
            "after",
        ) from None
    policy = cycle_policy(cycle)
    return render_template(
        "cycles/team.html",
        cycle=cycle,
        rows=found.rows,
        org=found,
        count_limit=COUNT_LIMIT,
        page_size=ORG_PAGE,
        labels=LABELS,
        # Peer counts under the cycle's anonymity rules (SPEC 4: withheld below the
        # threshold where names are kept from the line), as every output applies them.
        peers_shown=lambda n: peer_figures_shown(Viewer.MANAGER, policy, n),
        approving=cycle.state in APPROVAL_OPEN,
        # what "Approve all" would approve: the direct reports' waiting nominations
        waiting_mine=sum(
            found.waiting.get(r.id, 0)
            for r, _parts in found.rows
            if r.manager_id == current_user.id
        ),
        confirm=ConfirmForm(),
    )


@bp.post("/cycles/<int:cycle_id>/team/approve")
@access.signed_in
def approve_team_nominations(cycle_id: int) -> Any:
    """The manager approves every waiting nomination of their direct reports at once."""
    cycle = _cycle_or_404(cycle_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    reviews = list(
        db.session.scalars(
            select(Review).where(Review.cycle_id == cycle.id, Review.manager_id == current_user.id)
        )
    )
    if not reviews:
        abort(403)  # only a manager of people in this cycle decides their nominations
    try:
        approved = ops.approve_all(current_user, reviews)
    except DomainError as exc:
        return failure(exc, url_for("cycles.team", cycle_id=cycle.id))
    flash(
        ngettext(
            "%(num)d nomination approved; the peers are asked now.",
            "%(num)d nominations approved; the peers are asked now.",
            approved,
        )
        if approved
        else gettext("No nomination was waiting for approval."),
        "success",
    )
    return redirect(url_for("cycles.team", cycle_id=cycle.id))
