"""The framework document (the shipped default is ``default_framework.json``).

Pure: validates a decoded JSON document into typed records, or lists every
problem found.  Loading it into the database is ``operations.load_framework``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

TRACKS = ("ic", "management")
SCALE_VALUES = (1, 2, 3, 4, 5)


class FrameworkError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ScaleStepDoc:
    value: int
    label: str
    description: str


@dataclass(frozen=True)
class LevelDoc:
    key: str
    name: str
    track: str
    rank: int
    next: str | None
    description: str


@dataclass(frozen=True)
class GroupDoc:
    key: str
    name: str
    description: str


@dataclass(frozen=True)
class CompetencyDoc:
    key: str
    group: str
    name: str
    description: str
    anchors: dict[int, str]


@dataclass(frozen=True)
class ExpectationDoc:
    level: str
    competency: str
    expected: int
    weight: float
    description: str


@dataclass(frozen=True)
class OpportunityDoc:
    key: str
    title: str
    description: str
    competencies: tuple[str, ...]
    levels: tuple[str, ...]
    duration_weeks: int
    source: str
    track: str | None = None  # "ic", "management", or None for anyone


@dataclass(frozen=True)
class FrameworkDoc:
    name: str
    proficiency_scale: tuple[ScaleStepDoc, ...]
    performance_scale: tuple[ScaleStepDoc, ...]
    levels: tuple[LevelDoc, ...]
    groups: tuple[GroupDoc, ...]
    competencies: tuple[CompetencyDoc, ...]
    expectations: tuple[ExpectationDoc, ...]
    opportunities: tuple[OpportunityDoc, ...]


class _Reader:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(self, item: dict[str, Any], key: str, where: str, *, optional: bool = False) -> str:
        value = item.get(key)
        if value is None and optional:
            return ""
        if not isinstance(value, str) or (not optional and not value.strip()):
            self.problems.append(f"{where}: {key} must be a non-empty string")
            return ""
        return value.strip()

    def integer(self, item: dict[str, Any], key: str, where: str, lo: int, hi: int) -> int:
        value = item.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            self.problems.append(f"{where}: {key} must be a whole number from {lo} to {hi}")
            return lo
        return value

    def items(self, doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
        value = doc.get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problems.append(f"{key} must be a list of objects")
            return []
        return value


def _scale(r: _Reader, doc: dict[str, Any], key: str) -> tuple[ScaleStepDoc, ...]:
    steps = tuple(
        ScaleStepDoc(
            r.integer(s, "value", f"{key}[{i}]", 1, 5),
            r.text(s, "label", f"{key}[{i}]"),
            r.text(s, "description", f"{key}[{i}]", optional=True),
        )
        for i, s in enumerate(r.items(doc, key))
    )
    if sorted(s.value for s in steps) != list(SCALE_VALUES):
        r.problems.append(f"{key} must have exactly the steps 1 to 5")
    return steps


def parse_framework(doc: Any) -> FrameworkDoc:
    if not isinstance(doc, dict):
        raise FrameworkError(["the framework document must be a JSON object"])
    r = _Reader()
    name = r.text(doc, "name", "framework")
    proficiency = _scale(r, doc, "proficiency_scale")
    performance = _scale(r, doc, "performance_scale")

    levels = tuple(
        LevelDoc(
            key=r.text(lv, "key", f"levels[{i}]"),
            name=r.text(lv, "name", f"levels[{i}]"),
            track=r.text(lv, "track", f"levels[{i}]"),
            rank=r.integer(lv, "rank", f"levels[{i}]", 1, 100),
            next=lv.get("next") if isinstance(lv.get("next"), str) else None,
            description=r.text(lv, "description", f"levels[{i}]", optional=True),
        )
        for i, lv in enumerate(r.items(doc, "levels"))
    )
    level_keys = {lv.key for lv in levels}
    _unique(r, "levels", [lv.key for lv in levels], "key")
    _unique(r, "levels", [lv.name for lv in levels], "name")
    _unique(r, "levels", [str(lv.rank) for lv in levels], "rank")
    for lv in levels:
        if lv.track not in TRACKS:
            r.problems.append(f"level {lv.key}: track must be one of {', '.join(TRACKS)}")
        if lv.next is not None and lv.next not in level_keys:
            r.problems.append(f"level {lv.key}: next level {lv.next!r} is not a level")
    rank = {lv.key: lv.rank for lv in levels}
    for lv in levels:
        if lv.next in rank and rank[lv.next] <= lv.rank:
            r.problems.append(f"level {lv.key}: next level must rank above it")

    groups = tuple(
        GroupDoc(
            r.text(g, "key", f"groups[{i}]"),
            r.text(g, "name", f"groups[{i}]"),
            r.text(g, "description", f"groups[{i}]", optional=True),
        )
        for i, g in enumerate(r.items(doc, "groups"))
    )
    group_keys = {g.key for g in groups}
    _unique(r, "groups", [g.key for g in groups], "key")

    competencies = []
    for i, c in enumerate(r.items(doc, "competencies")):
        where = f"competencies[{i}]"
        raw_anchors = c.get("anchors")
        anchors: dict[int, str] = {}
        if isinstance(raw_anchors, dict):
            for k, v in raw_anchors.items():
                if str(k).isdigit() and int(k) in SCALE_VALUES and isinstance(v, str) and v.strip():
                    anchors[int(k)] = v.strip()
        if sorted(anchors) != list(SCALE_VALUES):
            r.problems.append(f"{where}: anchors must describe each step 1 to 5")
        comp = CompetencyDoc(
            key=r.text(c, "key", where),
            group=r.text(c, "group", where),
            name=r.text(c, "name", where),
            description=r.text(c, "description", where, optional=True),
            anchors=anchors,
        )
        if comp.group not in group_keys:
            r.problems.append(f"competency {comp.key}: group {comp.group!r} is not a group")
        competencies.append(comp)
    competency_keys = {c.key for c in competencies}
    _unique(r, "competencies", [c.key for c in competencies], "key")
    _unique(r, "competencies", [c.name for c in competencies], "name")

    expectations = []
    for i, e in enumerate(r.items(doc, "expectations")):
        where = f"expectations[{i}]"
        weight = e.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 10:
            r.problems.append(f"{where}: weight must be a number from 0 to 10")
            weight = 1.0
        exp = ExpectationDoc(
            level=r.text(e, "level", where),
            competency=r.text(e, "competency", where),
            expected=r.integer(e, "expected", where, 1, 5),
            weight=float(weight),
            description=r.text(e, "description", where, optional=True),
        )
        if exp.level not in level_keys:
            r.problems.append(f"{where}: level {exp.level!r} is not a level")
        if exp.competency not in competency_keys:
            r.problems.append(f"{where}: competency {exp.competency!r} is not a competency")
        expectations.append(exp)
    seen = {(e.level, e.competency) for e in expectations}
    if len(seen) != len(expectations):
        r.problems.append("expectations: a (level, competency) pair is listed twice")
    for lv in levels:
        for comp in competencies:
            if (lv.key, comp.key) not in seen:
                r.problems.append(
                    f"expectations: none for level {lv.key} and competency {comp.key}"
                )

    opportunities = []
    for i, o in enumerate(r.items(doc, "opportunities")):
        where = f"opportunities[{i}]"
        comps = tuple(o.get("competencies") or ())
        lvls = tuple(o.get("levels") or ())
        opp = OpportunityDoc(
            key=r.text(o, "key", where),
            title=r.text(o, "title", where),
            description=r.text(o, "description", where, optional=True),
            competencies=comps,
            levels=lvls,
            duration_weeks=r.integer(o, "duration_weeks", where, 1, 52),
            source=r.text(o, "source", where, optional=True),
            track=o.get("track") if isinstance(o.get("track"), str) else None,
        )
        if o.get("track") is not None and o.get("track") not in TRACKS:
            r.problems.append(f"opportunity {opp.key}: track must be one of {', '.join(TRACKS)}")
        if not comps or any(c not in competency_keys for c in comps):
            r.problems.append(f"opportunity {opp.key}: competencies must name known competencies")
        if not lvls or any(lv not in level_keys for lv in lvls):
            r.problems.append(f"opportunity {opp.key}: levels must name known levels")
        opportunities.append(opp)
    _unique(r, "opportunities", [o.key for o in opportunities], "key")

    if r.problems:
        raise FrameworkError(r.problems)
    return FrameworkDoc(
        name=name,
        proficiency_scale=proficiency,
        performance_scale=performance,
        levels=tuple(sorted(levels, key=lambda lv: lv.rank)),
        groups=groups,
        competencies=tuple(competencies),
        expectations=tuple(expectations),
        opportunities=tuple(opportunities),
    )


def _unique(r: _Reader, where: str, values: list[str], what: str) -> None:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        r.problems.append(f"{where}: {what} used twice: {', '.join(duplicates)}")


def load_default() -> FrameworkDoc:
    text = (
        resources.files("reviews.framework").joinpath("default_framework.json").read_text("utf-8")
    )
    return parse_framework(json.loads(text))
