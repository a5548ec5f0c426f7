"""The people picker in Chromium: a combobox of names and emails as you type, and,
without JavaScript, a plain field that takes a name or an email (issue 20)."""

from __future__ import annotations

import re

from browser.test_signin import sign_in


def _nominations_url(page, base: str) -> str:
    page.goto(f"{base}/reviews/mine")
    href = page.get_by_role("link", name="Open the review").first.get_attribute("href")
    review_id = re.search(r"/reviews/(\d+)", href).group(1)
    return f"{base}/reviews/{review_id}/nominations"


def test_the_combobox_suggests_names_and_chooses_with_the_keyboard(self_review_server, page):
    sign_in(page, self_review_server, "dev@example.com")
    page.goto(_nominations_url(page, self_review_server))
    field = page.get_by_role("combobox", name="Colleague")
    assert field.get_attribute("aria-expanded") == "false"
    field.press_sequentially("amara", delay=30)
    option = page.get_by_role("option", name=re.compile("Amara Okafor"))
    option.wait_for()
    assert field.get_attribute("aria-expanded") == "true"
    assert "amara" in option.inner_text().lower()  # the email beside the name
    field.press("ArrowDown")
    assert option.get_attribute("aria-selected") == "true"
    assert field.get_attribute("aria-activedescendant") == option.get_attribute("id")
    field.press("Enter")  # chooses; does not submit
    assert re.fullmatch(r"[^@\s]+@example\.com", field.input_value())
    assert field.get_attribute("aria-expanded") == "false"
    page.get_by_role("button", name="Nominate").click()
    assert "Nominations updated." in page.inner_text("main")
    assert page.get_by_role("cell", name=re.compile("^Amara Okafor")).is_visible()
    # Escape closes the list and leaves what was typed.
    field = page.get_by_role("combobox", name="Colleague")
    field.press_sequentially("ar", delay=30)
    page.get_by_role("listbox").wait_for()
    field.press("Escape")
    assert page.get_by_role("listbox").is_hidden()
    assert field.input_value() == "ar"
    assert page.console_errors == []


def test_without_javascript_a_name_or_an_email_is_typed(self_review_server, chromium):
    context = chromium.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    try:
        sign_in(page, self_review_server, "dev@example.com")
        page.goto(_nominations_url(page, self_review_server))
        field = page.get_by_label("Colleague")
        assert field.get_attribute("role") is None  # a plain text field
        field.fill("Nobody Here")
        page.get_by_role("button", name="Nominate").click()
        error = page.locator("#email-error")
        assert "Nobody is called or has the email Nobody Here." in error.inner_text()
        page.get_by_label("Colleague").fill("amara okafor")  # a full name, any case
        page.get_by_role("button", name="Nominate").click()
        assert "Nominations updated." in page.inner_text("main")
        assert page.get_by_role("cell", name=re.compile("^Amara Okafor")).is_visible()
    finally:
        context.close()


def test_a_cycles_list_of_people_is_filled_from_the_picker(live_server, page):
    sign_in(page, live_server, "hr@example.com")
    page.goto(f"{live_server}/cycles/new")
    page.get_by_label("A list of people").check()
    adder = page.get_by_role("combobox", name="Add a person to the list")
    area = page.get_by_label("People (one per line: a full name or an email)")
    area.fill("Devon Clarke\n")
    for typed in ("amara", "amara"):  # the second choice of the same person adds nothing
        adder.press_sequentially(typed, delay=30)
        page.get_by_role("option", name=re.compile("Amara Okafor")).wait_for()
        adder.press("ArrowDown")
        adder.press("Enter")
        assert adder.input_value() == ""
    lines = area.input_value().split()
    assert lines[0:2] == ["Devon", "Clarke"]
    assert len([line for line in area.input_value().splitlines() if "@" in line]) == 1
    assert page.console_errors == []
