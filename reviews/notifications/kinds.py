"""The kinds of notification Reviews sends, as a person chooses among them."""

from __future__ import annotations

from typing import Any, NamedTuple

from reviews.languages import lazy_gettext


class Kind(NamedTuple):
    key: str
    # Both lazy (lazy_gettext): shown in the reader's language; str() where a str is needed.
    label: Any
    who: Any  # who gets it, so a person sees which rows concern them


KINDS = (
    Kind(
        "self_review_open",
        lazy_gettext("Your self-review opens"),
        lazy_gettext("everyone in a cycle"),
    ),
    Kind("peer_request", lazy_gettext("Someone asks for your feedback"), lazy_gettext("peers")),
    Kind("peer_feedback_open", lazy_gettext("Peer feedback is due"), lazy_gettext("peers")),
    Kind(
        "reminder", lazy_gettext("Reminders of work due soon or overdue"), lazy_gettext("everyone")
    ),
    Kind(
        "nomination_to_approve",
        lazy_gettext("Peer nominations to approve"),
        lazy_gettext("managers"),
    ),
    Kind(
        "peer_declined", lazy_gettext("A peer declined to give feedback"), lazy_gettext("managers")
    ),
    Kind(
        "manager_review_open",
        lazy_gettext("Reviews of your reports to write"),
        lazy_gettext("managers"),
    ),
    Kind("part_reopened", lazy_gettext("A review part is reopened"), lazy_gettext("authors")),
    Kind(
        "review_released",
        lazy_gettext("Your review is released"),
        lazy_gettext("everyone in a cycle"),
    ),
    Kind(
        "review_acknowledged",
        lazy_gettext("A report acknowledged their review"),
        lazy_gettext("managers"),
    ),
    Kind("feedback", lazy_gettext("Feedback given to you"), lazy_gettext("everyone")),
    Kind("goal_comment", lazy_gettext("Comments on your goals"), lazy_gettext("everyone")),
    Kind(
        "goal_checkin", lazy_gettext("Check-ins on goals of your reports"), lazy_gettext("managers")
    ),
    Kind("goal_checkin_due", lazy_gettext("A goal check-in is due"), lazy_gettext("everyone")),
)
KEYS = frozenset(k.key for k in KINDS)
