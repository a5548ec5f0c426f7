"""Sign-in, sign-out, passwords, password links, CSRF, redirects and security headers."""

from __future__ import annotations

import re
import stat
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from conftest import PASSWORD, PRODUCTION_SECRET, csrf_token, post, sign_in, stamp_latest_migration
from sqlalchemy import func, select, update

from reviews import create_app
from reviews.auth.models import LinkPurpose, LoginFailure, PasswordLink
from reviews.config import ConfigError, build_config
from reviews.db import utcnow
from reviews.extensions import db
from reviews.people.models import Person, Role

WRONG = "The email or the password is wrong."
FIELD = re.compile(r'<div class="field[^"]*">(.*?)</div>', re.S)
LINK = re.compile(r'<input[^>]*id="link"[^>]*value="([^"]+)"')


def field_error(html: str, field_id: str) -> str | None:
    """The error shown inside the field block of `field_id` (None when it has none)."""
    for block in FIELD.findall(html):
        if f'id="{field_id}"' in block:
            found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', block, re.S)
            if found is None:
                return None
            # The input points at its error for screen readers.
            assert re.search(rf'aria-describedby="[^"]*{field_id}-error', block), block
            assert 'aria-invalid="true"' in block, block
            return unescape(found.group(1))
    raise AssertionError(f"no field {field_id!r} on the page")


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def signed_in_client(app, person, password: str = PASSWORD):
    """A separate browser, signed in as `person`, with its CSRF token at hand."""
    client = app.test_client()
    response = sign_in(client, person.email, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = csrf_token(client, "/")
    return client


def is_signed_in(client) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def assert_on_site(location: str) -> None:
    assert location.startswith("/"), location
    assert not location.startswith("//"), location
    assert "\\" not in location, location
    parts = urlsplit(location)
    assert not parts.scheme, location
    assert not parts.netloc, location


def failures_for(email: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email)
    )


# --- signing in -------------------------------------------------------------------------


def test_sign_in_redirects_home_and_signs_in(client, make_person):
    ada = make_person("Ada Lovelace", email="ada@example.com")
    response = sign_in(client, "ada@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "Hello, Ada" in text(page)
    assert ada.name in text(page)


def test_sign_in_ignores_case_and_spaces_in_the_email(client, make_person):
    make_person(email="ada@example.com")
    assert sign_in(client, "  ADA@Example.com ").status_code == 302


def test_wrong_password_is_refused_beside_the_password_field(client, make_person):
    make_person(email="ada@example.com")
    response = sign_in(client, "ada@example.com", "not the password")
    assert response.status_code == 401
    html = text(response)
    error = field_error(html, "password")
    assert error == WRONG
    assert "wrong" in error
    assert "not the password" not in html  # the typed password is never echoed back
    assert 'value="ada@example.com"' in html  # the email is kept for the next try
    assert not is_signed_in(client)
    assert failures_for("ada@example.com") == 1


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(client, make_person):
    make_person(email="ada@example.com")
    wrong_password = sign_in(client, "ada@example.com", "not the password")
    unknown = sign_in(client, "nobody@example.com", "not the password")
    assert unknown.status_code == wrong_password.status_code == 401
    assert field_error(text(unknown), "password") == WRONG
    assert field_error(text(unknown), "email") is None
    assert field_error(text(wrong_password), "email") is None
    assert not is_signed_in(client)


@pytest.mark.parametrize("kind", ["deactivated", "no password"])
def test_deactivated_people_and_people_without_password_cannot_sign_in(client, make_person, kind):
    if kind == "deactivated":
        make_person(email="gone@example.com", active=False)
    else:
        make_person(email="gone@example.com", password=False)
    response = sign_in(client, "gone@example.com")
    assert response.status_code == 401
    assert field_error(text(response), "password") == WRONG
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "", "password": ""},
        {"email": "ada@example.com"},
        {"email": "a" * 5000 + "@example.com", "password": PASSWORD},
        {"email": "ada@example.com", "password": "x" * 5000},
        {"email": "ada\x00@example.com", "password": PASSWORD},
        {"email": "ada@example.com", "password": "\x00" * 20},
        {"email": "ada@example.com'--", "password": "' OR 1=1 --"},
    ],
    ids=[
        "empty",
        "blank",
        "no-password",
        "long-email",
        "long-password",
        "nul-email",
        "nul-password",
        "injection",
    ],
)
def test_malformed_sign_in_is_refused_without_a_server_error(client, make_person, data):
    make_person(email="ada@example.com")
    token = csrf_token(client)
    response = client.post("/auth/login", data={**data, "csrf_token": token})
    assert response.status_code in (400, 401), response.status_code
    assert not is_signed_in(client)


def test_get_on_the_sign_in_page_when_signed_in_goes_home(make_person, login_as):
    client = login_as(make_person())
    response = client.get("/auth/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- throttling -------------------------------------------------------------------------


def test_five_wrong_passwords_block_even_the_right_one(client, make_person):
    make_person(email="ada@example.com")
    make_person(email="bob@example.com")
    for _ in range(5):
        assert sign_in(client, "ada@example.com", "guess guess guess").status_code == 401
    response = sign_in(client, "ada@example.com", PASSWORD)
    assert response.status_code == 429
    assert 14 * 60 <= int(response.headers["Retry-After"]) <= 15 * 60
    html = text(response)
    assert "Too many failed sign-ins" in html
    assert re.search(r"Try again in about 1[45] minutes", html), html
    assert not is_signed_in(client)
    # The same account spelt differently is the same account.
    assert sign_in(client, " ADA@EXAMPLE.COM", PASSWORD).status_code == 429
    # Blocked tries do not add up further (no endless lock-out by the attacker's retries).
    assert failures_for("ada@example.com") == 5
    # Someone else signing in from the same address is not blocked.
    assert sign_in(client, "bob@example.com", PASSWORD).status_code == 302


def test_unknown_emails_are_throttled_like_known_ones(client):
    for _ in range(5):
        assert sign_in(client, "ghost@example.com", "guess guess guess").status_code == 401
    assert sign_in(client, "ghost@example.com", "guess guess guess").status_code == 429


def test_the_block_lifts_when_the_failures_leave_the_window(client, make_person):
    make_person(email="ada@example.com")
    for _ in range(5):
        sign_in(client, "ada@example.com", "guess guess guess")
    assert sign_in(client, "ada@example.com", PASSWORD).status_code == 429
    db.session.execute(
        update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    assert sign_in(client, "ada@example.com", PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client, make_person):
    make_person(email="ada@example.com")
    for _ in range(4):
        assert sign_in(client, "ada@example.com", "guess guess guess").status_code == 401
    assert sign_in(client, "ada@example.com", PASSWORD).status_code == 302
    assert failures_for("ada@example.com") == 0
    client.csrf = csrf_token(client, "/")
    post(client, "/auth/logout")
    for _ in range(4):
        assert sign_in(client, "ada@example.com", "guess guess guess").status_code == 401
    assert sign_in(client, "ada@example.com", PASSWORD).status_code == 302


def test_many_failures_from_one_address_block_that_address(app, make_person):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 4
    people = [make_person(email=f"p{i}@example.com") for i in range(5)]
    attacker = app.test_client()
    for person in people[:4]:
        assert sign_in(attacker, person.email, "guess guess guess").status_code == 401
    assert sign_in(attacker, people[4].email, PASSWORD).status_code == 429
    # The same person from another address signs in.
    other = app.test_client()
    token = csrf_token(other)
    response = other.post(
        "/auth/login",
        data={"email": people[4].email, "password": PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert response.status_code == 302


# --- redirects after sign-in ------------------------------------------------------------

BAD_NEXT = [
    "https://evil.example",
    "http://evil.example/people",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "http:/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/\r\nLocation: https://evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "evil.example",
    "@evil.example",
]


@pytest.mark.parametrize("target", BAD_NEXT)
def test_next_cannot_send_anyone_to_another_site(client, make_person, target):
    make_person(email="ada@example.com")
    page = client.get("/auth/login", query_string={"next": target})
    assert page.status_code == 200
    token = csrf_token(client)
    response = client.post(
        "/auth/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "next": target,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert_on_site(location)
    if not target.startswith("/%"):
        assert location == "/"
    # Already signed in: the sign-in page redirects at once, just as safely.
    again = client.get("/auth/login", query_string={"next": target})
    assert again.status_code == 302
    assert_on_site(again.headers["Location"])


def test_next_on_this_site_is_honoured(client, make_person):
    make_person(email="ada@example.com")
    page = client.get("/auth/login?next=%2Fpeople%3Fq%3Dada")
    assert 'name="next"' in page.get_data(as_text=True)
    token = csrf_token(client, "/auth/login?next=%2Fpeople%3Fq%3Dada")
    response = client.post(
        "/auth/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "next": "/people?q=ada",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/people?q=ada"


def test_anonymous_visitors_are_sent_to_sign_in_with_next(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"  # home is where sign-in leads anyway
    people = client.get("/people")
    assert people.status_code == 302
    assert people.headers["Location"] == "/auth/login?next=%2Fpeople"


# --- CSRF -------------------------------------------------------------------------------


def test_sign_in_without_csrf_token_is_refused(client, make_person):
    make_person(email="ada@example.com")
    response = client.post("/auth/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in text(response)
    assert not is_signed_in(client)


def test_sign_in_with_a_token_from_another_session_is_refused(app, client, make_person):
    make_person(email="ada@example.com")
    foreign = csrf_token(app.test_client())
    client.get("/auth/login")
    response = client.post(
        "/auth/login",
        data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": foreign},
    )
    assert response.status_code == 400
    assert not is_signed_in(client)


def test_sign_out_without_csrf_token_is_refused(make_person, login_as):
    client = login_as(make_person())
    assert client.post("/auth/logout").status_code == 400
    assert client.post("/auth/logout", data={"csrf_token": "forged"}).status_code == 400
    assert is_signed_in(client)
    assert client.get("/auth/logout").status_code == 405  # no sign-out by a mere link


def test_password_change_without_csrf_token_is_refused(make_person, login_as):
    ada = make_person(email="ada@example.com")
    before = ada.password_hash
    client = login_as(ada)
    response = client.post(
        "/auth/password",
        data={
            "current": PASSWORD,
            "password": "a brand new phrase",
            "confirm": "a brand new phrase",
        },
    )
    assert response.status_code == 400
    db.session.refresh(ada)
    assert ada.password_hash == before


def test_hr_forms_without_csrf_token_are_refused(make_person, login_as):
    hr = make_person("Hanna HR", role=Role.HR)
    target = make_person("Tom Target")
    client = login_as(hr)
    count = db.session.scalar(select(func.count()).select_from(Person))
    response = client.post(
        "/people/new", data={"name": "Eve", "email": "eve@example.com", "role": "employee"}
    )
    assert response.status_code == 400
    assert client.post(f"/people/{target.id}/deactivate").status_code == 400
    assert client.post(f"/people/{target.id}/password-link").status_code == 400
    assert (
        client.post(
            f"/people/{target.id}/edit",
            data={"name": "Renamed", "email": target.email, "role": "employee"},
        ).status_code
        == 400
    )
    assert db.session.scalar(select(func.count()).select_from(Person)) == count
    db.session.refresh(target)
    assert target.active
    assert target.name == "Tom Target"
    assert db.session.scalar(select(func.count()).select_from(PasswordLink)) == 0


# --- signing out ------------------------------------------------------------------------


def test_sign_out_kills_every_copy_of_the_session_cookie(app, make_person, login_as):
    client = login_as(make_person())
    cookie = client.get_cookie("session")
    assert cookie is not None
    stolen = app.test_client()
    stolen.set_cookie("session", cookie.value)
    assert is_signed_in(stolen)  # the copy works while the session lives

    response = post(client, "/auth/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert "You are signed out." in text(client.get("/auth/login"))
    assert not is_signed_in(client)

    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    response = replay.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert not is_signed_in(stolen)


# --- changing one's password ------------------------------------------------------------


def change(client, current: str, new: str, confirm: str | None = None):
    return post(
        client,
        "/auth/password",
        {"current": current, "password": new, "confirm": new if confirm is None else confirm},
    )


def test_change_password_with_the_wrong_current_password(make_person, login_as):
    ada = make_person(email="ada@example.com")
    before = ada.password_hash
    client = login_as(ada)
    response = change(client, "not my password", "a brand new phrase")
    assert response.status_code == 400
    assert field_error(text(response), "current") == "This is not your current password."
    db.session.refresh(ada)
    assert ada.password_hash == before


@pytest.mark.parametrize(
    ("new", "confirm", "field", "message"),
    [
        ("short", None, "password", "Use at least 10 characters."),
        ("ada@example.com", None, "password", "cannot be your email address"),
        ("a brand new phrase", "a different phrase", "confirm", "The two passwords differ."),
        ("x" * 201, None, "password", "200"),
    ],
    ids=["too-short", "own-email", "mismatch", "too-long"],
)
def test_change_password_refuses_bad_new_passwords(
    make_person, login_as, new, confirm, field, message
):
    ada = make_person(email="ada@example.com")
    before = ada.password_hash
    client = login_as(ada)
    response = change(client, PASSWORD, new, confirm)
    assert response.status_code == 400
    error = field_error(text(response), field)
    assert error is not None
    assert message in error
    db.session.refresh(ada)
    assert ada.password_hash == before


def test_change_password_success(app, make_person, login_as):
    ada = make_person(email="ada@example.com")
    other_device = signed_in_client(app, ada)
    client = login_as(ada)
    response = change(client, PASSWORD, "a brand new phrase")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Your password is changed." in text(client.get("/"))
    assert is_signed_in(client)  # this session stays
    assert not is_signed_in(other_device)  # other sessions end
    fresh = app.test_client()
    assert sign_in(fresh, "ada@example.com", PASSWORD).status_code == 401
    assert sign_in(fresh, "ada@example.com", "a brand new phrase").status_code == 302


# --- password links ---------------------------------------------------------------------


def issue_link(hr_client, person: Person) -> str:
    response = post(hr_client, f"/people/{person.id}/password-link")
    assert response.status_code == 200, response.get_data(as_text=True)
    found = LINK.search(response.get_data(as_text=True))
    assert found, "the link is not shown"
    url = unescape(found.group(1))
    assert "/auth/set-password/" in url
    return urlsplit(url).path


def set_with_link(client, path: str, password: str, confirm: str | None = None):
    token = csrf_token(client, path)
    return client.post(
        path,
        data={
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": token,
        },
    )


@pytest.fixture
def hr_client(make_person, login_as):
    return login_as(make_person("Hanna HR", email="hr@example.com", role=Role.HR))


def test_hr_invites_a_person_without_password(app, make_person, hr_client):
    newbie = make_person("Nina New", email="nina@example.com", password=False)
    response = post(hr_client, f"/people/{newbie.id}/password-link")
    assert response.status_code == 200
    assert "Invitation link for Nina New" in text(response)
    link = urlsplit(unescape(LINK.search(response.get_data(as_text=True)).group(1))).path
    stored = db.session.scalar(select(PasswordLink).where(PasswordLink.person_id == newbie.id))
    assert stored.purpose == LinkPurpose.INVITE
    assert stored.token_hash != link.rsplit("/", 1)[1]  # only a hash is kept

    anonymous = app.test_client()
    page = anonymous.get(link)
    assert page.status_code == 200
    assert "nina@example.com" in text(page)

    mismatch = set_with_link(anonymous, link, "nina's own phrase", "something else entirely")
    assert mismatch.status_code == 400
    assert field_error(text(mismatch), "confirm") == "The two passwords differ."
    short = set_with_link(anonymous, link, "short")
    assert short.status_code == 400
    assert field_error(text(short), "password") == "Use at least 10 characters."
    db.session.refresh(newbie)
    assert newbie.password_hash is None

    done = set_with_link(anonymous, link, "nina's own phrase")
    assert done.status_code == 302
    assert done.headers["Location"].startswith("/auth/login")
    assert sign_in(app.test_client(), "nina@example.com", "nina's own phrase").status_code == 302

    # One use only.
    assert anonymous.get(link).status_code == 404
    assert set_with_link_raw(anonymous, link, "another phrase here").status_code == 404
    assert sign_in(app.test_client(), "nina@example.com", "another phrase here").status_code == 401


def set_with_link_raw(client, path: str, password: str):
    token = csrf_token(client, "/auth/login")
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": token})


def test_hr_resets_a_password_and_the_old_sessions_end(app, make_person, hr_client):
    ada = make_person("Ada Lovelace", email="ada@example.com")
    ada_browser = signed_in_client(app, ada)
    link = issue_link(hr_client, ada)
    stored = db.session.scalar(select(PasswordLink).where(PasswordLink.person_id == ada.id))
    assert stored.purpose == LinkPurpose.RESET
    # Issuing the link alone changes nothing for Ada.
    assert is_signed_in(ada_browser)
    assert set_with_link(app.test_client(), link, "ada's new phrase").status_code == 302
    assert not is_signed_in(ada_browser)
    assert sign_in(app.test_client(), "ada@example.com", PASSWORD).status_code == 401
    assert sign_in(app.test_client(), "ada@example.com", "ada's new phrase").status_code == 302


def test_password_link_page_says_reset_for_people_with_a_password(make_person, hr_client):
    ada = make_person("Ada Lovelace")
    response = post(hr_client, f"/people/{ada.id}/password-link")
    assert response.status_code == 200
    assert "Password reset link for Ada Lovelace" in text(response)


def test_an_older_link_dies_when_a_new_one_is_issued(app, make_person, hr_client):
    ada = make_person(password=False)
    first = issue_link(hr_client, ada)
    second = issue_link(hr_client, ada)
    assert first != second
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200


def test_an_expired_link_does_not_work(app, make_person, hr_client):
    ada = make_person(password=False)
    link = issue_link(hr_client, ada)
    db.session.execute(
        update(PasswordLink)
        .where(PasswordLink.person_id == ada.id)
        .values(expires_at=utcnow() - timedelta(minutes=1)),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    anonymous = app.test_client()
    page = anonymous.get(link)
    assert page.status_code == 404
    assert set_with_link_raw(anonymous, link, "a perfectly fine phrase").status_code == 404
    db.session.refresh(ada)
    assert ada.password_hash is None


@pytest.mark.parametrize(
    "token",
    ["nope", "x" * 300, "%00", "..%2F..%2Fetc", "' OR 1=1 --"],
    ids=["short", "long", "nul", "dots", "quote"],
)
def test_made_up_links_are_not_found(client, token):
    # A NUL byte is refused up front as a bad request; the rest find no link.
    expected = 400 if token == "%00" else 404
    assert client.get(f"/auth/set-password/{token}").status_code == expected


def test_links_stop_working_when_the_person_is_deactivated(app, make_person, hr_client):
    ada = make_person(password=False)
    link = issue_link(hr_client, ada)
    assert post(hr_client, f"/people/{ada.id}/deactivate").status_code == 302
    assert app.test_client().get(link).status_code == 404
    # And no new link can be issued for a deactivated person.
    response = post(hr_client, f"/people/{ada.id}/password-link", follow_redirects=True)
    assert response.status_code == 200
    assert "is deactivated; reactivate them first" in text(response)
    assert (
        db.session.scalar(
            select(func.count()).select_from(PasswordLink).where(PasswordLink.person_id == ada.id)
        )
        == 1
    )  # only the first, dead link


# --- headers, cookies, error pages ------------------------------------------------------


def check_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = {d.strip().split()[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    script = directives.get("script-src", directives["default-src"])
    assert "'unsafe-inline'" not in script
    assert "'unsafe-eval'" not in script
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in {
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
    }
    assert "Strict-Transport-Security" not in response.headers  # not in testing, over http
    # The pages themselves must work under that policy: no inline script or handlers.
    html = response.get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"


def test_security_headers_on_the_sign_in_page(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    check_security_headers(response)


def test_security_headers_on_signed_in_pages(make_person, login_as):
    client = login_as(make_person(role=Role.HR))
    for url in ("/", "/people", "/org"):
        response = client.get(url)
        assert response.status_code == 200, url
        check_security_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite(client, make_person):
    make_person(email="ada@example.com")
    response = sign_in(client, "ada@example.com")
    assert response.status_code == 302
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    for cookie in cookies:
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie


def test_production_sends_hsts_and_secure_cookies(app_config):
    app = create_app({**app_config, "REVIEWS_ENV": "production", "SECRET_KEY": PRODUCTION_SECRET})
    try:
        client = app.test_client()
        response = client.get("/auth/login", base_url="https://reviews.example")
        assert response.status_code == 200
        assert "max-age=" in response.headers["Strict-Transport-Security"]
        cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
        assert cookies
        assert all("Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["migrations"]["up_to_date"] is True
    assert body["migrations"]["current"] == body["migrations"]["expected"]


def test_healthz_is_unhealthy_on_a_database_behind_the_latest_migration(client):
    from sqlalchemy import text as sql

    db.session.execute(sql("UPDATE alembic_version SET version_num = 'e5b8f3d2a041'"))
    db.session.commit()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "error"
        assert body["migrations"]["current"] == ["e5b8f3d2a041"]
        assert body["migrations"]["up_to_date"] is False
        db.session.execute(sql("DROP TABLE alembic_version"))  # as on an unmigrated database
        db.session.commit()
        assert client.get("/healthz").get_json()["migrations"]["current"] == []
        assert client.get("/readyz").status_code == 503
    finally:  # on PostgreSQL the schema outlives the test
        db.session.execute(sql("DROP TABLE IF EXISTS alembic_version"))
        stamp_latest_migration()
        db.session.commit()


def test_readyz_checks_redis_when_jobs_use_it(app, client):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    assert client.get("/readyz").get_json() == client.get("/healthz").get_json()  # no Redis
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["redis"] == "unreachable"


def test_not_found_is_the_apps_own_page(client, make_person, login_as):
    anonymous = client.get("/no/such/page")
    assert anonymous.status_code == 404
    assert "Go to your home page" in text(anonymous)
    signed = login_as(make_person())
    response = signed.get("/people/999999")
    assert response.status_code == 404
    assert "Go to your home page" in text(response)
    check_security_headers(response)


# --- configuration ----------------------------------------------------------------------


def test_production_without_secret_key_refuses_to_start(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as caught:
        build_config(tmp_path, {"REVIEWS_ENV": "production"})
    message = str(caught.value)
    assert "SECRET_KEY" in message
    assert "\n" not in message.strip()
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_a_secret_key_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = build_config(tmp_path, {"REVIEWS_ENV": "development"})
    key_file = tmp_path / "secret_key"
    assert key_file.exists()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first["SECRET_KEY"]) >= 32
    second = build_config(tmp_path, {"REVIEWS_ENV": "development"})
    assert second["SECRET_KEY"] == first["SECRET_KEY"]
    assert key_file.read_text().strip() == first["SECRET_KEY"]
