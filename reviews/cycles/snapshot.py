"""The framework as a cycle froze it at launch: read-only, plain data.

`FrameworkSnapshot` wraps the JSON kept on the cycle and shows its texts in the
reader's language (`reviews.framework.wording`, which reads HR's translations
once a request); `take_snapshot` builds that JSON from the live framework,
through the `ladder` it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reviews.languages import gettext


@dataclass(frozen=True)
class SnapshotCompetency:
    key: str
    name: str
    group: str
    description: str
    anchors: dict[int, str]


@dataclass(frozen=True)
class SnapshotExpectation:
    expected: int
    weight: float
    description: str


class FrameworkSnapshot:
    """A cycle's frozen framework as the reader reads it: names, descriptions, anchors and
    scale labels in the locale of the request or job at the time of each call
    (`reviews.framework.wording.say`), the keys, ranks and figures as frozen."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.keys = [c["key"] for c in data.get("competencies", [])]
        self._views: dict[str | None, _View] = {}

    def _view(self) -> _View:
        from reviews.framework.wording import reading_language, say

        language = reading_language()
        view = self._views.get(language)
        if view is None:
            view = self._views[language] = _View(self.data, say if language else str)
        return view

    @property
    def levels(self) -> list[dict[str, Any]]:
        return self._view().levels

    @property
    def groups(self) -> list[dict[str, Any]]:
        return self._view().groups

    @property
    def competencies(self) -> list[SnapshotCompetency]:
        return self._view().competencies

    @property
    def proficiency(self) -> list[dict[str, Any]]:
        return self._view().proficiency

    @property
    def performance(self) -> list[dict[str, Any]]:
        return self._view().performance

    def level_name(self, key: str | None) -> str:
        for level in self.levels:
            if level["key"] == key:
                return str(level["name"])
        return str(gettext("No level"))

    def level_keys(self) -> list[str]:
        return [str(level["key"]) for level in self.levels]

    def next_level(self, key: str | None) -> str | None:
        for level in self.levels:
            if level["key"] == key:
                nxt = level.get("next")
                return str(nxt) if nxt else None
        return None

    def rank(self, key: str | None) -> int | None:
        for level in self.levels:
            if level["key"] == key:
                return int(level["rank"])
        return None

    def track(self, key: str | None) -> str | None:
        """The career track ("ic" or "management") of a level, as frozen."""
        for level in self.levels:
            if level["key"] == key:
                return str(level["track"]) if level.get("track") else None
        return None

    def levels_above(self, key: str | None) -> list[dict[str, Any]]:
        """The levels a person at `key` may grow towards: every level ranked above theirs
        (on either track: an engineer may aim at management); all of them without a level."""
        rank = self.rank(key)
        return [lv for lv in self.levels if rank is None or int(lv["rank"]) > rank]

    def growth_level_keys(self, key: str | None) -> list[str]:
        return [str(lv["key"]) for lv in self.levels_above(key)]

    def plan_levels(self, current: str | None, target: str | None) -> set[str]:
        """The levels whose stretch opportunities suit a plan from `current` to `target`:
        both, and any level between them (never one beyond the target)."""
        low, high = self.rank(current), self.rank(target)
        if low is None or high is None:
            return {k for k in (current, target) if k}
        return {str(lv["key"]) for lv in self.levels if low <= int(lv["rank"]) <= high}

    def expectation(self, level_key: str | None, competency_key: str) -> SnapshotExpectation | None:
        found = self._view().data["expectations"].get(level_key or "", {}).get(competency_key)
        if found is None:
            return None
        return SnapshotExpectation(
            int(found["expected"]), float(found["weight"]), str(found["description"])
        )

    def grouped(self) -> list[tuple[str, list[SnapshotCompetency]]]:
        return [
            (g["name"], [c for c in self.competencies if c.group == g["key"]]) for g in self.groups
        ]


class _View:
    """The snapshot's texts in one language (`say`)."""

    def __init__(self, data: dict[str, Any], say: Callable[[str], str]) -> None:
        self.data = translated(data, say)
        self.levels: list[dict[str, Any]] = self.data.get("levels", [])
        self.groups: list[dict[str, Any]] = self.data.get("groups", [])
        self.competencies = [
            SnapshotCompetency(
                key=c["key"],
                name=c["name"],
                group=c["group"],
                description=c["description"],
                anchors={int(k): v for k, v in c["anchors"].items()},
            )
            for c in self.data.get("competencies", [])
        ]
        self.proficiency: list[dict[str, Any]] = self.data.get("proficiency", [])
        self.performance: list[dict[str, Any]] = self.data.get("performance", [])


def translated(data: dict[str, Any], say: Callable[[str], str]) -> dict[str, Any]:
    """A copy of a framework document (`take_snapshot`'s shape) with every text through
    `say`: names, descriptions, anchors, expectations and scale steps; keys and figures
    as they are."""

    def step(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "label": say(item["label"]), "description": say(item["description"])}

    return {
        **data,
        "levels": [{**lv, "name": say(lv["name"])} for lv in data.get("levels", [])],
        "groups": [{**gr, "name": say(gr["name"])} for gr in data.get("groups", [])],
        "competencies": [
            {
                **c,
                "name": say(c["name"]),
                "description": say(c["description"]),
                "anchors": {k: say(v) for k, v in c["anchors"].items()},
            }
            for c in data.get("competencies", [])
        ],
        "expectations": {
            level: {key: {**e, "description": say(e["description"])} for key, e in found.items()}
            for level, found in data.get("expectations", {}).items()
        },
        "proficiency": [step(item) for item in data.get("proficiency", [])],
        "performance": [step(item) for item in data.get("performance", [])],
    }


def take_snapshot(ladder: Any, proficiency: list[Any], performance: list[Any]) -> dict[str, Any]:
    """Plain JSON of the live framework (`framework.queries.ladder()` and the scales)."""
    levels_by_id = {lv.id: lv for lv in ladder.levels}
    competencies = ladder.competencies()
    return {
        "levels": [
            {
                "key": lv.key,
                "name": lv.name,
                "rank": lv.rank,
                "track": lv.track.value,
                "next": levels_by_id[lv.next_level_id].key if lv.next_level_id else None,
            }
            for lv in ladder.levels
        ],
        "groups": [{"key": g.key, "name": g.name} for g in ladder.groups],
        "competencies": [
            {
                "key": c.key,
                "name": c.name,
                "group": g.key,
                "description": c.description,
                "anchors": {str(a.value): a.text for a in c.anchors},
            }
            for g in ladder.groups
            for c in g.competencies
        ],
        "expectations": {
            lv.key: {
                c.key: {"expected": e.expected, "weight": e.weight, "description": e.description}
                for c in competencies
                if (e := ladder.expectations.get((lv.id, c.id))) is not None
            }
            for lv in ladder.levels
        },
        "proficiency": [
            {"value": s.value, "label": s.label, "description": s.description} for s in proficiency
        ],
        "performance": [
            {"value": s.value, "label": s.label, "description": s.description} for s in performance
        ],
    }
