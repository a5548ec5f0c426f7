"""API: reviews as each caller may read them (`cycles.reading`), and writing the self,
manager and peer parts over a version, through the pages' own part parser.

PUT merges: a body changes only what it mentions (`cycles.parts.merge_json`);
submit takes the saved draft with whatever the body changes, and checks the
whole of it, naming every missing answer at once.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_login import current_user
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.api.core import (
    PAGE_PARAMETERS,
    ApiError,
    body,
    bp,
    expected_version,
    int_arg,
    operation,
    page_args,
    page_of,
    paged,
    with_etag,
)
from reviews.api.review_schemas import PART, PART_BODY, REVIEW, part_json, review_json
from reviews.api.schemas import (
    DECLINE,
    INBOX_ITEM,
    REQUEST,
    REVIEW_SUMMARY,
    iso,
    request_json,
    review_summary,
)
from reviews.cycles import operations as ops
from reviews.cycles.inputs import parse_decline
from reviews.cycles.models import Assessment, PartKind, PeerRequest, RequestState, Review
from reviews.cycles.parts import json_field, merge_json, parse_part, part_values
from reviews.cycles.queries import inbox_requests, org_manager_ids
from reviews.cycles.reading import PartView, read_review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.errors import merge
from reviews.extensions import db
from reviews.inputs import Fields
from reviews.languages import gettext
from reviews.review_templates.queries import template_of


def review_or_404(review_id: int) -> Review:
    review = db.session.scalar(
        select(Review)
        .where(Review.id == review_id)
        .options(joinedload(Review.subject), joinedload(Review.manager), joinedload(Review.cycle))
    )
    if review is None:
        raise ApiError(404, "not_found", gettext("There is no review with this id."))
    return review


def visible_review(review_id: int) -> tuple[Review, set[str]]:
    review = review_or_404(review_id)
    relations = access.review_relations(current_user, review)
    if not relations:
        raise ApiError(
            403, "forbidden", gettext("Only the person, their managers and HR see a review.")
        )
    return review, relations


# An org of at most this many people is read whole, its reviews sorted; a larger one is
# read by walking the reviews in id order, where at least one in a hundred is its own.
SMALL_ORG = 1000


def _small_org(manager_id: int) -> bool:
    below = org_manager_ids(manager_id).limit(SMALL_ORG + 1).subquery()
    return (db.session.scalar(select(func.count()).select_from(below)) or 0) <= SMALL_ORG


@bp.get("/reviews")
@access.signed_in
@operation(
    "Reviews the caller may read: their own, their org's (managers) or all (HR)",
    page_of(REVIEW_SUMMARY),
    parameters=[
        *PAGE_PARAMETERS,
        {"name": "cycle_id", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    ],
)
def reviews() -> Any:
    cycle_id = int_arg("cycle_id")
    if access.is_hr(current_user):
        stmt = select(Review)
        if cycle_id is not None:
            stmt = stmt.where(Review.cycle_id == cycle_id)
    else:
        # The caller's own reviews and their org's, each read from its own index (an OR of
        # the two would read every review in id order), a page of each at most.
        cursor, limit = page_args()
        me = current_user.id

        def first(ids: Any) -> Any:
            if cycle_id is not None:
                ids = ids.where(Review.cycle_id == cycle_id)
            return ids.where(Review.id > cursor).order_by(Review.id).limit(limit + 1)

        own = first(select(Review.id).where(Review.subject_id == me))
        in_org = select(Review.id).where(
            Review.manager_id.in_(org_manager_ids(me)), Review.subject_id != me
        )
        if _small_org(me):
            # a few reviews: read them all from the org-path and manager indexes and sort
            # them ("+ 0": not by walking every review in id order for the few of the org)
            if cycle_id is not None:
                in_org = in_org.where(Review.cycle_id == cycle_id)
            org = in_org.where(Review.id + 0 > cursor).order_by(Review.id + 0).limit(limit + 1)
        else:
            # many: the org's reviews are dense among all of them, walked in id order
            org = first(in_org)
        both = union_all(own.subquery().select(), org.subquery().select()).subquery()
        stmt = select(Review).where(Review.id.in_(select(both.c.id)))
    stmt = stmt.options(joinedload(Review.subject), joinedload(Review.cycle))
    return paged(stmt, Review.id, review_summary)


@bp.get("/reviews/<int:review_id>")
@access.signed_in
@operation(
    "One review as the caller may read it, by the same read model as the page and the PDF: "
    "a part's draft only for its author; peer feedback under the cycle's anonymity policy "
    "(in a cycle that hides names from managers and HR, only once the peer-feedback phase "
    "is over and the threshold reached); for the person reviewed, the calibrated values "
    "and never the proposal they replaced",
    REVIEW,
)
def review(review_id: int) -> Any:
    return jsonify(review_json(read_review(*visible_review(review_id))))


# Parts -------------------------------------------------------------------------------


def _cited(cited: dict[str, list[dict[str, Any]]], part: Assessment, keys: list[str]) -> Any:
    """The JSON citations as the form posts them, through the pages' own evidence parser;
    competencies the body leaves out keep their saved citations."""
    from werkzeug.datastructures import MultiDict

    from reviews.evidence.citations import parse_evidence
    from reviews.evidence.queries import citable_refs

    form: MultiDict[str, str] = MultiDict()
    errors: dict[str, str] = {}
    for key, items in cited.items():
        links = [c for c in items if c["kind"] == "link"]
        if len(links) > 1:
            errors[f"evidence.{key}"] = gettext("Cite at most one link per competency.")
        for link in links[:1]:
            form.add(f"evidence_url_{key}", link["url"])
            form.add(f"evidence_title_{key}", link["title"])
        for c in items:
            if c["kind"] != "link":
                form.add(f"evidence_{key}", f"{c['kind']}:{c['id']}")
    evidence, problems = parse_evidence(form, keys, citable_refs(current_user, part))
    for name, message in problems.items():
        for prefix in ("evidence_url_", "evidence_title_", "evidence_"):
            if name.startswith(prefix):
                name = "evidence." + name.removeprefix(prefix)
                break
        else:
            name = "evidence"
        errors.setdefault(name, message)
    mentioned = {k: v for k, v in evidence.items() if k in cited}
    return {**(part.evidence or {}), **mentioned}, errors


def _part_answer(part: Assessment) -> Any:
    data = part_json(PartView.of(part))
    data["locked"] = ops.part_lock_reason(part, current_user)
    data["questions"] = template_of(part.review.cycle, part.kind.value).as_json()
    return with_etag(jsonify(data), part.version)


def _save(part: Assessment, *, submit: bool) -> Any:
    data = body()
    version = expected_version(data)
    template = template_of(part.review.cycle, part.kind.value)
    snapshot = FrameworkSnapshot(part.review.cycle.framework_snapshot or {})
    flat = merge_json(template, part_values(part, template), data)
    clean, problems = parse_part(
        template,
        flat,
        snapshot.keys,
        snapshot.growth_level_keys(part.review.level_key),
        submit=submit,
    )
    errors = {json_field(k): v for k, v in problems.items()}
    if "evidence" in data:
        if part.kind == PartKind.PEER:
            errors["evidence"] = gettext("Peer feedback cites no evidence.")
        else:
            clean.evidence, evidence_errors = _cited(data["evidence"], part, snapshot.keys)
            errors.update(evidence_errors)
    if errors:
        raise merge(errors)
    ops.save_part(current_user, part, version, clean, submit=submit)
    return _part_answer(part)


def _self_part(review_id: int) -> Assessment:
    review = review_or_404(review_id)
    if not access.can_write_self_part(current_user, review):
        raise ApiError(
            403, "forbidden", gettext("Only the person reviewed writes the self-review.")
        )
    return ops.part_for(review, PartKind.SELF)


def _manager_part(review_id: int) -> Assessment:
    review = review_or_404(review_id)
    if not access.can_write_manager_part(current_user, review):
        raise ApiError(
            403, "forbidden", gettext("Only the direct manager writes the manager review.")
        )
    return ops.part_for(review, PartKind.MANAGER)


def my_request(request_id: int) -> PeerRequest:
    found = db.session.scalar(
        select(PeerRequest)
        .where(PeerRequest.id == request_id)
        .options(joinedload(PeerRequest.review).joinedload(Review.subject))
    )
    if found is None or found.state not in (RequestState.APPROVED, RequestState.DECLINED):
        raise ApiError(404, "not_found", gettext("There is no open peer request with this id."))
    if found.reviewer_id != current_user.id:
        raise ApiError(403, "forbidden", gettext("Only the peer asked writes this feedback."))
    return found


def _peer_part(request_id: int) -> Assessment:
    found = my_request(request_id)
    if found.state == RequestState.DECLINED:
        raise ApiError(409, "declined", gettext("You declined this request."))
    return ops.peer_assessment(found)


PART_WRITE = {"body": PART_BODY, "errors": (409, 428)}
SAVE_TEXT = (
    "Save a draft over the version you read (If-Match or version). The body is merged into "
    "the saved draft: only what it mentions changes (ratings, comments and answers key by "
    "key, null removing one), so a body of ratings alone keeps the comments and answers. "
    "409 with current_version when it changed meanwhile"
)
SUBMIT_TEXT = (
    "Submit: the saved draft, with whatever the body changes (merged as for PUT), is "
    "checked as a whole; a body of only the version submits the draft as saved. 422 names "
    "every missing rating and answer at once"
)


@bp.get("/reviews/<int:review_id>/self")
@access.signed_in
@operation("The caller's self-review; ETag is its version", PART)
def self_read(review_id: int) -> Any:
    return _part_answer(_self_part(review_id))


@bp.put("/reviews/<int:review_id>/self")
@access.signed_in
@operation("Self-review: " + SAVE_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def self_save(review_id: int) -> Any:
    return _save(_self_part(review_id), submit=False)


@bp.post("/reviews/<int:review_id>/self/submit")
@access.signed_in
@operation("Self-review. " + SUBMIT_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def self_submit(review_id: int) -> Any:
    return _save(_self_part(review_id), submit=True)


@bp.get("/reviews/<int:review_id>/manager")
@access.signed_in
@operation("The manager review, for the direct manager who writes it", PART)
def manager_read(review_id: int) -> Any:
    return _part_answer(_manager_part(review_id))


@bp.put("/reviews/<int:review_id>/manager")
@access.signed_in
@operation("Manager review: " + SAVE_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def manager_save(review_id: int) -> Any:
    return _save(_manager_part(review_id), submit=False)


@bp.post("/reviews/<int:review_id>/manager/submit")
@access.signed_in
@operation("Manager review. " + SUBMIT_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def manager_submit(review_id: int) -> Any:
    return _save(_manager_part(review_id), submit=True)


@bp.get("/requests")
@access.signed_in
@operation(
    "Peer feedback the caller is asked to write", page_of(INBOX_ITEM), parameters=PAGE_PARAMETERS
)
def inbox() -> Any:
    return paged(inbox_requests(current_user.id), PeerRequest.id, render_page=_inbox_items)


def _inbox_items(rows: list[PeerRequest]) -> list[dict[str, Any]]:
    states = dict(
        db.session.execute(
            select(Assessment.peer_request_id, Assessment.state).where(
                Assessment.peer_request_id.in_([r.id for r in rows] or [-1])
            )
        ).all()
    )
    return [
        {
            "id": r.id,
            "review_id": r.review_id,
            "cycle_id": r.review.cycle_id,
            "cycle_name": r.review.cycle.name,
            "subject_name": r.review.subject.name,
            "state": r.state.value,
            "feedback_state": state.value if (state := states.get(r.id)) else None,
            "due": iso(r.review.cycle.peer_feedback_due),
        }
        for r in rows
    ]


@bp.get("/requests/<int:request_id>/feedback")
@access.signed_in
@operation("The caller's peer feedback for a request; ETag is its version", PART, errors=(409,))
def peer_read(request_id: int) -> Any:
    return _part_answer(_peer_part(request_id))


@bp.put("/requests/<int:request_id>/feedback")
@access.signed_in
@operation("Peer feedback: " + SAVE_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def peer_save(request_id: int) -> Any:
    return _save(_peer_part(request_id), submit=False)


@bp.post("/requests/<int:request_id>/feedback/submit")
@access.signed_in
@operation("Peer feedback. " + SUBMIT_TEXT, PART, **PART_WRITE)  # type: ignore[arg-type]
def peer_submit(request_id: int) -> Any:
    return _save(_peer_part(request_id), submit=True)


@bp.post("/requests/<int:request_id>/decline")
@access.signed_in
@operation("Decline a peer request, saying why", REQUEST, body=DECLINE, errors=(409,))
def peer_decline(request_id: int) -> Any:
    found = my_request(request_id)
    ops.decline_request(current_user, found, parse_decline(Fields.of_json(body())))
    return jsonify(request_json(found))
