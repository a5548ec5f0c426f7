"""Upward feedback in aggregate: the only shape in which it ever leaves the package.

Pure: takes the answers' ratings and comments (which carry no author) and
the cycle's threshold; returns what may be shown.  Below the threshold
nothing is shown, not even the count; a competency that fewer than the
threshold rated shows no figure and no count; the spread is given only in three
bands (1-2, 3, 4-5) and only from SPREAD_MINIMUM answers on, so that no one
report's rating can be picked out of it; comments are shown sorted by their
text, so their order says nothing about who wrote them or when.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# The framework's management competencies that direct reports can judge.
UPWARD_COMPETENCIES = (
    "people-management",
    "coaching-and-mentorship",
    "communication-and-listening",
    "emotional-intelligence",
)


# A spread shows from this many answers on (and never below the cycle's threshold).
SPREAD_MINIMUM = 5
BANDS = ("1-2", "3", "4-5")


@dataclass(frozen=True)
class CompetencyAggregate:
    key: str
    name: str
    responses: int | None  # None below the threshold: the count is withheld too
    mean: float | None
    # how many answers were 1-2, 3 and 4-5; None below SPREAD_MINIMUM answers
    bands: tuple[int, int, int] | None


@dataclass(frozen=True)
class UpwardSummary:
    manager_id: int
    threshold: int
    # False: collecting still, or too few answers; then nothing else is filled in.
    shown: bool
    closed: bool
    responses: int | None = None
    competencies: list[CompetencyAggregate] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def summarise(
    manager_id: int,
    ratings: Sequence[dict[str, int]],
    comments: Sequence[str],
    competencies: Sequence[tuple[str, str]],
    *,
    threshold: int,
    closed: bool,
) -> UpwardSummary:
    """`competencies` are (key, name) pairs in display order."""
    if not closed or len(ratings) < max(threshold, 1):
        return UpwardSummary(manager_id, threshold, shown=False, closed=closed)
    rows = []
    for key, name in competencies:
        values = [r[key] for r in ratings if r.get(key) in (1, 2, 3, 4, 5)]
        if len(values) < threshold:
            rows.append(CompetencyAggregate(key, name, None, None, None))
            continue
        bands = None
        if len(values) >= max(threshold, SPREAD_MINIMUM):
            bands = (
                sum(1 for v in values if v <= 2),
                values.count(3),
                sum(1 for v in values if v >= 4),
            )
        rows.append(
            CompetencyAggregate(key, name, len(values), round(sum(values) / len(values), 2), bands)
        )
    return UpwardSummary(
        manager_id,
        threshold,
        shown=True,
        closed=True,
        responses=len(ratings),
        competencies=rows,
        comments=sorted(c.strip() for c in comments if c.strip()),
    )
