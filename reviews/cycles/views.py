from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from reviews import access
from reviews.cycles import operations as ops
from reviews.cycles.forms import CycleForm, DeclineForm, NominateForm
from reviews.cycles.models import (
    Assessment,
    Cycle,
    ParticipantMode,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.parts import ANSWERS, POTENTIAL, READINESS, parse_part
from reviews.cycles.queries import inbox_requests, org_reviews
from reviews.cycles.reading import parts_of, peer_view, read_review, requests_of
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.workflow import (
    APPROVAL_OPEN,
    LABELS,
    NOMINATION_OPEN,
    CycleState,
    next_transition,
    reached,
)
from reviews.evidence.citations import coverage
from reviews.evidence.queries import citable_refs, resolve
from reviews.extensions import db
from reviews.people.forms import ConfirmForm
from reviews.people.models import Department, Person

bp = Blueprint("cycles", __name__)


# Cycles (HR) -------------------------------------------------------------------


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


def _fill_cycle_choices(form: CycleForm) -> None:
    form.department_ids.choices = [
        SelectChoice(d.id, d.name)
        for d in db.session.scalars(select(Department).order_by(Department.name))
    ]


def _cycle_fields(form: CycleForm) -> ops.CycleFields:
    emails = [e.strip().lower() for e in (form.participant_emails.data or "").split() if e.strip()]
    people = dict(
        db.session.execute(
            select(Person.email, Person.id).where(Person.email.in_(emails or [""]))
        ).all()
    )
    unknown = [e for e in emails if e not in people]
    if unknown:
        raise ops.CycleError(
            f"Nobody has the email {', '.join(unknown[:5])}"
            f"{' and more' if len(unknown) > 5 else ''}.",
            "participant_emails",
        )
    try:
        guidance = [int(x) for x in (form.guidance.data or "").replace(",", "/").split("/")]
    except ValueError:
        raise ops.CycleError("Write five whole percentages separated by /.", "guidance") from None
    return ops.CycleFields(
        name=(form.name.data or "").strip(),
        period_start=form.period_start.data,
        period_end=form.period_end.data,
        participant_mode=ParticipantMode(form.participant_mode.data),
        department_ids=list(form.department_ids.data or []),
        participant_ids=list(people.values()),
        self_review_due=form.self_review_due.data,
        peer_feedback_due=form.peer_feedback_due.data,
        manager_review_due=form.manager_review_due.data,
        calibration_due=form.calibration_due.data,
        peer_min=form.peer_min.data or 0,
        peer_max=form.peer_max.data or 0,
        peer_anonymous=bool(form.peer_anonymous.data),
        anonymity_threshold=form.anonymity_threshold.data or 1,
        peer_names_to_managers=bool(form.peer_names_to_managers.data),
        reviewer_load_cap=form.reviewer_load_cap.data or 1,
        guidance=guidance,
        upward_feedback=bool(form.upward_feedback.data),
    )


def _save_cycle(cycle: Cycle | None) -> Any:
    form = CycleForm(obj=cycle) if request.method == "GET" and cycle else CycleForm()
    _fill_cycle_choices(form)
    if request.method == "GET" and cycle is not None:
        form.participant_mode.data = cycle.participant_mode.value
        form.department_ids.data = [d.id for d in cycle.departments]
        form.participant_emails.data = "\n".join(p.email for p in cycle.participants)
        form.guidance.data = "/".join(str(g) for g in cycle.guidance)
        form.version.data = str(cycle.version)
    if form.validate_on_submit():
        try:
            fields = _cycle_fields(form)
            if cycle is None:
                cycle = ops.create_cycle(current_user, fields)
            else:
                ops.update_cycle(current_user, cycle, int(form.version.data or 0), fields)
        except ops.CycleError as exc:
            db.session.rollback()
            target = getattr(form, exc.field or "", None)
            if target is not None:
                target.errors = [str(exc)]
            else:
                form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"“{cycle.name}” is saved.", "success")
            return redirect(url_for("cycles.cycle_detail", cycle_id=cycle.id))
    status = 400 if request.method == "POST" else 200
    return render_template("cycles/edit.html", form=form, cycle=cycle), status


@bp.route("/cycles/new", methods=["GET", "POST"])
@access.hr_only
def cycle_new() -> Any:
    return _save_cycle(None)


@bp.route("/cycles/<int:cycle_id>/edit", methods=["GET", "POST"])
@access.hr_only
def cycle_edit(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    if cycle.state != CycleState.DRAFT:
        flash("A launched cycle cannot be edited.", "error")
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
        transition=next_transition(cycle.state),
        labels=LABELS,
        confirm=ConfirmForm(),
        today=date.today(),
    )


@bp.post("/cycles/<int:cycle_id>/advance")
@access.hr_only
def cycle_advance(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    target_value = request.form.get("target", "")
    if target_value not in {s.value for s in CycleState}:
        abort(400)
    try:
        ops.advance_cycle(current_user, cycle, CycleState(target_value))
    except ops.CycleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("cycles.cycle_detail", cycle_id=cycle_id)), 303
    db.session.commit()
    flash(f"“{cycle.name}” is now in {LABELS[cycle.state].lower()}.", "success")
    return redirect(url_for("cycles.cycle_detail", cycle_id=cycle_id))


@bp.post("/cycles/<int:cycle_id>/delete")
@access.hr_only
def cycle_delete(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    try:
        ops.delete_cycle(current_user, cycle)
    except ops.CycleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("cycles.cycle_detail", cycle_id=cycle_id))
    db.session.commit()
    flash("The draft cycle is deleted.", "success")
    return redirect(url_for("cycles.cycle_list"))


@bp.get("/cycles/<int:cycle_id>/team")
@access.signed_in
def team(cycle_id: int) -> Any:
    cycle = _cycle_or_404(cycle_id)
    if cycle.state == CycleState.DRAFT:
        abort(404)
    raw = request.args.get("page", "1")
    found = org_reviews(cycle, current_user, int(raw) if raw.isdigit() and len(raw) < 7 else 1)
    return render_template(
        "cycles/team.html", cycle=cycle, rows=found.rows, org=found, labels=LABELS
    )


# Reviews -----------------------------------------------------------------------


def _review_or_404(review_id: int) -> Review:
    review = db.session.scalar(
        select(Review)
        .where(Review.id == review_id)
        .options(joinedload(Review.subject), joinedload(Review.manager), joinedload(Review.cycle))
    )
    if review is None:
        abort(404)
    return review


def _visible_review(review_id: int) -> tuple[Review, set[str]]:
    review = _review_or_404(review_id)
    relations = access.review_relations(current_user, review)
    if not relations:
        abort(403)
    return review, relations


@bp.get("/reviews/<int:review_id>")
@access.signed_in
def review(review_id: int) -> Any:
    review, relations = _visible_review(review_id)
    reading = read_review(review, relations)
    self_part, manager_part = reading.self_part, reading.manager_part
    shown = [p.evidence for p in (self_part, manager_part) if p]
    return render_template(
        "reviews/review.html",
        review=review,
        relations=relations,
        self_part=reading.self_part,
        manager_part=reading.manager_part,
        peers=reading.peers,
        snapshot=FrameworkSnapshot(review.cycle.framework_snapshot or {}),
        requests=reading.requests,
        released=reading.released,
        result_visible=reading.result_visible,
        labels=LABELS,
        confirm=ConfirmForm(),
        potential=POTENTIAL,
        readiness=READINESS,
        answers=ANSWERS,
        resolved=resolve(review.subject_id, shown),
    )


def _part_values(part: Assessment) -> dict[str, str]:
    values = {f"rating_{k}": str(v) for k, v in part.ratings.items()}
    values.update({f"comment_{k}": v for k, v in part.comments.items()})
    values.update(part.answers)
    values["desired_level"] = part.desired_level_key or ""
    values["overall"] = str(part.overall_rating or "")
    values["potential"] = part.potential.value if part.potential else ""
    values["readiness"] = part.promotion_readiness.value if part.promotion_readiness else ""
    return values


EVIDENCE_KINDS = ("self", "manager")


def _parse_with_evidence(
    part: Assessment, snapshot: FrameworkSnapshot, *, submit: bool
) -> tuple[Any, dict[str, str]]:
    from reviews.evidence.citations import parse_evidence

    kind = part.kind.value
    clean, errors = parse_part(
        kind, request.form, snapshot.keys, snapshot.level_keys(), submit=submit
    )
    if kind in EVIDENCE_KINDS:
        evidence, evidence_errors = parse_evidence(
            request.form, snapshot.keys, citable_refs(current_user, part)
        )
        clean.evidence = evidence
        errors = {**evidence_errors, **errors}
    return clean, errors


def _evidence_context(part: Assessment, posted: dict[str, Any] | None) -> dict[str, Any]:
    """What the evidence pickers show: the options, and what is cited now."""
    from reviews.evidence.queries import options_for

    if part.kind.value not in EVIDENCE_KINDS:
        return {"options": [], "cited": {}}
    return {
        "options": options_for(current_user, part.review),
        "cited": posted if posted is not None else (part.evidence or {}),
    }


def _handle_part(part: Assessment, template: str, back: str, **context: Any) -> Any:
    """GET shows the part; POST saves a draft or submits, refusing stale versions."""
    review = part.review
    snapshot = FrameworkSnapshot(review.cycle.framework_snapshot or {})
    kind = part.kind.value
    values = _part_values(part)
    errors: dict[str, str] = {}
    status = 200
    lock = ops.part_lock_reason(part, current_user)
    posted_evidence: dict[str, Any] | None = None
    if request.method == "POST":
        submit = request.form.get("action") == "submit"
        clean, errors = _parse_with_evidence(part, snapshot, submit=submit)
        posted_evidence = clean.evidence
        values = {k: v for k, v in request.form.items() if k != "csrf_token"}
        version = request.form.get("version", "")
        if not errors:
            try:
                ops.save_part(
                    current_user,
                    part,
                    int(version) if version.isdigit() else -1,
                    clean,
                    submit=submit,
                )
            except ops.PartConflict as conflict:
                db.session.rollback()
                part = conflict.current
                values = _part_values(part)
                posted_evidence = None
                errors["form"] = (
                    "Your changes were not saved: this part was saved elsewhere "
                    "(another tab or device) after you opened it. The saved version "
                    "is shown now; make your changes again."
                )
                status = 409
            except ops.CycleError as exc:
                db.session.rollback()
                errors["form"] = str(exc)
                status = 409
            else:
                db.session.commit()
                flash("Submitted. Thank you." if submit else "Draft saved.", "success")
                return redirect(back if submit else request.path)
        if status == 200:
            status = 400
    return render_template(
        template,
        coach=_coach(kind, values),
        part=part,
        review=review,
        snapshot=snapshot,
        values=values,
        errors=errors,
        lock=lock,
        answers=ANSWERS[kind],
        potential=POTENTIAL,
        readiness=READINESS,
        kind=kind,
        labels=LABELS,
        evidence=_evidence_context(part, posted_evidence) if not lock else None,
        **context,
    ), status


def _coach(kind: str, values: dict[str, str]) -> dict[str, list[Any]]:
    """Findings for every written field, shown beside it (the no-JavaScript path)."""
    from reviews.coach.analysis import analyse

    found: dict[str, list[Any]] = {}
    for name, text in values.items():
        if not text or not (
            name.startswith("comment_")
            or name
            in {"accomplishments", "growth", "strengths", "growth_areas", "suggestion", "summary"}
        ):
            continue
        rating_field = (
            "overall"
            if name == "summary"
            else ("rating_" + name.removeprefix("comment_") if name.startswith("comment_") else "")
        )
        raw = values.get(rating_field, "")
        findings = analyse(text, int(raw) if raw in {"1", "2", "3", "4", "5"} else None)
        if findings:
            found[name] = findings
    return found


def _autosave(part: Assessment) -> Any:
    snapshot = FrameworkSnapshot(part.review.cycle.framework_snapshot or {})
    clean, errors = _parse_with_evidence(part, snapshot, submit=False)
    if errors:
        return jsonify(
            error={"code": "invalid", "message": "Some fields are not valid.", "fields": errors}
        ), 422
    version = request.form.get("version", "")
    try:
        ops.save_part(
            current_user, part, int(version) if version.isdigit() else -1, clean, submit=False
        )
    except ops.PartConflict as conflict:
        db.session.rollback()
        return jsonify(
            error={
                "code": "conflict",
                "message": "Saved elsewhere meanwhile; reload "
                "to see the current version before you continue.",
                "fields": {},
                "current_version": conflict.current.version,
            }
        ), 409
    except ops.CycleError as exc:
        db.session.rollback()
        return jsonify(error={"code": "locked", "message": str(exc), "fields": {}}), 409
    db.session.commit()
    return jsonify(ok=True, version=part.version, saved_at=part.updated_at.isoformat())


def _own_part(review: Review, kind: PartKind, author_id: int | None) -> Assessment:
    part = db.session.scalar(
        select(Assessment).where(
            Assessment.review_id == review.id,
            Assessment.kind == kind,
            Assessment.author_id == author_id,
        )
    )
    if part is None:
        abort(404)
    return part


@bp.route("/reviews/<int:review_id>/self", methods=["GET", "POST"])
@access.signed_in
def self_part(review_id: int) -> Any:
    review = _review_or_404(review_id)
    if not access.can_write_self_part(current_user, review):
        abort(403)
    part = _own_part(review, PartKind.SELF, review.subject_id)
    return _handle_part(
        part,
        "reviews/self.html",
        url_for("cycles.review", review_id=review.id),
        resolved=resolve(review.subject_id, [part.evidence]),
    )


@bp.post("/reviews/<int:review_id>/self/autosave")
@access.signed_in
def self_autosave(review_id: int) -> Any:
    review = _review_or_404(review_id)
    if not access.can_write_self_part(current_user, review):
        abort(403)
    return _autosave(_own_part(review, PartKind.SELF, review.subject_id))


@bp.route("/reviews/<int:review_id>/manager", methods=["GET", "POST"])
@access.signed_in
def manager_part(review_id: int) -> Any:
    review = _review_or_404(review_id)
    if not access.can_write_manager_part(current_user, review):
        abort(403)
    part = _own_part(review, PartKind.MANAGER, review.manager_id)
    parts = parts_of(review)
    self_part = next((p for p in parts if p.kind == PartKind.SELF), None)
    # The self-review's citations reach the manager once it is submitted.
    self_evidence = (
        self_part.evidence if self_part and self_part.state == PartState.SUBMITTED else None
    )
    keys = FrameworkSnapshot(review.cycle.framework_snapshot or {}).keys
    return _handle_part(
        part,
        "reviews/manager.html",
        url_for("cycles.team", cycle_id=review.cycle_id),
        self_part=self_part,
        peers=peer_view(review, {"manager"}, parts),
        self_evidence=self_evidence,
        coverage_self=coverage(keys, [self_evidence]),
        coverage_manager=coverage(keys, [part.evidence]),
        resolved=resolve(review.subject_id, [self_evidence, part.evidence]),
    )


@bp.post("/reviews/<int:review_id>/manager/autosave")
@access.signed_in
def manager_autosave(review_id: int) -> Any:
    review = _review_or_404(review_id)
    if not access.can_write_manager_part(current_user, review):
        abort(403)
    return _autosave(_own_part(review, PartKind.MANAGER, review.manager_id))


@bp.post("/reviews/<int:review_id>/parts/<int:part_id>/reopen")
@access.hr_only
def reopen(review_id: int, part_id: int) -> Any:
    part = db.session.scalar(
        select(Assessment).where(Assessment.id == part_id, Assessment.review_id == review_id)
    )
    if part is None:
        abort(404)
    try:
        ops.reopen_part(current_user, part)
    except ops.CycleError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(
            f"The {part.kind.value} part by {part.author.name} is open for editing again.",
            "success",
        )
    return redirect(url_for("cycles.review", review_id=review_id))


# Nominations ---------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/nominations", methods=["GET", "POST"])
@access.signed_in
def nominations(review_id: int) -> Any:
    review, relations = _visible_review(review_id)
    can_nominate = access.can_nominate(current_user, review)
    can_decide = access.can_decide_nominations(current_user, review)
    if not (can_nominate or can_decide or relations & {"skip"}):
        abort(403)
    form = NominateForm()
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action in ("approve", "remove", "withdraw"):
                req = db.session.scalar(
                    select(PeerRequest).where(
                        PeerRequest.id == _int(request.form.get("request_id")),
                        PeerRequest.review_id == review.id,
                    )
                )
                if req is None:
                    abort(404)
                if action == "withdraw":
                    ops.withdraw_proposal(current_user, req)
                elif can_decide:
                    ops.decide_request(current_user, req, approve=action == "approve")
                else:
                    abort(403)
            elif action == "add" and form.validate_on_submit():
                email = (form.email.data or "").strip().lower()
                peer = db.session.scalar(select(Person).where(Person.email == email))
                if peer is None:
                    raise ops.CycleError(f"Nobody has the email {email}.", "email")
                if can_decide:
                    ops.add_peer(current_user, review, peer)
                elif can_nominate:
                    ops.propose_peer(current_user, review, peer)
                else:
                    abort(403)
            elif action != "add":
                abort(400)
            else:
                raise ops.CycleError("", None)  # field errors are on the form already
        except ops.CycleError as exc:
            db.session.rollback()
            if str(exc):
                if exc.field == "email":
                    form.email.errors = [str(exc)]
                else:
                    form.form_errors.append(str(exc))
            status = 400
        else:
            db.session.commit()
            flash("Nominations updated.", "success")
            return redirect(url_for("cycles.nominations", review_id=review.id))
    requests = requests_of(review)
    live = [r for r in requests if r.state in (RequestState.PROPOSED, RequestState.APPROVED)]
    load = ops.reviewer_load(review.cycle_id, [r.reviewer_id for r in live])
    reciprocal = {r for s, r in ops.reciprocal_pairs(review.cycle_id, [review.subject_id])}
    return render_template(
        "reviews/nominations.html",
        review=review,
        requests=requests,
        live=live,
        form=form,
        can_nominate=can_nominate and review.cycle.state in NOMINATION_OPEN,
        can_decide=can_decide and review.cycle.state in APPROVAL_OPEN,
        load=load,
        reciprocal=reciprocal,
        labels=LABELS,
    ), status


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 10 else -1


# Peer requests ---------------------------------------------------------------------


@bp.get("/requests")
@access.signed_in
def inbox() -> Any:
    rows = db.session.execute(
        inbox_requests(current_user.id)
        .add_columns(Assessment.state)
        .outerjoin(Assessment, Assessment.peer_request_id == PeerRequest.id)
        .order_by(PeerRequest.created_at.desc())
    ).all()
    return render_template("reviews/inbox.html", rows=rows, labels=LABELS)


def _my_request(request_id: int) -> PeerRequest:
    req = db.session.scalar(
        select(PeerRequest)
        .where(PeerRequest.id == request_id)
        .options(joinedload(PeerRequest.review).joinedload(Review.subject))
    )
    if req is None:
        abort(404)
    if req.reviewer_id != current_user.id:
        abort(403)
    if req.state not in (RequestState.APPROVED, RequestState.DECLINED):
        abort(404)
    return req


@bp.route("/requests/<int:request_id>", methods=["GET", "POST"])
@access.signed_in
def peer_request(request_id: int) -> Any:
    req = _my_request(request_id)
    if req.state == RequestState.DECLINED:
        return render_template("reviews/declined.html", req=req)
    part = ops.peer_assessment(req)
    db.session.commit()
    return _handle_part(
        part, "reviews/peer.html", url_for("cycles.inbox"), req=req, decline=DeclineForm()
    )


@bp.post("/requests/<int:request_id>/autosave")
@access.signed_in
def peer_autosave(request_id: int) -> Any:
    req = _my_request(request_id)
    return _autosave(ops.peer_assessment(req))


@bp.post("/requests/<int:request_id>/decline")
@access.signed_in
def peer_decline(request_id: int) -> Any:
    req = _my_request(request_id)
    form = DeclineForm()
    try:
        if not form.validate_on_submit():
            raise ops.CycleError(
                form.reason.errors[0] if form.reason.errors else "Say why.", "reason"
            )
        ops.decline_request(current_user, req, form.reason.data or "")
    except ops.CycleError as exc:
        db.session.rollback()
        flash(f"Not declined: {exc}", "error")
        return redirect(url_for("cycles.peer_request", request_id=request_id))
    db.session.commit()
    flash(f"You declined to give feedback to {req.review.subject.name}.", "success")
    return redirect(url_for("cycles.inbox"))


@bp.get("/reviews/<int:review_id>/summary.pdf")
@access.signed_in
def summary_pdf(review_id: int) -> Any:
    """The released review as a PDF, under the same visibility rules as the page."""
    from flask import Response

    from reviews.audit.operations import record
    from reviews.documents.pdf import render_pdf, stylesheet

    review, relations = _visible_review(review_id)
    if not reached(review.cycle.state, CycleState.RELEASED):
        abort(404)
    parts = parts_of(review)
    html = render_template(
        "documents/review_summary.html",
        review=review,
        snapshot=FrameworkSnapshot(review.cycle.framework_snapshot or {}),
        self_part=next(
            (p for p in parts if p.kind == PartKind.SELF and p.state == PartState.SUBMITTED), None
        ),
        manager_part=next(
            (p for p in parts if p.kind == PartKind.MANAGER and p.state == PartState.SUBMITTED),
            None,
        ),
        peers=peer_view(review, relations, parts),
        answers=ANSWERS,
    )
    pdf = render_pdf(html, stylesheet())
    record(
        "export.review_summary_pdf",
        actor=current_user,
        subject=review.subject,
        cycle_id=review.cycle_id,
    )
    db.session.commit()
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": 'inline; filename="review-summary.pdf"'},
    )
