"""SPEC 4 in one place: who sees which peer feedback, with whose name.

Pure.  Every output that shows peer feedback (pages, PDFs, the API, exports,
the personal-data export) goes through `peer_feedback_view`, and every output
that shows a figure made of peer ratings asks `peer_figures_shown`.  Where a
viewer may not know the authors, nothing identifies one: no name, no time, an
order that is a keyed hash unrelated to when or by whom feedback was written,
no figure resting on fewer ratings than the threshold, and (for managers and HR
in a cycle that hides names from them) no entry before the whole batch is in:
the peer-feedback phase over and at least the threshold of peers responded, so
entries never appear one by one as peers submit.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reviews.languages import gettext, ngettext


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
    answers: dict[str, Any]  # by question key, only those the reader may read
    submitted_on: date


@dataclass(frozen=True)
class VisibleFeedback:
    author_name: str | None
    ratings: dict[str, int]
    comments: dict[str, str]
    answers: dict[str, Any]  # by question key, only those the reader may read
    submitted_on: date | None


@dataclass
class PeerFeedbackView:
    entries: list[VisibleFeedback] = field(default_factory=list)
    submitted: int = 0
    withheld: str | None = None  # why nothing is shown, for the page to say
    averages: dict[str, tuple[float, int]] = field(default_factory=dict)
    # Answers chosen rather than written, where the reader may not know the authors:
    # counted over every entry (answer as form text -> how many), with how many
    # answered, instead of shown entry by entry (a choice beside a text could tell
    # who wrote both).
    tallies: dict[str, tuple[dict[str, int], int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CyclePolicy:
    anonymous: bool
    threshold: int
    names_to_managers: bool
    released: bool
    # the peer-feedback phase is over: no more feedback arrives (manager review on)
    collected: bool = True

    @property
    def names_to_staff(self) -> bool:
        """Whether managers and HR see who wrote each peer feedback."""
        return not self.anonymous or self.names_to_managers

    def names_to(self, viewer: Viewer) -> bool:
        return not self.anonymous if viewer == Viewer.SUBJECT else self.names_to_staff


def peer_figures_shown(viewer: Viewer, policy: CyclePolicy, ratings: int) -> bool:
    """Whether a figure resting on `ratings` peer ratings (an average, a count) may be
    shown to `viewer`: always to those who see names, else from the threshold up."""
    return policy.names_to(viewer) or ratings >= policy.threshold


def _withheld(viewer: Viewer, policy: CyclePolicy, submitted: int) -> str | None:
    """Why `viewer` sees no entry at all yet, or None."""
    if viewer == Viewer.SUBJECT and not policy.released:
        return str(gettext("Peer feedback is shared with you when the review is released."))
    if policy.names_to(viewer):
        return None
    if viewer != Viewer.SUBJECT and not policy.collected:
        # English says "peers" even for a threshold of 1; other languages choose a form
        return str(
            ngettext(
                "Peer feedback in this cycle is anonymous to managers and HR too: it is shown "
                "all at once when the peer-feedback phase ends, if at least "
                "%(num)d peers responded.",
                "Peer feedback in this cycle is anonymous to managers and HR too: it is shown "
                "all at once when the peer-feedback phase ends, if at least "
                "%(num)d peers responded.",
                policy.threshold,
            )
        )
    if submitted < policy.threshold:
        return str(
            ngettext(
                "Too few peers responded to share their feedback anonymously "
                "(at least %(num)d are needed).",
                "Too few peers responded to share their feedback anonymously "
                "(at least %(num)d are needed).",
                policy.threshold,
            )
        )
    return None


def _as_text(value: object) -> list[str]:
    """A chosen answer as the form's text (yes/no, a step, option keys)."""
    if isinstance(value, bool):
        return ["yes" if value else "no"]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def peer_feedback_view(
    viewer: Viewer,
    policy: CyclePolicy,
    feedback: list[PeerFeedback],
    salt: bytes,
    chosen: frozenset[str] = frozenset(),
) -> PeerFeedbackView:
    """The feedback `viewer` may read. `chosen` names the answers chosen rather than
    written: to a reader who may not know the authors they are tallied, never shown
    one by one, and only from the threshold of answers up (like a rating's average)."""
    view = PeerFeedbackView(submitted=len(feedback))
    view.withheld = _withheld(viewer, policy, len(feedback))
    if view.withheld:
        return view
    show_names = policy.names_to(viewer)
    if show_names:
        ordered = sorted(feedback, key=lambda f: (f.author_name, f.id))
    else:
        ordered = sorted(
            feedback, key=lambda f: hmac.new(salt, str(f.id).encode(), hashlib.sha256).hexdigest()
        )
    view.entries = [
        VisibleFeedback(
            author_name=f.author_name if show_names else None,
            ratings=f.ratings,
            comments=f.comments,
            answers=f.answers
            if show_names
            else {k: v for k, v in f.answers.items() if k not in chosen},
            submitted_on=f.submitted_on if show_names else None,
        )
        for f in ordered
    ]
    if not show_names:
        for key in sorted(chosen):
            given = [f.answers[key] for f in feedback if key in f.answers]
            if given and peer_figures_shown(viewer, policy, len(given)):
                counts: dict[str, int] = {}
                for value in given:
                    for text in _as_text(value):
                        counts[text] = counts.get(text, 0) + 1
                view.tallies[key] = (counts, len(given))
    totals: dict[str, list[int]] = {}
    for f in feedback:
        for key, value in f.ratings.items():
            totals.setdefault(key, []).append(value)
    view.averages = {
        k: (sum(v) / len(v), len(v))
        for k, v in totals.items()
        if peer_figures_shown(viewer, policy, len(v))
    }
    return view
