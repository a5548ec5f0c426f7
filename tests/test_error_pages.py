"""Every error a person can meet is the app's own page, in plain words, with a way back."""

from __future__ import annotations

import pytest
from conftest import csrf_token, sign_in
from flask import abort

from reviews import access
from reviews.people.models import Role


@pytest.fixture
def failing_routes(app):
    """Routes that fail the ways the app's code or its rate limits can (only in this test)."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer like production, not raise into pytest

    @access.public
    def conflict():
        abort(409)

    @access.public
    def too_many():
        abort(429)

    @access.public
    def crash():
        raise RuntimeError("boom")

    app.add_url_rule("/test-409", "test_409", conflict)
    app.add_url_rule("/test-429", "test_429", too_many)
    app.add_url_rule("/test-500", "test_500", crash)
    return app


def _page(response) -> str:
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert f"Error {response.status_code}" in body
    assert 'class="topbar"' in body  # the app's layout, not the server's bare page
    return body


@pytest.mark.parametrize(
    ("code", "path", "title"),
    [
        (400, "/people?q=%00", "Bad request"),
        (404, "/no-such-page", "Not found"),
        (409, "/test-409", "Conflict"),
        (429, "/test-429", "Too many requests"),
        (500, "/test-500", "Something went wrong"),
    ],
)
def test_error_pages_are_the_apps_own(failing_routes, client, make_person, code, path, title):
    make_person(email="dev@example.com")
    assert sign_in(client, "dev@example.com").status_code == 302
    response = client.get(path)
    assert response.status_code == code
    if code == 429:
        assert response.headers["Retry-After"] == "60"  # every 429 says when to come back
    body = _page(response)
    assert f"<title>{title} · Reviews</title>" in body
    assert 'href="/">Go to your home page</a>' in body
    assert "Traceback" not in body
    assert "boom" not in body


def test_forbidden_page_says_whom_to_ask(client, make_person):
    make_person(email="dev@example.com")
    sign_in(client, "dev@example.com")
    response = client.get("/cycles")  # HR only
    assert response.status_code == 403
    body = _page(response)
    assert "ask HR" in body


def test_too_large_upload_gets_the_apps_page(client, make_person):
    make_person(email="hr@example.com", role=Role.HR, level_key=None)
    sign_in(client, "hr@example.com")
    token = csrf_token(client, "/people/import")
    response = client.post(
        "/people/import",
        data={"csrf_token": token, "padding": "x" * (6 << 20)},
    )
    assert response.status_code == 413
    assert "larger than Reviews accepts" in _page(response)


def test_the_way_back_returns_to_the_previous_page_of_this_site(client, make_person):
    make_person(email="dev@example.com")
    sign_in(client, "dev@example.com")
    here = client.get("/no-such-page", headers={"Referer": "http://localhost/people"})
    assert 'href="http://localhost/people">Back to the previous page' in _page(here)
    elsewhere = client.get("/no-such-page", headers={"Referer": "https://evil.example/"})
    assert "Back to the previous page" not in _page(elsewhere)


def test_signed_out_visitor_gets_the_same_page(client):
    body = _page(client.get("/no-such-page"))
    assert 'href="/">Go to your home page</a>' in body  # which asks them to sign in
    assert "Sign out" not in body


def test_an_error_page_renders_even_when_the_database_is_down(failing_routes, client, monkeypatch):
    from reviews import web

    def broken(*args, **kwargs):
        raise RuntimeError("database unreachable")

    monkeypatch.setattr(web, "render_template", broken)
    response = client.get("/test-500")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert 'href="/">Go to your home page' in body
