"""Calibration arithmetic (SPEC 5), pure: every expected number is worked out by hand.

The formulas are the ones in `reviews.calibration.scoring` and the README. Rater
leniency and suggestions are tested in test_raters.py.
"""

from __future__ import annotations

import math

import pytest

from reviews.calibration.scoring import (
    distribution,
    mean,
    performance_band,
    self_manager_gap,
    stdev,
)

GUIDANCE = [5, 20, 50, 20, 5]


# mean and sample standard deviation ----------------------------------------------


def test_mean_and_sample_stdev_by_hand() -> None:
    # [2, 4, 4, 4, 5, 5, 7, 9]: sum 40, mean 5; squared deviations
    # 9+1+1+1+0+0+4+16 = 32; sample variance 32/7; SD sqrt(32/7) = 2.138...
    values = [2, 4, 4, 4, 5, 5, 7, 9]
    assert mean(values) == 5
    assert stdev(values) == pytest.approx(math.sqrt(32 / 7))
    assert stdev(values) == pytest.approx(2.13809, abs=1e-5)


def test_mean_and_stdev_of_too_little() -> None:
    assert mean([]) == 0.0
    assert stdev([]) == 0.0
    assert stdev([4]) == 0.0  # one value: no spread to speak of
    assert stdev([3, 3, 3]) == 0.0


# Distribution ------------------------------------------------------------------------


def test_distribution_shares_deviations_and_bands() -> None:
    # Ten ratings: one 1, one 2, four 3s, two 4s, two 5s.
    # Shares .1 .1 .4 .2 .2 against targets .05 .20 .50 .20 .05:
    # deviations +.05 -.10 -.10 0 +.15.  Bands (+-.05): [0, .1], [.15, .25],
    # [.45, .55], [.15, .25], [0, .1].  Outside: 2 (.1 < .15), 3 (.4 < .45), 5 (.2 > .1).
    ratings = [1, 2, 3, 3, 3, 3, 4, 4, 5, 5]
    buckets = distribution(ratings, GUIDANCE)
    assert [b.rating for b in buckets] == [1, 2, 3, 4, 5]
    assert [b.count for b in buckets] == [1, 1, 4, 2, 2]
    assert [b.share for b in buckets] == pytest.approx([0.1, 0.1, 0.4, 0.2, 0.2])
    assert [b.target for b in buckets] == pytest.approx([0.05, 0.2, 0.5, 0.2, 0.05])
    assert [b.deviation for b in buckets] == pytest.approx([0.05, -0.1, -0.1, 0.0, 0.15])
    assert [b.low for b in buckets] == pytest.approx([0.0, 0.15, 0.45, 0.15, 0.0])
    assert [b.high for b in buckets] == pytest.approx([0.1, 0.25, 0.55, 0.25, 0.1])
    assert [b.outside for b in buckets] == [False, True, True, False, True]


def test_distribution_with_a_zero_percent_bucket_clips_the_band_at_zero() -> None:
    # Guidance 0/10/60/30/0: the 1s and 5s have target 0 and band [0, .05], not [-.05, .05].
    # Four ratings 2, 3, 3, 5: shares 0, .25, .5, 0, .25.
    buckets = distribution([2, 3, 3, 5], [0, 10, 60, 30, 0])
    first, last = buckets[0], buckets[4]
    assert first.target == 0.0
    assert first.low == 0.0
    assert first.high == pytest.approx(0.05)
    assert not first.outside  # share 0 sits in [0, .05]
    assert first.deviation == 0.0
    assert last.low == 0.0
    assert last.share == pytest.approx(0.25)
    assert last.deviation == pytest.approx(0.25)
    assert last.outside
    # .25 against .10 +-.05: outside; .5 against .6 +-.05: outside; 0 against .3: outside.
    assert [b.outside for b in buckets] == [False, True, True, True, True]


def test_distribution_band_is_clipped_at_one() -> None:
    # Everyone at 3 against a 100% guidance for 3: band [.95, 1], not [.95, 1.05].
    buckets = distribution([3, 3, 3], [0, 0, 100, 0, 0])
    assert buckets[2].high == 1.0
    assert buckets[2].low == pytest.approx(0.95)
    assert buckets[2].share == 1.0
    assert not any(b.outside for b in buckets)


def test_distribution_of_nothing() -> None:
    buckets = distribution([], GUIDANCE)
    assert [b.count for b in buckets] == [0] * 5
    assert [b.share for b in buckets] == [0.0] * 5
    assert [b.deviation for b in buckets] == pytest.approx([-0.05, -0.2, -0.5, -0.2, -0.05])
    # A zero share is inside the bands that reach 0 (the 5% buckets) and outside the others.
    assert [b.outside for b in buckets] == [False, True, True, True, False]


def test_distribution_ignores_values_off_the_scale() -> None:
    # 0 and 6 are not ratings: the shares are of the two real ones.
    buckets = distribution([0, 6, 4, 4], GUIDANCE)
    assert [b.count for b in buckets] == [0, 0, 0, 2, 0]
    assert buckets[3].share == 1.0


def test_distribution_needs_a_guidance_per_rating() -> None:
    with pytest.raises(ValueError, match="zip"):
        distribution([3], [50, 50])


def test_distribution_with_a_custom_tolerance() -> None:
    # Tolerance .1 around .2: band [.1, .3].
    bucket = distribution([4], GUIDANCE, tolerance=0.1)[3]
    assert bucket.low == pytest.approx(0.1)
    assert bucket.high == pytest.approx(0.3)


# Self-versus-manager gap and 9-box ------------------------------------------------


def test_self_manager_gap_over_shared_competencies() -> None:
    # Shared: a (4 vs 3, +1) and b (3 vs 3, 0); c and d are rated by one side only.
    # Gap = (1 + 0) / 2 = +0.5: the person rates themselves higher.
    gap = self_manager_gap({"a": 4, "b": 3, "c": 5}, {"a": 3, "b": 3, "d": 1})
    assert gap == pytest.approx(0.5)
    # The other way round: (2-4 + 3-4) / 2 = -1.5, rates themselves lower.
    assert self_manager_gap({"a": 2, "b": 3}, {"a": 4, "b": 4}) == pytest.approx(-1.5)
    assert self_manager_gap({"a": 3}, {"a": 3}) == 0.0


def test_self_manager_gap_is_none_without_overlap() -> None:
    assert self_manager_gap({"a": 4}, {"b": 4}) is None
    assert self_manager_gap({}, {"b": 4}) is None
    assert self_manager_gap({"a": 4}, {}) is None


@pytest.mark.parametrize(("rating", "band"), [(1, 0), (2, 0), (3, 1), (4, 2), (5, 2), (None, None)])
def test_performance_band(rating: int | None, band: int | None) -> None:
    assert performance_band(rating) == band


def test_a_distribution_from_counts_is_the_distribution_of_the_ratings():
    from reviews.calibration.scoring import distribution, distribution_of_counts

    counts = [3, 0, 41, 9, 1]
    ratings = [r for r, n in zip(range(1, 6), counts, strict=True) for _ in range(n)]
    guidance = [5, 15, 60, 15, 5]
    assert distribution_of_counts(counts, guidance, 0.1) == distribution(ratings, guidance, 0.1)
    empty = distribution_of_counts([0] * 5, guidance)
    assert [b.share for b in empty] == [0.0] * 5
