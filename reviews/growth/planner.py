"""Growth plans: final ratings against the target level -> gaps -> focus -> stretch work.

Pure: the ladder, the ratings and the catalogue are passed in as plain data. The
notes are in the current locale (`gettext`; the caller chooses it with `force_locale`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from reviews.languages import gettext

FOCUS_MAX = 3
FOCUS_MIN = 2
PER_FOCUS = 2  # opportunities proposed per focus competency at most
CHECKIN_WEEKS = 4


@dataclass(frozen=True)
class CompetencyTarget:
    key: str
    name: str
    expected: int  # at the target level
    weight: float


@dataclass(frozen=True)
class Opportunity:
    key: str
    title: str
    description: str
    competencies: tuple[str, ...]
    levels: tuple[str, ...]
    duration_weeks: int
    track: str | None = None  # "ic" or "management": proposed only on that track


@dataclass(frozen=True)
class Gap:
    key: str
    name: str
    rating: int | None
    expected: int
    weight: float

    @property
    def gap(self) -> int:
        """How far the rating falls short of the expectation (0 when met or unrated)."""
        return max(0, self.expected - self.rating) if self.rating is not None else 0

    @property
    def met(self) -> bool:
        return self.rating is not None and self.rating >= self.expected


@dataclass(frozen=True)
class PlannedItem:
    opportunity_key: str | None
    title: str
    description: str
    competencies: tuple[str, ...]
    start: date
    end: date
    checkins: tuple[date, ...]


@dataclass
class Plan:
    mode: str  # "grow": towards the target level; "broaden": at the top of the ladder
    target_level: str
    gaps: list[Gap]
    strengths: list[Gap]
    focus: list[Gap]
    items: list[PlannedItem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def checkins_between(start: date, end: date, every_weeks: int = CHECKIN_WEEKS) -> tuple[date, ...]:
    """Check-in dates every few weeks after the start, and one at the end."""
    dates = []
    day = start + timedelta(weeks=every_weeks)
    while day < end:
        dates.append(day)
        day += timedelta(weeks=every_weeks)
    dates.append(end)
    return tuple(dates)


def plan_growth(
    *,
    ratings: Mapping[str, int],
    current_level: str,
    target_level: str | None,
    targets: Sequence[CompetencyTarget],
    catalogue: Sequence[Opportunity],
    start: date,
    catalogue_levels: Collection[str] | None = None,
    target_track: str | None = None,
) -> Plan:
    """Propose a plan.

    Opportunities are drawn from the catalogue for `catalogue_levels` (the snapshot's
    `plan_levels`: the current level, the target and those between), by default the
    current and target levels; an opportunity meant for one track (a trial of people
    leadership) only when the target level is on that track (`target_track`).

    `targets` are the target level's expectations (the current level's when
    `target_level` is None: the top of the ladder, where the plan broadens
    instead of climbing).  Focus: the largest gaps first, ties broken by the
    heavier weight, then by name; at the top of the ladder (or with no gap at
    all) the lowest ratings, weighted, lead instead.
    """
    mode = "grow" if target_level else "broaden"
    gaps = [Gap(t.key, t.name, ratings.get(t.key), t.expected, t.weight) for t in targets]
    strengths = sorted((g for g in gaps if g.met), key=lambda g: (-(g.rating or 0), g.name))
    short = sorted((g for g in gaps if g.gap > 0), key=lambda g: (-g.gap, -g.weight, g.name))
    # Room to grow beyond the expectation: the lower the rating (and the heavier), the sooner.
    room = sorted(
        (g for g in gaps if g.rating is not None and g.gap == 0),
        key=lambda g: (-(5 - (g.rating or 0)) * g.weight, g.name),
    )
    notes: list[str] = []
    if mode == "grow" and short:
        focus = short[:FOCUS_MAX]
        if len(focus) < FOCUS_MIN:
            focus += [g for g in room if g.rating is not None and g.rating < 5][
                : FOCUS_MIN - len(focus)
            ]
    elif not any(g.rating is not None for g in gaps):
        notes.append(
            gettext(
                "No final competency ratings are recorded; agree the focus areas with your manager."
            )
        )
        focus = []
    else:
        notes.append(
            gettext(
                "At the top of the ladder the plan broadens impact: it deepens the "
                "competencies with the most room to grow."
            )
            if mode == "broaden"
            else gettext(
                "Every expectation of the target level is already met; the plan deepens the "
                "competencies with the most room to grow."
            )
        )
        # Every rated competency below 5, the most room to grow (weighted) first.
        rated = [g for g in gaps if g.rating is not None and g.rating < 5]
        focus = sorted(rated, key=lambda g: (-(5 - (g.rating or 0)) * g.weight, g.name))[:FOCUS_MAX]
    level_for_catalogue = (
        set(catalogue_levels)
        if catalogue_levels is not None
        else {current_level} | ({target_level} if target_level else set())
    )
    used: set[str] = set()
    items: list[PlannedItem] = []
    cursor = start
    for competency in focus:
        matches = [
            o
            for o in catalogue
            if competency.key in o.competencies
            and o.key not in used
            and level_for_catalogue & set(o.levels)
            and (o.track is None or o.track == target_track)
        ]
        matches.sort(
            key=lambda o: (
                -len(set(o.competencies) & {f.key for f in focus}),
                o.duration_weeks,
                o.title,
            )
        )
        for opportunity in matches[:PER_FOCUS]:
            used.add(opportunity.key)
            end = cursor + timedelta(weeks=opportunity.duration_weeks)
            items.append(
                PlannedItem(
                    opportunity.key,
                    opportunity.title,
                    opportunity.description,
                    opportunity.competencies,
                    cursor,
                    end,
                    checkins_between(cursor, end),
                )
            )
            # Stagger starts so that not everything begins in the same week.
            cursor += timedelta(weeks=2)
    if focus and not items:
        notes.append(
            gettext(
                "The catalogue has no stretch opportunity for these focus competencies "
                "yet; agree one with your manager and add it to the plan."
            )
        )
    return Plan(mode, target_level or current_level, gaps, strengths, focus, items, notes)
