"""A review template: the questions one part of a review asks.

Pure. `parse_template` validates a decoded JSON document (an import, an edit, a
stored definition) into a typed `Template`, or raises `TemplateError` listing every
problem at once; `answers` reads and shows what people answer to it; `builtin`
holds the questions Reviews has always asked (`DEFAULTS`).

Languages: the names of parts, kinds and audiences are only shown, so they are lazy
(written in the reader's language). The built-in questions and the fixed fields'
default labels are data: a new template copies them, every manager template keeps the
labels, and a launching cycle freezes the questions it asks (`queries.freeze`), so
they stay English here and are only marked (`N_`) for the catalog. A template's
problems (`TemplateError.details`) are in the reader's language, and say where they
are in numbers too (the editor puts each beside its row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from reviews.languages import gettext, lazy_gettext

PARTS = ("self", "peer", "manager", "upward")
# The parts of a review itself (upward feedback is about a manager, beside it).
REVIEW_PARTS = ("self", "peer", "manager")
PART_NAMES = {
    "self": lazy_gettext("Self-review"),
    "peer": lazy_gettext("Peer feedback"),
    "manager": lazy_gettext("Manager review"),
    "upward": lazy_gettext("Upward feedback"),
}
# Parts that rate competencies only where the author can judge them: their block is
# never required. Upward feedback rates the manager's management competencies.
OPTIONAL_RATINGS = ("peer", "upward")
KINDS = {
    "text": lazy_gettext("Free text"),
    "scale": lazy_gettext("Rating on a scale"),
    "choice": lazy_gettext("Single choice"),
    "choices": lazy_gettext("Multiple choice"),
    "yes_no": lazy_gettext("Yes or no"),
    "competencies": lazy_gettext("Competency ratings (the framework's scale and anchors)"),
}
# The competency block: where the part rates the cycle's competencies, if it does. Its
# key is always this one; the manager review must have it (calibration, the 9-box and
# growth plans read its ratings); a peer, and a report in upward feedback, rate
# competencies only optionally.
COMPETENCIES = "competencies"
# Who reads an answer besides its author, widest first.
AUDIENCES = {
    "part": lazy_gettext("Everyone who reads this part"),
    "line": lazy_gettext("The manager line and HR only"),
    "hr": lazy_gettext("HR only (a private note)"),
}
CANT_JUDGE = "cant_judge"
MAX_TEXT = 5000
MAX_QUESTIONS = 40
MAX_OPTIONS = 12
KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")  # matched whole (fullmatch)
# Names the part forms already use for other fields, and the prefixes of theirs.
RESERVED = frozenset(
    {
        "version",
        "action",
        "csrf_token",
        "desired_level",
        "overall",
        "potential",
        "readiness",
        "form",
        COMPETENCIES,
    }
)
RESERVED_PREFIXES = ("rating_", "comment_", "evidence", "answer_")


def N_(text: str) -> str:
    """Marks built-in text for the catalog (the extractor knows the name `N_`) and keeps
    it as it is: it is data, copied into templates and frozen into cycles in English."""
    return text


# The manager part's fixed fields (calibration, the 9-box and plans read them):
# a template may rename them, not drop them. English: every manager template keeps
# its labels, these by default.
FIXED_LABELS = {
    "overall": N_("Overall performance"),
    "potential": N_("Potential"),
    "readiness": N_("Promotion readiness"),
}


@dataclass(frozen=True)
class Problem:
    """One problem of a template document: `text` says where and what, `said` only what
    (both in the reader's language); `section` and `question` (from 1) place it, and
    `about` names what a problem of the whole template concerns: "name", "keys" (the
    duplicated `keys`) or "ratings" (the competency block)."""

    text: str
    said: str
    section: int | None = None
    question: int | None = None
    about: str = ""
    keys: tuple[str, ...] = ()


class TemplateError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.details = problems
        self.problems = [p.text for p in problems]
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True)
class Option:
    key: str
    label: str


@dataclass(frozen=True)
class Question:
    key: str
    kind: str
    label: str
    help: str = ""
    required: bool = True
    audience: str = "part"
    max_length: int = MAX_TEXT  # text
    options: tuple[Option, ...] = ()  # choice, choices; a scale's steps, keyed "1".."n"
    cant_judge: bool = False  # scale

    def option_label(self, key: Any) -> str:
        if self.kind == "yes_no":
            return {True: gettext("Yes"), False: gettext("No")}.get(key, "")
        if key == CANT_JUDGE and self.kind == "scale":
            return gettext("Can't judge")
        return next((o.label for o in self.options if o.key == str(key)), str(key))

    def label_of(self, text: str) -> str:
        """One answer in the form's text (a tally's key) as people read it."""
        if self.kind == "yes_no":
            return gettext("Yes") if text == "yes" else gettext("No")
        if self.kind == "scale" and text != CANT_JUDGE:
            return f"{text} · {self.option_label(text)}"
        return self.option_label(text)

    def as_text(self, value: Any) -> str:
        """An answer as one line of text (exports, the read-only views)."""
        if value is None or value == "" or value == []:
            return ""
        if self.kind == "choices":
            return "; ".join(self.option_label(v) for v in value)
        if self.kind == "scale" and value != CANT_JUDGE:
            return f"{value} · {self.option_label(value)}"
        if self.kind in ("choice", "yes_no", "scale"):
            return self.option_label(value)
        return str(value)

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "key": self.key,
            "kind": self.kind,
            "label": self.label,
            "help": self.help,
            "required": self.required,
            "audience": self.audience,
        }
        if self.kind == "text":
            doc["max_length"] = self.max_length
        if self.kind in ("choice", "choices"):
            doc["options"] = [{"key": o.key, "label": o.label} for o in self.options]
        if self.kind == "scale":
            doc["steps"] = [o.label for o in self.options]
            doc["cant_judge"] = self.cant_judge
        return doc


@dataclass(frozen=True)
class Section:
    title: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Template:
    name: str
    part: str
    sections: tuple[Section, ...]
    labels: dict[str, str] = field(default_factory=dict)  # the manager's fixed fields

    @property
    def questions(self) -> list[Question]:
        """The questions answered in words or choices (not the competency block)."""
        return [q for s in self.sections for q in s.questions if q.kind != COMPETENCIES]

    @property
    def competencies(self) -> Question | None:
        """The competency block, if the part rates competencies."""
        return next((q for s in self.sections for q in s.questions if q.kind == COMPETENCIES), None)

    @property
    def ratings_needed(self) -> bool:
        """Whether a submitted part must rate every competency."""
        block = self.competencies
        return block is not None and block.required and self.part not in OPTIONAL_RATINGS

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    def anchors(self) -> list[tuple[str, str]]:
        """Each section's anchor on the form (`answer_inputs`) and its title; a section of
        only the competency block has none (its groups are the form's headings)."""
        return [
            (f"section-{n}", s.title)
            for n, s in enumerate(self.sections, 1)
            if any(q.kind != COMPETENCIES for q in s.questions)
        ]

    def label(self, fixed: str) -> str:
        return self.labels.get(fixed) or FIXED_LABELS[fixed]

    def texts(self) -> list[str]:
        """Every text a reader sees (the translations page lists them), in order."""
        out = [self.name]
        for s in self.sections:
            out.append(s.title)
            for q in s.questions:
                out += [q.label, q.help, *(o.label for o in q.options)]
        out += [self.labels[k] for k in FIXED_LABELS if k in self.labels]
        return [t for t in out if t]

    def translated(self, say: Callable[[str], str]) -> Template:
        """The same questions, keys and rules with every text through `say`
        (reviews.framework.wording); answers are stored by key, so nothing else moves."""
        return Template(
            name=say(self.name),
            part=self.part,
            sections=tuple(
                Section(
                    say(s.title),
                    tuple(
                        replace(
                            q,
                            label=say(q.label),
                            help=say(q.help),
                            options=tuple(Option(o.key, say(o.label)) for o in q.options),
                        )
                        for q in s.questions
                    ),
                )
                for s in self.sections
            ),
            labels={k: say(v) for k, v in self.labels.items()},
        )

    def as_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "part": self.part,
            "sections": [
                {"title": s.title, "questions": [q.as_json() for q in s.questions]}
                for s in self.sections
            ],
        }
        if self.part == "manager":
            doc["labels"] = {k: self.label(k) for k in FIXED_LABELS}
        return doc


# Parsing a template document ---------------------------------------------------------


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
