"""A rater-effects model for a calibration group: who rates leniently, and how sure we are.

Pure: ratings in, estimates out.  Each rating is modelled as

    rating = overall mean + ability of the person + leniency of the rater
             + (a shift shared by all managers, when the rater is the person's manager)
             + noise

over every rating of the group's people that an independent rater gives on the
same scale: the manager's competency ratings and the peers' (peers cross team
lines, which is what tells a lenient manager from a strong team).  The shared
shift lets managers as a whole rate lower or higher than peers do (peers
commonly rate higher), so a manager's leniency is measured against the group's
other managers, with the peers as the bridge between teams.  One
observation is a rater's mean over the competencies they rated for one person
(ratings of one person by one rater across competencies are not independent
evidence).  Leniencies are random effects, managers' and peers' each with their
own variance; abilities are all but fixed effects (a prior of 5 points' spread,
only so that a person rated once stays estimable), so a strong team is never
pulled toward the group's mean and read as a lenient manager: a manager's
leniency is learnt only from how their ratings of a person compare with other
raters' ratings of the same person, and those raters' own leniencies from the
people they rate elsewhere.  The variances and the noise are estimated by EM;
the estimates are the best linear unbiased predictors, so a small team's
leniency is shrunk toward zero by exactly as much as its few ratings warrant.

A manager is called lenient or severe only when

* they gave at least ``MIN_RATINGS`` ratings,
* at least ``MIN_LINKS`` ratings of their people come from raters who also rate
  people outside the team (otherwise the data cannot separate the manager's
  leniency from the team's strength, and the verdict says so), and
* the estimate differs from zero after Holm's correction for the number of
  managers tested (family-wise error ``ALPHA``).

A suggestion subtracts the flagged manager's shrunk leniency from their
proposed overall rating; nothing else is ever rescaled, and a manager who is not
flagged keeps their people's ratings.  The README ("Calibration analytics")
states the assumptions and limits; ``python -m bench.fairness`` measures them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu
from scipy.stats import norm

from reviews.languages import gettext, lazy_gettext, ngettext, number

MIN_RATINGS = 3  # fewer ratings from one manager: too few to tell anything
MIN_LINKS = 3  # fewer linking ratings: leniency and team strength cannot be told apart
ALPHA = 0.05  # family-wise error over the managers tested (Holm)
Z95 = float(norm.ppf(0.975))
MAX_ITERATIONS = 60
TOLERANCE = 1e-4
VARIANCE_FLOOR = 1e-4
EXACT_TRACES = 400  # up to this many raters, EM's traces are exact; above, estimated
PROBES = 48  # random probes of Hutchinson's trace estimator
ABILITY_VAR = 25.0  # abilities are all but fixed effects (see fit)

LENIENT = "lenient"
SEVERE = "severe"
IN_LINE = "in line"
TOO_FEW = "too few ratings to tell"
UNLINKED = "cannot tell from team strength"
# The verdicts as people read them (the values above are data: the API's `verdict`).
VERDICT_LABELS = {
    LENIENT: lazy_gettext("lenient"),
    SEVERE: lazy_gettext("severe"),
    IN_LINE: lazy_gettext("in line"),
    TOO_FEW: lazy_gettext("too few ratings to tell"),
    UNLINKED: lazy_gettext("cannot tell from team strength"),
}


@dataclass(frozen=True)
class Observation:
    rater: int
    person: int
    value: float  # the rater's mean over the competencies they rated for the person


@dataclass(frozen=True)
class Leniency:
    rater: int
    estimate: float  # shrunk leniency in rating points (+: rates higher than the evidence)
    sd: float  # its posterior standard deviation
    ratings: int  # people this manager rated in the model
    links: int  # ratings of the team's people by raters who also rate outside the team
    p_value: float | None  # two-sided, before correction; None when not tested
    p_adjusted: float | None  # Holm-adjusted
    verdict: str

    @property
    def ci_low(self) -> float:
        return self.estimate - Z95 * self.sd

    @property
    def ci_high(self) -> float:
        return self.estimate + Z95 * self.sd

    @property
    def label(self) -> str:
        """The verdict as people read it, in the reader's language."""
        return str(VERDICT_LABELS.get(self.verdict, self.verdict))

    @property
    def flagged(self) -> bool:
        return self.verdict in (LENIENT, SEVERE)

    @property
    def tested(self) -> bool:
        return self.p_value is not None


@dataclass(frozen=True)
class RaterModel:
    managers: dict[int, Leniency]
    noise_sd: float  # residual standard deviation of one observation
    leniency_sd: float  # spread of managers' leniencies
    observations: int
    tested: int  # managers tested (the Holm family)

    def suggestion(self, manager: int | None, rating: int) -> tuple[int, str]:
        """The proposed overall rating with only a credible leniency removed, and why."""
        found = self.managers.get(manager) if manager is not None else None
        if found is None:
            return rating, gettext(
                "No correction: this manager gave no ratings the model could use."
            )
        if found.verdict == TOO_FEW:
            return rating, ngettext(
                "No correction: only %(num)d rated person, too few to tell.",
                "No correction: only %(num)d rated people, too few to tell.",
                found.ratings,
            )
        if found.verdict == UNLINKED:
            return rating, gettext(
                "No correction: no peers who also rate people outside the team, so leniency "
                "cannot be told from the team's strength."
            )
        if not found.flagged:
            return rating, gettext(
                "No correction: the manager's ratings are in line with the other managers', "
                "judged by peers' ratings of the same people."
            )
        value = clip(round_half_up(rating - found.estimate))
        figures = {
            "points": number(abs(found.estimate), "0.0"),
            "low": number(found.ci_low, "+0.0;-0.0"),
            "high": number(found.ci_high, "+0.0;-0.0"),
            "people": found.ratings,
            "links": found.links,
        }
        # One sentence per outcome and direction: "Lowered: ... run 0.8 points above ..."
        if found.estimate > 0:
            if value < rating:
                reason = gettext(
                    "Lowered: this manager's ratings run %(points)s points above the other "
                    "managers', judged by peers' ratings of the same people (95%% interval "
                    "%(low)s to %(high)s, %(people)s people, %(links)s linking ratings).",
                    **figures,
                )
            elif value > rating:
                reason = gettext(
                    "Raised: this manager's ratings run %(points)s points above the other "
                    "managers', judged by peers' ratings of the same people (95%% interval "
                    "%(low)s to %(high)s, %(people)s people, %(links)s linking ratings).",
                    **figures,
                )
            else:
                reason = gettext(
                    "Kept: this manager's ratings run %(points)s points above the other "
                    "managers', judged by peers' ratings of the same people (95%% interval "
                    "%(low)s to %(high)s, %(people)s people, %(links)s linking ratings).",
                    **figures,
                )
        elif value < rating:
            reason = gettext(
                "Lowered: this manager's ratings run %(points)s points below the other "
                "managers', judged by peers' ratings of the same people (95%% interval "
                "%(low)s to %(high)s, %(people)s people, %(links)s linking ratings).",
                **figures,
            )
        elif value > rating:
            reason = gettext(
                "Raised: this manager's ratings run %(points)s points below the other "
                "managers', judged by peers' ratings of the same people (95%% interval "
                "%(low)s to %(high)s, %(people)s people, %(links)s linking ratings).",
                **figures,
            )
        else:
            reason = gettext(
                "Kept: this manager's ratings run %(points)s points below the other "
                "managers', judged by peers' ratings of the same people (95%% interval "
                "%(low)s to %(high)s, %(people)s people, %(links)s linking ratings).",
                **figures,
            )
        return value, reason


def round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def clip(value: int, low: int = 1, high: int = 5) -> int:
    return min(high, max(low, value))


def holm(p_values: Mapping[int, float]) -> dict[int, float]:
    """Holm's step-down adjusted p-values (family-wise error control)."""
    ordered = sorted(p_values.items(), key=lambda item: item[1])
    m = len(ordered)
    adjusted: dict[int, float] = {}
    running = 0.0
    for rank, (key, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[key] = running
    return adjusted


def _links(observations: list[Observation], team: Mapping[int, int | None]) -> dict[int, int]:
    """Per manager: ratings of their people by raters (not the manager) who also rate
    someone outside that manager's team."""
    rated_teams: dict[int, set[int | None]] = {}
    for o in observations:
        rated_teams.setdefault(o.rater, set()).add(team.get(o.person))
    links: dict[int, int] = {}
    for o in observations:
        manager = team.get(o.person)
        if manager is None or o.rater == manager:
            continue
        if rated_teams[o.rater] - {manager}:
            links[manager] = links.get(manager, 0) + 1
    return links


def fit(
    observations: Iterable[Observation],
    team: Mapping[int, int | None],
    *,
    min_ratings: int = MIN_RATINGS,
    min_links: int = MIN_LINKS,
    alpha: float = ALPHA,
) -> RaterModel:
    """Fit the model; report every manager named in ``team`` (person -> manager) who
    rated at least one of their people."""
    data = [o for o in observations if 1 <= o.value <= 5]
    managers = {m for m in team.values() if m is not None}
    if not data:
        return RaterModel({}, 0.0, 0.0, 0, 0)
    people = sorted({o.person for o in data})
    raters = sorted({o.rater for o in data})
    p_index = {p: i for i, p in enumerate(people)}
    r_index = {r: i for i, r in enumerate(raters)}
    n, n_people, n_raters = len(data), len(people), len(raters)
    pi = np.fromiter((p_index[o.person] for o in data), dtype=np.int64, count=n)
    ri = np.fromiter((r_index[o.rater] for o in data), dtype=np.int64, count=n)
    y = np.fromiter((o.value for o in data), dtype=np.float64, count=n)
    is_manager = np.array([r in managers for r in raters])
    role = np.fromiter((team.get(o.person) == o.rater for o in data), dtype=bool, count=n)
    state = _em(pi, ri, y, is_manager, n_people, n_raters, role)
    noise, leniency = state.noise, state.leniency
    sds = np.sqrt(noise * np.maximum(state.inv_rater, 0.0))

    links = _links(data, team)
    rated = {}
    for o in data:
        if team.get(o.person) == o.rater:
            rated[o.rater] = rated.get(o.rater, 0) + 1
    p_values: dict[int, float] = {}
    for m in managers:
        if m in r_index and rated.get(m, 0) >= min_ratings and links.get(m, 0) >= min_links:
            i = r_index[m]
            sd = float(sds[i])
            p_values[m] = float(2 * norm.sf(abs(leniency[i]) / sd)) if sd > 0 else 1.0
    adjusted = holm(p_values)
    result = {}
    for m in managers:
        if m not in r_index or not rated.get(m):
            continue
        i = r_index[m]
        estimate = float(leniency[i])
        if rated[m] < min_ratings:
            verdict = TOO_FEW
        elif links.get(m, 0) < min_links:
            verdict = UNLINKED
        elif adjusted[m] < alpha:
            verdict = LENIENT if estimate > 0 else SEVERE
        else:
            verdict = IN_LINE
        result[m] = Leniency(
            rater=m,
            estimate=estimate,
            sd=float(sds[i]),
            ratings=rated[m],
            links=links.get(m, 0),
            p_value=p_values.get(m),
            p_adjusted=adjusted.get(m),
            verdict=verdict,
        )
    return RaterModel(
        managers=result,
        noise_sd=math.sqrt(noise),
        leniency_sd=math.sqrt(state.lenient_var[True]),
        observations=n,
        tested=len(p_values),
    )


@dataclass
class _State:
    noise: float
    lenient_var: dict[bool, float]
    leniency: np.ndarray
    inv_rater: np.ndarray  # posterior variances of the leniencies / noise


def _em(
    pi: np.ndarray,
    ri: np.ndarray,
    y: np.ndarray,
    is_manager: np.ndarray,
    n_people: int,
    n_raters: int,
    role: np.ndarray,
) -> _State:
    """Variance components by EM, the estimates at convergence.

    The design: each person's ability (a diagonal block, eliminated), each rater's
    leniency, and two fixed columns, the overall mean and "the rating is the
    person's manager's" (managers as a whole may rate lower or higher than peers; a
    manager's leniency is measured against other managers, not against peers). The
    rater block is solved through its Schur complement, a sparse matrix (raters are
    coupled only through the people they rate in common) factorised by SuperLU.
    EM needs traces of its inverse: exact for small groups, else Hutchinson's
    estimator over fixed random probes (the same every run); the managers'
    posterior variances, which the verdicts rest on, are always exact."""
    n = len(y)
    rows = np.arange(n)
    people = sparse.csr_matrix((np.ones(n), (rows, pi)), shape=(n, n_people))
    fixed = np.column_stack([np.ones(n), role.astype(np.float64)])
    x_g = sparse.hstack(
        [sparse.csr_matrix((np.ones(n), (rows, ri)), shape=(n, n_raters)), fixed]
    ).tocsr()
    if role.all() or not role.any():
        x_g = x_g[:, : n_raters + 1]  # only one kind of rater: the role is the mean
    size = x_g.shape[1]
    n_fixed = size - n_raters
    person_w = np.asarray(people.sum(axis=0)).ravel()
    c = (people.T @ x_g).tocsr()
    g_base = (x_g.T @ x_g).tocsc()
    y_person = people.T @ y
    y_g = x_g.T @ y
    if size <= EXACT_TRACES:
        probes, scale = np.eye(size), 1.0
    else:
        probes = np.random.default_rng(0).choice([-1.0, 1.0], size=(size, PROBES))
        scale = 1.0 / PROBES
    noise, ability = max(float(np.var(y)) / 2, VARIANCE_FLOOR), ABILITY_VAR
    lenient_var = {True: 0.1, False: 0.1}
    for _ in range(MAX_ITERATIONS):
        prior_rater = noise / np.where(is_manager, lenient_var[True], lenient_var[False])
        d = person_w + noise / ability
        dinv_c = (sparse.diags(1 / d) @ c).tocsr()
        schur = (
            g_base + sparse.diags(np.append(prior_rater, np.zeros(n_fixed))) - c.T @ dinv_c
        ).tocsc()
        solve = _factor(schur)
        est_g = solve(y_g - c.T @ (y_person / d))
        est_p = (y_person - c @ est_g) / d
        leniency = est_g[:n_raters]
        residual = y - x_g @ est_g - est_p[pi]
        # traces of the inverse normal matrix (posterior variances / noise)
        solved = solve(probes)
        diagonal = (probes * solved).sum(axis=1) * scale
        inv_rater = diagonal[:n_raters]
        person_trace = float(np.sum(1 / d)) + scale * float(
            np.sum(solved * (dinv_c.T @ (dinv_c @ probes)))
        )
        penalty = person_trace * noise / ability + float(inv_rater @ prior_rater)
        effective = (n_people + size) - penalty  # the hat matrix's trace
        new_noise = max((float(residual @ residual) + noise * effective) / n, VARIANCE_FLOOR)
        new_lenient = dict(lenient_var)
        for flag in (True, False):
            chosen = is_manager == flag
            if chosen.any():
                new_lenient[flag] = max(
                    float(leniency[chosen] @ leniency[chosen] + noise * inv_rater[chosen].sum())
                    / int(chosen.sum()),
                    VARIANCE_FLOOR,
                )
        change = max(
            abs(new_noise - noise),
            *(abs(new_lenient[f] - lenient_var[f]) for f in (True, False)),
        )
        noise, lenient_var = new_noise, new_lenient
        if change < TOLERANCE:
            break
    # the managers' posterior variances exactly: one solve per manager
    exact = np.flatnonzero(is_manager)
    if exact.size and size > EXACT_TRACES:
        units = np.zeros((size, exact.size))
        units[exact, np.arange(exact.size)] = 1.0
        inv_rater = inv_rater.copy()
        inv_rater[exact] = solve(units)[exact, np.arange(exact.size)]
    return _State(noise, lenient_var, leniency, inv_rater)


def _factor(matrix: sparse.csc_matrix) -> Any:
    """A solver for the sparse symmetric system; a design with no information on some
    column (a singular matrix) gets a negligible ridge."""
    # symmetric positive definite: a symmetric fill-reducing order, no pivoting
    options = {"permc_spec": "MMD_AT_PLUS_A", "diag_pivot_thresh": 0.0}
    try:
        return splu(matrix, options={"SymmetricMode": True}, **options).solve
    except RuntimeError:
        ridge = sparse.identity(matrix.shape[0], format="csc") * 1e-9
        return splu((matrix + ridge).tocsc(), options={"SymmetricMode": True}, **options).solve
