"""The feedback coach in a real browser: findings appear as you type; submitting still works."""

from __future__ import annotations

from browser.test_signin import sign_in


def test_vague_sentence_gets_a_finding_and_the_form_still_submits(self_review_server, page):
    base = self_review_server
    sign_in(page, base, "dev@example.com")
    page.get_by_role("link", name="Write your self-review").click()
    page.wait_for_url("**/self")  # loaded: app.js (deferred) listens before the first key
    box = page.get_by_label("Accomplishments this period")
    box.fill("Great job all the time.")
    finding = page.locator("#coach-accomplishments li").first
    finding.wait_for(timeout=10_000)
    text = page.locator("#coach-accomplishments").inner_text()
    assert "Vague" in text
    assert "Absolute" in text
    # The draft autosaves in the background; the advice never blocks submitting.
    page.get_by_label("What you want to grow next").fill("Lead a design review.")
    for fieldset in page.locator("fieldset.competency").all():
        fieldset.locator("input[type=radio][value='3']").check()
    page.get_by_role("button", name="Submit…").click()
    page.get_by_role("button", name="Submit now").click()
    page.wait_for_url(f"{base}/reviews/**")
    assert "Submitted. Thank you." in page.inner_text("main")
    assert page.console_errors == []
