"""The browser shows deadlines and moments in the reader's own time zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from reviews.dates import relative_due

from .crawl import sign_in

ZONE = "Pacific/Kiritimati"  # UTC+14: usually a different calendar day from the server's


def test_deadlines_and_moments_in_the_readers_time_zone(live_server, chromium):
    context = chromium.new_context(timezone_id=ZONE, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, live_server, "dev@example.com")
        local_today = datetime.now(ZoneInfo(ZONE)).date()
        deadlines = page.eval_on_selector_all(
            "time[data-due]", "els => els.map(e => [e.getAttribute('datetime'), e.textContent])"
        )
        assert deadlines, "the engineer's home page shows no deadline"
        for iso, shown in deadlines:
            assert shown == relative_due(date.fromisoformat(iso), local_today)

        page.goto(f"{live_server}/notifications")
        moments = page.eval_on_selector_all(
            "time[data-local]", "els => els.map(e => [e.getAttribute('datetime'), e.textContent])"
        )
        assert moments, "the engineer has no notifications to show"
        for iso, shown in moments:
            local = datetime.fromisoformat(iso).astimezone(ZoneInfo(ZONE))
            assert shown == f"{local.day} {local:%b %Y}, {local:%H:%M}", (iso, shown)
    finally:
        context.close()
