"""Dates as people read them: deadlines relative to today, moments in the viewer's time zone.

The server renders `<time datetime=...>` with a phrase computed in UTC;
static/app.js rewrites it in the viewer's own time zone and language, so a
page without JavaScript still reads correctly (only a few hours off at most).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from markupsafe import Markup


def long_date(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def relative_due(due: date, today: date) -> str:
    """'due in 3 days', 'due tomorrow', 'due today', 'overdue by 2 days'."""
    days = (due - today).days
    if days == 0:
        return "due today"
    if days == 1:
        return "due tomorrow"
    if days == -1:
        return "overdue by 1 day"
    if days < 0:
        return f"overdue by {-days} days"
    return f"due in {days} days"


def due_html(due: date | None, today: date | None = None) -> Markup:
    if due is None:
        return Markup("")
    today = today or datetime.now(UTC).date()
    # Markup.format escapes each argument.
    return Markup('<time datetime="{}" data-due title="{}">{}</time>').format(
        due.isoformat(), long_date(due), relative_due(due, today)
    )


def moment_html(value: datetime | None) -> Markup:
    """A timestamp (stored in UTC), shown in UTC until app.js puts it in local time."""
    if value is None:
        return Markup("")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return Markup('<time datetime="{}" data-local>{}</time>').format(
        value.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{long_date(value.date())}, {value:%H:%M} UTC"
    )


def register(app: Any) -> None:
    app.add_template_filter(due_html, "due")
    app.add_template_filter(moment_html, "moment")
