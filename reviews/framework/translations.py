"""HR translating the texts it writes: what there is to translate, and saving it.

The texts are the live framework's (levels, scales, competency groups, competencies,
their anchors and expectations), the active catalogue's and the review templates'
(HR's own, and the questions Reviews ships, which its catalog already translates).
Readers see them through reviews/framework/wording.py; this module only lists and
writes. A save is all or nothing: a text too long, or one someone else saved meanwhile
(the row's version moved), and nothing is written; what the person typed is kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from reviews.audit.operations import record
from reviews.db import utcnow
from reviews.extensions import db
from reviews.framework.models import (
    CompetencyGroup,
    ContentTranslation,
    Level,
    Opportunity,
    Scale,
    ScaleStep,
)
from reviews.framework.queries import ladder
from reviews.framework.wording import content_language, digest, forget, shipped
from reviews.languages import PSEUDO, force_locale, gettext, lazy_gettext, offered
from reviews.people.models import Person
from reviews.review_templates.builtin import DEFAULTS
from reviews.review_templates.definition import TemplateError
from reviews.review_templates.models import ReviewTemplate
from reviews.review_templates.parsing import parse_template

SHIPPED_IN = "en"  # the language of default_framework.json and the built-in questions
MAX_TEXT = 4000  # the longest text HR writes (a description) is shorter

SECTIONS = {
    "ladder": lazy_gettext("Levels and scales"),
    "competencies": lazy_gettext("Competencies"),
    "opportunities": lazy_gettext("Stretch opportunities"),
    "templates": lazy_gettext("Review templates"),
}


@dataclass
class Item:
    source: str
    where: str  # what the text is, as HR knows it ("Senior Engineer · description")
    key: str = ""  # digest(source)
    text: str = ""  # the saved translation ("" when none)
    version: int = 0  # the saved row's version (0: none)
    shipped: str = ""  # Reviews' own translation of a built-in text, if any

    def __post_init__(self) -> None:
        self.key = digest(self.source)

    @property
    def shown(self) -> str:
        """The digest of the saved translation as the page shows it: a text posted back
        unchanged was not edited, whatever someone else saved since."""
        return digest(self.text)


@dataclass
class Listing:
    language: str
    section: str
    items: list[Item] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return sum(1 for i in self.items if not i.text and not i.shipped)


def languages() -> list[str]:
    """The languages HR may translate into: every offered one but the pseudo-locale
    (for finding untranslated interface text) and the language HR writes in, unless that
    is not English, the language of the texts Reviews ships (a German deployment
    translates the default framework into German)."""
    own = content_language()
    return [
        code for code in offered() if code != PSEUDO and not (code == own and code == SHIPPED_IN)
    ]


def listing(language: str, section: str) -> Listing:
    """Every text of `section` once (in the order HR reads them), with its translation."""
    found: dict[str, Item] = {}
    for source, where in _sources(section):
        source = source.strip()
        if source and source not in found:
            found[source] = Item(source, where)
    items = list(found.values())
    rows = {
        row.source_hash: row
        for row in db.session.scalars(
            select(ContentTranslation).where(ContentTranslation.language == language)
        )
    }
    with force_locale(language):
        for item in items:
            row = rows.get(item.key)
            if row is not None:
                item.text, item.version = row.text, row.version
            translated = shipped(item.source)
            item.shipped = translated if translated != item.source else ""
    return Listing(language, section, items)


def _sources(section: str) -> Iterable[tuple[str, str]]:
    description = gettext("description")
    if section == "ladder":
        for lv in db.session.scalars(select(Level).order_by(Level.rank)):
            yield lv.name, gettext("Level")
            yield lv.description, f"{lv.name} · {description}"
        for step in db.session.scalars(
            select(ScaleStep).order_by(ScaleStep.scale, ScaleStep.value)
        ):
            scale = (
                gettext("Proficiency")
                if step.scale == Scale.PROFICIENCY
                else gettext("Performance")
            )
            yield step.label, f"{scale} {step.value}"
            yield step.description, f"{scale} {step.value} · {description}"
    elif section == "competencies":
        lad = ladder()
        levels = {lv.id: lv for lv in lad.levels}
        for group in db.session.scalars(select(CompetencyGroup).order_by(CompetencyGroup.position)):
            yield group.name, gettext("Competency group")
            yield group.description, f"{group.name} · {description}"
        for comp in lad.competencies():
            yield comp.name, gettext("Competency")
            yield comp.description, f"{comp.name} · {description}"
            for anchor in comp.anchors:
                yield anchor.text, f"{comp.name} · {anchor.value}"
            for (level_id, comp_id), exp in lad.expectations.items():
                if comp_id == comp.id and level_id in levels:
                    yield exp.description, f"{comp.name} · {levels[level_id].name}"
    elif section == "opportunities":
        for opp in db.session.scalars(
            select(Opportunity)
            .where(Opportunity.active.is_(True))
            .options(selectinload(Opportunity.levels))
            .order_by(Opportunity.title)
        ):
            yield opp.title, gettext("Opportunity")
            yield opp.description, f"{opp.title} · {description}"
    elif section == "templates":
        templates = [(str(gettext("Built-in questions")), t) for t in DEFAULTS.values()]
        for row in db.session.scalars(
            select(ReviewTemplate)
            .where(ReviewTemplate.archived_at.is_(None))
            .order_by(ReviewTemplate.name)
        ):
            try:
                templates.append((row.name, parse_template(row.definition)))
            except TemplateError:
                continue  # a stored document no longer valid is fixed in the editor first
        for name, template in templates:
            for text in template.texts():
                yield text, name


@dataclass
class Problem:
    key: str
    message: str
    conflict: bool = False  # someone else saved this text meanwhile


def save(
    actor: Person,
    language: str,
    section: str,
    posted: Mapping[str, tuple[str, str, str]],
) -> tuple[int, list[Problem]]:
    """Write the translations `posted` (key -> (text, version and `Item.shown` of what the
    page showed)) of the texts of `section`; an empty text removes one. A text posted as
    it was shown is left alone. Returns (texts changed, problems); with any problem
    nothing is written."""
    shown = {item.key: item for item in listing(language, section).items}
    problems = [
        Problem(key, gettext("This text is no longer in the framework or the templates."))
        for key in posted
        if key not in shown
    ]
    keys = [key for key in posted if key in shown]
    rows = {
        row.source_hash: row
        for row in db.session.scalars(
            select(ContentTranslation).where(
                ContentTranslation.language == language,
                ContentTranslation.source_hash.in_(keys),
            )
        )
    }
    changes: list[tuple[Item, str, ContentTranslation | None]] = []
    for key in keys:
        text, version, was = posted[key]
        item = shown[key]
        text = text.strip()
        row = rows.get(key)
        current = row.text if row is not None else ""
        if text == current or digest(text) == was:
            continue  # not edited here (someone else's save, if any, stands)
        if len(text) > MAX_TEXT:
            problems.append(
                Problem(key, gettext("At most %(max)s characters.", max=f"{MAX_TEXT:,}"))
            )
            continue
        stamp = row.version if row is not None else 0
        if str(stamp) != version:
            problems.append(
                Problem(
                    key,
                    gettext(
                        "Someone else saved this translation while you were editing: "
                        "“%(theirs)s”. Yours is kept below; save again to replace theirs.",
                        theirs=current or gettext("(removed)"),
                    ),
                    conflict=True,
                )
            )
            continue
        changes.append((item, text, row))
    if problems:
        return 0, problems
    for item, text, row in changes:
        if not text:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(
                ContentTranslation(
                    language=language,
                    source=item.source,
                    source_hash=item.key,
                    text=text,
                    updated_by_id=actor.id,
                )
            )
        else:
            row.source, row.text, row.updated_by_id = item.source, text, actor.id
    if changes:
        record(
            "framework.translated",
            actor=actor,
            language=language,
            section=section,
            texts=len(changes),
        )
    db.session.flush()
    forget()
    return len(changes), []


def load_shipped() -> int:
    """Write the translations Reviews ships of its default framework for every language
    HR may translate into, where HR has none yet. Returns how many were written."""
    return sum(load_shipped_into(language) for language in languages())


def load_shipped_into(language: str) -> int:
    """`default_framework.<language>.json`'s translations, where HR has none yet (texts HR
    has rewritten since no longer match theirs and are left alone)."""
    file = resources.files("reviews.framework").joinpath(f"default_framework.{language}.json")
    if not file.is_file():
        return 0
    return load_translations(language, json.loads(file.read_text("utf-8"))["texts"])


def load_translations(language: str, texts: Mapping[str, Any]) -> int:
    """Write translations (`texts`: source -> text) where HR has none yet; returns how
    many were written (one statement)."""
    have = set(
        db.session.scalars(
            select(ContentTranslation.source_hash).where(ContentTranslation.language == language)
        )
    )
    now = utcnow()
    rows = []
    for source, text in texts.items():
        key = digest(source)
        if key in have or not isinstance(text, str) or not text.strip():
            continue
        rows.append(
            {
                "language": language,
                "source": source,
                "source_hash": key,
                "text": text.strip(),
                "updated_at": now,
                "version": 1,
            }
        )
        have.add(key)
    if rows:
        db.session.execute(insert(ContentTranslation), rows)
    forget()
    return len(rows)
