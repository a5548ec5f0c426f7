"""The template a cycle asks of each part: frozen at launch, chosen before it."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from reviews.cycles.models import Cycle
from reviews.extensions import db
from reviews.review_templates.definition import DEFAULTS, PARTS, Template, parse_template
from reviews.review_templates.models import CycleTemplate, ReviewTemplate


@lru_cache(maxsize=256)
def _parsed(document: str) -> Template:
    return parse_template(json.loads(document))


def parsed(document: dict[str, Any]) -> Template:
    """A stored document as a Template (parsed once per distinct document)."""
    return _parsed(json.dumps(document, sort_keys=True))


def chosen(cycle: Cycle, part: str) -> ReviewTemplate | None:
    row = db.session.get(CycleTemplate, (cycle.id, part)) if cycle.id else None
    return row.template if row is not None else None


def template_of(cycle: Cycle, part: str) -> Template:
    """What `part` asks in `cycle`: the frozen document once launched, else the
    template chosen for it (a preview), else the built-in questions."""
    frozen = (cycle.templates or {}).get(part)
    if frozen is not None:
        return parsed(frozen)
    if cycle.templates is None and (row := chosen(cycle, part)) is not None:
        return parsed(row.definition)
    return DEFAULTS[part]


def freeze(cycle: Cycle) -> dict[str, Any]:
    """The documents a launching cycle keeps, part by part."""
    return {part: template_of(cycle, part).as_json() for part in PARTS}
