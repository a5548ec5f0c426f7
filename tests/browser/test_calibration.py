"""The calibration page in a real browser: the chart and the 9-box render."""

from __future__ import annotations

from browser.test_signin import sign_in


def test_calibration_page_renders_chart_and_grid(live_server, page, tmp_path):
    sign_in(page, live_server, "hr@example.com")
    page.get_by_role("link", name="Cycles").click()
    page.get_by_role("link", name="H1 performance review").click()
    page.get_by_role("link", name="Calibration sessions").click()
    page.get_by_role("link", name="Platform").click()
    chart = page.locator("#distribution svg")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box["width"] > 300
    assert box["height"] > 100
    assert page.locator("#distribution svg rect.bar").count() == 5
    assert "against the guidance" in chart.locator("#dist-title").text_content()
    grid = page.locator("#ninebox")
    assert grid.is_visible()
    assert grid.locator("td.box").count() == 9
    placed = grid.locator("td.box li").count()
    rows = page.locator("tr[id^=row-]").count()
    assert placed == rows > 0  # everyone with a final rating and potential is in a box
    assert page.get_by_role("heading", name="Rater leniency").is_visible()
    # At 1280 px the figures up to Final stay in view beside long evidence flags, which wrap.
    people = page.get_by_role("region", name="People in this session").bounding_box()
    final = page.locator(".calibration-table thead th", has_text="Final").bounding_box()
    assert page.locator(".calibration-table .evidence-flag").count() > 0
    assert final["x"] + final["width"] <= people["x"] + people["width"], (final, people)
    page.screenshot(path=str(tmp_path / "calibration.png"), full_page=True)
    assert page.console_errors == []
    # A name in the grid opens the person's calibration page.
    grid.locator("td.box li a").first.click()
    assert page.get_by_role("heading", name="Ledger for", exact=False).is_visible()
