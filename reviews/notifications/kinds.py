"""The kinds of notification Reviews sends, as a person chooses among them."""

from __future__ import annotations

from typing import Any, NamedTuple

from reviews.languages import lazy_gettext


class Kind(NamedTuple):
    key: str
    # Both lazy (lazy_gettext): shown in the reader's language; str() where a str is needed.
    label: Any
    who: Any  # who gets it, so a person sees which rows concern them


# who gets each kind
EVERYONE = lazy_gettext("everyone")
IN_A_CYCLE = lazy_gettext("everyone in a cycle")
PEERS = lazy_gettext("peers")
MANAGERS = lazy_gettext("managers")
AUTHORS = lazy_gettext("authors")

KINDS = (
    Kind(
        "self_review_open",
        lazy_gettext("Your self-review opens"),
        IN_A_CYCLE,
    ),
    Kind("peer_request", lazy_gettext("Someone asks for your feedback"), PEERS),
    Kind("peer_feedback_open", lazy_gettext("Peer feedback is due"), PEERS),
    Kind("reminder", lazy_gettext("Reminders of work due soon or overdue"), EVERYONE),
    Kind(
        "nomination_to_approve",
        lazy_gettext("Peer nominations to approve"),
        MANAGERS,
    ),
    Kind("peer_declined", lazy_gettext("A peer declined to give feedback"), MANAGERS),
    Kind(
        "manager_review_open",
        lazy_gettext("Reviews of your reports to write"),
        MANAGERS,
    ),
    Kind("part_reopened", lazy_gettext("A review part is reopened"), AUTHORS),
    Kind(
        "review_released",
        lazy_gettext("Your review is released"),
        IN_A_CYCLE,
    ),
    Kind(
        "review_acknowledged",
        lazy_gettext("A report acknowledged their review"),
        MANAGERS,
    ),
    Kind("feedback", lazy_gettext("Feedback given to you"), EVERYONE),
    Kind("goal_comment", lazy_gettext("Comments on your goals"), EVERYONE),
    Kind("goal_checkin", lazy_gettext("Check-ins on goals of your reports"), MANAGERS),
    Kind("goal_checkin_due", lazy_gettext("A goal check-in is due"), EVERYONE),
)
KEYS = frozenset(k.key for k in KINDS)
