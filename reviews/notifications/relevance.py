"""Which queued messages are no longer worth mailing.

A message waits in the outbox while no mail server is configured. When one is
(or after an outage), mailing "your self-review is open" for a cycle closed
months ago would be noise: such messages stay in the app and are not mailed.
A message is stale when it waited too long, when its cycle is closed, or when
the task it announces is done. (Which channels a person uses is theirs to say:
`dispatch`.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, select

from reviews.cycles.models import Assessment, Cycle, PartState, PeerRequest, RequestState, Review
from reviews.cycles.workflow import ORDER, CycleState
from reviews.extensions import db
from reviews.notifications.models import Notification

# Messages about a review, by the endpoint they point to (its id is the review's).
REVIEW_TARGETS = ("cycles.self_part", "cycles.review", "cycles.nominations")
# Messages asking someone to write their self-review: done once it is submitted.
SELF_TASKS = ("self_review_open", "reminder")
# Messages asking a manager to review their team: over once calibration begins.
MANAGER_TASKS = ("manager_review_open", "reminder")
_AFTER_MANAGER_REVIEW = [s.value for s in ORDER[ORDER.index(CycleState.CALIBRATION) :]]


def stale_ids(ids: Iterable[int], *, older_than: datetime) -> set[int]:
    """The messages among `ids` that should not be mailed any more (a few statements)."""
    ids = list(ids)
    if not ids:
        return set()
    n = Notification
    stale = set(db.session.scalars(select(n.id).where(n.id.in_(ids), n.created_at < older_than)))
    closed = Cycle.state == CycleState.CLOSED
    # About a review: its cycle closed, or (a self-review task) the self-review is in.
    stale.update(
        db.session.scalars(
            select(n.id)
            .join(Review, and_(n.target.in_(REVIEW_TARGETS), Review.id == n.target_id))
            .join(Cycle, Cycle.id == Review.cycle_id)
            .where(
                n.id.in_(ids),
                closed
                | (
                    n.kind.in_(SELF_TASKS)
                    & (n.target == "cycles.self_part")
                    & (Review.self_done > 0)
                ),
            )
        )
    )
    # A request for peer feedback: its cycle closed, the request withdrawn, or answered.
    answered = (
        select(Assessment.id)
        .where(
            Assessment.peer_request_id == PeerRequest.id, Assessment.state == PartState.SUBMITTED
        )
        .exists()
    )
    stale.update(
        db.session.scalars(
            select(n.id)
            .join(
                PeerRequest, and_(n.target == "cycles.peer_request", PeerRequest.id == n.target_id)
            )
            .join(Review, Review.id == PeerRequest.review_id)
            .join(Cycle, Cycle.id == Review.cycle_id)
            .where(
                n.id.in_(ids),
                closed
                | PeerRequest.state.in_([RequestState.DECLINED, RequestState.REMOVED])
                | answered,
            )
        )
    )
    # A manager's team page: its cycle closed, or manager reviews are over.
    stale.update(
        db.session.scalars(
            select(n.id)
            .join(Cycle, and_(n.target == "cycles.team", Cycle.id == n.target_id))
            .where(
                n.id.in_(ids),
                closed | (n.kind.in_(MANAGER_TASKS) & Cycle.state.in_(_AFTER_MANAGER_REVIEW)),
            )
        )
    )
    return stale
