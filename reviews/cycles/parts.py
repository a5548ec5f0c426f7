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

from reviews.languages import gettext, lazy_gettext
from reviews.review_templates.answers import form_value, json_value, parse_answers
from reviews.review_templates.definition import FIXED_LABELS, MAX_TEXT, Template

__all__ = ["MAX_COMMENT", "MAX_TEXT", "PartInput", "merge_json", "parse_part", "part_values"]

MAX_COMMENT = 2000
# Each choice's label as people read it (lazy: written in the reader's language).
POTENTIAL: dict[str, Any] = {
    "low": lazy_gettext("Low"),
    "medium": lazy_gettext("Medium"),
    "high": lazy_gettext("High"),
}
READINESS: dict[str, Any] = {
    "not_yet": lazy_gettext("Not yet"),
    "within_a_year": lazy_gettext("Within a year"),
    "ready_now": lazy_gettext("Ready now"),
}


@dataclass
class PartInput:
    ratings: dict[str, int] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)  # free text, by question key
    choices: dict[str, Any] = field(default_factory=dict)  # the other answers
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
    template: Template,
    form: Mapping[str, Any],
    competency_keys: list[str],
    level_keys: list[str],
    *,
    submit: bool,
) -> tuple[PartInput, dict[str, str]]:
    """Clean input for a self, peer or manager part asking `template`'s questions, and
    errors by field name.

    Drafts may be incomplete; `submit` adds what must be there.  A field name
    ``rating_X`` for a competency not in the cycle's framework is an error.
    """
    kind = template.part
    clean = PartInput()
    errors: dict[str, str] = {}
    rates = template.competencies is not None
    known = set(competency_keys)
    for name in form:
        for prefix in ("rating_", "comment_"):
            if not name.startswith(prefix):
                continue
            if name[len(prefix) :] not in known:
                errors[name] = gettext(
                    "%(key)s is not a competency of this cycle.", key=repr(name[len(prefix) :])
                )
            elif not rates and str(form.get(name) or "").strip() not in ("", "skip"):
                errors[name] = gettext("This part rates no competencies in this cycle.")
    errors.update(unknown_answers(template, form))
    for key in competency_keys if rates else []:
        raw = (form.get(f"rating_{key}") or "").strip()
        if raw and raw != "skip":
            try:
                rating = _rating(raw)
            except ValueError:
                errors[f"rating_{key}"] = gettext("Choose a rating from 1 to 5.")
            else:
                if rating is not None:
                    clean.ratings[key] = rating
        elif submit and template.ratings_needed:
            errors[f"rating_{key}"] = gettext("Rate this competency before submitting.")
        comment = (form.get(f"comment_{key}") or "").strip()
        if len(comment) > MAX_COMMENT:
            errors[f"comment_{key}"] = gettext(
                "Keep comments under %(max)d characters.", max=MAX_COMMENT
            )
        elif comment:
            clean.comments[key] = comment
    answers, problems = parse_answers(template.questions, form, submit=submit)
    errors.update(problems)
    for q in template.questions:
        if q.key in answers:
            if q.kind == "text":
                clean.answers[q.key] = answers[q.key]
            else:
                clean.choices[q.key] = answers[q.key]
    if kind == "self":
        desired = (form.get("desired_level") or "").strip()
        if desired and desired not in level_keys:
            errors["desired_level"] = gettext("Choose a level above your own from the ladder.")
        clean.desired_level = desired or None
    if kind == "manager":
        overall = (form.get("overall") or "").strip()
        if overall:
            try:
                clean.overall = _rating(overall)
            except ValueError:
                errors["overall"] = gettext("Choose an overall rating from 1 to 5.")
        elif submit:
            errors["overall"] = (
                gettext("Give an overall rating before submitting.")
                if not renamed(template, "overall")
                else gettext(
                    "Give “%(label)s” a rating before submitting.",
                    label=template.label("overall"),
                )
            )
        for name, choices, missing in (
            ("potential", POTENTIAL, lazy_gettext("Choose the potential before submitting.")),
            (
                "readiness",
                READINESS,
                lazy_gettext("Choose the promotion readiness before submitting."),
            ),
        ):
            value = (form.get(name) or "").strip()
            if value and value not in choices:
                errors[name] = gettext(
                    "Choose one of: %(choices)s.",
                    choices=", ".join(str(label) for label in choices.values()),
                )
            elif submit and not value:
                errors[name] = (
                    gettext("Choose “%(label)s” before submitting.", label=template.label(name))
                    if renamed(template, name)
                    else str(missing)
                )
            else:
                setattr(clean, name, value or None)
    return clean, errors


def renamed(template: Template, fixed: str) -> bool:
    """Whether the template gave a fixed field of the manager review a label of its own."""
    from reviews.framework.wording import say

    return template.label(fixed) != say(FIXED_LABELS[fixed])


SCALARS = ("desired_level", "overall", "potential", "readiness")


def part_values(part: Any, template: Template) -> dict[str, Any]:
    """A stored part (an Assessment) as the form's flat fields; a multiple-choice answer
    is a list of option keys, every other field text."""
    values: dict[str, Any] = {f"rating_{k}": str(v) for k, v in (part.ratings or {}).items()}
    values.update({f"comment_{k}": v for k, v in (part.comments or {}).items()})
    stored = {**(part.answers or {}), **(part.choices or {})}
    for q in template.questions:
        if q.key in stored:
            values[q.key] = form_value(q, stored[q.key])
    values["desired_level"] = part.desired_level_key or ""
    values["overall"] = str(part.overall_rating or "")
    values["potential"] = part.potential.value if part.potential else ""
    values["readiness"] = part.promotion_readiness.value if part.promotion_readiness else ""
    return values


def merge_json(
    template: Template, saved: Mapping[str, Any], body: Mapping[str, Any]
) -> dict[str, Any]:
    """The flat fields after applying a JSON body to the saved ones (JSON Merge Patch,
    RFC 7396): `ratings`, `comments` and `answers` merge key by key and `null` removes
    a key; a scalar replaces the saved value (`null` clears it); what the body leaves
    out stays as saved. Answers the part does not ask are refused by name; an answer
    keeps its JSON type (`answers.json_value`) for the one reader to judge."""
    flat: dict[str, Any] = dict(saved)
    for group, prefix in (("ratings", "rating_"), ("comments", "comment_"), ("answers", "")):
        for key, value in (body.get(group) or {}).items():
            name = f"{prefix}{key}"
            question = template.question(key) if group == "answers" else None
            if group == "answers" and question is None:
                flat[f"answer_{key}"] = ""  # not a field of this part: reported as such
                continue
            if value is None:
                flat.pop(name, None)
            elif group == "answers":
                flat[name] = json_value(question, value)
            else:
                flat[name] = str(value)
    for name in SCALARS:
        if name in body:
            flat[name] = "" if body[name] is None else str(body[name])
    return flat


def unknown_answers(template: Template, flat: Mapping[str, Any]) -> dict[str, str]:
    asked = sorted(q.key for q in template.questions)
    return {
        name: str(gettext("This part asks %(keys)s.", keys=", ".join(asked)))
        for name in flat
        if name.startswith("answer_")
    }


def json_field(name: str) -> str:
    """A form field's name as the API names it (`rating_x` is `ratings.x`)."""
    for prefix, group in (("rating_", "ratings"), ("comment_", "comments"), ("answer_", "answers")):
        if name.startswith(prefix):
            return f"{group}.{name.removeprefix(prefix)}"
    if name in SCALARS or name.startswith("evidence"):
        return name
    return f"answers.{name}"
