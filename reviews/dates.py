"""Dates as people read them: deadlines relative to today, moments in the viewer's time zone.

The server renders `<time datetime=...>` with a phrase computed in UTC, in the
reader's language (reviews.languages: Babel's date formats, gettext's plurals);
static/app.js rewrites it in the viewer's own time zone, so a page without
JavaScript still reads correctly (only a few hours off at most).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from babel.dates import format_date, format_time
from markupsafe import Markup

from reviews.languages import formatting_locale, gettext, ngettext


def long_date(value: date) -> str:
    """'28 Nov 2026' in English, '28.11.2026' in German: the locale's medium date."""
    return str(format_date(value, "medium", locale=formatting_locale()))


class LocalDate:
    """A date that writes itself in the language of wherever it is read: a value for a
    lazy message (`lazy_gettext("... by %(date)s", date=LocalDate(due))`) written out
    later in its recipient's language (reviews.notifications.operations). `length`
    is Babel's: "medium" (28 Nov 2026), "long" (28 November 2026)."""

    def __init__(self, value: date, length: str = "medium") -> None:
        self.value = value
        self.length = length

    def __str__(self) -> str:
        return str(format_date(self.value, self.length, locale=formatting_locale()))


def short_time(value: datetime) -> str:
    return str(format_time(value, "HH:mm", locale=formatting_locale()))


def relative_due(due: date, today: date) -> str:
    """'due in 3 days', 'due tomorrow', 'due today', 'overdue by 2 days'."""
    days = (due - today).days
    if days == 0:
        return str(gettext("due today"))
    if days == 1:
        return str(gettext("due tomorrow"))
    if days < 0:
        return str(ngettext("overdue by %(num)d day", "overdue by %(num)d days", -days))
    return str(ngettext("due in %(num)d day", "due in %(num)d days", days))


def due_html(due: date | None, today: date | None = None) -> Markup:
    if due is None:
        return Markup("")
    today = today or datetime.now(UTC).date()
    # The phrases for a reader whose day is one later or earlier than UTC's, for app.js
    # (which has no catalog of its own). Markup.format escapes each argument.
    return Markup(
        '<time datetime="{}" data-due data-day-later="{}" data-day-earlier="{}" title="{}">'
        "{}</time>"
    ).format(
        due.isoformat(),
        relative_due(due, today + timedelta(days=1)),
        relative_due(due, today - timedelta(days=1)),
        long_date(due),
        relative_due(due, today),
    )


def moment_html(value: datetime | None) -> Markup:
    """A timestamp (stored in UTC), shown in UTC until app.js puts it in local time."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return Markup('<time datetime="{}" data-local>{}</time>').format(
        value.strftime("%Y-%m-%dT%H:%M:%SZ"),
        gettext("%(date)s, %(time)s UTC", date=long_date(value.date()), time=short_time(value)),
    )


def register(app: Any) -> None:
    app.add_template_filter(due_html, "due")
    app.add_template_filter(moment_html, "moment")
