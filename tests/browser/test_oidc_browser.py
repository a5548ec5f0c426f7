"""Single sign-on through a real browser: Reviews -> the OpenID Provider's sign-in form ->
back to Reviews, signed in (the npm oidc-provider on loopback, tests/oidc/provider.mjs)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from reviews import create_app
from reviews.demo import load_demo_org
from reviews.extensions import db
from tests.oidc_peer import NAME, free_port, running_provider


@pytest.fixture
def sso_server(app_config: dict[str, Any], tmp_path: Any) -> Iterator[tuple[str, Any]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running_provider(tmp_path, [f"{base}/auth/sso/{NAME}/callback"]) as peer:
        app = create_app({**app_config, "SSO_PROVIDERS": [peer.provider()]})
        with app.app_context():
            load_demo_org()
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", port, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield base, peer
        finally:
            server.shutdown()
            thread.join(5)
            with app.app_context():
                db.engine.dispose()


def test_a_person_signs_in_with_the_identity_provider(sso_server, page, tmp_path) -> None:
    base, _peer = sso_server
    page.goto(f"{base}/reviews/mine")
    assert "/auth/login" in page.url
    page.get_by_role("link", name="Sign in with Test OP").click()
    # The provider's own sign-in form (any password: its development interactions).
    page.locator("input[name=login]").fill("dev@example.com")
    page.locator("input[name=password]").fill("whatever")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/reviews/mine")
    assert page.get_by_role("heading", level=1).inner_text() == "My reviews"
    page.screenshot(path=str(tmp_path / "after-sso.png"), full_page=True)
    # The provider's own page asked for a web font and a favicon it cannot reach
    # here; Reviews' pages, loaded afresh, log nothing.
    page.console_errors.clear()
    page.reload()
    assert page.get_by_role("heading", level=1).inner_text() == "My reviews"
    assert page.console_errors == []


def test_an_unknown_person_sees_why_they_are_not_signed_in(sso_server, page) -> None:
    base, _peer = sso_server
    page.goto(f"{base}/auth/login")
    page.get_by_role("link", name="Sign in with Test OP").click()
    page.locator("input[name=login]").fill("stranger@example.com")
    page.locator("input[name=password]").fill("whatever")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/auth/sso/{NAME}/callback*")
    assert page.get_by_role("heading", level=1).inner_text() == "You are not signed in"
    assert "There is no account for your email address" in page.get_by_role("alert").inner_text()
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_url(f"{base}/auth/login")
