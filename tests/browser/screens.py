"""The main pages of each role, found by following links as a person would.

Used by `make screenshots` (docs/screenshots/), the pictures in the user guides.
Run as `python -m tests.browser.screenshots DIR`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from .crawl import SKIP, sign_in

WIDTHS = (375, 1280)

# (account, file name, how to get there: a path, or a link pattern to follow from a path;
# a pattern with a group leads to the page its group names)
SCREENS: list[tuple[str | None, str, str, str | None]] = [
    (None, "sign-in", "/auth/login", None),
    ("dev@example.com", "engineer-home", "/", None),
    ("dev@example.com", "engineer-peer-request", "/requests", r"^/requests/\d+$"),
    ("dev@example.com", "engineer-review", "/", r"^(/reviews/\d+)/plan$"),  # a released one
    ("dev@example.com", "engineer-growth-plan", "/", r"^/reviews/\d+/plan$"),
    ("dev@example.com", "engineer-upward-feedback", "/", r"^/cycles/\d+/upward$"),
    ("dev@example.com", "career-ladder", "/framework/", None),
    ("em@example.com", "manager-home", "/", None),
    ("em@example.com", "manager-team", "/", r"^/cycles/\d+/team$"),
    ("em@example.com", "manager-nominations", "/", r"^/reviews/\d+/nominations$"),
    # last half's cycle (the demo's first), closed: its results show
    ("em@example.com", "manager-upward-results", "/", r"^/cycles/1/upward/\d+$"),
    ("hr@example.com", "hr-home", "/", None),
    ("hr@example.com", "hr-cycles", "/cycles", None),
    ("hr@example.com", "hr-dashboard", "/cycles", r"^/cycles/\d+/dashboard$"),
    ("hr@example.com", "hr-calibration", "/cycles", r"^/calibration/\d+$"),
    ("hr@example.com", "hr-people", "/people", None),
    ("hr@example.com", "hr-org-chart", "/org", None),
    ("hr@example.com", "hr-templates", "/templates/", None),
    ("hr@example.com", "hr-template-editor", "/templates/", r"^/templates/\d+/edit$"),
    ("hr@example.com", "hr-template-preview", "/templates/", r"^/templates/\d+/preview$"),
    ("hr@example.com", "hr-translations", "/framework/translations?section=competencies", None),
]
# Also taken in the dark theme (NAME-dark-375.png ...): a page of each kind, the charts among them.
DARK = frozenset(
    {
        "sign-in",
        "engineer-home",
        "engineer-review",
        "engineer-growth-plan",
        "manager-team",
        "hr-dashboard",
        "hr-calibration",
    }
)


def follow(page: Any, base: str, start: str, pattern: str) -> str:
    """The first link on `start` whose path matches; pages one link deeper are tried next."""
    wanted = re.compile(pattern)
    frontier = [start]
    seen = set(frontier)
    for _ in range(3):
        deeper = []
        for path in frontier:
            page.goto(base + path)
            hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
            paths = [h[len(base) :].split("#")[0] for h in hrefs if h.startswith(base)]
            for found in paths:
                if match := wanted.search(found):
                    return match.group(1) if wanted.groups else found
            deeper += [
                p
                for p in paths
                if p not in seen
                and not p.startswith("/framework")
                and not SKIP.search(urlsplit(p).path)
            ]
            seen.update(paths)
        frontier = deeper
    raise LookupError(f"no link matching {pattern} within reach of {start}")


def screens(browser: Any, base: str, language: str | None = None) -> Iterator[tuple[str, Any]]:
    """Yield (name, page) with each main page loaded; the page's viewport is for the caller.
    With `language` (a locale code), the browser asks for pages in that language."""
    by_account: dict[str | None, list[tuple[str, str, str | None]]] = {}
    for account, name, start, pattern in SCREENS:
        by_account.setdefault(account, []).append((name, start, pattern))
    headers = {"Accept-Language": language.replace("_", "-")} if language else {}
    for account, items in by_account.items():
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, extra_http_headers=headers
        )
        page = context.new_page()
        try:
            if account:
                sign_in(page, base, account)
            for name, start, pattern in items:
                path = follow(page, base, start, pattern) if pattern else start
                page.goto(base + path)
                yield name, page
        finally:
            context.close()
