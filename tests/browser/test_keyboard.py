"""A self-review and a manager review written with the keyboard alone, focus always visible.

No mouse: only Tab, Shift+Tab, Enter, Space, arrow keys and typing. After
every key the focused element must show a focus ring (outline or box-shadow)
and must not be hidden behind anything (the sticky save bar, say).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from reviews import create_app
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import Cycle
from reviews.cycles.workflow import CycleState
from reviews.demo import DEMO_PASSWORD
from reviews.extensions import db
from reviews.people.models import Person

from .conftest import demo_with_launched_cycle, serving
from .crawl import sign_in

FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {ok: false, why: "nothing has focus", what: ""};
  const style = getComputedStyle(el);
  const ring = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2)
    || style.boxShadow !== "none";
  const r = el.getBoundingClientRect();
  const x = r.left + Math.min(8, r.width / 2);
  const y = Math.max(r.top, 0) + Math.min(6, r.height / 2);
  const inView = r.width > 0 && r.height > 0 && y < innerHeight && x >= 0 && x < innerWidth;
  const top = inView ? document.elementFromPoint(x, y) : null;
  const seen = !!top && (top === el || el.contains(top) || top.contains(el));
  const what = el.tagName.toLowerCase() + (el.name ? "[name=" + el.name + "]" : "")
    + (el.textContent ? " " + el.textContent.trim().slice(0, 30) : "");
  return {ok: ring && seen, why: (ring ? "" : "no focus ring ") + (seen ? "" : "hidden "),
          what, tag: el.tagName.toLowerCase(), type: el.type || "", name: el.name || "",
          href: el.getAttribute("href") || "", text: (el.textContent || "").trim(),
          value: el.value || "", checked: !!el.checked};
}"""

PAINTED = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


@pytest.fixture
def cycle_server(app_config: dict[str, Any]) -> Iterator[tuple[str, Any, int]]:
    """The demo organisation with a cycle in its self-review phase."""
    app = create_app(app_config)
    cycle_id = demo_with_launched_cycle(app, "Keyboard cycle", peer_min=0)
    with serving(app) as url:
        yield url, app, cycle_id


class Keyboard:
    def __init__(self, page: Any) -> None:
        self.page = page
        self.keys = 0

    def press(self, key: str) -> dict[str, Any]:
        self.page.keyboard.press(key)
        self.keys += 1
        return self.focus()

    def focus(self) -> dict[str, Any]:
        state = self.page.evaluate(FOCUS)
        assert state["ok"], f"focus not visible on {self.page.url}: {state['why']}{state['what']}"
        return dict(state)

    def follow(self, key: str = "Enter") -> None:
        """Press a key that loads another page (a link, a submit button)."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)
        self.keys += 1
        self.painted()

    def painted(self) -> None:
        """Wait until the loaded page has drawn a frame: until then Chromium may drop keys
        (the load event can come first on a busy machine, and a Tab pressed then left
        focus on the body in CI)."""
        self.page.evaluate(PAINTED)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def tab_to(self, wanted: Any, limit: int = 120, backwards: bool = False) -> dict[str, Any]:
        current = self.page.evaluate(FOCUS)
        if current["ok"] and wanted(current):  # e.g. a field with autofocus
            return dict(current)
        for _ in range(limit):
            state = self.press("Shift+Tab" if backwards else "Tab")
            if wanted(state):
                return state
        raise AssertionError(f"Tab never reached the wanted element on {self.page.url}")

    def start(self, url: str) -> None:
        """Open a page as if typed into the address bar; focus starts at the document."""
        self.page.goto(url)
        self.painted()


def _sign_in(keys: Keyboard, base: str, email: str) -> None:
    keys.start(f"{base}/auth/login")
    keys.tab_to(lambda s: s["name"] == "email")
    keys.type(email)
    keys.press("Tab")
    keys.type(DEMO_PASSWORD)
    keys.follow()
    assert keys.page.url == f"{base}/"


def _sign_out(keys: Keyboard) -> None:
    keys.page.keyboard.press("Home")
    keys.tab_to(lambda s: s["tag"] == "button" and s["text"] == "Sign out")
    keys.follow()


def _fill_form(keys: Keyboard, comment: str) -> None:
    """Tab through the form: rate every group 3 with Space and arrow keys, write every text,
    choose the second option of every list, then submit with Enter."""
    rated: set[str] = set()
    for _ in range(400):
        state = keys.press("Tab")
        if state["tag"] == "input" and state["type"] == "radio" and state["name"] not in rated:
            state = keys.press("Space")  # checks the focused rating of the group
            for _ in range(5):
                if state["value"] == "3":
                    break
                state = keys.press("ArrowRight" if state["value"] < "3" else "ArrowLeft")
            assert (state["checked"], state["value"]) == (True, "3"), state
            rated.add(state["name"])
        elif state["tag"] == "textarea" and not state["value"]:
            keys.type(comment)
        elif state["tag"] == "select" and not state["value"]:
            keys.press("ArrowDown")
            assert keys.focus()["value"], f"ArrowDown chose nothing in {state['name']}"
        elif state["tag"] == "button" and state["text"] == "Submit…":
            keys.follow()  # the server checks the part and asks to confirm on the page
            assert keys.page.evaluate("document.activeElement.id") == "confirm-submit"
            keys.tab_to(lambda s: s["tag"] == "button" and s["text"] == "Submit now")
            keys.follow()
            return
    raise AssertionError("Tab never reached the Submit button")


def test_self_and_manager_review_by_keyboard(cycle_server, chromium):
    base, app, cycle_id = cycle_server
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    keys = Keyboard(page)
    try:
        # The engineer: from the home page's task list to a submitted self-review.
        _sign_in(keys, base, "dev@example.com")
        keys.tab_to(lambda s: s["href"].endswith("/self"))
        keys.follow()
        assert page.get_by_role("heading", level=1).inner_text() == "Your self-review"
        _fill_form(keys, "I led the migration of the billing service and wrote its runbook.")
        assert "Submitted. Thank you." in page.inner_text("main"), page.inner_text("main")[:1500]
        assert dialogs == []  # confirmed on the page, after the server checked the part
        _sign_out(keys)

        with app.app_context():
            hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
            cycle = db.session.get(Cycle, cycle_id)
            with app.test_request_context():
                cycle_ops.advance_cycle(hr, cycle, CycleState.PEER_FEEDBACK)
                cycle_ops.advance_cycle(hr, cycle, CycleState.MANAGER_REVIEW)
            db.session.commit()
            db.session.remove()

        # The manager: from the home page to the review of Devon, written and submitted.
        _sign_in(keys, base, "em@example.com")
        keys.tab_to(lambda s: "Devon" in s["text"] and "/manager" in s["href"])
        keys.follow()
        assert "Review of Devon" in page.get_by_role("heading", level=1).inner_text()
        # Shift+Tab works as well: back to the breadcrumb and forward again.
        keys.tab_to(lambda s: s["text"] == "Your team", backwards=True)
        _fill_form(keys, "Devon ran the billing migration calmly and kept the team informed.")
        assert "Submitted. Thank you." in page.inner_text("main")
        row = page.get_by_role("row").filter(has_text="Devon Clarke").inner_text()
        cells = row.split("\t")  # person, manager, self-review, peers, manager review, ...
        assert (cells[2], cells[4]) == ("Submitted", "Submitted"), row
    finally:
        context.close()
    assert keys.keys > 50


def test_saving_while_an_autosave_is_in_flight_is_not_a_conflict(cycle_server, chromium):
    """The draft autosave answers slowly; Save draft pressed meanwhile waits for it.

    Without waiting, the post would carry the version the autosave just replaced
    and be refused as a conflict with the writer's own draft.
    """
    import time

    base, app, _cycle_id = cycle_server
    inner = app.wsgi_app

    def slow_autosave_answers(environ: Any, start_response: Any) -> Any:
        answer = inner(environ, start_response)  # saved and committed by now
        if environ["PATH_INFO"].endswith("/self/autosave"):
            time.sleep(1.0)
        return answer

    app.wsgi_app = slow_autosave_answers
    context = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        keys = Keyboard(page)
        sign_in(page, base, "dev@example.com")
        page.locator("a[href$='/self']").first.click()
        page.wait_for_url("**/self")
        keys.tab_to(lambda s: s["tag"] == "textarea")
        with page.expect_request("**/self/autosave"):
            keys.type("I wrote the runbook for the billing service.")
        keys.tab_to(lambda s: s["tag"] == "button" and s["text"] == "Save draft")
        keys.follow()
        main = page.inner_text("main")
        assert "Draft saved." in main, main[:800]
        assert page.locator("textarea").first.input_value().startswith("I wrote the runbook")
    finally:
        context.close()
