"""The review cycle's state machine: every transition, what guards it, in one table.

Pure: the facts a guard needs are passed in (`CycleFacts`), so the rules are
tested without a database.  `operations.advance_cycle` gathers the facts,
asks `check_transition`, and performs the transition's effects.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reviews.languages import gettext, in_sentence, lazy_gettext, ngettext


class CycleState(enum.StrEnum):
    DRAFT = "draft"
    SELF_REVIEW = "self_review"
    PEER_FEEDBACK = "peer_feedback"
    MANAGER_REVIEW = "manager_review"
    CALIBRATION = "calibration"
    RELEASED = "released"
    CLOSED = "closed"


ORDER = list(CycleState)

# The name of each state as pages show it (lazy: written in the reader's language).
LABELS: dict[CycleState, Any] = {
    CycleState.DRAFT: lazy_gettext("Draft"),
    CycleState.SELF_REVIEW: lazy_gettext("Self-review"),
    CycleState.PEER_FEEDBACK: lazy_gettext("Peer feedback"),
    CycleState.MANAGER_REVIEW: lazy_gettext("Manager review"),
    CycleState.CALIBRATION: lazy_gettext("Calibration"),
    CycleState.RELEASED: lazy_gettext("Released"),
    CycleState.CLOSED: lazy_gettext("Closed"),
}


@dataclass(frozen=True)
class CycleFacts:
    participants: int
    has_deadlines: bool
    framework_ready: bool
    open_calibration_sessions: int = 0
    # submitted manager reviews whose final rating is not locked by calibration
    unfinalised_reviews: int = 0


@dataclass(frozen=True)
class Transition:
    source: CycleState
    target: CycleState
    action: Any  # the button's text (lazy)
    guard: Callable[[CycleFacts], str | None]


def _launch_guard(f: CycleFacts) -> str | None:
    if not f.framework_ready:
        return str(gettext("the competency framework is empty; load or create it first"))
    if f.participants == 0:
        return str(
            gettext(
                "the cycle has no participants: choose people or departments with active people"
            )
        )
    if not f.has_deadlines:
        return str(gettext("set a deadline for every phase before launching"))
    return None


def _always(_: CycleFacts) -> str | None:
    return None


def _calibration_finished(f: CycleFacts) -> str | None:
    if f.open_calibration_sessions:
        return str(
            ngettext(
                "%(num)d calibration session is still open; finish them first",
                "%(num)d calibration sessions are still open; finish them first",
                f.open_calibration_sessions,
            )
        )
    if f.unfinalised_reviews:
        return str(
            ngettext(
                "%(num)d review has no final rating yet; calibrate them or finalise them "
                "with the manager's rating",
                "%(num)d reviews have no final rating yet; calibrate them or finalise them "
                "with the manager's rating",
                f.unfinalised_reviews,
            )
        )
    return None


TRANSITIONS = (
    Transition(CycleState.DRAFT, CycleState.SELF_REVIEW, lazy_gettext("Launch"), _launch_guard),
    Transition(
        CycleState.SELF_REVIEW,
        CycleState.PEER_FEEDBACK,
        lazy_gettext("Start peer feedback"),
        _always,
    ),
    Transition(
        CycleState.PEER_FEEDBACK,
        CycleState.MANAGER_REVIEW,
        lazy_gettext("Start manager reviews"),
        _always,
    ),
    Transition(
        CycleState.MANAGER_REVIEW,
        CycleState.CALIBRATION,
        lazy_gettext("Start calibration"),
        _always,
    ),
    Transition(
        CycleState.CALIBRATION,
        CycleState.RELEASED,
        lazy_gettext("Release results"),
        _calibration_finished,
    ),
    Transition(CycleState.RELEASED, CycleState.CLOSED, lazy_gettext("Close the cycle"), _always),
)


class TransitionRefused(ValueError):
    pass


def next_transition(state: CycleState) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source == state), None)


def check_transition(state: CycleState, target: CycleState, facts: CycleFacts) -> Transition:
    """The transition from `state` to `target`, or TransitionRefused saying why not."""
    transition = next((t for t in TRANSITIONS if t.source == state and t.target == target), None)
    if transition is None:
        raise TransitionRefused(
            gettext(
                "a cycle in %(state)s cannot move to %(target)s",
                state=in_sentence(LABELS[state]),
                target=in_sentence(LABELS[target]),
            )
        )
    reason = transition.guard(facts)
    if reason:
        raise TransitionRefused(reason)
    return transition


def reached(state: CycleState, phase: CycleState) -> bool:
    """True when `state` is `phase` or later."""
    return ORDER.index(state) >= ORDER.index(phase)


# Which part is open for writing in which state (a reopened part is open anyway).
SELF_OPEN = {CycleState.SELF_REVIEW}
NOMINATION_OPEN = {CycleState.SELF_REVIEW}
APPROVAL_OPEN = {CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK}
PEER_OPEN = {CycleState.SELF_REVIEW, CycleState.PEER_FEEDBACK}
MANAGER_OPEN = {CycleState.MANAGER_REVIEW}
