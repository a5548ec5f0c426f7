"""Reading a template document: `parse_template` validates a decoded JSON document (an
import, an edit, a stored definition) into a typed `Template`
(reviews/review_templates/definition.py), or raises `TemplateError` listing every
problem at once, each in the reader's language and placed by section and question
(the editor puts each beside its row).

Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from reviews.languages import gettext
from reviews.review_templates.definition import (
    AUDIENCES,
    COMPETENCIES,
    FIXED_LABELS,
    KEY,
    KINDS,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_TEXT,
    OPTIONAL_RATINGS,
    PARTS,
    RESERVED,
    RESERVED_PREFIXES,
    Option,
    Problem,
    Question,
    Section,
    Template,
    TemplateError,
)


@dataclass(frozen=True)
class Place:
    """Where in a document a problem is: the template (no section), a section, one of its
    questions, or an option or a step of a question; `labels` for the fixed fields'."""

    section: int | None = None
    question: int | None = None
    option: int | None = None
    step: int | None = None
    labels: bool = False

    def __str__(self) -> str:
        s, q = self.section, self.question
        if s is None:
            return gettext("Template labels") if self.labels else gettext("Template")
        if q is None:
            return gettext("Section %(section)d", section=s)
        if self.option is not None:
            return gettext(
                "Section %(section)d, question %(question)d, option %(option)d",
                section=s,
                question=q,
                option=self.option,
            )
        if self.step is not None:
            return gettext(
                "Section %(section)d, question %(question)d, step %(step)d",
                section=s,
                question=q,
                step=self.step,
            )
        return gettext("Section %(section)d, question %(question)d", section=s, question=q)


TEMPLATE = Place()


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, place: Place, said: str, *, about: str = "", keys: tuple[str, ...] = ()) -> None:
        """A problem at `place`; `said` is what is wrong, in the reader's language."""
        text = gettext("%(place)s: %(problem)s", place=str(place), problem=said)
        self.problems.append(Problem(text, said, place.section, place.question, about, keys))

    def text(
        self, item: Mapping[str, Any], key: str, where: Place, limit: int, *, needed: bool
    ) -> str:
        value = item.get(key, "")
        if value is None:
            value = ""
        about = "name" if where == TEMPLATE and key == "name" else ""
        if not isinstance(value, str):
            self.add(where, gettext("%(field)s must be text.", field=key), about=about)
            return ""
        value = value.strip()
        if needed and not value:
            self.add(where, gettext("%(field)s is needed.", field=key), about=about)
        elif len(value) > limit:
            self.add(
                where,
                gettext("%(field)s must be at most %(max)d characters.", field=key, max=limit),
                about=about,
            )
        return value

    def flag(self, item: Mapping[str, Any], key: str, where: Place, default: bool) -> bool:
        value = item.get(key, default)
        if not isinstance(value, bool):
            self.add(where, gettext("%(field)s must be true or false.", field=key))
            return default
        return value

    def key(self, value: Any, where: Place, what: str) -> str:
        if not isinstance(value, str) or not KEY.fullmatch(value):
            self.add(
                where,
                gettext(
                    "%(field)s must be lower-case letters, digits and _ , starting with a "
                    "letter, at most 40 characters.",
                    field=what,
                ),
            )
            return ""
        return value


def _options(r: _Reader, item: Mapping[str, Any], where: Place) -> tuple[Option, ...]:
    raw = item.get("options")
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        r.add(
            where,
            gettext("options must be a list of 2 to %(max)d choices.", max=MAX_OPTIONS),
        )
        return ()
    options = []
    for n, option in enumerate(raw, 1):
        at = replace(where, option=n)
        if not isinstance(option, dict):
            r.add(at, gettext("must be an object with key and label."))
            continue
        options.append(
            Option(
                r.key(option.get("key"), at, "key"),
                r.text(option, "label", at, 120, needed=True),
            )
        )
    keys = [o.key for o in options if o.key]
    if len(set(keys)) != len(keys):
        r.add(where, gettext("option keys must differ."))
    return tuple(options)


def _steps(r: _Reader, item: Mapping[str, Any], where: Place) -> tuple[Option, ...]:
    raw = item.get("steps")
    if not isinstance(raw, list) or not 2 <= len(raw) <= 10:
        r.add(where, gettext("steps must be a list of 2 to 10 labels, lowest first."))
        return ()
    steps = []
    for n, label in enumerate(raw, 1):
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > 60:
            r.add(replace(where, step=n), gettext("a label of 1 to 60 characters is needed."))
        else:
            steps.append(Option(str(n), label.strip()))
    return tuple(steps)


def _question(r: _Reader, item: Any, where: Place) -> Question | None:
    if not isinstance(item, dict):
        r.add(where, gettext("must be an object."))
        return None
    kind = item.get("kind")
    if not isinstance(kind, str):
        kind = repr(kind)
    if kind == COMPETENCIES:
        item = {"key": COMPETENCIES, **item}
    key = r.key(item.get("key"), where, "key")
    if kind == COMPETENCIES and key != COMPETENCIES:
        r.add(
            where,
            gettext("the competency block's key is %(key)s.", key=repr(COMPETENCIES)),
        )
    elif key and kind != COMPETENCIES and (key in RESERVED or key.startswith(RESERVED_PREFIXES)):
        r.add(where, gettext("key %(key)s is a name the form already uses.", key=repr(key)))
    if kind not in KINDS:
        r.add(where, gettext("kind must be one of %(kinds)s.", kinds=", ".join(KINDS)))
        return None
    audience = item.get("audience", "part")
    if not isinstance(audience, str) or audience not in AUDIENCES:
        r.add(
            where,
            gettext("audience must be one of %(audiences)s.", audiences=", ".join(AUDIENCES)),
        )
    question = Question(
        key=key,
        kind=kind,
        label=r.text(item, "label", where, 200, needed=True),
        help=r.text(item, "help", where, 500, needed=False),
        required=r.flag(item, "required", where, True),
        audience=audience if isinstance(audience, str) and audience in AUDIENCES else "part",
    )
    if kind == COMPETENCIES and question.audience != "part":
        r.add(where, gettext("every reader of the part reads its competency ratings."))
    if kind == "text":
        limit = item.get("max_length", MAX_TEXT)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_TEXT:
            r.add(
                where,
                gettext("max_length must be a whole number from 1 to %(max)d.", max=MAX_TEXT),
            )
            limit = MAX_TEXT
        return replace(question, max_length=limit)
    if kind in ("choice", "choices"):
        return replace(question, options=_options(r, item, where))
    if kind == "scale":
        return replace(
            question,
            options=_steps(r, item, where),
            cant_judge=r.flag(item, "cant_judge", where, False),
        )
    return question


def parse_template(doc: Any, *, part: str | None = None) -> Template:
    """A template document as a `Template`; every problem at once as `TemplateError`.

    `part`, when given, is the part the template must be for (an edit cannot move a
    template from one part to another)."""
    if not isinstance(doc, dict):
        said = gettext("The template must be a JSON object.")
        raise TemplateError([Problem(said, said)])
    r = _Reader()
    name = r.text(doc, "name", TEMPLATE, 120, needed=True)
    kind = doc.get("part")
    if not isinstance(kind, str) or kind not in PARTS:
        r.add(TEMPLATE, gettext("part must be one of %(parts)s.", parts=", ".join(PARTS)))
    elif part is not None and kind != part:
        r.add(TEMPLATE, gettext("part must stay %(part)s.", part=repr(part)))
    raw_sections = doc.get("sections")
    sections: list[Section] = []
    if not isinstance(raw_sections, list) or not raw_sections:
        r.add(TEMPLATE, gettext("sections must be a list with at least one section."))
        raw_sections = []
    for s, raw in enumerate(raw_sections, 1):
        where = Place(section=s)
        if not isinstance(raw, dict):
            r.add(where, gettext("must be an object with title and questions."))
            continue
        title = r.text(raw, "title", where, 120, needed=True)
        items = raw.get("questions")
        if not isinstance(items, list) or not items:
            r.add(where, gettext("questions must be a list with at least one question."))
            items = []
        questions = [
            _question(r, item, replace(where, question=n)) for n, item in enumerate(items, 1)
        ]
        sections.append(Section(title, tuple(q for q in questions if q is not None)))
    keys = [q.key for s in sections for q in s.questions if q.key]
    blocks = [q for s in sections for q in s.questions if q.kind == COMPETENCIES]
    if kind == "manager" and (not blocks or not all(q.required for q in blocks)):
        r.add(
            TEMPLATE,
            gettext(
                "the manager review rates the competencies (calibration, the 9-box and "
                "growth plans read them): keep the competency block, needed to submit."
            ),
            about="ratings",
        )
    if kind in OPTIONAL_RATINGS and any(q.required for q in blocks):
        r.add(
            TEMPLATE,
            gettext("peers rate competencies only if they can: not required.")
            if kind == "peer"
            else gettext("reports rate competencies only if they can: not required."),
            about="ratings",
        )
    if duplicated := sorted({k for k in keys if keys.count(k) > 1}):
        r.add(
            TEMPLATE,
            gettext("question keys must differ (%(keys)s).", keys=", ".join(duplicated)),
            about="keys",
            keys=tuple(duplicated),
        )
    if len(keys) > MAX_QUESTIONS:
        r.add(TEMPLATE, gettext("at most %(max)d questions.", max=MAX_QUESTIONS))
    labels: dict[str, str] = {}
    raw_labels = doc.get("labels") or {}
    if not isinstance(raw_labels, dict) or (raw_labels and kind != "manager"):
        r.add(TEMPLATE, gettext("labels name the manager part's fixed fields only."))
    else:
        for name_ in raw_labels:
            if name_ not in FIXED_LABELS:
                r.add(
                    TEMPLATE,
                    gettext(
                        "labels: %(name)s is not one of overall, potential, readiness.",
                        name=repr(name_),
                    ),
                )
        labels = {
            k: r.text(raw_labels, k, Place(labels=True), 60, needed=True)
            for k in FIXED_LABELS
            if k in raw_labels
        }
    if r.problems:
        raise TemplateError(r.problems)
    if kind == "manager":
        labels = {k: labels.get(k) or default for k, default in FIXED_LABELS.items()}
    return Template(name=name, part=kind, sections=tuple(sections), labels=labels)
