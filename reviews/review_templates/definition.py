"""A review template: the questions one part of a review asks.

Pure. `parsing.parse_template` validates a decoded JSON document (an import, an
edit, a stored definition) into a typed `Template`, or raises `TemplateError` listing
every problem at once; `answers` reads and shows what people answer to it; `builtin`
holds the questions Reviews has always asked (`DEFAULTS`).

Languages: the names of parts, kinds and audiences are only shown, so they are lazy
(written in the reader's language). The built-in questions and the fixed fields'
default labels are data: a new template copies them, every manager template keeps the
labels, and a launching cycle freezes the questions it asks (`queries.freeze`), so
they stay English here and are only marked (`N_`) for the catalog, which shows them
in the reader's language (`Template.translated`, reviews/framework/wording.py). A template's
problems (`TemplateError.details`) are in the reader's language, and say where they
are in numbers too (the editor puts each beside its row).
"""

from __future__ import annotations

import re
from collections.abc import Callable
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
