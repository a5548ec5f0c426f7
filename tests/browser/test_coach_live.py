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


def test_a_german_writer_gets_german_advice_as_they_type(self_review_server, chromium):
    """In a German browser the coach reads German text with its German lexicon: the label
    in the page's language, the explanation from the German lexicon."""
    import os

    from reviews import create_app
    from reviews.demo import DEMO_PASSWORD
    from reviews.languages import force_locale, gettext

    app = create_app(
        {"REVIEWS_ENV": "testing", "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )

    def de(text: str) -> str:
        with app.test_request_context(), force_locale("de"):
            return str(gettext(text))

    base = self_review_server
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900},
        locale="de-DE",
        extra_http_headers={"Accept-Language": "de"},
    )
    try:
        page = context.new_page()
        page.goto(f"{base}/auth/login")
        page.get_by_label(de("Email")).fill("dev@example.com")
        page.get_by_label(de("Password")).fill(DEMO_PASSWORD)
        page.get_by_role("button", name=de("Sign in")).click()
        page.wait_for_url(f"{base}/")
        page.get_by_role("link", name=de("Write your self-review")).click()
        page.wait_for_url("**/self")
        box = page.get_by_label(de("Accomplishments this period"))
        box.fill("Sie ist in Meetings oft sehr emotional. Gute Arbeit, immer ein Teamplayer.")
        coach = page.locator("#coach-accomplishments")
        coach.locator("li").first.wait_for(timeout=10_000)
        page.wait_for_function("document.querySelectorAll('#coach-accomplishments li').length >= 3")
        text = coach.inner_text()
        assert de("Personality, not behaviour") in text
        assert de("Vague") in text
        assert "Beschreiben Sie" in text  # the German lexicon's suggestion
        assert "„emotional“" in text  # quoted as German quotes
        if os.environ.get("COACH_SHOT"):
            box.scroll_into_view_if_needed()
            page.screenshot(path=os.environ["COACH_SHOT"])
    finally:
        context.close()
