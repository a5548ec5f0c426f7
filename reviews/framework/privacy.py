"""The framework's translations: who last saved one (reviews/framework/translations.py)."""

from __future__ import annotations

from reviews.privacy import holding

holding(
    "framework",
    columns=("content_translation.updated_by_id",),
    keeps="Who last saved a translation of a framework, catalogue or template text (by id, "
    "so it shows the anonymised name); the translations are the company's texts, not the "
    "person's.",
)
