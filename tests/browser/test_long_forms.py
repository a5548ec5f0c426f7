"""A long review form (issue 20): section navigation at the top and "N of 11 rated" kept
current as ratings are chosen."""

from __future__ import annotations

import re

from browser.test_signin import sign_in


def test_the_self_review_shows_its_sections_and_progress(self_review_server, page, tmp_path):
    sign_in(page, self_review_server, "dev@example.com")
    page.locator("a[href$='/self']").first.click()
    page.wait_for_url("**/self")
    nav = page.get_by_role("navigation", name="Sections of this form")
    links = nav.get_by_role("link").all_inner_texts()
    assert links == ["Skills", "Responsibilities", "Looking back and ahead"]
    total = page.locator(".rated-progress")
    assert re.fullmatch(r"0 of \d+ rated", total.inner_text())
    count = int(total.inner_text().split(" of ")[1].split()[0])
    first = page.locator("fieldset.competency").first
    first.locator("input[type=radio][value='3']").check()
    assert total.inner_text() == f"1 of {count} rated"
    assert "Skills 1 of 5" in nav.inner_text()  # the group's own count moved
    assert f"1 of {count} competencies rated" in nav.inner_text()
    page.locator("fieldset.competency").nth(1).locator("input[type=radio][value='4']").check()
    assert total.inner_text() == f"2 of {count} rated"
    nav.get_by_role("link", name="Responsibilities").click()
    assert page.url.endswith("#group-2")
    page.screenshot(path=str(tmp_path / "self-review.png"), full_page=False)
    assert page.console_errors == []
