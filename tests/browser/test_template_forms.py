"""A form built from a review template, in Chromium: the demo's running cycle asks peers
a scale, a yes/no and a note for HR only (reviews.demo.DEMO_PEER_TEMPLATE). Chosen
answers autosave like text, come back checked, and submit."""

from __future__ import annotations

import re
from typing import Any

from browser.crawl import sign_in


def _open_request(page: Any, base: str) -> None:
    page.goto(f"{base}/requests")
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    page.goto(base + next(h for h in hrefs if re.fullmatch(r"/requests/\d+", h)))


def test_chosen_answers_autosave_come_back_and_submit(live_server, page):
    base = live_server
    script_errors: list[str] = []
    page.on("pageerror", lambda e: script_errors.append(str(e)))
    sign_in(page, base, "dev@example.com")
    _open_request(page, base)
    assert page.get_by_text("Read by HR only").is_visible()
    # Choosing an answer saves the draft as typing does.
    with page.expect_response(lambda r: r.url.endswith("/autosave")) as saved:
        page.get_by_role("radio", name="3 Weekly").check()
    assert saved.value.status == 200
    with page.expect_response(lambda r: r.url.endswith("/autosave")) as saved:
        page.get_by_role("radio", name="Yes").check()
        page.locator("#strengths").fill("Calm, clear incident write-ups.")
    assert saved.value.status == 200
    # A fresh load shows what was chosen.
    page.reload()
    assert page.get_by_role("radio", name="3 Weekly").is_checked()
    assert page.get_by_role("radio", name="Yes").is_checked()
    assert page.locator("#strengths").input_value() == "Calm, clear incident write-ups."
    # Submit… names what is still missing (the page answers 400), then submits once it
    # is all there.
    page.get_by_role("button", name="Submit…").click()
    page.wait_for_load_state()
    summary = page.locator(".error-summary").inner_text()
    assert "Growth areas is needed before submitting." in summary
    assert "How closely" not in summary
    page.locator("#growth_areas").fill("Share designs before building them.")
    page.locator("#suggestion").fill("Write the rollout plan first.")
    page.locator("#hr_note").fill("Nothing to add.")
    page.get_by_role("button", name="Submit…").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_url(f"{base}/requests")
    assert script_errors == []
