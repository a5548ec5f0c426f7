"""Calibration arithmetic: distributions, self-versus-manager gaps, 9-box bands.

Rater leniency and suggestions are a model of their own: reviews.calibration.raters.

Pure: numbers in, numbers out.  The formulas are in the README ("Calibration
analytics"); every figure the calibration page shows comes from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SCALE = (1, 2, 3, 4, 5)


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def stdev(values: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


@dataclass(frozen=True)
class Bucket:
    rating: int
    count: int
    share: float  # of all rated people, 0..1
    target: float  # guidance share, 0..1
    low: float  # tolerance band around the target
    high: float

    @property
    def deviation(self) -> float:
        return self.share - self.target

    @property
    def outside(self) -> bool:
        return not self.low <= self.share <= self.high


def distribution(
    ratings: Iterable[int], guidance: Sequence[int], tolerance: float = 0.05
) -> list[Bucket]:
    """Share of each final rating against the guidance (percentages), with a band.

    The band is the target plus or minus `tolerance` (absolute share: the cycle's
    `guidance_tolerance` points / 100, 5 points unless HR set another), and never
    below 0 or above 1.
    """
    values = [r for r in ratings if r in SCALE]
    return distribution_of_counts([values.count(rating) for rating in SCALE], guidance, tolerance)


def distribution_of_counts(
    counts: Sequence[int], guidance: Sequence[int], tolerance: float = 0.05
) -> list[Bucket]:
    """`distribution` of ratings already counted: `counts[i]` people rated SCALE[i]
    (the dashboard's figures hold counts; a list of 100,000 ratings is not needed)."""
    total = sum(counts)
    buckets = []
    for rating, count, percent in zip(SCALE, counts, guidance, strict=True):
        share = count / total if total else 0.0
        target = percent / 100
        buckets.append(
            Bucket(
                rating,
                count,
                share,
                target,
                max(0.0, target - tolerance),
                min(1.0, target + tolerance),
            )
        )
    return buckets


def self_manager_gap(
    self_ratings: Mapping[str, int], manager_ratings: Mapping[str, int]
) -> float | None:
    """Mean of (self - manager) over competencies both rated; positive: rates self higher."""
    both = [k for k in self_ratings if k in manager_ratings]
    if not both:
        return None
    return mean([self_ratings[k] - manager_ratings[k] for k in both])


def performance_band(rating: int | None) -> int | None:
    """9-box rows: 0 for 1-2, 1 for 3, 2 for 4-5."""
    if rating is None:
        return None
    return 0 if rating <= 2 else 1 if rating == 3 else 2
