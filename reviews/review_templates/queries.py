"""The template a cycle asks of each part: frozen at launch, chosen before it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.framework.wording import reading_language, say
from reviews.review_templates.builtin import DEFAULTS
from reviews.review_templates.definition import PARTS, Template
from reviews.review_templates.models import CycleTemplate, ReviewTemplate
from reviews.review_templates.parsing import parse_template


@lru_cache(maxsize=256)
def _parsed(document: str) -> Template:
    return parse_template(json.loads(document))


def parsed(document: dict[str, Any]) -> Template:
    """A stored document as a Template (parsed once per distinct document)."""
    return _parsed(json.dumps(document, sort_keys=True))


def chosen(cycle: Cycle) -> dict[str, ReviewTemplate]:
    """The templates a draft cycle will ask, by part (one statement)."""
    if cycle.id is None:
        return {}
    rows = db.session.scalars(
        select(CycleTemplate)
        .where(CycleTemplate.cycle_id == cycle.id)
        .options(joinedload(CycleTemplate.template))
    )
    return {row.part.value: row.template for row in rows}


def templates_of(cycle: Cycle, parts: Sequence[str] = PARTS) -> dict[str, Template]:
    """What each of `parts` asks in `cycle`, in the reader's language
    (reviews.framework.wording): the frozen documents once launched, else the templates
    chosen for it (a preview), else the built-in questions."""
    found = _as_written(cycle, parts)
    if reading_language() is None:
        return found
    return {p: t.translated(say) for p, t in found.items()}


def _as_written(cycle: Cycle, parts: Sequence[str]) -> dict[str, Template]:
    if cycle.templates is not None:
        return {
            part: parsed(cycle.templates[part]) if part in cycle.templates else DEFAULTS[part]
            for part in parts
        }
    rows = chosen(cycle)
    return {
        part: parsed(rows[part].definition) if part in rows else DEFAULTS[part] for part in parts
    }


def template_of(cycle: Cycle, part: str) -> Template:
    """What `part` asks in `cycle`, in the reader's language (as `templates_of`)."""
    return templates_of(cycle, (part,))[part]


def freeze(cycle: Cycle) -> dict[str, Any]:
    """The documents a launching cycle keeps, part by part, as written."""
    return {part: t.as_json() for part, t in _as_written(cycle, PARTS).items()}
