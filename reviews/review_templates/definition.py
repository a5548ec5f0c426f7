"""A review template: the questions one part of a review asks.

Pure. `parse_template` validates a decoded JSON document (an import, an edit, a
stored definition) into a typed `Template`, or raises `TemplateError` listing every
problem at once; `answers` reads and shows what people answer to it. `DEFAULTS`
are the questions Reviews has always asked, kept exactly (keys, labels, required),
so every part written before templates reads as it did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

PARTS = ("self", "peer", "manager", "upward")
# The parts of a review itself (upward feedback is about a manager, beside it).
REVIEW_PARTS = ("self", "peer", "manager")
PART_NAMES = {
    "self": "Self-review",
    "peer": "Peer feedback",
    "manager": "Manager review",
    "upward": "Upward feedback",
}
# Parts that rate competencies only where the author can judge them: their block is
# never required. Upward feedback rates the manager's management competencies.
OPTIONAL_RATINGS = ("peer", "upward")
KINDS = {
    "text": "Free text",
    "scale": "Rating on a scale",
    "choice": "Single choice",
    "choices": "Multiple choice",
    "yes_no": "Yes or no",
    "competencies": "Competency ratings (the framework's scale and anchors)",
}
# The competency block: where the part rates the cycle's competencies, if it does. Its
# key is always this one; the manager review must have it (calibration, the 9-box and
# growth plans read its ratings); a peer, and a report in upward feedback, rate
# competencies only optionally.
COMPETENCIES = "competencies"
# Who reads an answer besides its author, widest first.
AUDIENCES = {
    "part": "Everyone who reads this part",
    "line": "The manager line and HR only",
    "hr": "HR only (a private note)",
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
# The manager part's fixed fields (calibration, the 9-box and plans read them):
# a template may rename them, not drop them.
FIXED_LABELS = {
    "overall": "Overall performance",
    "potential": "Potential",
    "readiness": "Promotion readiness",
}


class TemplateError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


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
            return {True: "Yes", False: "No"}.get(key, "")
        if key == CANT_JUDGE and self.kind == "scale":
            return "Can't judge"
        return next((o.label for o in self.options if o.key == str(key)), str(key))

    def label_of(self, text: str) -> str:
        """One answer in the form's text (a tally's key) as people read it."""
        if self.kind == "yes_no":
            return "Yes" if text == "yes" else "No"
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


class _Reader:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def text(
        self, item: Mapping[str, Any], key: str, where: str, limit: int, *, needed: bool
    ) -> str:
        value = item.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.problems.append(f"{where}: {key} must be text.")
            return ""
        value = value.strip()
        if needed and not value:
            self.problems.append(f"{where}: {key} is needed.")
        elif len(value) > limit:
            self.problems.append(f"{where}: {key} must be at most {limit} characters.")
        return value

    def flag(self, item: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
        value = item.get(key, default)
        if not isinstance(value, bool):
            self.problems.append(f"{where}: {key} must be true or false.")
            return default
        return value

    def key(self, value: Any, where: str, what: str) -> str:
        if not isinstance(value, str) or not KEY.fullmatch(value):
            self.problems.append(
                f"{where}: {what} must be lower-case letters, digits and _ , starting with a "
                "letter, at most 40 characters."
            )
            return ""
        return value


def _options(r: _Reader, item: Mapping[str, Any], where: str) -> tuple[Option, ...]:
    raw = item.get("options")
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_OPTIONS:
        r.problems.append(f"{where}: options must be a list of 2 to {MAX_OPTIONS} choices.")
        return ()
    options = []
    for n, option in enumerate(raw, 1):
        at = f"{where}, option {n}"
        if not isinstance(option, dict):
            r.problems.append(f"{at}: must be an object with key and label.")
            continue
        options.append(
            Option(
                r.key(option.get("key"), at, "key"),
                r.text(option, "label", at, 120, needed=True),
            )
        )
    keys = [o.key for o in options if o.key]
    if len(set(keys)) != len(keys):
        r.problems.append(f"{where}: option keys must differ.")
    return tuple(options)


def _steps(r: _Reader, item: Mapping[str, Any], where: str) -> tuple[Option, ...]:
    raw = item.get("steps")
    if not isinstance(raw, list) or not 2 <= len(raw) <= 10:
        r.problems.append(f"{where}: steps must be a list of 2 to 10 labels, lowest first.")
        return ()
    steps = []
    for n, label in enumerate(raw, 1):
        if not isinstance(label, str) or not label.strip() or len(label.strip()) > 60:
            r.problems.append(f"{where}, step {n}: a label of 1 to 60 characters is needed.")
        else:
            steps.append(Option(str(n), label.strip()))
    return tuple(steps)


def _question(r: _Reader, item: Any, where: str) -> Question | None:
    if not isinstance(item, dict):
        r.problems.append(f"{where}: must be an object.")
        return None
    kind = item.get("kind")
    if not isinstance(kind, str):
        kind = repr(kind)
    if kind == COMPETENCIES:
        item = {"key": COMPETENCIES, **item}
    key = r.key(item.get("key"), where, "key")
    if kind == COMPETENCIES and key != COMPETENCIES:
        r.problems.append(f"{where}: the competency block's key is {COMPETENCIES!r}.")
    elif key and kind != COMPETENCIES and (key in RESERVED or key.startswith(RESERVED_PREFIXES)):
        r.problems.append(f"{where}: key {key!r} is a name the form already uses.")
    if kind not in KINDS:
        r.problems.append(f"{where}: kind must be one of {', '.join(KINDS)}.")
        return None
    audience = item.get("audience", "part")
    if not isinstance(audience, str) or audience not in AUDIENCES:
        r.problems.append(f"{where}: audience must be one of {', '.join(AUDIENCES)}.")
    question = Question(
        key=key,
        kind=kind,
        label=r.text(item, "label", where, 200, needed=True),
        help=r.text(item, "help", where, 500, needed=False),
        required=r.flag(item, "required", where, True),
        audience=audience if isinstance(audience, str) and audience in AUDIENCES else "part",
    )
    if kind == COMPETENCIES and question.audience != "part":
        r.problems.append(f"{where}: every reader of the part reads its competency ratings.")
    if kind == "text":
        limit = item.get("max_length", MAX_TEXT)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_TEXT:
            r.problems.append(f"{where}: max_length must be a whole number from 1 to {MAX_TEXT}.")
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
        raise TemplateError(["The template must be a JSON object."])
    r = _Reader()
    name = r.text(doc, "name", "Template", 120, needed=True)
    kind = doc.get("part")
    if not isinstance(kind, str) or kind not in PARTS:
        r.problems.append(f"Template: part must be one of {', '.join(PARTS)}.")
    elif part is not None and kind != part:
        r.problems.append(f"Template: part must stay {part!r}.")
    raw_sections = doc.get("sections")
    sections: list[Section] = []
    if not isinstance(raw_sections, list) or not raw_sections:
        r.problems.append("Template: sections must be a list with at least one section.")
        raw_sections = []
    for s, raw in enumerate(raw_sections, 1):
        where = f"Section {s}"
        if not isinstance(raw, dict):
            r.problems.append(f"{where}: must be an object with title and questions.")
            continue
        title = r.text(raw, "title", where, 120, needed=True)
        items = raw.get("questions")
        if not isinstance(items, list) or not items:
            r.problems.append(f"{where}: questions must be a list with at least one question.")
            items = []
        questions = [
            _question(r, item, f"{where}, question {n}") for n, item in enumerate(items, 1)
        ]
        sections.append(Section(title, tuple(q for q in questions if q is not None)))
    keys = [q.key for s in sections for q in s.questions if q.key]
    blocks = [q for s in sections for q in s.questions if q.kind == COMPETENCIES]
    if kind == "manager" and (not blocks or not all(q.required for q in blocks)):
        r.problems.append(
            "Template: the manager review rates the competencies (calibration, the 9-box and "
            "growth plans read them): keep the competency block, needed to submit."
        )
    if kind in OPTIONAL_RATINGS and any(q.required for q in blocks):
        who = "peers" if kind == "peer" else "reports"
        r.problems.append(f"Template: {who} rate competencies only if they can: not required.")
    if duplicated := sorted({k for k in keys if keys.count(k) > 1}):
        r.problems.append(f"Template: question keys must differ ({', '.join(duplicated)}).")
    if len(keys) > MAX_QUESTIONS:
        r.problems.append(f"Template: at most {MAX_QUESTIONS} questions.")
    labels: dict[str, str] = {}
    raw_labels = doc.get("labels") or {}
    if not isinstance(raw_labels, dict) or (raw_labels and kind != "manager"):
        r.problems.append("Template: labels name the manager part's fixed fields only.")
    else:
        for name_ in raw_labels:
            if name_ not in FIXED_LABELS:
                r.problems.append(
                    f"Template: labels: {name_!r} is not one of overall, potential, readiness."
                )
        labels = {
            k: r.text(raw_labels, k, "Template labels", 60, needed=True)
            for k in FIXED_LABELS
            if k in raw_labels
        }
    if r.problems:
        raise TemplateError(r.problems)
    if kind == "manager":
        labels = {k: labels.get(k) or default for k, default in FIXED_LABELS.items()}
    return Template(name=name, part=kind, sections=tuple(sections), labels=labels)


# The questions Reviews has always asked ------------------------------------------


def _text(key: str, label: str) -> dict[str, Any]:
    return {"key": key, "kind": "text", "label": label, "required": True}


def _ratings(required: bool = True, label: str = "Competencies") -> dict[str, Any]:
    return {"key": COMPETENCIES, "kind": COMPETENCIES, "label": label, "required": required}


DEFAULT_DOCUMENTS: dict[str, dict[str, Any]] = {
    "self": {
        "name": "Self-review",
        "part": "self",
        "sections": [
            {"title": "Competencies", "questions": [_ratings()]},
            {
                "title": "Looking back and ahead",
                "questions": [
                    _text("accomplishments", "Accomplishments this period"),
                    _text("growth", "What you want to grow next"),
                ],
            },
        ],
    },
    "peer": {
        "name": "Peer feedback",
        "part": "peer",
        "sections": [
            {
                "title": "Your feedback",
                "questions": [
                    _text("strengths", "Strengths"),
                    _text("growth_areas", "Growth areas"),
                    _text("suggestion", "One concrete suggestion"),
                ],
            },
            {"title": "Competencies", "questions": [_ratings(required=False)]},
        ],
    },
    "manager": {
        "name": "Manager review",
        "part": "manager",
        "sections": [
            {"title": "Competencies", "questions": [_ratings()]},
            {
                "title": "Summary",
                "questions": [
                    _text("summary", "Summary"),
                    _text("strengths", "Strengths"),
                    _text("growth_areas", "Growth areas"),
                ],
            },
        ],
    },
    # What upward feedback asked before templates: the management competencies, each
    # rated or skipped, and an optional comment.
    "upward": {
        "name": "Upward feedback",
        "part": "upward",
        "sections": [
            {
                "title": "How your manager supports you",
                "questions": [
                    _ratings(required=False, label="Management competencies"),
                    {
                        "key": "comment",
                        "kind": "text",
                        "label": "What should your manager keep doing, or do differently?",
                        "required": False,
                        "max_length": 2000,
                    },
                ],
            },
        ],
    },
}
DEFAULTS: dict[str, Template] = {p: parse_template(d) for p, d in DEFAULT_DOCUMENTS.items()}
