"""Calibration arithmetic (SPEC 5), pure: every expected number is worked out by hand.

The formulas are the ones in `reviews.calibration.scoring` and the README:
offset = mean(rater) - mean(everyone else); its 95% interval is
offset +/- 1.96 * s_pooled * sqrt(1/n + 1/m); a normalised suggestion is
group mean + z * group SD with z = (rating - rater mean) / rater SD, clipped to
1..5 and rounded half up.
"""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviews.calibration.scoring import (
    MIN_TEAM,
    SCALE,
    Z95,
    distribution,
    mean,
    normalised_suggestions,
    performance_band,
    rater_bias,
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


# Rater bias --------------------------------------------------------------------------


def test_two_raters_exact_numbers() -> None:
    # Rater 1: [4, 5, 3] -> mean 4, SD sqrt((0+1+1)/2) = 1.
    # Rater 2: [2, 3, 1] -> mean 2, SD 1.
    # Offset of 1: 4 - 2 = +2; of 2: 2 - 4 = -2.
    # Pooled SD: sqrt((2*1 + 2*1) / (3+3-2)) = 1.
    # Half width: 1.96 * 1 * sqrt(1/3 + 1/3) = 1.96 * 0.816497 = 1.600334.
    bias = rater_bias({1: [4, 5, 3], 2: [2, 3, 1]})
    half = 1.96 * math.sqrt(2 / 3)
    assert half == pytest.approx(1.600334, abs=1e-6)

    one, two = bias[1], bias[2]
    assert (one.rater, one.n, two.n) == (1, 3, 3)
    assert one.mean == pytest.approx(4.0)
    assert two.mean == pytest.approx(2.0)
    assert one.spread == pytest.approx(1.0)
    assert two.spread == pytest.approx(1.0)
    assert one.offset == pytest.approx(2.0)
    assert two.offset == pytest.approx(-2.0)
    assert one.ci_low == pytest.approx(2 - half)  # +0.3997
    assert one.ci_high == pytest.approx(2 + half)  # +3.6003
    assert two.ci_low == pytest.approx(-2 - half)  # -3.6003
    assert two.ci_high == pytest.approx(-2 + half)  # -0.3997
    assert not one.too_small
    assert not two.too_small
    # The whole interval above zero: lenient; below zero: severe.
    assert one.verdict == "lenient"
    assert two.verdict == "severe"


def test_offset_whose_interval_straddles_zero_is_in_line() -> None:
    # Rater 1: [2, 3, 4] mean 3 SD 1; rater 2: [3, 4, 5] mean 4 SD 1.
    # Offset of 1: 3 - 4 = -1, half width 1.600334 as above:
    # [-2.6003, +0.6003] contains 0 -> in line (and +1 for rater 2: [-0.6, 2.6]).
    bias = rater_bias({1: [2, 3, 4], 2: [3, 4, 5]})
    assert bias[1].offset == pytest.approx(-1.0)
    assert bias[1].ci_low == pytest.approx(-2.600334, abs=1e-6)
    assert bias[1].ci_high == pytest.approx(0.600334, abs=1e-6)
    assert bias[1].verdict == "in line"
    assert bias[2].offset == pytest.approx(1.0)
    assert bias[2].verdict == "in line"


def test_three_raters_offset_is_against_everyone_else() -> None:
    # Rater 1: [5, 5, 5]; rater 2: [3, 3, 3]; rater 3: [1, 1, 1].
    # Others of 1: six ratings, three 3s and three 1s, mean 2 -> offset 5 - 2 = +3.
    # Others of 2: three 5s and three 1s, mean 3 -> offset 0.
    # Others of 3: mean 4 -> offset 1 - 4 = -3.
    # Pooled SD for 1: own SD 0, others' SD sqrt(6/5) (deviations +-1, squares sum 6);
    # sqrt((2*0 + 5*6/5) / (3+6-2)) = sqrt(6/7); half = 1.96 * sqrt(6/7) * sqrt(1/3 + 1/6).
    bias = rater_bias({1: [5, 5, 5], 2: [3, 3, 3], 3: [1, 1, 1]})
    assert [bias[r].offset for r in (1, 2, 3)] == pytest.approx([3.0, 0.0, -3.0])
    half = Z95 * math.sqrt(6 / 7) * math.sqrt(1 / 3 + 1 / 6)
    assert half == pytest.approx(1.2831, abs=1e-4)  # 1.96 * .9258 * .7071
    assert bias[1].ci_low == pytest.approx(3 - half)
    assert bias[1].ci_high == pytest.approx(3 + half)
    # Rater 2's others are three 5s and three 1s: SD sqrt(6*4/5) = sqrt(4.8);
    # pooled sqrt(5*4.8/7) = sqrt(24/7); half = 1.96 * sqrt(24/7) * sqrt(1/2) = 2.566.
    half_two = Z95 * math.sqrt(24 / 7) * math.sqrt(1 / 2)
    assert bias[2].ci_low == pytest.approx(-half_two)
    assert bias[2].ci_high == pytest.approx(half_two)
    assert [bias[r].verdict for r in (1, 2, 3)] == ["lenient", "in line", "severe"]


def test_lenient_and_severe_managers_over_similar_teams_have_opposite_offsets() -> None:
    # Four managers, each with a team of four.  Manager 1 rates everyone 5, manager 2
    # everyone 2; managers 3 and 4 spread their (similar) teams around 3.
    # Offset of 1: 5 - mean(2,2,2,2, 2,3,3,4, 3,3,3,4) = 5 - 33/12 = +2.25.
    # Offset of 2: 2 - mean(5,5,5,5, 2,3,3,4, 3,3,3,4) = 2 - 45/12 = -1.75.
    ratings = {1: [5, 5, 5, 5], 2: [2, 2, 2, 2], 3: [2, 3, 3, 4], 4: [3, 3, 3, 4]}
    bias = rater_bias(ratings)
    lenient, severe = bias[1], bias[2]
    assert lenient.offset == pytest.approx(2.25)
    assert severe.offset == pytest.approx(-1.75)
    assert lenient.offset > 0 > severe.offset
    assert lenient.spread == severe.spread == 0.0
    assert lenient.verdict == "lenient"
    assert severe.verdict == "severe"
    assert lenient.ci_low > 0
    assert severe.ci_high < 0


def test_team_of_one_gets_the_too_small_warning() -> None:
    bias = rater_bias({1: [4], 2: [3, 3, 4, 2], 3: [2, 3]})
    assert bias[1].too_small
    assert bias[1].n == 1
    assert bias[1].verdict == "too few ratings to tell"
    # One rating: no spread, so no interval at all; the offset is still shown:
    # 4 - mean(3, 3, 4, 2, 2, 3) = 4 - 17/6 = +1.1667.
    assert bias[1].offset == pytest.approx(4 - 17 / 6)
    assert bias[1].ci_low == -math.inf
    assert bias[1].ci_high == math.inf
    # Two ratings is still fewer than MIN_TEAM (3).
    assert MIN_TEAM == 3
    assert bias[3].too_small
    assert bias[3].verdict == "too few ratings to tell"
    assert not bias[2].too_small


def test_a_lone_rater_has_nobody_to_compare_with() -> None:
    bias = rater_bias({7: [5, 5, 4, 5]})
    assert bias[7].offset == 0.0
    assert bias[7].too_small  # fewer than two other ratings
    assert bias[7].verdict == "too few ratings to tell"


def test_min_team_can_be_lowered() -> None:
    bias = rater_bias({1: [5, 4], 2: [2, 3, 2]}, min_team=2)
    assert not bias[1].too_small
    assert rater_bias({1: [5, 4], 2: [2, 3, 2]})[1].too_small


def test_a_uniform_group_gives_zero_offsets() -> None:
    bias = rater_bias({1: [3, 3, 3], 2: [3, 3, 3, 3], 3: [3, 3, 3]})
    for b in bias.values():
        assert b.offset == 0.0
        assert b.spread == 0.0
        assert b.mean == 3.0
        # No spread anywhere: a zero-width interval at zero, which is "in line".
        assert b.ci_low == 0.0
        assert b.ci_high == 0.0
        assert b.verdict == "in line"


def test_no_ratings_at_all() -> None:
    assert rater_bias({}) == {}


@pytest.mark.parametrize("seed", range(100))
def test_two_rater_offsets_mirror_each_other(seed: int) -> None:
    # With exactly two raters each one's "others" is the other: offsets are
    # opposite, the interval half-widths equal.
    rng = random.Random(seed)
    a = [rng.randint(1, 5) for _ in range(rng.randint(3, 12))]
    b = [rng.randint(1, 5) for _ in range(rng.randint(3, 12))]
    bias = rater_bias({1: a, 2: b})
    assert bias[1].offset == pytest.approx(-bias[2].offset)
    assert bias[1].ci_high - bias[1].offset == pytest.approx(bias[2].ci_high - bias[2].offset)
    assert bias[1].ci_low <= bias[1].offset <= bias[1].ci_high
    assert bias[1].verdict in {"lenient", "severe", "in line"}


# Distribution against guidance -------------------------------------------------------


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


# Normalised suggestions -------------------------------------------------------------


def test_normalised_suggestion_maps_rater_habits_onto_the_group() -> None:
    # Rater 1 (people 1-3): [3, 4, 5] -> mean 4, SD 1.
    # Rater 2 (people 4-9): [2, 2, 2, 3, 3, 3] -> mean 2.5, SD sqrt(1.5/5) = 0.5477.
    # Group (all nine): sum 27, mean 3; squared deviations 0+1+4 + 1+1+1 + 0+0+0 = 8;
    # variance 8/8 = 1, SD 1.
    # Rater 1's 5: z = (5-4)/1 = 1 -> 3 + 1*1 = 4.  Their 4 -> 3, their 3 -> 2.
    # Rater 2's 3: z = .5/.5477 = .9129 -> 3.913 -> 4; their 2 -> 2.087 -> 2.
    ratings = {
        1: (1, 3),
        2: (1, 4),
        3: (1, 5),
        4: (2, 2),
        5: (2, 2),
        6: (2, 2),
        7: (2, 3),
        8: (2, 3),
        9: (2, 3),
    }
    every = [r for _, r in ratings.values()]
    assert mean(every) == 3
    assert stdev(every) == pytest.approx(1.0)
    assert normalised_suggestions(ratings) == {
        1: 2,
        2: 3,
        3: 4,
        4: 2,
        5: 2,
        6: 2,
        7: 4,
        8: 4,
        9: 4,
    }


def test_normalised_suggestions_are_clipped_to_the_scale() -> None:
    # Rater 1 (people 1-10): one 2, eight 3s, one 4 -> mean 3, SD sqrt(2/9) = .4714;
    # z of the 4 is 1/.4714 = 2.1213, of the 2 is -2.1213.
    # Rater 2 (people 11-18): 1, 5, 1, 5, 1, 5, 1, 5 -> mean 3, SD sqrt(32/7) = 2.138.
    # Group: 18 ratings, mean 3; squared deviations 2 + 8*4 = 34; SD sqrt(34/17) = sqrt 2.
    # The 4: 3 + 2.1213 * 1.4142 = 6 -> clipped to 5; the 2: 3 - 3 = 0 -> clipped to 1.
    # Rater 2's 5: z = 2/2.138 = .9354 -> 3 + 1.3229 = 4.32 -> 4; their 1 -> 1.68 -> 2.
    ratings: dict[int, tuple[int, int]] = {1: (1, 2), 10: (1, 4)}
    ratings.update(dict.fromkeys(range(2, 10), (1, 3)))
    ratings.update({p: (2, 5 if p % 2 else 1) for p in range(11, 19)})
    group = [r for _, r in ratings.values()]
    assert (mean(group), stdev(group)) == pytest.approx((3, math.sqrt(2)))
    suggestions = normalised_suggestions(ratings)
    assert suggestions[10] == 5
    assert suggestions[1] == 1
    assert all(suggestions[p] == 3 for p in range(2, 10))
    assert all(suggestions[p] == (4 if p % 2 else 2) for p in range(11, 19))


def test_a_rater_who_tells_no_one_apart_maps_to_the_group_mean() -> None:
    # Rater 1 gives [5, 5, 5] (SD 0); rater 2 gives [1, 2, 3] (mean 2, SD 1).
    # Group: [5, 5, 5, 1, 2, 3], mean 21/6 = 3.5, rounded half up -> 4 for all of rater 1.
    # Group SD: squared deviations 3*2.25 + 6.25 + 2.25 + .25 = 15.5; sqrt(15.5/5) = 1.7607.
    # Rater 2: 1 -> 3.5 - 1.7607 = 1.74 -> 2; 2 -> 3.5 -> 4 (half up); 3 -> 5.26 -> 5.
    ratings = {1: (1, 5), 2: (1, 5), 3: (1, 5), 4: (2, 1), 5: (2, 2), 6: (2, 3)}
    assert normalised_suggestions(ratings) == {1: 4, 2: 4, 3: 4, 4: 2, 5: 4, 6: 5}


def test_a_small_team_is_left_unchanged() -> None:
    # Rater 9 has two ratings (fewer than MIN_TEAM): kept as given, even the extremes.
    ratings = {1: (9, 1), 2: (9, 5), 3: (1, 3), 4: (1, 4), 5: (1, 2)}
    suggestions = normalised_suggestions(ratings)
    assert suggestions[1] == 1
    assert suggestions[2] == 5
    # Rater 1: [3, 4, 2] mean 3 SD 1; group [1, 5, 3, 4, 2] mean 3 SD sqrt(10/4) = 1.5811:
    # 4 -> 4.58 -> 5; 2 -> 1.42 -> 1; 3 -> 3.
    assert (suggestions[3], suggestions[4], suggestions[5]) == (3, 5, 1)
    # With the bar lowered to two, rater 9 is normalised as well: [1, 5] mean 3 SD 2.8284,
    # z = -+.7071 -> 3 -+ 1.118 -> 1.88 -> 2 and 4.12 -> 4.
    lowered = normalised_suggestions(ratings, min_team=2)
    assert (lowered[1], lowered[2]) == (2, 4)


def test_a_uniform_group_keeps_every_rating() -> None:
    ratings = {p: (p % 3, 3) for p in range(9)}
    assert normalised_suggestions(ratings) == dict.fromkeys(range(9), 3)


def test_no_ratings_no_suggestions() -> None:
    assert normalised_suggestions({}) == {}


def _random_group(seed: int) -> dict[int, tuple[int, int]]:
    rng = random.Random(seed)
    raters = rng.randint(1, 6)
    people = rng.randint(1, 40)
    style = rng.choice(["uniform", "skewed", "extreme"])
    ratings = {}
    for person in range(people):
        rater = rng.randint(1, raters)
        if style == "uniform":
            value = rng.randint(1, 5)
        elif style == "skewed":
            value = min(5, max(1, round(rng.gauss(rater % 5 + 1, 0.7))))
        else:
            value = rng.choice([1, 5, 5, rater % 5 + 1])
        ratings[person * 7 + 3] = (rater, value)
    return ratings


@pytest.mark.parametrize("seed", range(300))
def test_suggestions_are_always_whole_ratings_on_the_scale(seed: int) -> None:
    ratings = _random_group(seed)
    suggestions = normalised_suggestions(ratings)
    assert suggestions.keys() == ratings.keys()
    for value in suggestions.values():
        assert type(value) is int
        assert value in SCALE
    # Within one rater, a higher rating never gets a lower suggestion.
    for a, (rater_a, rating_a) in ratings.items():
        for b, (rater_b, rating_b) in ratings.items():
            if rater_a == rater_b and rating_a < rating_b:
                assert suggestions[a] <= suggestions[b]
    # Raters with fewer than MIN_TEAM ratings keep theirs.
    counts: dict[int, int] = {}
    for rater, _ in ratings.values():
        counts[rater] = counts.get(rater, 0) + 1
    for person, (rater, rating) in ratings.items():
        if counts[rater] < MIN_TEAM:
            assert suggestions[person] == rating


# Self versus manager, 9-box bands ---------------------------------------------------


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


def _bias_by_definition(groups: dict[int, list[int]]) -> dict[int, tuple[float, float, float]]:
    """(offset, ci_low, ci_high) per rater, computed from each rater's 'others' list."""
    result = {}
    for rater, own in groups.items():
        others = [v for r, values in groups.items() if r != rater for v in values]
        n, m = len(own), len(others)
        offset = mean(own) - mean(others) if own and others else 0.0
        if n >= 2 and m >= 2:
            pooled = math.sqrt(
                ((n - 1) * stdev(own) ** 2 + (m - 1) * stdev(others) ** 2) / (n + m - 2)
            )
            half = Z95 * pooled * math.sqrt(1 / n + 1 / m)
        else:
            half = math.inf
        result[rater] = (offset, offset - half, offset + half)
    return result


@given(
    st.dictionaries(
        st.integers(1, 40),
        st.lists(st.integers(1, 5), min_size=1, max_size=12),
        min_size=1,
        max_size=12,
    )
)
def test_rater_bias_from_group_totals_matches_the_definition(groups) -> None:
    """The one-pass figures (group totals minus the rater's own) equal the
    others-list definition the README gives."""
    found = rater_bias(groups)
    for rater, (offset, low, high) in _bias_by_definition(groups).items():
        assert found[rater].offset == pytest.approx(offset, abs=1e-9)
        assert found[rater].ci_low == pytest.approx(low, abs=1e-9)
        assert found[rater].ci_high == pytest.approx(high, abs=1e-9)
