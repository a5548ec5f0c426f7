"""The template editor's form: one row of fields per question, read into the template
document that `parsing.parse_template` judges, and a document back into rows.

Pure. A row names its section (a row that leaves it empty continues the section
above), its position (rows are ordered by it), and may be removed; blank rows are
the editor's spare lines and are skipped. Options are written one per line, as
``key: Label`` or just ``Label`` (its key is made from the label); a scale's lines
are its steps, lowest first. Problems `parse_template` finds are put back beside the
row they belong to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reviews.review_templates.definition import FIXED_LABELS, MAX_TEXT, Problem, TemplateError

ROW_FIELDS = (
    "section",
    "key",
    "kind",
    "label",
    "help",
    "required",
    "audience",
    "options",
    "max_length",
    "cant_judge",
    "position",
    "remove",
)
SPARE_ROWS = 2
MAX_ROWS = 60


@dataclass
class Row:
    section: str = ""
    key: str = ""
    kind: str = "text"
    label: str = ""
    help: str = ""
    required: bool = True
    audience: str = "part"
    options: str = ""
    max_length: str = ""
    cant_judge: bool = False
    position: int = 0

    @property
    def blank(self) -> bool:
        return not (self.key or self.label or self.help or self.options)


@dataclass
class EditorForm:
    name: str
    part: str
    rows: list[Row]
    labels: dict[str, str] = field(default_factory=dict)


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = f"o_{slug}"
    return slug[:40]


def _options(text: str) -> list[dict[str, str]]:
    options = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        key, sep, label = line.partition(":")
        if sep and re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key.strip()):
            options.append({"key": key.strip(), "label": label.strip()})
        else:
            options.append({"key": _slug(line), "label": line})
    return options


def read_form(form: Mapping[str, Any], part: str) -> EditorForm:
    """The editor's posted fields as rows (unordered input is ordered by position)."""
    rows: list[tuple[int, int, Row, bool]] = []
    for i in range(MAX_ROWS):
        prefix = f"q-{i}-"
        if not any(f"{prefix}{name}" in form for name in ROW_FIELDS):
            continue
        removed = bool(form.get(f"{prefix}remove"))

        def text(name: str, prefix: str = prefix) -> str:
            return str(form.get(f"{prefix}{name}") or "").strip()

        raw_position = text("position")
        position = (
            int(raw_position)
            if raw_position.isascii() and raw_position.isdigit() and len(raw_position) < 4
            else i
        )
        row = Row(
            section=text("section"),
            key=text("key"),
            kind=text("kind") or "text",
            label=text("label"),
            help=text("help"),
            required=bool(form.get(f"{prefix}required")),
            audience=text("audience") or "part",
            options=str(form.get(f"{prefix}options") or ""),
            max_length=text("max_length"),
            cant_judge=bool(form.get(f"{prefix}cant_judge")),
            position=position,
        )
        rows.append((position, i, row, removed or row.blank))
    # A removed (or blank) row that started a section hands its title on to the next
    # question, so removing a section's first question keeps the section.
    ordered: list[Row] = []
    carried = ""
    for _p, _i, row, dropped in sorted(rows, key=lambda t: (t[0], t[1])):
        if dropped:
            carried = row.section or carried
            continue
        if carried and not row.section:
            row.section = carried
        carried = ""
        ordered.append(row)
    labels = {
        k: str(form.get(f"label-{k}") or "").strip()
        for k in FIXED_LABELS
        if str(form.get(f"label-{k}") or "").strip()
    }
    return EditorForm(
        name=str(form.get("name") or "").strip(), part=part, rows=ordered, labels=labels
    )


def to_document(editor: EditorForm) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The document the rows describe, and where each question came from: for section
    s and question n (both from 1) the row's index, so problems find their row."""
    sections: list[dict[str, Any]] = []
    origin: list[tuple[int, int]] = []
    for row in editor.rows:
        if not sections or (row.section and row.section != sections[-1]["title"]):
            sections.append({"title": row.section, "questions": []})
        question: dict[str, Any] = {
            "key": row.key,
            "kind": row.kind,
            "label": row.label,
            "help": row.help,
            "required": row.required,
            "audience": row.audience,
        }
        if row.kind == "text":
            raw = row.max_length
            question["max_length"] = (
                int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else (raw or MAX_TEXT)
            )
        elif row.kind in ("choice", "choices"):
            question["options"] = _options(row.options)
        elif row.kind == "scale":
            question["steps"] = [s.strip() for s in row.options.splitlines() if s.strip()]
            question["cant_judge"] = row.cant_judge
        sections[-1]["questions"].append(question)
        origin.append((len(sections), len(sections[-1]["questions"])))
    document: dict[str, Any] = {"name": editor.name, "part": editor.part, "sections": sections}
    if editor.part == "manager" and editor.labels:
        document["labels"] = editor.labels
    return document, origin


def from_document(document: Mapping[str, Any]) -> EditorForm:
    rows = []
    for section in document.get("sections", []):
        for n, q in enumerate(section.get("questions", [])):
            if q.get("kind") in ("choice", "choices"):
                options = "\n".join(f"{o['key']}: {o['label']}" for o in q.get("options", []))
            elif q.get("kind") == "scale":
                options = "\n".join(q.get("steps", []))
            else:
                options = ""
            rows.append(
                Row(
                    section=section.get("title", "") if n == 0 else "",
                    key=q.get("key", ""),
                    kind=q.get("kind", "text"),
                    label=q.get("label", ""),
                    help=q.get("help", ""),
                    required=bool(q.get("required", True)),
                    audience=q.get("audience", "part"),
                    options=options,
                    max_length=str(q.get("max_length", "")) if q.get("kind") == "text" else "",
                    cant_judge=bool(q.get("cant_judge", False)),
                    position=len(rows) + 1,
                )
            )
    return EditorForm(
        name=document.get("name", ""),
        part=document.get("part", ""),
        rows=rows,
        labels=dict(document.get("labels") or {}),
    )


def with_spares(editor: EditorForm, spares: int = SPARE_ROWS) -> list[Row]:
    """The rows to show: the template's, then blank ones to add questions with."""
    shown = list(editor.rows)
    for n in range(spares):
        shown.append(Row(position=len(editor.rows) + n + 1))
    return shown


NAME = -2  # row_errors' key of the template name's problems


def row_errors(
    error: TemplateError, origin: list[tuple[int, int]], rows: list[Row] | None = None
) -> dict[int, list[str]]:
    """`parse_template`'s problems by the index of the row they are about; the name's
    under NAME, other problems of the template as a whole under -1, or beside each of
    the `rows` they name (a duplicated key, the competency block)."""
    found: dict[int, list[str]] = {}
    for problem in error.details:
        if about := _about(problem, rows or []):
            for i in about:
                found.setdefault(i, []).append(_capital(problem.said))
            continue
        row, text = -1, problem.text
        if problem.section is not None:
            candidates = [
                i
                for i, (s, n) in enumerate(origin)
                if s == problem.section and (problem.question is None or n == problem.question)
            ]
            row = candidates[0] if candidates else -1
            text = problem.said
        elif problem.about == "name":
            row, text = NAME, problem.said
        found.setdefault(row, []).append(_capital(text))
    return found


def _about(problem: Problem, rows: list[Row]) -> list[int]:
    """The rows a problem of the template as a whole is about (none: it stays in the
    summary): those with a duplicated key, or the competency block."""
    if problem.about == "keys":
        return [i for i, r in enumerate(rows) if r.key in problem.keys]
    if problem.about == "ratings":
        return [i for i, r in enumerate(rows) if r.kind == "competencies"]
    return []


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
