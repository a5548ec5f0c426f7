"""Changing review templates: create, edit over the version loaded, copy, archive,
restore, delete while no cycle chose it, and import a JSON document."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm.exc import StaleDataError

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.errors import Conflict, Invalid, PhaseClosed
from reviews.extensions import db
from reviews.languages import gettext
from reviews.people.models import Person
from reviews.review_templates.builtin import DEFAULTS
from reviews.review_templates.definition import Template, TemplateError
from reviews.review_templates.models import CycleTemplate, ReviewTemplate, TemplatePart
from reviews.review_templates.parsing import parse_template


def _checked(document: Any, part: str | None = None) -> Template:
    try:
        return parse_template(document, part=part)
    except TemplateError as exc:
        raise Invalid(
            gettext("The template has problems: %(problems)s", problems=" ".join(exc.problems)),
            fields={"definition": "; ".join(exc.problems)},
        ) from exc


def create_template(actor: Person, document: Any) -> ReviewTemplate:
    """A new template from a whole document (an import, a copy, a new blank one)."""
    template = _checked(document)
    row = ReviewTemplate(
        name=template.name, part=TemplatePart(template.part), definition=template.as_json()
    )
    db.session.add(row)
    db.session.flush()
    record("template.created", actor=actor, template_id=row.id, name=row.name, part=template.part)
    return row


def copy_template(actor: Person, source: ReviewTemplate | str) -> ReviewTemplate:
    """A copy of a template, or of the built-in questions of a part (`source` a part)."""
    document = DEFAULTS[source].as_json() if isinstance(source, str) else dict(source.definition)
    document["name"] = f"Copy of {document['name']}"[:120]
    return create_template(actor, document)


def update_template(
    actor: Person, row: ReviewTemplate, expected_version: int, document: Any
) -> None:
    """Replace the template's document over exactly the version the editor loaded. A
    cycle that launched with it keeps the questions it froze."""
    if row.version != expected_version:
        raise _stale(row)
    template = _checked(document, part=row.part.value)
    row.name = template.name
    row.definition = template.as_json()
    row.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise _stale(db.session.get(ReviewTemplate, row.id)) from None
    record("template.updated", actor=actor, template_id=row.id, name=row.name)


def _stale(current: ReviewTemplate | None) -> Conflict:
    return Conflict(
        gettext("Someone else saved this template while you were editing it."),
        current=current,
        current_version=current.version if current else None,
    )


def set_archived(actor: Person, row: ReviewTemplate, archived: bool) -> None:
    """An archived template stays with the cycles that chose it; new cycles cannot."""
    row.archived_at = utcnow() if archived else None
    db.session.flush()
    record(
        "template.archived" if archived else "template.restored",
        actor=actor,
        template_id=row.id,
        name=row.name,
    )


def in_use(row: ReviewTemplate) -> bool:
    return bool(db.session.scalar(select(exists().where(CycleTemplate.template_id == row.id))))


def delete_template(actor: Person, row: ReviewTemplate) -> None:
    if in_use(row):
        raise PhaseClosed(gettext("A cycle asks this template: archive it instead of deleting it."))
    record("template.deleted", actor=actor, template_id=row.id, name=row.name)
    db.session.delete(row)
    db.session.flush()
