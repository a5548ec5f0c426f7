"""SPEC 4 in one place: who sees which peer feedback, with whose name.

Pure.  Every page (and later every export, PDF and API answer) that shows
peer feedback goes through `peer_feedback_view`.  For the reviewee of an
anonymous cycle nothing identifies an author: no name, no time, and an order
that is a keyed hash, unrelated to when or by whom feedback was written.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date


class Viewer(enum.StrEnum):
    SUBJECT = "subject"
    MANAGER = "manager"  # direct or further up the frozen line
    HR = "hr"


@dataclass(frozen=True)
class PeerFeedback:
    """One submitted peer feedback as stored, before any rule is applied."""

    id: int
    author_name: str
    ratings: dict[str, int]
    comments: dict[str, str]
    answers: dict[str, str]
    submitted_on: date


@dataclass(frozen=True)
class VisibleFeedback:
    author_name: str | None
    ratings: dict[str, int]
    comments: dict[str, str]
    answers: dict[str, str]
    submitted_on: date | None


@dataclass
class PeerFeedbackView:
    entries: list[VisibleFeedback] = field(default_factory=list)
    submitted: int = 0
    withheld: str | None = None  # why nothing is shown, for the page to say
    averages: dict[str, tuple[float, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CyclePolicy:
    anonymous: bool
    threshold: int
    names_to_managers: bool
    released: bool

    @property
    def names_to_staff(self) -> bool:
        """Whether managers and HR see who wrote each peer feedback."""
        return not self.anonymous or self.names_to_managers


def peer_feedback_view(
    viewer: Viewer, policy: CyclePolicy, feedback: list[PeerFeedback], salt: bytes
) -> PeerFeedbackView:
    view = PeerFeedbackView(submitted=len(feedback))
    if viewer == Viewer.SUBJECT:
        if not policy.released:
            view.withheld = "Peer feedback is shared with you when the review is released."
            return view
        if policy.anonymous and len(feedback) < policy.threshold:
            view.withheld = (
                f"Too few peers responded to share their feedback anonymously "
                f"(at least {policy.threshold} are needed)."
            )
            return view
        show_names = not policy.anonymous
    else:
        show_names = policy.names_to_staff
    anonymous_view = not show_names
    if anonymous_view:
        ordered = sorted(
            feedback, key=lambda f: hmac.new(salt, str(f.id).encode(), hashlib.sha256).hexdigest()
        )
    else:
        ordered = sorted(feedback, key=lambda f: (f.author_name, f.id))
    view.entries = [
        VisibleFeedback(
            author_name=None if anonymous_view else f.author_name,
            ratings=f.ratings,
            comments=f.comments,
            answers=f.answers,
            submitted_on=None if anonymous_view else f.submitted_on,
        )
        for f in ordered
    ]
    totals: dict[str, list[int]] = {}
    for f in feedback:
        for key, value in f.ratings.items():
            totals.setdefault(key, []).append(value)
    view.averages = {k: (sum(v) / len(v), len(v)) for k, v in totals.items()}
    return view
