"""A calibrator's change of a person's final values, as the calibration page and
`POST /api/v1/calibration/{session}/reviews/{review}` send it: one parser for both.

Form: `overall`, `potential` (empty: unchanged), `rating_<key>` (empty:
unchanged), `rationale`, `version`. JSON: `overall`, `potential`,
`ratings` {key: 1..5}, `rationale`, `version`. Every problem is named at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reviews.cycles.parts import POTENTIAL
from reviews.inputs import Fields
from reviews.languages import gettext

MAX_RATIONALE = 2000


@dataclass(frozen=True)
class FinalChange:
    overall: int | None
    potential: str | None
    ratings: dict[str, int]


def rationale_problem(rationale: str) -> str | None:
    """Why a rationale cannot be kept in the ledger, or None (also checked by the operation)."""
    if not rationale.strip():
        return str(gettext("Say why: every calibration change needs a rationale."))
    if len(rationale.strip()) > MAX_RATIONALE:
        return str(gettext("Keep the rationale to %(max)d characters or fewer.", max=MAX_RATIONALE))
    return None


def _ratings(data: Fields, keys: list[str]) -> dict[str, int]:
    ratings: dict[str, int] = {}
    if data.form:
        for name in data.data:
            key = name.removeprefix("rating_")
            if name.startswith("rating_") and key not in keys:
                data.error(
                    name, gettext("%(key)s is not a competency of this cycle.", key=repr(key))
                )
        for key in keys:
            value = data.integer(
                f"rating_{key}", 1, 5, invalid=gettext("Choose a rating from 1 to 5.")
            )
            if value is not None:
                ratings[key] = value
        return ratings
    raw = data.raw("ratings") or {}
    if not isinstance(raw, dict):
        data.error("ratings", gettext("Give ratings as an object of competency keys to 1..5."))
        return {}
    for key, value in raw.items():
        name = f"ratings.{key}"
        if key not in keys:
            data.error(name, gettext("%(key)s is not a competency of this cycle.", key=repr(key)))
        elif isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            data.error(name, gettext("Choose a rating from 1 to 5."))
        else:
            ratings[key] = value
    return ratings


def parse_change(
    data: Fields, keys: list[str], *, suggestion: int | None = None
) -> tuple[FinalChange, str]:
    """The change and its rationale; `suggestion` is taken as the overall rating when the
    page's "adopt the suggestion" button was used."""
    overall = data.integer("overall", 1, 5, invalid=gettext("Choose a final rating from 1 to 5."))
    if data.form and data.raw("action") == "adopt" and suggestion is not None:
        overall = suggestion
    potential = data.choice(
        "potential", list(POTENTIAL), invalid=gettext("Choose low, medium or high.")
    )
    ratings = _ratings(data, keys)
    rationale = data.text("rationale", max_length=MAX_RATIONALE * 2)
    if problem := rationale_problem(rationale):
        data.error("rationale", problem)
    data.check()
    return FinalChange(overall, potential, ratings), rationale


def parse_version(data: Fields) -> int | None:
    raw: Any = data.raw("version")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.isdigit() and len(raw) < 10:
        return int(raw)
    return None
