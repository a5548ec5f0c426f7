"""A printed review shows the review, not the site's menus and buttons, and fits A4."""

from __future__ import annotations

from .crawl import sign_in
from .screens import follow

HIDDEN = ".topbar, .breadcrumbs, .footer, .button, .save-bar"


def test_a_printed_review_is_just_the_review(live_server, chromium):
    context = chromium.new_context(viewport={"width": 794, "height": 1123})  # A4 at 96 dpi
    page = context.new_page()
    try:
        sign_in(page, live_server, "dev@example.com")
        # The released review of the demo's finished cycle: ratings, peers, plan links.
        review = follow(page, live_server, "/", r"^/reviews/\d+/plan$").removesuffix("/plan")
        page.goto(live_server + review)
        page.emulate_media(media="print")
        shown = page.eval_on_selector_all(
            HIDDEN, "els => els.filter(e => getComputedStyle(e).display !== 'none').length"
        )
        assert shown == 0
        assert page.locator("h1").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 794
        pdf = page.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
    finally:
        context.close()
