"""How often the rater-effects model is right: a planted-truth simulation.

    python -m bench.fairness [--cycles 2000] [--seed 1] [--people 150] [--managers 12]

Each simulated cycle plants a true ability per person, twelve managers with teams
of 4 to 20 (sizes drawn afresh each cycle), two lenient (+1 point) and two severe
(-1) managers, one fair manager of a genuinely stronger team (+0.8), one fair but
noisy manager, and three peers per person of whom a share work in other teams.
Managers rate six competencies and propose an overall rating; peers rate the
competencies.  The model (reviews.calibration.raters) sees only the ratings.  The
script prints its operating characteristics beside those of the previous method
(mean offset against the others' mean, z-score normalisation) and exits 1 if a
target of issue 19 is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from reviews.calibration.raters import Observation, clip, fit, round_half_up
from reviews.calibration.scoring import mean, stdev

COMPETENCIES = 6


def previous_flags(by_rater: dict[int, list[int]]) -> set[int]:
    """The method this model replaced: a manager's mean overall rating against
    everyone else's, a 95% interval on the pooled SD, three ratings at least."""
    flagged = set()
    everything = [v for values in by_rater.values() for v in values]
    for rater, own in by_rater.items():
        others = list(everything)
        for v in own:
            others.remove(v)
        n, m = len(own), len(others)
        if n < 3 or m < 2:
            continue
        pooled = (((n - 1) * stdev(own) ** 2 + (m - 1) * stdev(others) ** 2) / (n + m - 2)) ** 0.5
        half = 1.96 * pooled * (1 / n + 1 / m) ** 0.5
        if abs(mean(own) - mean(others)) > half:
            flagged.add(rater)
    return flagged


def previous_suggestions(proposals: dict[int, tuple[int, int]]) -> dict[int, int]:
    """The replaced suggestion: z-score within the manager's ratings mapped onto the group."""
    by_rater: dict[int, list[int]] = {}
    for rater, rating in proposals.values():
        by_rater.setdefault(rater, []).append(rating)
    everything = [r for _, r in proposals.values()]
    centre, spread = mean(everything), stdev(everything)
    result = {}
    for person, (rater, rating) in proposals.items():
        own = by_rater[rater]
        if len(own) < 3 or spread == 0:
            value = float(rating)
        elif stdev(own) == 0:
            value = centre
        else:
            value = centre + (rating - mean(own)) / stdev(own) * spread
        result[person] = clip(round_half_up(value))
    return result


@dataclass
class World:
    truth: dict[int, float]
    team: dict[int, int]
    leniency: dict[int, float]
    strong: int  # the fair manager of a stronger team
    noisy: int  # the fair manager who rates with more noise
    observations: list[Observation]
    proposals: dict[int, int]  # person -> manager's overall rating


def team_sizes(rng: np.random.Generator, people: int, managers: int) -> list[int]:
    while True:
        sizes = rng.integers(4, 21, size=managers)
        sizes = np.maximum(4, np.round(sizes / sizes.sum() * people)).astype(int)
        if sizes.max() <= 20:
            return [int(s) for s in sizes]


def simulate(
    rng: np.random.Generator,
    people: int = 150,
    managers: int = 12,
    cross_share: float = 0.6,
    lenient_team_min: int = 0,
    peers: int = 3,
    noise_scale: float = 1.0,
) -> World:
    sizes = team_sizes(rng, people, managers)
    order = rng.permutation(managers)  # which manager plays which part
    lenient = {int(order[0]): 1.0, int(order[1]): 1.0, int(order[2]): -1.0, int(order[3]): -1.0}
    if lenient_team_min:
        for m in list(lenient)[:1]:
            sizes[m] = max(sizes[m], lenient_team_min)
    strong, noisy = int(order[4]), int(order[5])
    team: dict[int, int] = {}
    pid = 1000
    for m, size in enumerate(sizes):
        for _ in range(size):
            team[pid] = m
            pid += 1
    ability = {p: rng.normal(3.1, 0.7) + (0.8 if team[p] == strong else 0.0) for p in team}
    truth = {p: float(clip(round_half_up(a))) for p, a in ability.items()}
    leniency = {m: lenient.get(m, 0.0) for m in range(managers)}
    members: dict[int, list[int]] = {}
    for p, m in team.items():
        members.setdefault(m, []).append(p)
    everyone = list(team)
    peer_leniency = {p: rng.normal(0, 0.25) for p in team}
    observations: list[Observation] = []
    proposals: dict[int, int] = {}

    def rate(rater: int, person: int, bias: float, noise: float) -> None:
        noise *= noise_scale
        values = [
            clip(round_half_up(ability[person] + rng.normal(0, 0.3) + bias + rng.normal(0, noise)))
            for _ in range(COMPETENCIES)
        ]
        observations.append(Observation(rater, person, sum(values) / len(values)))

    for p, m in team.items():
        noise = 0.9 if m == noisy else 0.45
        rate(m, p, leniency[m], noise)
        proposals[p] = clip(
            round_half_up(ability[p] + leniency[m] + rng.normal(0, noise * noise_scale * 0.8))
        )
        chosen: set[int] = set()
        while len(chosen) < peers:
            pool = everyone if rng.random() < cross_share else members[m]
            q = int(pool[rng.integers(len(pool))])
            if q != p:
                chosen.add(q)
        for q in chosen:
            rate(q, p, peer_leniency[q], 0.6)
    return World(truth, team, leniency, strong, noisy, observations, proposals)


@dataclass
class Tally:
    cycles: int = 0
    strong_flagged: int = 0
    any_fair_flagged: int = 0
    exactly_biased: int = 0
    found_large: int = 0  # biased managers with a team of 15 or more, found
    large: int = 0
    found_small: int = 0  # with a team of 4 or 5
    small: int = 0
    errors: dict[str, list[float]] = field(default_factory=dict)

    def add_error(self, key: str, value: float) -> None:
        self.errors.setdefault(key, []).append(value)

    def mae(self, key: str) -> float:
        values = self.errors.get(key, [])
        return float(np.mean(values)) if values else float("nan")


def run(
    cycles: int,
    seed: int,
    people: int,
    managers: int,
    cross_share: float,
    peers: int = 3,
    noise_scale: float = 1.0,
) -> dict[str, Tally]:
    rng = np.random.default_rng(seed)
    tallies = {"model": Tally(), "previous": Tally()}
    for _ in range(cycles):
        world = simulate(rng, people, managers, cross_share, peers=peers, noise_scale=noise_scale)
        sizes: dict[int, int] = {}
        for m in world.team.values():
            sizes[m] = sizes.get(m, 0) + 1
        model = fit(world.observations, world.team)
        flagged_model = {m for m, lv in model.managers.items() if lv.flagged}
        by_rater: dict[int, list[int]] = {}
        for p, r in world.proposals.items():
            by_rater.setdefault(world.team[p], []).append(r)
        flagged_old = previous_flags(by_rater)
        old_suggestions = previous_suggestions(
            {p: (world.team[p], r) for p, r in world.proposals.items()}
        )
        biased = {m for m, b in world.leniency.items() if b}
        for name, flagged in (("model", flagged_model), ("previous", flagged_old)):
            t = tallies[name]
            t.cycles += 1
            t.strong_flagged += world.strong in flagged
            t.any_fair_flagged += bool(flagged - biased)
            t.exactly_biased += flagged == biased
            for m in biased:
                if sizes[m] >= 15:
                    t.large += 1
                    t.found_large += m in flagged
                if sizes[m] <= 5:
                    t.small += 1
                    t.found_small += m in flagged
        for p, rating in world.proposals.items():
            m = world.team[p]
            group = "biased" if m in biased else "fair"
            truth = world.truth[p]
            suggested, _why = model.suggestion(m, rating)
            for name, value in (
                ("manager", rating),
                ("model", suggested),
                ("previous", old_suggestions[p]),
            ):
                tallies["model"].add_error(f"{group}:{name}", abs(value - truth))
    return tallies


TARGETS = (
    "fair manager of a stronger team flagged <= 10% of cycles",
    "any fair manager flagged <= 10% of cycles",
    "1-point leniency, team of 15+, found >= 90%",
    "fair managers' people: suggestion MAE <= manager's + 0.02",
    "biased managers' people: suggestion >= 40% closer to the truth",
)


def report(tallies: dict[str, Tally], seconds: float) -> bool:
    m, o = tallies["model"], tallies["previous"]

    def pct(a: int, b: int) -> str:
        return f"{100 * a / b:.1f}%" if b else "n/a"

    print(f"{m.cycles} simulated cycles, {seconds:.1f} s ({1000 * seconds / m.cycles:.1f} ms each)")
    print()
    print("| measure | rater-effects model | previous method |")
    print("|---|---|---|")
    rows = [
        ("fair manager of a stronger team flagged", m.strong_flagged, o.strong_flagged, m.cycles),
        ("cycles flagging any fair manager", m.any_fair_flagged, o.any_fair_flagged, m.cycles),
        (
            "cycles flagging exactly the biased managers",
            m.exactly_biased,
            o.exactly_biased,
            m.cycles,
        ),
    ]
    for label, a, b, total in rows:
        print(f"| {label} | {pct(a, total)} | {pct(b, total)} |")
    print(
        f"| 1-point bias found, team of 15 or more | {pct(m.found_large, m.large)} "
        f"| {pct(o.found_large, o.large)} |"
    )
    print(
        f"| 1-point bias found, team of 4 or 5 | {pct(m.found_small, m.small)} "
        f"| {pct(o.found_small, o.small)} |"
    )
    fair_manager, fair_model = m.mae("fair:manager"), m.mae("fair:model")
    biased_manager, biased_model = m.mae("biased:manager"), m.mae("biased:model")
    print(
        f"| MAE against the truth, fair managers' people (manager's rating {fair_manager:.3f}) "
        f"| {fair_model:.3f} | {m.mae('fair:previous'):.3f} |"
    )
    print(
        f"| MAE against the truth, biased managers' people (manager's rating {biased_manager:.3f}) "
        f"| {biased_model:.3f} | {m.mae('biased:previous'):.3f} |"
    )
    closer = 1 - biased_model / biased_manager
    met = [
        m.strong_flagged / m.cycles <= 0.10,
        m.any_fair_flagged / m.cycles <= 0.10,
        (m.found_large / m.large if m.large else 1.0) >= 0.90,
        fair_model <= fair_manager + 0.02,
        closer >= 0.40,
    ]
    print()
    for label, ok in zip(TARGETS, met, strict=True):
        print(f"{'met ' if ok else 'MISSED'} {label}")
    print(f"(biased managers' people: {100 * closer:.0f}% closer to the truth)")
    return all(met)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fairness", description=__doc__)
    parser.add_argument("--cycles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--people", type=int, default=150)
    parser.add_argument("--managers", type=int, default=12)
    parser.add_argument(
        "--cross-share",
        type=float,
        default=0.6,
        help="share of peers chosen from anywhere in the org rather than the own team",
    )
    parser.add_argument("--peers", type=int, default=3, help="peers per person")
    parser.add_argument(
        "--noise", type=float, default=1.0, help="multiplies every rater's noise (1: as above)"
    )
    args = parser.parse_args(argv)
    if args.cycles < 1 or args.people < args.managers * 4 or args.managers < 6:
        parser.error("need at least 1 cycle, 6 managers and 4 people per manager")
    if not 1 <= args.peers <= 10 or not 0 < args.noise <= 5 or not 0 <= args.cross_share <= 1:
        parser.error("--peers 1..10, --noise above 0 up to 5, --cross-share 0..1")
    started = time.perf_counter()
    tallies = run(
        args.cycles,
        args.seed,
        args.people,
        args.managers,
        args.cross_share,
        peers=args.peers,
        noise_scale=args.noise,
    )
    return 0 if report(tallies, time.perf_counter() - started) else 1


if __name__ == "__main__":
    sys.exit(main())
