"""Everyday paths of issue 20 in Chromium: a refused form says everything at once, a
conflict keeps what was typed, and everyone finds their reviews under "My reviews".

1. A form with several problems lists them all in one summary at the top, each beside
   its field too, each summary link leading to its field, and focus starts on the
   summary; a self-review is checked before anyone is asked to confirm its submission.
2. Two tabs of the same person: the stale one is refused, keeps its own text and shows
   what the other saved meanwhile, with and without JavaScript.
3. "My reviews" for an engineer, a manager and HR, and a manager's view of a report's
   reviews (which an engineer may not open for their manager).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest

from browser.test_signin import sign_in

VIEWPORT = {"width": 1280, "height": 900}

# Where focus is, relative to the error summary (app.js moves it there on load).
FOCUS_IN_SUMMARY = """() => {
  const el = document.activeElement;
  const summary = document.querySelector('.error-summary');
  return !!summary && !!el && (el === summary || summary.contains(el));
}"""

# Whether an element is (at least partly) inside the viewport.
IN_VIEW = """(el) => {
  const r = el.getBoundingClientRect();
  return r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;
}"""


def _new_context(chromium: Any, *, javascript: bool = True) -> Any:
    return chromium.new_context(java_script_enabled=javascript, viewport=VIEWPORT)


def _watch_dialogs(page: Any) -> list[str]:
    """Every confirm()/alert() the page opens, dismissed: none is expected here."""
    seen: list[str] = []

    def dismiss(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return seen


def _script_errors(page: Any) -> list[str]:
    """The page's script errors; Chromium also logs a refused page's own 4xx status
    ("Failed to load resource"), which is what these tests expect."""
    return [e for e in page.console_errors if not e.startswith("Failed to load resource")]


def _click_and_load(page: Any, locator: Any) -> Any:
    """Click a submit button or link that loads a page; the response of that page."""
    with page.expect_navigation() as navigation:
        locator.click()
    return navigation.value


# --- 1. One-pass error summary ------------------------------------------------------------

CYCLE_PROBLEMS = {
    # field id: the message beside it and in the summary (reviews/cycles/inputs.py)
    "name": "Give the cycle a name.",
    "period_end": "The period must end after it starts.",
    "peer_feedback_due": "Phase deadlines must follow the order of the phases.",
    "peer_min": "The minimum cannot be above the maximum.",
    "anonymity_threshold": "Anonymous peer feedback needs a threshold of at least 3",
    "guidance": "The five guidance percentages must add up to 100.",
}


def test_a_refused_cycle_lists_every_problem_at_once_and_leads_to_each_field(live_server, page):
    sign_in(page, live_server, "hr@example.com")
    page.goto(f"{live_server}/cycles/new")
    assert page.locator(".error-summary").count() == 0
    today = date.today()
    page.locator("#name").fill("")  # 1. no name
    page.locator("#period_start").fill(today.isoformat())
    page.locator("#period_end").fill((today - timedelta(days=30)).isoformat())  # 2. ends first
    page.locator("#self_review_due").fill((today + timedelta(days=20)).isoformat())
    page.locator("#peer_feedback_due").fill((today + timedelta(days=10)).isoformat())  # 3.
    page.locator("#manager_review_due").fill((today + timedelta(days=30)).isoformat())
    page.locator("#calibration_due").fill((today + timedelta(days=40)).isoformat())
    page.locator("#peer_min").fill("6")  # 4. above the maximum
    page.locator("#peer_max").fill("4")
    page.locator("#anonymity_threshold").fill("2")  # 5. too low for anonymous feedback
    assert page.locator("#peer_anonymous").is_checked()
    page.locator("#guidance").fill("10/20/30/20/5")  # 6. adds up to 85
    response = _click_and_load(page, page.get_by_role("button", name="Save draft cycle"))

    assert response.status == 400
    assert page.url == f"{live_server}/cycles/new"  # nothing was created
    summary = page.locator(".error-summary")
    assert summary.count() == 1
    # The summary comes before the form, at the top of the page's content.
    assert summary.evaluate(
        "(s) => !!(s.compareDocumentPosition(document.querySelector('form.cycle-form'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert summary.evaluate(IN_VIEW)
    assert "6 things need fixing before this can be saved" in summary.inner_text()
    items = summary.locator("li")
    assert items.count() == len(CYCLE_PROBLEMS), summary.inner_text()
    for field_id, message in CYCLE_PROBLEMS.items():
        item = items.filter(has=page.locator(f'a[href="#{field_id}"]'))
        assert item.count() == 1, f"no summary entry for {field_id}: {summary.inner_text()}"
        assert message in item.inner_text()
        beside = page.locator(f"#{field_id}-error")  # under the field, in the form
        assert message in beside.inner_text()
        assert beside.evaluate("(e) => !!e.closest('form.cycle-form')")
        field = page.locator(f"#{field_id}")
        assert field.get_attribute("aria-invalid") == "true", field_id
        assert f"{field_id}-error" in (field.get_attribute("aria-describedby") or "")
    # What was typed is kept for fixing.
    assert page.locator("#guidance").input_value() == "10/20/30/20/5"
    assert page.locator("#peer_min").input_value() == "6"

    # Focus starts on the summary, so a screen reader reads it and Tab starts there.
    assert page.evaluate(FOCUS_IN_SUMMARY), page.evaluate("document.activeElement.outerHTML")
    page.keyboard.press("Tab")
    first_link = summary.locator("a").first
    assert first_link.evaluate("(a) => a === document.activeElement")

    # Each link leads to its field: the field gets focus and is scrolled into view.
    for field_id in ("guidance", "peer_min", "name"):
        summary.locator(f'a[href="#{field_id}"]').click()
        field = page.locator(f"#{field_id}")
        page.wait_for_function(
            "(id) => document.activeElement && document.activeElement.id === id", arg=field_id
        )
        assert field.evaluate(IN_VIEW), f"#{field_id} not scrolled into view"
        page.evaluate("window.scrollTo(0, 0)")  # back to the summary for the next link
    assert _script_errors(page) == []


def _open_self_review(page: Any, base: str) -> None:
    page.goto(f"{base}/reviews/mine")
    _click_and_load(
        page, page.get_by_role("link", name=re.compile(r"(Write|Continue) your self-review"))
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Your self-review"


def test_an_incomplete_self_review_is_refused_at_once_and_a_complete_one_confirmed_on_the_page(
    self_review_server, page
):
    base = self_review_server
    dialogs = _watch_dialogs(page)
    sign_in(page, base, "dev@example.com")
    _open_self_review(page, base)
    competencies = page.locator("fieldset.competency")
    count = competencies.count()
    assert count >= 5

    # Submit… with nothing filled in: refused with every problem, and nobody is asked.
    response = _click_and_load(page, page.get_by_role("button", name="Submit…"))
    assert response.status == 400
    summary = page.locator(".error-summary")
    assert summary.count() == 1
    assert "Not submitted yet: fix what is marked below." in summary.inner_text()
    links = summary.locator("li a")
    # every rating, and the two texts needed to submit
    assert links.count() == count + 2, summary.inner_text()
    assert summary.locator('a[href="#accomplishments"]').count() == 1
    assert summary.locator('a[href="#growth"]').count() == 1
    first_key = competencies.first.get_attribute("id")
    assert summary.locator(f'a[href="#{first_key}"]').count() == 1
    # ...and beside the fields too
    assert "is needed before submitting" in page.locator("#accomplishments-error").inner_text()
    assert page.locator("fieldset.competency.has-error").count() == count
    assert summary.evaluate(
        "(s) => !!(s.compareDocumentPosition(document.querySelector('form.part-form'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    assert page.evaluate(FOCUS_IN_SUMMARY), page.evaluate("document.activeElement.outerHTML")
    assert page.get_by_role("button", name="Submit now").count() == 0
    assert page.locator("#confirm-submit").count() == 0
    assert dialogs == []

    # Everything needed filled in: Submit… saves a draft and asks on the page.
    for i in range(count):
        competencies.nth(i).locator("input[type=radio][value='3']").check()
    page.locator("#accomplishments").fill("Led the billing migration and wrote its runbook.")
    page.locator("#growth").fill("Design reviews across teams, and mentoring a new hire.")
    response = _click_and_load(page, page.get_by_role("button", name="Submit…"))
    assert response.status == 200
    assert page.locator(".error-summary").count() == 0
    question = page.locator("#confirm-submit")
    assert "Submit now? You cannot change it afterwards." in question.inner_text()
    assert page.evaluate("document.activeElement.id") == "confirm-submit"
    assert question.evaluate(IN_VIEW)
    assert page.locator("#accomplishments").input_value().startswith("Led the billing")
    assert dialogs == []

    _click_and_load(page, page.get_by_role("button", name="Submit now"))
    assert "Submitted. Thank you." in page.inner_text("main")
    assert dialogs == []
    assert _script_errors(page) == []
    # It is submitted: the self-review is read-only now.
    page.goto(f"{base}/reviews/mine")
    assert page.get_by_role("link", name=re.compile("your self-review")).count() == 0


# --- 2. Kept input after a conflict -------------------------------------------------------

FIRST_TEXT = "Shipped the search indexer rewrite; p95 latency fell from 900 ms to 280 ms."
SECOND_TEXT = "Mentored two new engineers through their first on-call rotation."


def _signed_in_self_review(chromium: Any, base: str, *, javascript: bool) -> tuple[Any, Any]:
    context = _new_context(chromium, javascript=javascript)
    page = context.new_page()
    sign_in(page, base, "dev@example.com")
    _open_self_review(page, base)
    return context, page


def _save_in_first_tab(chromium: Any, base: str) -> None:
    context, page = _signed_in_self_review(chromium, base, javascript=True)
    try:
        page.locator("#accomplishments").fill(FIRST_TEXT)
        _click_and_load(page, page.get_by_role("button", name="Save draft"))
        assert "Draft saved." in page.inner_text("main")
        assert page.locator("#accomplishments").input_value() == FIRST_TEXT
    finally:
        context.close()


def _assert_conflict_kept_typing(page: Any, response: Any) -> None:
    assert response.status == 409
    summary = page.locator(".error-summary")
    assert "this part was saved elsewhere (another tab or device)" in summary.inner_text()
    assert "What you typed is still in the form below" in summary.inner_text()
    # This tab's own text is still in the field...
    assert page.locator("#accomplishments").input_value() == SECOND_TEXT
    # ...and what the other tab saved is listed beside it.
    saved = summary.locator("dl.saved-now > div").filter(
        has=page.locator("dt", has_text="Accomplishments this period")
    )
    assert saved.count() == 1, summary.inner_text()
    assert saved.locator("dd").inner_text() == FIRST_TEXT
    assert "Saved meanwhile" in summary.inner_text()


def _save_again_keeps_the_second_text(page: Any, base: str) -> None:
    """The refused page carries the current version: saving again is accepted."""
    _click_and_load(page, page.get_by_role("button", name="Save draft"))
    assert "Draft saved." in page.inner_text("main")
    page.goto(page.url)
    assert page.locator("#accomplishments").input_value() == SECOND_TEXT


def test_a_stale_tab_without_javascript_keeps_its_text_after_a_conflict(
    self_review_server, chromium
):
    base = self_review_server
    context, stale = _signed_in_self_review(chromium, base, javascript=False)
    try:
        _save_in_first_tab(chromium, base)  # meanwhile, another tab saves
        stale.locator("#accomplishments").fill(SECOND_TEXT)
        response = _click_and_load(stale, stale.get_by_role("button", name="Save draft"))
        _assert_conflict_kept_typing(stale, response)
        _save_again_keeps_the_second_text(stale, base)
    finally:
        context.close()


def test_a_stale_tab_with_javascript_keeps_its_text_after_a_conflict(self_review_server, chromium):
    base = self_review_server
    context, stale = _signed_in_self_review(chromium, base, javascript=True)
    stale.console_errors = []
    stale.on("pageerror", lambda e: stale.console_errors.append(str(e)))
    try:
        _save_in_first_tab(chromium, base)
        # Typing starts the autosave, which is refused as a conflict and says so.
        with stale.expect_response(lambda r: r.url.endswith("/self/autosave")) as autosave:
            stale.locator("#accomplishments").fill(SECOND_TEXT)
        assert autosave.value.status == 409
        status = stale.locator(".autosave-status")
        stale.wait_for_function(
            "() => document.querySelector('.autosave-status').textContent.includes('elsewhere')"
        )
        assert "Your changes were not saved" in status.inner_text()
        assert stale.locator("#accomplishments").input_value() == SECOND_TEXT
        # Save draft then shows the conflict in the page, the typed text still there.
        response = _click_and_load(stale, stale.get_by_role("button", name="Save draft"))
        _assert_conflict_kept_typing(stale, response)
        assert stale.evaluate(FOCUS_IN_SUMMARY)
        _save_again_keeps_the_second_text(stale, base)
        assert _script_errors(stale) == []
    finally:
        context.close()


# --- 3. My reviews for each role ----------------------------------------------------------


def _cycle_names() -> tuple[str, str]:
    """The demo's cycles (reviews.demo.load_demo_cycles): last half's, closed, and this
    half's, in peer feedback."""
    today = date.today()
    start = today - timedelta(days=200)
    return f"{start.year} H1 performance review", f"{today.year} H2 performance review"


def _assert_pdf(page: Any, url: str) -> None:
    response = page.request.get(url)
    assert response.status == 200, url
    assert response.headers["content-type"].startswith("application/pdf"), url
    assert response.body()[:5] == b"%PDF-", url


@pytest.mark.parametrize(
    ("email", "has_plan"),
    [("dev@example.com", True), ("em@example.com", True), ("hr@example.com", False)],
)
def test_my_reviews_lists_each_review_with_its_pdf_and_plan(live_server, page, email, has_plan):
    base = live_server
    closed, running = _cycle_names()
    sign_in(page, base, email)
    menu = page.get_by_role("navigation", name="Main")
    _click_and_load(page, menu.get_by_role("link", name="My reviews"))
    assert page.url == f"{base}/reviews/mine"
    assert page.get_by_role("heading", level=1).inner_text() == "My reviews"
    assert menu.get_by_role("link", name="My reviews").get_attribute("aria-current") == "page"

    items = page.locator("li.history-item")
    assert items.count() == 2
    titles = [items.nth(i).locator("h2").inner_text() for i in range(2)]
    assert titles == [running, closed]  # newest first
    current, last = items.nth(0), items.nth(1)
    assert current.locator(".badge").inner_text() == "Peer feedback"  # the running phase
    assert last.locator(".badge").inner_text() == "Closed"

    # The running review: open it, but no result, PDF or plan before release.
    assert current.get_by_role("link", name="Open the review").count() == 1
    assert "Shared with you at release" in current.inner_text()
    assert current.get_by_role("link", name="Review PDF").count() == 0
    assert current.get_by_role("link", name="Growth plan").count() == 0

    # The closed review: the review, its PDF and, when there is one, the growth plan.
    review_href = last.get_by_role("link", name="Open the review").get_attribute("href")
    match = re.fullmatch(r"/reviews/(\d+)", review_href)
    assert match, review_href
    review_id = match.group(1)
    assert last.get_by_role("link", name=closed).get_attribute("href") == review_href
    pdf_href = last.get_by_role("link", name="Review PDF").get_attribute("href")
    assert pdf_href == f"/reviews/{review_id}/summary.pdf"
    _assert_pdf(page, base + pdf_href)
    plan = last.get_by_role("link", name="Growth plan", exact=True)
    plan_pdf = last.get_by_role("link", name="Growth plan PDF")
    if has_plan:
        assert plan.get_attribute("href") == f"/reviews/{review_id}/plan"
        assert plan_pdf.get_attribute("href") == f"/reviews/{review_id}/plan.pdf"
        _assert_pdf(page, base + plan_pdf.get_attribute("href"))
    else:
        assert plan.count() == 0
        assert plan_pdf.count() == 0
    if has_plan:  # rated by their manager (HR's head has no manager: no final rating)
        assert re.search(r"Result\s*\d", last.inner_text()), last.inner_text()
    else:
        assert re.search(r"Result\s*No final rating", last.inner_text()), last.inner_text()

    # Following the link opens that review.
    _click_and_load(page, last.get_by_role("link", name="Open the review"))
    assert page.url == f"{base}/reviews/{review_id}"
    assert page.get_by_role("heading", level=1).inner_text() == "Your review"
    assert closed in page.locator(".review-head").inner_text()
    if has_plan:
        page.go_back()
        _click_and_load(
            page,
            page.locator("li.history-item")
            .nth(1)
            .get_by_role("link", name="Growth plan", exact=True),
        )
        assert page.url == f"{base}/reviews/{review_id}/plan"
        assert page.get_by_role("heading", level=1).is_visible()
    assert _script_errors(page) == []


def test_a_manager_reads_a_reports_reviews_and_the_report_cannot_read_theirs(live_server, chromium):
    base = live_server
    closed, running = _cycle_names()
    context = _new_context(chromium)
    page = context.new_page()
    try:
        sign_in(page, base, "em@example.com")
        # From the manager's own profile to a direct report's.
        _click_and_load(page, page.locator("#account-nav").get_by_role("link", name="Elena Marsh"))
        assert page.get_by_role("heading", level=1).inner_text() == "Elena Marsh"
        em_url = page.url
        _click_and_load(page, page.get_by_role("link", name="Devon Clarke").first)
        assert page.get_by_role("heading", level=1).inner_text() == "Devon Clarke"
        _click_and_load(
            page, page.locator(".page-head").get_by_role("link", name="Reviews", exact=True)
        )
        assert re.fullmatch(rf"{re.escape(base)}/people/\d+/reviews", page.url), page.url
        assert page.get_by_role("heading", level=1).inner_text() == "Reviews of Devon Clarke"
        items = page.locator("li.history-item")
        assert [items.nth(i).locator("h2").inner_text() for i in range(items.count())] == [
            running,
            closed,
        ]
        assert "manager: Elena Marsh" in items.nth(1).inner_text()
        assert items.nth(1).get_by_role("link", name="Review PDF").count() == 1
        _click_and_load(page, items.nth(1).get_by_role("link", name="Open the review"))
        assert page.get_by_role("heading", level=1).inner_text() == "Review of Devon Clarke"
        assert closed in page.locator(".review-head").inner_text()
        em_id = re.search(r"/people/(\d+)$", em_url).group(1)
    finally:
        context.close()

    context = _new_context(chromium)
    page = context.new_page()
    try:
        sign_in(page, base, "dev@example.com")
        page.goto(f"{base}/people/{em_id}")
        assert page.get_by_role("heading", level=1).inner_text() == "Elena Marsh"
        head = page.locator(".page-head")
        assert head.get_by_role("link", name="Reviews", exact=True).count() == 0
        assert head.get_by_role("link", name="My reviews").count() == 0
        response = page.goto(f"{base}/people/{em_id}/reviews")
        assert response.status == 403
        assert page.locator("li.history-item").count() == 0
        assert closed not in page.inner_text("main")
    finally:
        context.close()
