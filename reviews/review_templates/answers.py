"""The answers to a template's questions: read, written back, and who reads them.

Pure. `parse_answers` is the one reader of a part's answers, for the form, its
autosave and the API alike; `readable_answers` is the one rule of who reads each
answer.

An answer is stored as JSON by question key: text and single choice as a string,
a scale step as an integer (or ``"cant_judge"``), multiple choice as a list of
option keys, yes/no as a boolean.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reviews.languages import gettext, lazy_gettext
from reviews.review_templates.definition import (
    AUDIENCES,
    CANT_JUDGE,
    COMPETENCIES,
    Question,
    Template,
)

# What an answer of each kind is in the API's JSON, for its error message.
SHAPES = {
    "text": lazy_gettext("text"),
    "scale": lazy_gettext("a step number"),
    "choice": lazy_gettext("an option key"),
    "choices": lazy_gettext("a list of option keys"),
    "yes_no": lazy_gettext("true or false"),
    "competencies": lazy_gettext("ratings"),
}
NOT_AN_ANSWER = "\x00not-an-answer"


def _values(form: Mapping[str, Any], key: str) -> list[str]:
    """Every value a form or JSON-made mapping holds for `key`, as text."""
    if hasattr(form, "getlist"):
        raw: Any = form.getlist(key)
    else:
        raw = form.get(key)
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        raw = [raw]
    return [str(v).strip() for v in raw if str(v).strip()]


def parse_answers(
    questions: Iterable[Question], form: Mapping[str, Any], *, submit: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers to `questions` in `form`, stored-shape, and errors by question key.

    A form sends every answer as text (yes/no as ``yes``/``no``, multiple choice as
    the key repeated); `form_values` turns stored answers back into that shape, and
    the API's JSON is flattened to it, so there is one reader for every surface."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for q in questions:
        if q.kind == COMPETENCIES:
            continue  # rated field by field (cycles.parts.parse_part)
        values = _values(form, q.key)
        if not values:
            if submit and q.required:
                errors[q.key] = gettext(
                    "%(question)s is needed before submitting.", question=q.label
                )
            continue
        if NOT_AN_ANSWER in values:
            errors[q.key] = gettext("Answer with %(shape)s.", shape=str(SHAPES[q.kind]))
            continue
        if q.kind != "choices" and len(values) > 1:
            errors[q.key] = gettext("Give one answer.")
            continue
        value = values[0]
        if q.kind == "text":
            if len(value) > q.max_length:
                errors[q.key] = gettext("Keep this under %(max)d characters.", max=q.max_length)
            else:
                answers[q.key] = value
        elif q.kind == "yes_no":
            if value.lower() in ("yes", "true"):
                answers[q.key] = True
            elif value.lower() in ("no", "false"):
                answers[q.key] = False
            else:
                errors[q.key] = gettext("Answer yes or no.")
        elif q.kind == "scale":
            steps = [o.key for o in q.options]
            if value in steps:
                answers[q.key] = int(value)
            elif value == CANT_JUDGE and q.cant_judge:
                answers[q.key] = CANT_JUDGE
            else:
                errors[q.key] = (
                    gettext("Choose a step from 1 to %(steps)d or can't judge.", steps=len(steps))
                    if q.cant_judge
                    else gettext("Choose a step from 1 to %(steps)d.", steps=len(steps))
                )
        elif q.kind == "choice":
            if value in {o.key for o in q.options}:
                answers[q.key] = value
            else:
                errors[q.key] = gettext(
                    "Choose one of: %(choices)s.", choices=", ".join(o.label for o in q.options)
                )
        else:  # choices
            known = {o.key for o in q.options}
            if unknown := [v for v in values if v not in known]:
                errors[q.key] = gettext(
                    "%(values)s is not an option; choose from: %(choices)s.",
                    values=", ".join(map(repr, unknown)),
                    choices=", ".join(o.label for o in q.options),
                )
            else:
                answers[q.key] = [o.key for o in q.options if o.key in values]
    return answers, errors


def form_value(question: Question, value: Any) -> str | list[str]:
    """A stored answer as the form's field value (what `parse_answers` reads back)."""
    if value is None:
        return ""
    if question.kind == "yes_no" and isinstance(value, bool):
        return "yes" if value else "no"
    if question.kind == "choices":
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return str(value)


def json_value(question: Question | None, value: Any) -> str | list[str]:
    """An answer the API received as JSON, flattened to the form's shape. A value of the
    wrong JSON type for its question (`SHAPES`) becomes one `parse_answers` refuses by
    name: text is a string, a scale step a number (or "cant_judge"), a choice a string,
    multiple choice a list of strings, yes/no a boolean."""
    kind = question.kind if question is not None else "text"
    if kind == "yes_no":
        return ("yes" if value else "no") if isinstance(value, bool) else NOT_AN_ANSWER
    if kind == "choices":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        return NOT_AN_ANSWER
    if kind == "scale":
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value if value == CANT_JUDGE else NOT_AN_ANSWER
    return value if isinstance(value, str) else NOT_AN_ANSWER


def audiences_for(*, author: bool, line: bool, hr: bool) -> frozenset[str]:
    """Which answers a reader sees: the author all of theirs; the manager line and HR
    the `line` ones; HR alone the `hr` ones; everyone who reads the part the rest."""
    if author:
        return frozenset(AUDIENCES)
    seen = {"part"}
    if line or hr:
        seen.add("line")
    if hr:
        seen.add("hr")
    return frozenset(seen)


def readable_answers(
    template: Template, answers: Mapping[str, Any], audiences: frozenset[str]
) -> dict[str, Any]:
    """The answers a reader with `audiences` may read, in the template's order. An
    answer to no question of the template (none is written that way) is not shown."""
    return {
        q.key: answers[q.key]
        for q in template.questions
        if q.key in answers and q.audience in audiences
    }
