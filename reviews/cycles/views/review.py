"""One review as its reader may read it (`cycles.reading`), on the page and as a PDF;
HR reopening a submitted part."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews import access
from reviews.audit.operations import record
from reviews.cycles import operations as ops
from reviews.cycles.models import Assessment, PartKind, Review
from reviews.cycles.parts import POTENTIAL, READINESS
from reviews.cycles.reading import ReviewReading, read_review
from reviews.cycles.snapshot import FrameworkSnapshot
from reviews.cycles.views import bp
from reviews.cycles.workflow import LABELS
from reviews.errors import DomainError
from reviews.evidence.queries import resolve
from reviews.extensions import db
from reviews.languages import gettext, pgettext
from reviews.people.forms import ConfirmForm
from reviews.web import failure


def review_or_404(review_id: int) -> Review:
    review = db.session.scalar(
        select(Review)
        .where(Review.id == review_id)
        .options(joinedload(Review.subject), joinedload(Review.manager), joinedload(Review.cycle))
    )
    if review is None:
        abort(404)
    return review


def visible_review(review_id: int) -> tuple[Review, set[str]]:
    review = review_or_404(review_id)
    relations = access.review_relations(current_user, review)
    if not relations:
        abort(403)
    return review, relations


def reading_context(reading: ReviewReading) -> dict[str, Any]:
    """What the review page and its PDF render: the reading, and labels to render it."""
    review = reading.review
    shown = [p.evidence for p in (reading.self_part, reading.manager_part) if p]
    return {
        "reading": reading,
        "review": review,
        "relations": reading.relations,
        "snapshot": FrameworkSnapshot(review.cycle.framework_snapshot or {}),
        "labels": LABELS,
        "potential": POTENTIAL,
        "readiness": READINESS,
        "templates": reading.templates,
        "resolved": resolve(review.subject_id, shown),
    }


@bp.get("/reviews/<int:review_id>")
@access.signed_in
def review(review_id: int) -> Any:
    review, relations = visible_review(review_id)
    reading = read_review(review, relations)
    return render_template("reviews/review.html", confirm=ConfirmForm(), **reading_context(reading))


@bp.get("/reviews/<int:review_id>/summary.pdf")
@access.signed_in
def summary_pdf(review_id: int) -> Any:
    """The released review as a PDF: the page's reading, set for print."""
    from reviews.documents.filenames import disposition, filename
    from reviews.documents.pdf import render_pdf, stylesheet

    review, relations = visible_review(review_id)
    reading = read_review(review, relations)
    if not reading.released:
        abort(404)
    html = render_template("documents/review_summary.html", **reading_context(reading))
    pdf = render_pdf(html, stylesheet())
    record(
        "export.review_summary_pdf",
        actor=current_user,
        subject=review.subject,
        cycle_id=review.cycle_id,
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers=disposition(
            filename(
                review.subject.name,
                review.cycle.name,
                pgettext("file name", "review"),
                ext="pdf",
            ),
            inline=True,
        ),
    )


@bp.post("/reviews/<int:review_id>/parts/<int:part_id>/reopen")
@access.hr_only
def reopen(review_id: int, part_id: int) -> Any:
    part = db.session.scalar(
        select(Assessment).where(Assessment.id == part_id, Assessment.review_id == review_id)
    )
    if part is None:
        abort(404)
    back = url_for("cycles.review", review_id=review_id)
    try:
        ops.reopen_part(current_user, part)
    except DomainError as exc:
        return failure(exc, back)
    reopened = {
        PartKind.SELF: gettext(
            "The self part by %(name)s is open for editing again.", name=part.author.name
        ),
        PartKind.PEER: gettext(
            "The peer part by %(name)s is open for editing again.", name=part.author.name
        ),
        PartKind.MANAGER: gettext(
            "The manager part by %(name)s is open for editing again.", name=part.author.name
        ),
    }
    flash(reopened[part.kind], "success")
    return redirect(back)
