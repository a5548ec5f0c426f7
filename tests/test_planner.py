"""The growth planner on hand-built ladders: pure, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta

import pytest

from reviews.growth.planner import (
    CompetencyTarget,
    Gap,
    Opportunity,
    Plan,
    checkins_between,
    plan_growth,
)

START = date(2026, 3, 2)

NAMES = {"code": "Coding", "talk": "Talking", "lead": "Leading", "ship": "Shipping"}
WEIGHTS = {"code": 1.0, "talk": 1.0, "lead": 0.5, "ship": 0.5}
# A three-step ladder: expectations per level.
LADDER: dict[str, dict[str, int]] = {
    "junior": {"code": 2, "talk": 1, "lead": 1, "ship": 1},
    "mid": {"code": 3, "talk": 2, "lead": 2, "ship": 2},
    "senior": {"code": 4, "talk": 3, "lead": 3, "ship": 3},
}
NEXT = {"junior": "mid", "mid": "senior", "senior": None}


def targets(level: str) -> list[CompetencyTarget]:
    return [
        CompetencyTarget(key, NAMES[key], expected, WEIGHTS[key])
        for key, expected in LADDER[level].items()
    ]


def opp(
    key: str,
    competencies: Sequence[str],
    levels: Sequence[str] = ("mid", "senior"),
    weeks: int = 4,
    title: str | None = None,
) -> Opportunity:
    return Opportunity(
        key, title or key.replace("-", " ").title(), f"About {key}.", tuple(competencies),
        tuple(levels), weeks,
    )  # fmt: skip


def plan(
    ratings: Mapping[str, int],
    level: str = "mid",
    catalogue: Sequence[Opportunity] = (),
    *,
    target: str | None = "next",
    goals: Sequence[CompetencyTarget] | None = None,
) -> Plan:
    target_level = NEXT[level] if target == "next" else target
    return plan_growth(
        ratings=ratings,
        current_level=level,
        target_level=target_level,
        targets=goals if goals is not None else targets(target_level or level),
        catalogue=catalogue,
        start=START,
    )


def keys(gaps: Sequence[Gap]) -> list[str]:
    return [g.key for g in gaps]


# Focus ------------------------------------------------------------------------


def test_the_largest_gap_leads():
    # Against senior: code 4 (gap 3), lead 3 (gap 2), talk 3 (gap 1), ship 3 (met).
    result = plan({"code": 1, "talk": 2, "lead": 1, "ship": 3})
    assert result.mode == "grow"
    assert result.target_level == "senior"
    assert keys(result.focus) == ["code", "lead", "talk"]
    assert [g.gap for g in result.focus] == [3, 2, 1]
    # The only note: the (empty) catalogue's; neither "already met" nor "top of the ladder".
    assert len(result.notes) == 1
    assert "catalogue has no stretch opportunity" in result.notes[0]


def test_focus_holds_at_most_three_competencies():
    result = plan({"code": 1, "talk": 1, "lead": 1, "ship": 1})
    assert len(result.focus) == 3
    assert keys(result.focus) == ["code", "talk", "lead"]  # gap 3, 2 (weight 1), 2 (weight 0.5)


def test_equal_gaps_are_broken_by_weight_then_by_name():
    goals = [
        CompetencyTarget("b", "Bravo", 4, 0.5),
        CompetencyTarget("z", "Zulu", 4, 1.0),
        CompetencyTarget("a", "Alpha", 4, 0.5),
        CompetencyTarget("y", "Yankee", 4, 2.0),
    ]
    result = plan({"a": 2, "b": 2, "z": 2, "y": 2}, goals=goals)
    # All gaps are 2: the heaviest first, then alphabetical among the equally heavy.
    assert keys(result.focus) == ["y", "z", "a"]


def test_one_gap_is_padded_to_two_with_the_most_room_to_grow():
    # Against senior only code falls short; of the met ones, talk (rating 3, weight 1)
    # has more weighted room than lead (4, 0.5) and ship (5: no room at all).
    result = plan({"code": 3, "talk": 3, "lead": 4, "ship": 5})
    assert keys(result.focus) == ["code", "talk"]
    assert result.focus[0].gap == 1
    assert result.focus[1].gap == 0
    assert not any("already met" in n or "top of the ladder" in n for n in result.notes)


def test_padding_prefers_the_weighted_room_then_the_name():
    goals = [
        CompetencyTarget("short", "Short", 5, 1.0),
        CompetencyTarget("b", "Beta", 2, 1.0),
        CompetencyTarget("a", "Alpha", 2, 1.0),
        CompetencyTarget("heavy", "Heavy", 2, 3.0),
    ]
    # Room: heavy (5-4)*3 = 3, a and b (5-3)*1 = 2 each (Alpha before Beta).
    result = plan({"short": 4, "b": 3, "a": 3, "heavy": 4}, goals=goals)
    assert keys(result.focus) == ["short", "heavy"]
    result = plan({"short": 4, "b": 3, "a": 3, "heavy": 5}, goals=goals)
    assert keys(result.focus) == ["short", "a"]


def test_strengths_are_at_or_above_the_target_expectation():
    # Against senior: code 4 == 4 (met), talk 5 > 3 (met), lead 2 < 3, ship unrated.
    result = plan({"code": 4, "talk": 5, "lead": 2})
    assert keys(result.strengths) == ["talk", "code"]  # the highest rating first
    assert all(g.met for g in result.strengths)
    assert keys(result.focus)[0] == "lead"
    assert "lead" not in keys(result.strengths)


def test_unrated_competencies_count_as_no_gap():
    result = plan({"code": 1})  # talk, lead, ship unrated
    by_key = {g.key: g for g in result.gaps}
    assert keys(result.gaps) == ["code", "talk", "lead", "ship"]  # every expectation is listed
    for key in ("talk", "lead", "ship"):
        assert by_key[key].rating is None
        assert by_key[key].gap == 0
        assert not by_key[key].met
    assert keys(result.strengths) == []
    # Only the rated gap is a focus; unrated ones are neither padding nor strengths.
    assert keys(result.focus) == ["code"]


def test_nothing_rated_gives_no_focus_and_no_crash():
    result = plan({}, catalogue=[opp("x", ["code"])])
    assert result.focus == []
    assert result.items == []
    assert result.strengths == []


def test_gap_properties():
    assert Gap("k", "K", 2, 4, 1.0).gap == 2
    assert Gap("k", "K", 5, 4, 1.0).gap == 0
    assert Gap("k", "K", 4, 4, 1.0).met
    assert not Gap("k", "K", 3, 4, 1.0).met
    assert Gap("k", "K", None, 4, 1.0).gap == 0
    assert not Gap("k", "K", None, 4, 1.0).met


def test_all_expectations_met_gives_the_already_met_note():
    result = plan({"code": 4, "talk": 3, "lead": 4, "ship": 5})
    assert result.mode == "grow"
    assert result.target_level == "senior"
    assert "already met" in result.notes[0]
    assert "catalogue has no stretch opportunity" in result.notes[1]  # empty catalogue here
    # The plan deepens where there is the most weighted room: talk (2*1), code (1*1), lead (1*0.5).
    assert keys(result.focus) == ["talk", "code", "lead"]
    assert keys(result.strengths) == ["ship", "code", "lead", "talk"]


# The top of the ladder ----------------------------------------------------------


def test_a_person_at_the_top_gets_a_broaden_plan():
    catalogue = [opp("wide", ["talk"], levels=("senior",))]
    result = plan({"code": 5, "talk": 3, "lead": 4, "ship": 3}, level="senior", catalogue=catalogue)
    assert result.mode == "broaden"
    assert result.target_level == "senior"  # the current level, not None
    assert len(result.notes) == 1
    assert "top of the ladder" in result.notes[0]
    # Everything is met against senior: the lowest weighted ratings lead, up to three.
    assert keys(result.focus) == ["talk", "ship", "lead"]
    assert [i.opportunity_key for i in result.items] == ["wide"]


def test_a_person_rated_five_everywhere_at_the_top_gets_no_focus_and_no_crash():
    catalogue = [opp("wide", ["talk", "code"], levels=("senior",))]
    result = plan({"code": 5, "talk": 5, "lead": 5, "ship": 5}, level="senior", catalogue=catalogue)
    assert result.mode == "broaden"
    assert result.focus == []
    assert result.items == []
    assert keys(result.strengths) == ["code", "lead", "ship", "talk"]  # all 5: by name
    assert len(result.notes) == 1
    assert "top of the ladder" in result.notes[0]


def test_at_the_top_the_lowest_ratings_lead_even_below_the_expectation():
    # At the top, rated below the top level's own expectation in code (2 against 4): the
    # docstring says "the lowest ratings, weighted, lead": (5-2)*1 for code is the most
    # room, so code must be a focus, first; not dropped for the ones already met.
    result = plan({"code": 2, "talk": 3, "lead": 3, "ship": 4}, level="senior")
    assert result.mode == "broaden"
    assert "top of the ladder" in result.notes[0]
    assert keys(result.focus) == ["code", "talk", "lead"]


# Opportunities ------------------------------------------------------------------


def test_an_empty_catalogue_gives_focus_areas_and_a_clear_note():
    result = plan({"code": 1, "talk": 2, "lead": 3, "ship": 3})
    assert keys(result.focus) == ["code", "talk"]
    assert result.items == []
    assert len(result.notes) == 1
    assert "catalogue has no stretch opportunity" in result.notes[0]
    assert "add it to the plan" in result.notes[0]


def test_a_catalogue_without_matches_gives_the_same_note():
    catalogue = [opp("other-comp", ["ship"]), opp("other-level", ["code"], levels=("junior",))]
    result = plan({"code": 1, "talk": 2, "lead": 3, "ship": 3}, catalogue=catalogue)
    assert result.items == []
    assert any("catalogue has no stretch opportunity" in n for n in result.notes)


def test_opportunities_only_for_focus_competencies_at_the_current_or_target_level():
    catalogue = [
        opp("for-ship", ["ship"]),  # ship is not a focus
        opp("junior-code", ["code"], levels=("junior",)),  # neither mid nor senior
        opp("mid-code", ["code"], levels=("mid",)),  # the current level
        opp("senior-talk", ["talk"], levels=("senior",)),  # the target level
    ]
    result = plan({"code": 2, "talk": 2, "lead": 3, "ship": 3}, catalogue=catalogue)
    assert keys(result.focus) == ["code", "talk"]
    assert [i.opportunity_key for i in result.items] == ["mid-code", "senior-talk"]
    focus = set(keys(result.focus))
    for item in result.items:
        assert focus & set(item.competencies)
    assert result.notes == []


def test_no_opportunity_repeats_across_focus_competencies():
    catalogue = [opp("both", ["code", "talk"]), opp("code-only", ["code"], weeks=1)]
    result = plan({"code": 1, "talk": 1, "lead": 3, "ship": 3}, catalogue=catalogue)
    assert keys(result.focus) == ["code", "talk"]
    got = [i.opportunity_key for i in result.items]
    assert got == ["both", "code-only"]  # "both" grows two focus areas: it comes first
    assert len(got) == len(set(got))


def test_at_most_two_opportunities_per_focus_competency():
    catalogue = [
        opp("c-long", ["code"], weeks=8, title="Alpha"),
        opp("c-short", ["code"], weeks=2, title="Zulu"),
        opp("c-mid", ["code"], weeks=4, title="Mike"),
        opp("c-mid-b", ["code"], weeks=4, title="Bravo"),
        opp("c-both", ["code", "talk"], weeks=12, title="Yankee"),
        opp("t-one", ["talk"], weeks=3),
    ]
    result = plan({"code": 1, "talk": 2, "lead": 3, "ship": 3}, catalogue=catalogue)
    assert keys(result.focus) == ["code", "talk"]
    # For code: the one also growing talk first, then the shortest; talk keeps one of its own.
    assert [i.opportunity_key for i in result.items] == ["c-both", "c-short", "t-one"]


def test_ties_among_opportunities_go_by_duration_then_title():
    catalogue = [
        opp("z", ["code"], weeks=4, title="Zebra"),
        opp("a", ["code"], weeks=4, title="Aardvark"),
        opp("long", ["code"], weeks=10, title="Aaa"),
    ]
    result = plan({"code": 1, "talk": 3, "lead": 4, "ship": 5}, catalogue=catalogue)
    assert [i.opportunity_key for i in result.items][:2] == ["a", "z"]


def test_items_are_staggered_two_weeks_apart_with_their_own_end_and_checkins():
    catalogue = [
        opp("one", ["code"], weeks=3),
        opp("two", ["code"], weeks=8),
        opp("three", ["talk"], weeks=10),
    ]
    result = plan({"code": 1, "talk": 2, "lead": 3, "ship": 3}, catalogue=catalogue)
    assert [i.opportunity_key for i in result.items] == ["one", "two", "three"]
    weeks = {"one": 3, "two": 8, "three": 10}
    for n, item in enumerate(result.items):
        assert item.start == START + timedelta(weeks=2 * n)
        assert item.end == item.start + timedelta(weeks=weeks[item.opportunity_key])
        assert item.checkins == checkins_between(item.start, item.end)
        assert item.checkins[-1] == item.end
    first, second, third = result.items
    assert first.checkins == (first.end,)
    assert second.checkins == (second.start + timedelta(weeks=4), second.end)
    assert third.checkins == (
        third.start + timedelta(weeks=4),
        third.start + timedelta(weeks=8),
        third.end,
    )
    assert first.title == "One"
    assert first.description == "About one."
    assert first.competencies == ("code",)


# Check-ins ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weeks", "expected_weeks"),
    [
        (0, [0]),  # a same-day item: just the end
        (1, [1]),
        (3, [3]),  # shorter than the interval: only the end
        (4, [4]),  # the interval falls on the end: no duplicate
        (5, [4, 5]),
        (8, [4, 8]),  # exactly two intervals
        (9, [4, 8, 9]),
        (12, [4, 8, 12]),
    ],
)
def test_checkins_every_four_weeks_and_one_at_the_end(weeks, expected_weeks):
    end = START + timedelta(weeks=weeks)
    got = checkins_between(START, end)
    assert got == tuple(START + timedelta(weeks=w) for w in expected_weeks)
    assert list(got) == sorted(set(got))


def test_checkins_by_days_and_other_intervals():
    assert checkins_between(START, START + timedelta(days=10)) == (START + timedelta(days=10),)
    assert checkins_between(START, START + timedelta(weeks=6), every_weeks=2) == (
        START + timedelta(weeks=2),
        START + timedelta(weeks=4),
        START + timedelta(weeks=6),
    )
