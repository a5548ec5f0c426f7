"""The menu on a phone (issue 20): folded behind a Menu button at 375 px, open at
1280 px, and open without JavaScript."""

from __future__ import annotations

from browser.test_signin import sign_in


def test_the_menu_folds_on_a_phone_and_opens_with_the_button(live_server, chromium):
    context = chromium.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    try:
        sign_in(page, live_server, "hr@example.com")
        menu = page.get_by_role("button", name="Menu")
        nav = page.get_by_role("navigation", name="Main")
        assert menu.is_visible()
        assert menu.get_attribute("aria-expanded") == "false"
        assert not nav.is_visible()
        assert not page.get_by_role("button", name="Sign out").is_visible()
        # Folded, HR's eleven links no longer push the page down: the h1 is near the top.
        assert page.get_by_role("heading", level=1).bounding_box()["y"] < 120
        menu.click()
        assert menu.get_attribute("aria-expanded") == "true"
        assert nav.get_by_role("link", name="Audit log").is_visible()
        assert page.get_by_role("button", name="Sign out").is_visible()
        nav.get_by_role("link", name="My reviews").click()
        assert page.get_by_role("heading", level=1).inner_text() == "My reviews"
        menu = page.get_by_role("button", name="Menu")
        assert menu.get_attribute("aria-expanded") == "false"  # folded again on a new page
        menu.focus()
        page.keyboard.press("Enter")
        assert nav.is_visible()
        page.keyboard.press("Escape")
        assert not nav.is_visible()
        assert page.evaluate("document.activeElement.textContent") == "Menu"
    finally:
        context.close()


def test_the_menu_is_open_on_a_desktop_and_without_javascript(live_server, chromium):
    for options in (
        {"viewport": {"width": 1280, "height": 800}},
        {"viewport": {"width": 375, "height": 800}, "java_script_enabled": False},
    ):
        context = chromium.new_context(**options)
        page = context.new_page()
        try:
            sign_in(page, live_server, "hr@example.com")
            assert not page.get_by_role("button", name="Menu").is_visible()
            nav = page.get_by_role("navigation", name="Main")
            assert nav.get_by_role("link", name="Audit log").is_visible()
        finally:
            context.close()
