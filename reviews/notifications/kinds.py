"""The kinds of notification Reviews sends, as a person chooses among them."""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    key: str
    label: str
    who: str  # who gets it, so a person sees which rows concern them


KINDS = (
    Kind("self_review_open", "Your self-review opens", "everyone in a cycle"),
    Kind("peer_request", "Someone asks for your feedback", "peers"),
    Kind("peer_feedback_open", "Peer feedback is due", "peers"),
    Kind("reminder", "Reminders of work due soon or overdue", "everyone"),
    Kind("nomination_to_approve", "Peer nominations to approve", "managers"),
    Kind("peer_declined", "A peer declined to give feedback", "managers"),
    Kind("manager_review_open", "Reviews of your reports to write", "managers"),
    Kind("part_reopened", "A review part is reopened", "authors"),
    Kind("review_released", "Your review is released", "everyone in a cycle"),
    Kind("review_acknowledged", "A report acknowledged their review", "managers"),
    Kind("feedback", "Feedback given to you", "everyone"),
    Kind("goal_comment", "Comments on your goals", "everyone"),
    Kind("goal_checkin", "Check-ins on goals of your reports", "managers"),
    Kind("goal_checkin_due", "A goal check-in is due", "everyone"),
)
KEYS = frozenset(k.key for k in KINDS)
