"""Writing a part: the self-review, the manager's review and a peer's feedback, as a
form (without JavaScript) and by autosave, both through `cycles.parts.parse_part`."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.cycles import operations as ops
from reviews.cycles.forms import DeclineForm
from reviews.cycles.models import Assessment, PartKind, PeerRequest, RequestState, Review
from reviews.cycles.parts import POTENTIAL, READINESS, parse_part, part_values
from reviews.cycles.reading import read_review, written
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.views import bp
from reviews.cycles.views.review import review_or_404
from reviews.cycles.workflow import LABELS
from reviews.errors import Conflict, DomainError
from reviews.evidence.citations import coverage
from reviews.evidence.queries import citable_refs, resolve
from reviews.extensions import db
from reviews.languages import gettext
from reviews.review_templates.definition import Template
from reviews.review_templates.queries import template_of

EVIDENCE_KINDS = ("self", "manager")


def _parse(
    part: Assessment, snapshot: FrameworkSnapshot, template: Template, *, submit: bool
) -> Any:
    """The posted form through the one part parser (and the evidence parser), or Invalid."""
    from reviews.errors import merge
    from reviews.evidence.citations import parse_evidence

    kind = part.kind.value
    clean, errors = parse_part(
        template,
        request.form,
        snapshot.keys,
        snapshot.growth_level_keys(part.review.level_key),
        submit=submit,
    )
    if kind in EVIDENCE_KINDS:
        evidence, evidence_errors = parse_evidence(
            request.form, snapshot.keys, citable_refs(current_user, part)
        )
        clean.evidence = evidence
        errors = {**evidence_errors, **errors}
    if errors:
        raise merge(errors)
    return clean


def _version() -> int:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


def _evidence_context(part: Assessment, posted: dict[str, Any] | None) -> dict[str, Any]:
    """What the evidence pickers show: the options, and what is cited now."""
    from reviews.evidence.queries import options_for

    if part.kind.value not in EVIDENCE_KINDS:
        return {"options": [], "cited": {}}
    return {
        "options": options_for(current_user, part.review),
        "cited": posted if posted is not None else (part.evidence or {}),
    }


def _labels(template: Template) -> dict[str, str]:
    """The label of every field that is not a competency's."""
    labels = {q.key: q.label for q in template.questions}
    labels.update({k: template.label(k) for k in ("overall", "potential", "readiness")})
    labels["desired_level"] = gettext("Level you want to grow towards")
    return labels


def _summary(errors: dict[str, str], snapshot: FrameworkSnapshot, template: Template) -> list[Any]:
    """Every problem of a refused post, each with the field it points to."""
    names = {c.key: c.name for c in snapshot.competencies}
    labels = _labels(template)
    found = []
    for name, message in errors.items():
        if name == "form":
            continue
        anchor, label = name, labels.get(name, "")
        for prefix in ("rating_", "comment_", "evidence_url_", "evidence_title_", "evidence_"):
            if name.startswith(prefix):
                key = name.removeprefix(prefix)
                anchor = f"competency-{key}" if prefix == "rating_" else name
                label = names.get(key, key)
                break
        found.append((anchor, label, message))
    return found


def _label(name: str, snapshot: FrameworkSnapshot, template: Template) -> str:
    names = {c.key: c.name for c in snapshot.competencies}
    if name.startswith("rating_"):
        return gettext("%(name)s (rating)", name=names.get(name.removeprefix("rating_"), name))
    if name.startswith("comment_"):
        return gettext("%(name)s (comment)", name=names.get(name.removeprefix("comment_"), name))
    return _labels(template).get(name, name.replace("_", " ").capitalize())


def _shown(name: str, value: Any, template: Template) -> str:
    """A saved field's value as the conflict summary shows it."""
    question = template.question(name)
    if question is not None and question.kind != "text":
        from reviews.review_templates.answers import parse_answers

        answers, _errors = parse_answers([question], {name: value}, submit=False)
        return question.as_text(answers.get(name)) or gettext("(empty)")
    return str(value or "") or gettext("(empty)")


def _differences(
    saved: dict[str, Any], typed: dict[str, Any], snapshot: FrameworkSnapshot, template: Template
) -> list[tuple[str, str]]:
    """What the other save stored where it differs from what this person typed."""
    names = sorted(set(saved) | {n for n in typed if n not in ("version", "action")})
    return [
        (_label(n, snapshot, template), _shown(n, saved.get(n), template))
        for n in names
        if (saved.get(n) or "") != (typed.get(n) or "") and not n.startswith("evidence")
    ]


def posted_values(template: Template) -> dict[str, Any]:
    """What this person typed, as the form shows it again (a multiple choice as a list)."""
    values: dict[str, Any] = {
        k: v for k, v in request.form.items() if k not in ("csrf_token", "action")
    }
    for q in template.questions:
        if q.kind == "choices":
            values[q.key] = request.form.getlist(q.key)
    return values


def _handle_part(part: Assessment, template: str, back: str, **context: Any) -> Any:
    """GET shows the part; POST saves a draft or submits, refusing stale versions and
    keeping what the person typed when it is refused."""
    review = part.review
    snapshot = FrameworkSnapshot(review.cycle.framework_snapshot or {})
    kind = part.kind.value
    template_ = template_of(review.cycle, kind)
    values = part_values(part, template_)
    errors: dict[str, str] = {}
    status = 200
    lock = ops.part_lock_reason(part, current_user)
    posted_evidence: dict[str, Any] | None = None
    saved_now: list[tuple[str, str]] = []
    confirming = False
    if request.method == "POST":
        action = request.form.get("action")
        # "check" is the Submit button: the part is checked as a submission and, when
        # complete, saved as a draft and confirmed on the page; only "submit" (the
        # confirmation's button) submits. Nobody is asked to confirm what would be refused.
        submit = action in ("submit", "check")
        values = posted_values(template_)
        try:
            clean = _parse(part, snapshot, template_, submit=submit)
            posted_evidence = clean.evidence
            final = action == "submit"
            ops.save_part(current_user, part, _version(), clean, submit=final)
            if action == "check":
                confirming = True
                values = part_values(part, template_)  # the saved draft, at its new version
        except Conflict as conflict:  # the edge rolls the request back: status >= 400
            part = conflict.current or part
            errors["form"] = gettext(
                "%(problem)s What you typed is still in the form below; what is saved "
                "now differs as listed here. Check it and save again.",
                problem=conflict.message,
            )
            saved_now = _differences(part_values(part, template_), values, snapshot, template_)
            status = 409
        except DomainError as exc:
            errors = dict(exc.fields) or {"form": exc.message}
            if exc.fields and "form" not in errors:
                errors["form"] = (
                    gettext("Not submitted yet: fix what is marked below.")
                    if submit
                    else gettext("Not saved: fix what is marked below.")
                )
            status = 400 if exc.status == 422 else exc.status
        else:
            if not confirming:
                flash(
                    gettext("Submitted. Thank you.") if submit else gettext("Draft saved."),
                    "success",
                )
                return redirect(back if submit else request.path)
    return render_template(
        template,
        coach=coach_findings(template_, values),
        part=part,
        review=review,
        snapshot=snapshot,
        values=values,
        errors=errors,
        summary=_summary(errors, snapshot, template_),
        saved_now=saved_now,
        confirming=confirming,
        lock=lock,
        template=template_,
        given=written(part),
        potential=POTENTIAL,
        readiness=READINESS,
        kind=kind,
        labels=LABELS,
        evidence=_evidence_context(part, posted_evidence) if not lock else None,
        **context,
    ), status


def coach_findings(template: Template, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Findings for every written field, shown beside it (the no-JavaScript path)."""
    from reviews.coach.analysis import analyse
    from reviews.languages import get_locale

    written = {q.key for q in template.questions if q.kind == "text"}
    found: dict[str, list[Any]] = {}
    for name, text in values.items():
        if not text or not isinstance(text, str):
            continue
        if not (name.startswith("comment_") or name in written):
            continue
        rating_field = (
            "overall"
            if name == "summary"
            else ("rating_" + name.removeprefix("comment_") if name.startswith("comment_") else "")
        )
        raw = values.get(rating_field, "")
        findings = analyse(
            text, int(raw) if raw in {"1", "2", "3", "4", "5"} else None, str(get_locale())
        )
        if findings:
            found[name] = findings
    return found


def _autosave(part: Assessment) -> Any:
    """The form's script saving a draft as the person types: JSON in the API's shape."""
    from reviews.api.core import error_body

    snapshot = FrameworkSnapshot(part.review.cycle.framework_snapshot or {})
    template = template_of(part.review.cycle, part.kind.value)
    try:
        clean = _parse(part, snapshot, template, submit=False)
        ops.save_part(current_user, part, _version(), clean, submit=False)
    except DomainError as exc:
        return error_body(exc)
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
    review = review_or_404(review_id)
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
    review = review_or_404(review_id)
    if not access.can_write_self_part(current_user, review):
        abort(403)
    return _autosave(_own_part(review, PartKind.SELF, review.subject_id))


@bp.route("/reviews/<int:review_id>/manager", methods=["GET", "POST"])
@access.signed_in
def manager_part(review_id: int) -> Any:
    review = review_or_404(review_id)
    if not access.can_write_manager_part(current_user, review):
        abort(403)
    part = _own_part(review, PartKind.MANAGER, review.manager_id)
    reading = read_review(review, access.review_relations(current_user, review))
    # The self-review (and its citations) reach the manager once it is submitted.
    self_evidence = reading.self_part.evidence if reading.self_part else None
    keys = FrameworkSnapshot(review.cycle.framework_snapshot or {}).keys
    return _handle_part(
        part,
        "reviews/manager.html",
        url_for("cycles.team", cycle_id=review.cycle_id),
        self_part=reading.self_part,
        peers=reading.peers,
        reading_templates=reading.templates,
        self_evidence=self_evidence,
        coverage_self=coverage(keys, [self_evidence]),
        coverage_manager=coverage(keys, [part.evidence]),
        resolved=resolve(review.subject_id, [self_evidence, part.evidence]),
    )


@bp.post("/reviews/<int:review_id>/manager/autosave")
@access.signed_in
def manager_autosave(review_id: int) -> Any:
    review = review_or_404(review_id)
    if not access.can_write_manager_part(current_user, review):
        abort(403)
    return _autosave(_own_part(review, PartKind.MANAGER, review.manager_id))


def my_request(request_id: int) -> PeerRequest:
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
    req = my_request(request_id)
    if req.state == RequestState.DECLINED:
        return render_template("reviews/declined.html", req=req)
    part = ops.peer_assessment(req)
    return _handle_part(
        part, "reviews/peer.html", url_for("cycles.inbox"), req=req, decline=DeclineForm()
    )


@bp.post("/requests/<int:request_id>/autosave")
@access.signed_in
def peer_autosave(request_id: int) -> Any:
    req = my_request(request_id)
    return _autosave(ops.peer_assessment(req))
