"""What a person may write in each part of a review, checked field by field.

Pure: the one parser of a part, for the page form, its autosave and the API.
It reads the part as the form's flat fields (`rating_<key>`, `comment_<key>`,
the answers by name, `desired_level`, `overall`, `potential`, `readiness`);
the API's JSON becomes those fields through `merge_json`, over what is saved:
a body changes only what it mentions (maps key by key, `null` removes), so a
PUT of ratings keeps the comments, and a submit that sends only the version
submits the saved draft. Errors are keyed by form field; `json_field` names
them as the API does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 5000
MAX_COMMENT = 2000

# Free-text answers per part: (field name, label, required on submit)
ANSWERS: dict[str, list[tuple[str, str, bool]]] = {
    "self": [
        ("accomplishments", "Accomplishments this period", True),
        ("growth", "What you want to grow next", True),
    ],
    "peer": [
        ("strengths", "Strengths", True),
        ("growth_areas", "Growth areas", True),
        ("suggestion", "One concrete suggestion", True),
    ],
    "manager": [
        ("summary", "Summary", True),
        ("strengths", "Strengths", True),
        ("growth_areas", "Growth areas", True),
    ],
}
POTENTIAL = {"low": "Low", "medium": "Medium", "high": "High"}
READINESS = {"not_yet": "Not yet", "within_a_year": "Within a year", "ready_now": "Ready now"}


@dataclass
class PartInput:
    ratings: dict[str, int] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    desired_level: str | None = None
    overall: int | None = None
    potential: str | None = None
    readiness: str | None = None
    # competency key -> citations (reviews.evidence); None leaves the saved ones alone
    evidence: dict[str, list[dict[str, object]]] | None = None


def _rating(value: str) -> int | None:
    value = value.strip()
    if value in {"1", "2", "3", "4", "5"}:
        return int(value)
    raise ValueError


def parse_part(
    kind: str,
    form: Mapping[str, str],
    competency_keys: list[str],
    level_keys: list[str],
    *,
    submit: bool,
) -> tuple[PartInput, dict[str, str]]:
    """Clean input for a self, peer or manager part, and errors by field name.

    Drafts may be incomplete; `submit` adds what must be there.  A field name
    ``rating_X`` for a competency not in the cycle's framework is an error.
    """
    if kind not in ANSWERS:
        raise ValueError(f"unknown part kind {kind!r}")
    clean = PartInput()
    errors: dict[str, str] = {}
    known = set(competency_keys)
    for name in form:
        for prefix in ("rating_", "comment_"):
            if name.startswith(prefix) and name[len(prefix) :] not in known:
                errors[name] = f"{name[len(prefix) :]!r} is not a competency of this cycle."
    errors.update(unknown_answers(kind, form))
    for key in competency_keys:
        raw = (form.get(f"rating_{key}") or "").strip()
        if raw and raw != "skip":
            try:
                rating = _rating(raw)
            except ValueError:
                errors[f"rating_{key}"] = "Choose a rating from 1 to 5."
            else:
                if rating is not None:
                    clean.ratings[key] = rating
        elif submit and kind != "peer":
            errors[f"rating_{key}"] = "Rate this competency before submitting."
        comment = (form.get(f"comment_{key}") or "").strip()
        if len(comment) > MAX_COMMENT:
            errors[f"comment_{key}"] = f"Keep comments under {MAX_COMMENT} characters."
        elif comment:
            clean.comments[key] = comment
    for name, label, required in ANSWERS[kind]:
        text = (form.get(name) or "").strip()
        if len(text) > MAX_TEXT:
            errors[name] = f"Keep this under {MAX_TEXT} characters."
        elif submit and required and not text:
            errors[name] = f"{label} is needed before submitting."
        elif text:
            clean.answers[name] = text
    if kind == "self":
        desired = (form.get("desired_level") or "").strip()
        if desired and desired not in level_keys:
            errors["desired_level"] = "Choose a level above your own from the ladder."
        clean.desired_level = desired or None
    if kind == "manager":
        overall = (form.get("overall") or "").strip()
        if overall:
            try:
                clean.overall = _rating(overall)
            except ValueError:
                errors["overall"] = "Choose an overall rating from 1 to 5."
        elif submit:
            errors["overall"] = "Give an overall rating before submitting."
        for name, choices, label in (
            ("potential", POTENTIAL, "potential"),
            ("readiness", READINESS, "promotion readiness"),
        ):
            value = (form.get(name) or "").strip()
            if value and value not in choices:
                errors[name] = f"Choose one of: {', '.join(choices.values())}."
            elif submit and not value:
                errors[name] = f"Choose the {label} before submitting."
            else:
                setattr(clean, name, value or None)
    return clean, errors


SCALARS = ("desired_level", "overall", "potential", "readiness")


def part_values(part: Any) -> dict[str, str]:
    """A stored part (an Assessment) as the form's flat fields."""
    values = {f"rating_{k}": str(v) for k, v in (part.ratings or {}).items()}
    values.update({f"comment_{k}": v for k, v in (part.comments or {}).items()})
    values.update(part.answers or {})
    values["desired_level"] = part.desired_level_key or ""
    values["overall"] = str(part.overall_rating or "")
    values["potential"] = part.potential.value if part.potential else ""
    values["readiness"] = part.promotion_readiness.value if part.promotion_readiness else ""
    return values


def merge_json(kind: str, saved: Mapping[str, str], body: Mapping[str, Any]) -> dict[str, str]:
    """The flat fields after applying a JSON body to the saved ones (JSON Merge Patch,
    RFC 7396): `ratings`, `comments` and `answers` merge key by key and `null` removes
    a key; a scalar replaces the saved value (`null` clears it); what the body leaves
    out stays as saved. Answers the part does not ask are refused by name."""
    flat = dict(saved)
    for group, prefix in (("ratings", "rating_"), ("comments", "comment_"), ("answers", "")):
        for key, value in (body.get(group) or {}).items():
            name = f"{prefix}{key}"
            if group == "answers" and key not in {n for n, _l, _r in ANSWERS[kind]}:
                name = f"answer_{key}"  # not a field of this part: reported as such
            if value is None:
                flat.pop(name, None)
            else:
                flat[name] = str(value)
    for name in SCALARS:
        if name in body:
            flat[name] = "" if body[name] is None else str(body[name])
    return flat


def unknown_answers(kind: str, flat: Mapping[str, str]) -> dict[str, str]:
    asked = sorted(n for n, _l, _r in ANSWERS[kind])
    return {
        name: f"This part asks {', '.join(asked)}." for name in flat if name.startswith("answer_")
    }


def json_field(name: str) -> str:
    """A form field's name as the API names it (`rating_x` is `ratings.x`)."""
    for prefix, group in (("rating_", "ratings"), ("comment_", "comments"), ("answer_", "answers")):
        if name.startswith(prefix):
            return f"{group}.{name.removeprefix(prefix)}"
    if name in SCALARS or name.startswith("evidence"):
        return name
    return f"answers.{name}"
