"""Every page the three demo accounts reach passes axe-core and fits a phone and a desktop.

Each also has a title of its own and one h1, and its destructive buttons ask
for confirmation.

No serious or critical axe violation (WCAG 2.2 A and AA rules), and at 375 px
and 1280 px nothing sticks out sideways: a wide table may scroll inside its
own box, the page itself never does.

Where axe runs, on every crawled page, the 404 page and the sign-in page:
- 1280 px and 375 px, light: every rule of the WCAG tags. The two widths are
  two layouts (a folded menu and its button, tables that stack or scroll in
  their own box, charts with larger text), so each gets the whole set.
- 1280 px and 375 px, dark (prefers-color-scheme): only the rules that read
  colours, color-contrast and link-in-text-block. The dark theme changes
  nothing but app.css's colour variables, so the other rules would find what
  the light runs found. (A full run costs about 0.18 s a page here, these two
  rules about 0.1 s: over the ~170 pages of the three accounts this keeps the
  test about a minute shorter than four full runs.)

axe-core comes from the npm registry (.ci/run installs it into node_modules/);
it is injected from disk, never from a CDN. The page's CSP forbids injected
scripts, so the browser context bypasses CSP for this test only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .crawl import ACCOUNTS, crawl, sign_in

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (1280, 375)
EVERY_RULE = {"runOnly": {"type": "tag", "values": TAGS}}
COLOUR_RULES = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || (r.right <= width + 1 && r.left >= -1)) continue;
    if (el.closest(".visually-hidden, .skip-link")) continue;
    let clipped = false;  // inside a box that scrolls or clips: that box is checked itself
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") { clipped = true; break; }
    }
    if (!clipped) {
      out.push(el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
        + " [" + Math.round(r.left) + ", " + Math.round(r.right) + "]");
    }
  }
  if (document.documentElement.scrollWidth > width) out.unshift("the page scrolls sideways");
  return out.slice(0, 8);
}"""
# A destructive button (class "danger") asks first: on itself or on its form.
UNCONFIRMED = """() => [...document.querySelectorAll("button.danger, input.danger")]
  .filter(b => !b.dataset.confirmSubmit && !(b.form && b.form.dataset.confirm))
  .map(b => b.textContent.trim() || b.value)"""
# Where am I: a page title of its own and one main heading.
STRUCTURE = """() => {
  const problems = [];
  const title = document.title;
  if (!/^\\S.* · Reviews$/.test(title)) problems.push("title " + JSON.stringify(title));
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) problems.push(h1 + " h1 headings");
  return problems;
}"""
RUN_AXE = """async (options) => {
  const result = await axe.run(document, options);
  return result.violations
    .filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE} is missing: npm install --no-save axe-core@4 (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


def _at_both_widths(page, axe_source: str) -> list[str]:
    """axe and the sideways check at each width in light, then axe's colour rules in dark."""
    page.add_script_tag(content=axe_source)
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        problems += [f"at {width}px: {found}" for found in page.evaluate(OVERFLOW)]
        problems += [f"at {width}px: {v}" for v in page.evaluate(RUN_AXE, EVERY_RULE)]
        page.emulate_media(color_scheme="dark")
        try:
            problems += [f"at {width}px, dark: {v}" for v in page.evaluate(RUN_AXE, COLOUR_RULES)]
        finally:
            page.emulate_media(color_scheme="light")
    page.set_viewport_size({"width": 1280, "height": 900})
    return problems


# Python or JavaScript leaking into what people read: a None, an undefined, a NaN, an
# unformatted timestamp, a template tag. ("None: write my own" is a real option.)
LEAK = re.compile(r"\bNone\b(?!:)|\bundefined\b|\bNaN\b|\d{4}-\d\d-\d\dT\d\d:\d\d|\{\{ |\{%")


def _leaks(page) -> list[str]:
    text = page.inner_text("body")
    return [repr(text[max(0, m.start() - 40) : m.end() + 20]) for m in LEAK.finditer(text)]


@pytest.mark.parametrize("email", ACCOUNTS)
def test_every_reachable_page_passes_axe_and_fits(live_server, chromium, axe_source, email):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, live_server, email)
        problems = []
        pages = 0
        for path in crawl(page, live_server):
            pages += 1
            problems += [f"{path}: {b!r} does not ask" for b in page.evaluate(UNCONFIRMED)]
            problems += [f"{path}: {found}" for found in page.evaluate(STRUCTURE)]
            problems += [f"{path} shows {found}" for found in _leaks(page)]  # at 1280 px
            problems += [f"{path} {found}" for found in _at_both_widths(page, axe_source)]
        # The error pages are the app's own too.
        page.goto(f"{live_server}/no-such-page")
        problems += [f"404 page {found}" for found in _at_both_widths(page, axe_source)]
    finally:
        context.close()
    assert pages >= 10, f"the crawl found only {pages} pages for {email}"
    assert problems == [], "\n".join(problems)


def test_the_sign_in_page_passes_axe(live_server, chromium, axe_source):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/auth/login")
        assert _at_both_widths(page, axe_source) == []
        page.fill("input[name=email]", "dev@example.com")
        page.click("button[type=submit]")  # an error beside the field
        assert _at_both_widths(page, axe_source) == []
    finally:
        context.close()
