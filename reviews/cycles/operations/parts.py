"""Writing the parts of a review: the self-review, peer feedback and the manager's
review, saved as drafts over the version their writer loaded, submitted, reopened."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from reviews.audit.operations import record
from reviews.cycles.models import (
    Assessment,
    PartKind,
    PartState,
    PeerRequest,
    Potential,
    Readiness,
    RequestState,
    Review,
)
from reviews.cycles.parts import PartInput
from reviews.cycles.reading import cycle_policy
from reviews.cycles.workflow import MANAGER_OPEN, PEER_OPEN, SELF_OPEN, CycleState
from reviews.db import utcnow
from reviews.errors import Conflict, Forbidden, NotFound, PhaseClosed
from reviews.extensions import db
from reviews.languages import gettext, lazy_gettext
from reviews.links import Link
from reviews.notifications.operations import Message, notify
from reviews.people.models import Person


def part_for(review: Review, kind: PartKind) -> Assessment:
    """The self or manager part of a review."""
    found = db.session.scalar(
        select(Assessment).where(Assessment.review_id == review.id, Assessment.kind == kind)
    )
    if found is None:
        raise NotFound(
            {
                PartKind.SELF: gettext("This review has no self part."),
                PartKind.PEER: gettext("This review has no peer part."),
                PartKind.MANAGER: gettext("This review has no manager part."),
            }[kind]
        )
    return found


def peer_assessment(request: PeerRequest) -> Assessment:
    """The feedback a peer writes for a request, created on first use."""
    mine = select(Assessment).where(Assessment.peer_request_id == request.id)
    found = db.session.scalar(mine)
    if found is not None:
        return found
    created = Assessment(
        review_id=request.review_id,
        kind=PartKind.PEER,
        author_id=request.reviewer_id,
        peer_request_id=request.id,
        ratings={},
        comments={},
        answers={},
    )
    try:
        with db.session.begin_nested():
            db.session.add(created)
    except IntegrityError:
        # Created at the same moment by another request (the page open in two tabs):
        # that one is committed now, and it is the one to write.
        found = db.session.scalar(mine.execution_options(populate_existing=True))
        if found is None:
            raise
        return found
    return created


def part_lock_reason(part: Assessment, actor: Person) -> str | None:
    """Why `actor` may not write `part` now, or None."""
    if part.author_id != actor.id:
        return str(gettext("Only its author can write this part."))
    if part.state == PartState.SUBMITTED:
        return str(gettext("This part is submitted and can no longer be changed."))
    state = part.review.cycle.state
    if part.reopened:
        return None
    if part.kind == PartKind.PEER:
        request = part.peer_request
        if request is None or request.state != RequestState.APPROVED:
            return str(gettext("This peer request is no longer open."))
        if state not in PEER_OPEN:
            return str(gettext("Peer feedback for this cycle is closed."))
    elif part.kind == PartKind.SELF and state not in SELF_OPEN:
        return str(
            gettext("The self-review phase is over; ask HR to reopen your self-review if needed.")
        )
    elif part.kind == PartKind.MANAGER and state not in MANAGER_OPEN:
        return str(
            gettext("Manager reviews are written in the manager-review phase.")
            if state in (CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK)
            else gettext(
                "The manager-review phase is over; ask HR to reopen this review if needed."
            )
        )
    return None


def save_part(
    actor: Person, part: Assessment, expected_version: int, data: PartInput, *, submit: bool
) -> None:
    """Save a draft (or submit it) over exactly the version the writer loaded."""
    if part.author_id != actor.id:
        raise Forbidden(gettext("Only its author can write this part."))
    reason = part_lock_reason(part, actor)
    if reason:
        raise PhaseClosed(reason)
    if part.version != expected_version:
        raise _stale_part(part)
    part.ratings = dict(data.ratings)
    part.comments = dict(data.comments)
    part.answers = dict(data.answers)
    part.choices = dict(data.choices)
    if data.evidence is not None and part.kind in (PartKind.SELF, PartKind.MANAGER):
        part.evidence = {k: list(v) for k, v in data.evidence.items()}
    if part.kind == PartKind.SELF:
        part.desired_level_key = data.desired_level
    if part.kind == PartKind.MANAGER:
        part.overall_rating = data.overall
        part.potential = Potential(data.potential) if data.potential else None
        part.promotion_readiness = Readiness(data.readiness) if data.readiness else None
    now = utcnow()
    part.updated_at = now
    if submit:
        part.state = PartState.SUBMITTED
        part.submitted_at = now
        part.reopened = False  # the coach's figures are stored by a flush event (models)
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        current = db.session.get(Assessment, part.id)
        assert current is not None  # noqa: S101
        raise _stale_part(current) from None
    if submit and _audited_one_by_one(part):
        record(
            "part.submitted",
            actor=actor,
            subject=part.review.subject,
            cycle_id=part.review.cycle_id,
            part=part.kind.value,
        )


def _audited_one_by_one(part: Assessment) -> bool:
    """Peer feedback in a cycle that hides its authors from managers and HR is audited
    only in aggregate, when its phase closes (`lifecycle._closing_counts`): an event per
    submission would pair the peer with the person they reviewed, to the minute."""
    return part.kind != PartKind.PEER or cycle_policy(part.review.cycle).names_to_staff


def _stale_part(current: Assessment) -> Conflict:
    return Conflict(
        gettext(
            "Your changes were not saved: this part was saved elsewhere (another tab or "
            "device) after you opened it."
        ),
        current=current,
        current_version=current.version,
    )


def reopen_part(actor: Person, part: Assessment) -> None:
    if part.review.subject_id == actor.id:
        raise Forbidden(gettext("Parts of your own review are reopened by another HR admin."))
    if part.state != PartState.SUBMITTED:
        raise PhaseClosed(gettext("Only a submitted part can be reopened."))
    if part.review.cycle.state in (CycleState.RELEASED, CycleState.CLOSED):
        raise PhaseClosed(gettext("Results are released; parts can no longer be reopened."))
    if not _audited_one_by_one(part):
        raise PhaseClosed(
            gettext(
                "This cycle keeps peer authors from managers and HR: one peer's feedback "
                "cannot be reopened on its own."
            )
        )
    part.state = PartState.DRAFT
    part.submitted_at = None
    part.reopened = True
    db.session.flush()
    record(
        "part.reopened",
        actor=actor,
        subject=part.review.subject,
        cycle_id=part.review.cycle_id,
        part=part.kind.value,
        author_id=part.author_id,
    )
    notify(
        Message(
            part.author_id,
            "part_reopened",
            lazy_gettext(
                "%(cycle)s: a review part was reopened for you", cycle=part.review.cycle.name
            ),
            lazy_gettext("HR reopened a part you had submitted; you can edit and submit it again."),
            Link("cycles.review", part.review_id),
        )
    )
