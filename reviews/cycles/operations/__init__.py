"""The only code that changes cycles, reviews and their parts, by seam:

- `lifecycle`: creating and changing a draft cycle, launching it, every phase
  transition and its effects;
- `nominations`: peers proposed, approved, removed, added and declining;
- `parts`: the self-review, peer feedback and the manager's review, saved over
  the version their writer loaded, submitted and reopened;
- `reminders`: due and overdue work, once per person, task and day.

Callers import this package (`from reviews.cycles import operations as ops`).
Operations guard, change, flush and audit; they raise `reviews.errors` and never
commit: the edge (request, CLI command, job) commits or rolls back once.
"""

from reviews.cycles.inputs import CycleFields
from reviews.cycles.operations.lifecycle import (
    advance_cycle,
    count_participants,
    create_cycle,
    cycle_facts,
    delete_cycle,
    overlapping_cycles,
    participants_select,
    update_cycle,
)
from reviews.cycles.operations.nominations import (
    add_peer,
    approve_all,
    decide_request,
    decline_request,
    propose_peer,
    reciprocal_pairs,
    removable_ids,
    removal_refusal,
    reviewer_load,
    withdraw_proposal,
)
from reviews.cycles.operations.parts import (
    part_for,
    part_lock_reason,
    peer_assessment,
    reopen_part,
    save_part,
)
from reviews.cycles.operations.reminders import REMIND_DAYS_BEFORE, remind_due

__all__ = [
    "REMIND_DAYS_BEFORE",
    "CycleFields",
    "add_peer",
    "advance_cycle",
    "approve_all",
    "count_participants",
    "create_cycle",
    "cycle_facts",
    "decide_request",
    "decline_request",
    "delete_cycle",
    "overlapping_cycles",
    "part_for",
    "part_lock_reason",
    "participants_select",
    "peer_assessment",
    "propose_peer",
    "reciprocal_pairs",
    "remind_due",
    "removable_ids",
    "removal_refusal",
    "reopen_part",
    "reviewer_load",
    "save_part",
    "update_cycle",
    "withdraw_proposal",
]
