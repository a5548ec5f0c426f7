"""The rater-effects model (reviews.calibration.raters), pure: planted truths in, verdicts out.

Each org here is built by hand: people with a known ability, managers with a known
leniency, peers who rate across team lines (or not), small seeded noise.
"""

from __future__ import annotations

import random

import pytest

from bench import fairness
from reviews.calibration import raters
from reviews.calibration.raters import (
    IN_LINE,
    LENIENT,
    SEVERE,
    TOO_FEW,
    UNLINKED,
    Observation,
    fit,
    holm,
)


def org(
    teams: dict[int, tuple[int, float, float]],
    *,
    cross: bool = True,
    seed: int = 7,
    peers: int = 3,
    noise: float = 0.3,
) -> tuple[list[Observation], dict[int, int]]:
    """teams: manager -> (size, team strength, manager leniency). Every person gets
    the manager's rating and `peers` peer ratings, from anywhere in the org when
    `cross`, else from their own team only."""
    rng = random.Random(seed)
    team: dict[int, int] = {}
    ability: dict[int, float] = {}
    pid = 100
    for manager, (size, strength, _lenient) in teams.items():
        for _ in range(size):
            team[pid] = manager
            ability[pid] = 3.0 + strength + rng.gauss(0, 0.5)
            pid += 1
    everyone = list(team)
    peer_bias = {p: rng.gauss(0, 0.15) for p in everyone}
    observations = []
    for person, manager in team.items():
        leniency = teams[manager][2]
        value = min(5.0, max(1.0, ability[person] + leniency + rng.gauss(0, noise)))
        observations.append(Observation(manager, person, value))
        pool = everyone if cross else [p for p in everyone if team[p] == manager]
        for q in rng.sample([p for p in pool if p != person], peers):
            value = min(5.0, max(1.0, ability[person] + peer_bias[q] + rng.gauss(0, noise)))
            observations.append(Observation(q, person, value))
    return observations, team


FAIR = {1: (12, 0.0, 0.0), 2: (12, 0.0, 0.0), 3: (12, 0.0, 0.0), 4: (12, 0.0, 0.0)}


def test_holm_adjusts_step_down_by_hand() -> None:
    # sorted p: 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.04 (x1 = 0.04, kept monotone)
    assert holm({1: 0.04, 2: 0.01, 3: 0.02}) == pytest.approx({2: 0.03, 3: 0.04, 1: 0.04})
    assert holm({1: 0.5, 2: 0.6}) == pytest.approx({1: 1.0, 2: 1.0})  # capped at 1
    assert holm({}) == {}


def test_a_lenient_manager_is_found_and_their_people_lowered() -> None:
    observations, team = org({**FAIR, 5: (15, 0.0, 1.0)})
    model = fit(observations, team)
    lenient = model.managers[5]
    assert lenient.verdict == LENIENT
    assert 0.7 < lenient.estimate < 1.2
    assert lenient.ci_low > 0
    assert lenient.ratings == 15
    assert lenient.links >= 15
    assert model.tested == 5
    assert all(model.managers[m].verdict == IN_LINE for m in FAIR)
    value, reason = model.suggestion(5, 5)
    assert value == 4
    assert reason.startswith("Lowered: this manager's ratings run")
    assert "95% interval" in reason
    assert "15 people" in reason


def test_a_severe_manager_is_raised() -> None:
    observations, team = org({**FAIR, 5: (15, 0.0, -1.0)})
    model = fit(observations, team)
    assert model.managers[5].verdict == SEVERE
    assert model.suggestion(5, 2)[0] == 3
    assert model.suggestion(5, 5)[0] == 5  # clipped to the scale


def test_a_fair_manager_of_a_stronger_team_is_not_called_lenient() -> None:
    # The team is 0.8 stronger and its peers, from across the org, see it too.
    observations, team = org({**FAIR, 5: (15, 0.8, 0.0)})
    model = fit(observations, team)
    strong = model.managers[5]
    assert strong.verdict == IN_LINE
    assert abs(strong.estimate) < 0.3
    # their people keep what the manager proposed
    for rating in (3, 4, 5):
        value, reason = model.suggestion(5, rating)
        assert value == rating
        assert reason.startswith("No correction: the manager's ratings are in line")


def test_honest_top_ratings_are_kept() -> None:
    # Three people whose peers also rate them 5: the manager's 5s stay 5s.
    observations, team = org({**FAIR, 5: (3, 1.9, 0.0)})
    model = fit(observations, team)
    assert model.managers[5].verdict == IN_LINE
    assert model.suggestion(5, 5)[0] == 5


def test_without_cross_team_peers_the_model_says_it_cannot_tell() -> None:
    observations, team = org({**FAIR, 5: (15, 0.0, 1.0)}, cross=False)
    model = fit(observations, team)
    assert {lv.verdict for lv in model.managers.values()} == {UNLINKED}
    assert all(lv.links == 0 and not lv.tested for lv in model.managers.values())
    value, reason = model.suggestion(5, 5)
    assert value == 5
    assert "cannot be told from the team's strength" in reason


def test_a_manager_of_two_is_too_few_to_tell() -> None:
    observations, team = org({**FAIR, 5: (2, 0.0, 1.0)})
    model = fit(observations, team)
    assert model.managers[5].verdict == TOO_FEW
    assert model.suggestion(5, 5) == (5, "No correction: only 2 rated people, too few to tell.")


def raw_offset(observations: list[Observation], team: dict[int, int], manager: int) -> float:
    """Mean over the manager's people of (manager's rating - mean of the peers')."""
    gaps = []
    for person in (p for p, m in team.items() if m == manager):
        own = [o.value for o in observations if o.person == person and o.rater == manager]
        peers = [o.value for o in observations if o.person == person and o.rater != manager]
        gaps.append(own[0] - sum(peers) / len(peers))
    return sum(gaps) / len(gaps)


def test_a_small_team_is_shrunk_more_and_known_less_than_a_large_one() -> None:
    observations, team = org({**FAIR, 5: (4, 0.0, 1.0), 6: (20, 0.0, 1.0)}, noise=0.5)
    model = fit(observations, team)
    small, large = model.managers[5], model.managers[6]
    assert small.sd > large.sd
    small_kept = small.estimate / raw_offset(observations, team, 5)
    large_kept = large.estimate / raw_offset(observations, team, 6)
    assert 0 < small_kept < large_kept < 1


def test_no_ratings_no_model() -> None:
    model = fit([], {1: 9})
    assert model.managers == {}
    assert model.suggestion(9, 4) == (
        4,
        "No correction: this manager gave no ratings the model could use.",
    )
    assert model.suggestion(None, 4)[0] == 4


def test_ratings_off_the_scale_are_left_out() -> None:
    observations, team = org(FAIR)
    model = fit([*observations, Observation(1, 100, 9.0)], team)
    assert model.observations == len(observations)


def test_the_simulator_meets_the_targets_on_a_small_run() -> None:
    """The operating characteristics python -m bench.fairness prints, on 40 cycles."""
    tallies = fairness.run(cycles=40, seed=3, people=150, managers=12, cross_share=0.6)
    model = tallies["model"]
    assert model.strong_flagged / model.cycles <= 0.10
    assert model.any_fair_flagged / model.cycles <= 0.15
    assert model.found_large == model.large > 0
    assert model.mae("fair:model") <= model.mae("fair:manager") + 0.02
    assert model.mae("biased:model") <= 0.6 * model.mae("biased:manager")
    previous = tallies["previous"]
    assert previous.strong_flagged > model.strong_flagged  # what the issue measured


def test_peers_more_generous_than_every_manager_make_no_manager_severe() -> None:
    """Peers commonly rate higher than managers do; calibration compares managers with
    each other, so a shift shared by every manager is no one's severity."""
    observations, team = org(FAIR)
    managers = set(FAIR)
    shifted = [
        Observation(o.rater, o.person, o.value - 0.8) if o.rater in managers else o
        for o in observations
    ]
    model = fit(shifted, team)
    assert {lv.verdict for lv in model.managers.values()} == {IN_LINE}
    assert all(abs(lv.estimate) < 0.3 for lv in model.managers.values())
    # ... while one manager below the others still is
    severe = [Observation(o.rater, o.person, o.value - 1.0) if o.rater == 4 else o for o in shifted]
    assert fit(severe, team).managers[4].verdict == SEVERE


def test_managers_alone_cannot_be_told_from_their_teams() -> None:
    # No peer ratings at all: nothing links the teams, nothing is flagged, nothing fails.
    observations, team = org({**FAIR, 5: (6, 0.0, 1.0)}, peers=0)
    model = fit(observations, team)
    assert {lv.verdict for lv in model.managers.values()} == {UNLINKED}


def test_a_single_rater_is_fitted_without_failing() -> None:
    model = fit([Observation(1, 10, 4.0), Observation(1, 11, 2.0)], {10: 1, 11: 1})
    assert model.managers[1].verdict == TOO_FEW


def test_large_groups_estimate_traces_and_agree_with_the_exact_fit(monkeypatch) -> None:
    """Above EXACT_TRACES raters, EM's traces come from random probes (the managers'
    variances stay exact): the verdicts and estimates match the exact computation."""
    observations, team = org({**FAIR, 5: (15, 0.0, 1.0), 6: (15, 0.8, 0.0)}, noise=0.4)
    exact = fit(observations, team)
    monkeypatch.setattr(raters, "EXACT_TRACES", 0)
    estimated = fit(observations, team)
    assert {m: lv.verdict for m, lv in estimated.managers.items()} == {
        m: lv.verdict for m, lv in exact.managers.items()
    }
    for m, lv in exact.managers.items():
        assert estimated.managers[m].estimate == pytest.approx(lv.estimate, abs=0.05)
        assert estimated.managers[m].sd == pytest.approx(lv.sd, rel=0.1)
