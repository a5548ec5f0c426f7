"""A live server in a thread and Debian's chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from reviews import create_app
from reviews.demo import load_demo_cycles, load_demo_org
from reviews.extensions import db

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# What these check is what Chromium shows and does (axe, layout, keyboard, print, the
# browser's time zone): they run once, in the SQLite pass, which keeps CI within its
# time. Every page's server side runs on PostgreSQL too, through the request-level
# tests (test_access over every route, test_security over every page, test_parity).
ONCE = pytest.mark.skipif(
    bool(os.environ.get("TEST_DATABASE_URL")),
    reason="browser tests run in the SQLite pass; pages are crawled on PostgreSQL by the others",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(ONCE)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it with apt-get")
        pytest.skip(
            f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` served on a free loopback port, in a thread, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()


def demo_with_launched_cycle(app: Any, name: str, peer_min: int) -> int:
    """The demo organisation with a cycle over everyone in its self-review phase; its id."""
    from datetime import date, timedelta

    from sqlalchemy import select

    from reviews.cycles import operations as cycle_ops
    from reviews.cycles.workflow import CycleState
    from reviews.people.models import Person

    with app.app_context():
        load_demo_org()
        hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
        today = date.today()
        with app.test_request_context():
            cycle = cycle_ops.create_cycle(
                hr,
                cycle_ops.CycleFields.for_everyone(
                    name,
                    today,
                    period_start=today - timedelta(days=90),
                    peer_min=peer_min,
                    peer_max=4,
                ),
            )
            cycle_ops.advance_cycle(hr, cycle, CycleState.SELF_REVIEW)
        db.session.commit()
        cycle_id = cycle.id
        db.session.remove()
    return cycle_id


@pytest.fixture
def live_server(app_config: dict[str, Any]) -> Iterator[str]:
    """The demo organisation and its two cycles, served on a free loopback port."""
    app = create_app(app_config)
    with app.app_context():
        load_demo_org()
        with app.test_request_context():
            load_demo_cycles()
        db.session.commit()
        db.session.remove()
    with serving(app) as url:
        yield url


@pytest.fixture
def self_review_server(app_config: dict[str, Any]) -> Iterator[str]:
    """The demo organisation with a cycle just launched: everyone's self-review is open."""
    app = create_app(app_config)
    demo_with_launched_cycle(app, "Browser cycle", peer_min=1)
    with serving(app) as url:
        yield url


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    yield page
    context.close()
