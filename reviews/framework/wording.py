"""What a reader sees of the texts HR writes: the framework, the ladder, the catalogue
of stretch opportunities and the review templates, in the reader's language.

HR writes those texts in the deployment's language (`LANGUAGE`) and may translate
each into the other offered languages (the translations page,
reviews/framework/translations.py). A translation is keyed by the text it translates,
as a catalog is, so one rule serves every surface: `say(text)` is the text in the
locale of the request or job (the reader's, or the recipient's under
`force_locale`), else the translation Reviews ships for its own built-in texts (the
questions it has always asked), else the text as written. It never raises and never
writes.

Who calls it: `FrameworkSnapshot` (a cycle's frozen framework on every page, PDF and
export), `review_templates.queries.template_of` (a cycle's questions) and the
`wording` template filter (the live framework and catalogue, plans' items). Edit forms
show the text as written and never go through here.

One query a request (or a job's app context) per language: the translations are read
whole into a dict the first time a text is asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import select

from reviews.extensions import db
from reviews.framework.models import ContentTranslation
from reviews.languages import get_locale, gettext

Say = Callable[[str], str]


def digest(source: str) -> str:
    """The key of a text (`ContentTranslation.source_hash`)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def content_language() -> str:
    """The language HR writes its texts in: the deployment's default."""
    return str(current_app.config["LANGUAGE"])


def reading_language() -> str | None:
    """The locale texts are shown in now, or None when they are shown as written (no app
    to ask, or inside `written()`). The deployment's own language is looked up too: the
    texts Reviews ships are English whatever the default, and HR may write in German and
    translate into English."""
    if not has_app_context():
        return None
    if getattr(_holder(), "_as_written", False):
        return None
    locale = get_locale()
    return str(locale) if locale is not None else None


@contextmanager
def written() -> Iterator[None]:
    """Texts as written inside the block, whoever reads (a report's column headings,
    which scripts read)."""
    holder = _holder()
    before = getattr(holder, "_as_written", False)
    holder._as_written = True
    try:
        yield
    finally:
        holder._as_written = before


def _holder() -> Any:
    # per request when there is one (a test's app context outlives many requests),
    # else per app context (a job)
    return request if has_request_context() else g


def table(language: str) -> dict[str, str]:
    """Every translation into `language`, by the text it translates (read once)."""
    holder = _holder()
    cache: dict[str, dict[str, str]] | None = getattr(holder, "_wording", None)
    if cache is None:
        cache = {}
        holder._wording = cache
    if language not in cache:
        rows = db.session.execute(
            select(ContentTranslation.source, ContentTranslation.text).where(
                ContentTranslation.language == language
            )
        )
        cache[language] = {source: text for source, text in rows}  # noqa: C416 (a Result is no mapping)
    return cache[language]


def forget() -> None:
    """Drop what this request has read (after the translations changed)."""
    if has_app_context():
        holder = _holder()
        if getattr(holder, "_wording", None) is not None:
            holder._wording = None


def say(text: str) -> str:
    """`text` as the reader reads it (see the module's docstring)."""
    if not text:
        return text
    language = reading_language()
    if language is None:
        return text
    known = table(language)
    found = known.get(text) or known.get(text.strip())  # an edit form keeps a stray space
    if found:
        return found
    return shipped(text)


def shipped(text: str) -> str:
    """The catalog's translation of a text Reviews ships (a built-in question, a fixed
    label), else the text."""
    return str(gettext(text)) if text else text


def sayer() -> Say:
    """`say`, or the identity when texts are shown as written (no lookups at all)."""
    return say if reading_language() is not None else as_written


def as_written(text: str) -> str:
    return text
