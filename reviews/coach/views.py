from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from reviews import access
from reviews.coach.analysis import analyse
from reviews.languages import get_locale

bp = Blueprint("coach", __name__)
MAX_TEXT = 20_000


@bp.post("/coach/analyse")
@access.signed_in
def analyse_text() -> Any:
    """Findings for one text as the person writes it (nothing is stored)."""
    text = request.form.get("text", "")
    if len(text) > MAX_TEXT:
        return jsonify(
            error={
                "code": "too_long",
                "message": "The text is too long to analyse.",
                "fields": {"text": f"At most {MAX_TEXT} characters."},
            }
        ), 413
    raw = request.form.get("rating", "")
    rating = int(raw) if raw in {"1", "2", "3", "4", "5"} else None
    # the text's own language decides; the writer's decides when the text does not
    findings = analyse(text, rating, str(get_locale() or ""))
    return jsonify(findings=[f.as_dict() for f in findings])
