"""Each demo account signs in through a real browser and lands on its own home page."""

from __future__ import annotations

import pytest

from reviews.demo import DEMO_PASSWORD


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/")
    assert "/auth/login" in page.url
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


@pytest.mark.parametrize(
    ("email", "greeting", "section"),
    [
        ("hr@example.com", "Hello, Hannah", "Your tasks as HR admin"),
        ("em@example.com", "Hello, Elena", "Your team"),
        ("dev@example.com", "Hello, Devon", "Where you are on the ladder"),
    ],
)
def test_demo_account_sees_its_home(live_server, page, tmp_path, email, greeting, section):
    sign_in(page, live_server, email)
    assert page.get_by_role("heading", level=1).inner_text() == greeting
    assert page.get_by_role("heading", name=section).is_visible()
    page.screenshot(path=str(tmp_path / f"home-{email.split('@')[0]}.png"), full_page=True)
    assert page.console_errors == []


def test_wrong_password_shows_the_error_beside_the_field(live_server, page):
    page.goto(f"{live_server}/auth/login")
    page.get_by_label("Email").fill("dev@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    error = page.locator("#password-error")
    assert error.inner_text() == "The email or the password is wrong."
    assert page.get_by_label("Password").get_attribute("aria-invalid") == "true"


def test_manager_opens_a_report_from_the_org_chart(live_server, page):
    sign_in(page, live_server, "em@example.com")
    page.get_by_role("link", name="Org chart").click()
    page.get_by_role("link", name="Amara Okafor").click()
    page.locator("main").get_by_role("link", name="Elena Marsh").click()
    assert "7 direct reports" in page.inner_text("main")
    page.get_by_role("link", name="Devon Clarke").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Devon Clarke"
    assert page.console_errors == []
