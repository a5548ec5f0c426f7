"""Calibration arithmetic: distributions, rater bias, normalised suggestions.

Pure: numbers in, numbers out.  The formulas are in the README ("Calibration
analytics"); every figure the calibration page shows comes from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

SCALE = (1, 2, 3, 4, 5)
MIN_TEAM = 3  # fewer ratings than this from one manager: too few to conclude anything
Z95 = 1.96


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

    The band is the target plus or minus `tolerance` (absolute share), and never
    below 0 or above 1.
    """
    values = [r for r in ratings if r in SCALE]
    total = len(values)
    buckets = []
    for rating, percent in zip(SCALE, guidance, strict=True):
        count = values.count(rating)
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


@dataclass(frozen=True)
class RaterBias:
    rater: int
    n: int
    mean: float
    spread: float  # sample standard deviation of the rater's ratings
    offset: float  # rater mean minus the mean of everyone else's ratings
    ci_low: float
    ci_high: float
    too_small: bool

    @property
    def verdict(self) -> str:
        if self.too_small:
            return "too few ratings to tell"
        if self.ci_low > 0:
            return "lenient"
        if self.ci_high < 0:
            return "severe"
        return "in line"


def rater_bias(
    ratings_by_rater: Mapping[int, Sequence[int]], min_team: int = MIN_TEAM
) -> dict[int, RaterBias]:
    """Per rater: mean, spread, and offset against the rest of the group with a 95% CI.

    offset = mean(rater) - mean(others).  Its standard error is
    s * sqrt(1/n_rater + 1/n_others), s the pooled standard deviation of the two
    sets (Welch would be more exact; pooled is steadier for small teams).
    """
    # The others' figures come from the group's totals minus the rater's own: one pass.
    total_n = total = total_sq = 0.0
    for values in ratings_by_rater.values():
        total_n += len(values)
        total += sum(values)
        total_sq += sum(v * v for v in values)
    result = {}
    for rater, values in ratings_by_rater.items():
        own = list(values)
        n = len(own)
        m = int(total_n) - n
        own_mean, own_sd = mean(own), stdev(own)
        others_sum = total - sum(own)
        others_mean = others_sum / m if m else 0.0
        others_var = (
            max(0.0, (total_sq - sum(v * v for v in own) - m * others_mean**2) / (m - 1))
            if m >= 2
            else 0.0
        )
        offset = own_mean - others_mean if own and m else 0.0
        if n >= 2 and m >= 2:
            pooled = math.sqrt(((n - 1) * own_sd**2 + (m - 1) * others_var) / (n + m - 2))
            half = Z95 * pooled * math.sqrt(1 / n + 1 / m)
        else:
            half = math.inf
        result[rater] = RaterBias(
            rater=rater,
            n=n,
            mean=own_mean,
            spread=own_sd,
            offset=offset,
            ci_low=offset - half,
            ci_high=offset + half,
            too_small=n < min_team or m < 2,
        )
    return result


def normalised_suggestions(
    ratings: Mapping[int, tuple[int, int]], min_team: int = MIN_TEAM
) -> dict[int, int]:
    """Per person (id -> (rater, rating)): the rating with the rater's habits removed.

    z = (rating - rater mean) / rater spread, mapped back as
    group mean + z * group spread, clipped to 1..5 and rounded half up.
    A rater with fewer than `min_team` ratings is left as is; one who gave
    everyone the same rating maps to the group mean.
    """
    by_rater: dict[int, list[int]] = {}
    for rater, rating in ratings.values():
        by_rater.setdefault(rater, []).append(rating)
    everything = [r for _, r in ratings.values()]
    group_mean, group_sd = mean(everything), stdev(everything)
    habits = {rater: (len(own), mean(own), stdev(own)) for rater, own in by_rater.items()}
    suggestions = {}
    for person, (rater, rating) in ratings.items():
        n, rater_mean, sd = habits[rater]
        if n < min_team or group_sd == 0:
            value = float(rating)  # too few to normalise, or nothing to map onto
        elif sd == 0:
            value = group_mean  # the rater told no one apart: only the group's centre is left
        else:
            value = group_mean + (rating - rater_mean) / sd * group_sd
        suggestions[person] = int(min(5, max(1, math.floor(value + 0.5))))
    return suggestions


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
