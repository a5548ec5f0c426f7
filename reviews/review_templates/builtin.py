"""The questions Reviews has always asked: one built-in template per part, kept exactly
(keys, labels, required), so every part written before templates reads as it did.

They are data, not interface text: a new template copies them and a launching cycle
freezes them (`queries.freeze`), so they stay English and are only marked (`N_`) for
the catalog (reviews.review_templates.definition).
"""

from __future__ import annotations

from typing import Any

from reviews.review_templates.definition import COMPETENCIES, N_, Template
from reviews.review_templates.parsing import parse_template


def _text(key: str, label: str) -> dict[str, Any]:
    return {"key": key, "kind": "text", "label": label, "required": True}


def _ratings(required: bool = True, label: str = N_("Competencies")) -> dict[str, Any]:
    return {"key": COMPETENCIES, "kind": COMPETENCIES, "label": label, "required": required}


DEFAULT_DOCUMENTS: dict[str, dict[str, Any]] = {
    "self": {
        "name": N_("Self-review"),
        "part": "self",
        "sections": [
            {"title": N_("Competencies"), "questions": [_ratings()]},
            {
                "title": N_("Looking back and ahead"),
                "questions": [
                    _text("accomplishments", N_("Accomplishments this period")),
                    _text("growth", N_("What you want to grow next")),
                ],
            },
        ],
    },
    "peer": {
        "name": N_("Peer feedback"),
        "part": "peer",
        "sections": [
            {
                "title": N_("Your feedback"),
                "questions": [
                    _text("strengths", N_("Strengths")),
                    _text("growth_areas", N_("Growth areas")),
                    _text("suggestion", N_("One concrete suggestion")),
                ],
            },
            {"title": N_("Competencies"), "questions": [_ratings(required=False)]},
        ],
    },
    "manager": {
        "name": N_("Manager review"),
        "part": "manager",
        "sections": [
            {"title": N_("Competencies"), "questions": [_ratings()]},
            {
                "title": N_("Summary"),
                "questions": [
                    _text("summary", N_("Summary")),
                    _text("strengths", N_("Strengths")),
                    _text("growth_areas", N_("Growth areas")),
                ],
            },
        ],
    },
    # What upward feedback asked before templates: the management competencies, each
    # rated or skipped, and an optional comment.
    "upward": {
        "name": N_("Upward feedback"),
        "part": "upward",
        "sections": [
            {
                "title": N_("How your manager supports you"),
                "questions": [
                    _ratings(required=False, label=N_("Management competencies")),
                    {
                        "key": "comment",
                        "kind": "text",
                        "label": N_("What should your manager keep doing, or do differently?"),
                        "required": False,
                        "max_length": 2000,
                    },
                ],
            },
        ],
    },
}
DEFAULTS: dict[str, Template] = {p: parse_template(d) for p, d in DEFAULT_DOCUMENTS.items()}
