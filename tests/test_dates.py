"""Deadlines read as 'due in 3 days'; moments carry their UTC instant for the browser."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cycle_helpers import launched_cycle

from reviews.dates import due_html, moment_html, relative_due
from reviews.people.models import Role

TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("days", "phrase"),
    [
        (0, "due today"),
        (1, "due tomorrow"),
        (3, "due in 3 days"),
        (-1, "overdue by 1 day"),
        (-12, "overdue by 12 days"),
    ],
)
def test_relative_due(days, phrase):
    assert relative_due(TODAY + timedelta(days=days), TODAY) == phrase


def test_due_html_keeps_the_date_for_machines_and_the_hover():
    html = str(due_html(date(2026, 11, 28), TODAY))
    assert html == (
        '<time datetime="2026-11-28" data-due data-day-later="due in 2 days"'
        ' data-day-earlier="due in 4 days" title="28 Nov 2026">due in 3 days</time>'
    )
    # around the day it is due, the phrases for a reader a day ahead or behind UTC
    assert 'data-day-later="due today" data-day-earlier="due in 2 days"' in str(
        due_html(TODAY + timedelta(days=1), TODAY)
    )
    assert 'data-day-later="overdue by 1 day" data-day-earlier="due tomorrow"' in str(
        due_html(TODAY, TODAY)
    )
    assert str(due_html(None)) == ""


def test_moment_html_is_utc_until_the_browser_localises_it():
    html = str(moment_html(datetime(2026, 11, 25, 9, 5, tzinfo=UTC)))
    assert html == '<time datetime="2026-11-25T09:05:00Z" data-local>25 Nov 2026, 09:05 UTC</time>'
    naive = str(moment_html(datetime(2026, 11, 25, 9, 5)))  # stored values are UTC
    assert 'datetime="2026-11-25T09:05:00Z"' in naive


def test_the_home_page_says_how_long_is_left(client, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    dev = make_person("Devon", manager=make_person("Elena", role=Role.MANAGER))
    launched_cycle(hr)  # self-reviews due in 7 days
    due = datetime.now(UTC).date() + timedelta(days=7)
    page = login_as(dev).get("/").get_data(as_text=True)
    assert f'<time datetime="{due.isoformat()}" data-due' in page
    assert ">due in 7 days</time>" in page
