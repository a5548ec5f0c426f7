"""Security that holds on every page: headers, cookies, CSRF on every write, rate limits.

The route lists come from the URL map, so a new page or form is checked
without anyone remembering to add it here.
"""

from __future__ import annotations

import re
import socket
import uuid

import pytest
import redis
from conftest import PRODUCTION_SECRET, Client, csrf_token, post, sign_in
from sqlalchemy import select
from test_access import EXPECTED, _url, world  # noqa: F401  # `world` is a fixture

from reviews import create_app, security
from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.people.models import Role

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
REDIS = "redis://127.0.0.1:6379/0"


def check_headers(response, *, production: bool = False) -> None:
    h = response.headers
    csp = h["Content-Security-Policy"]
    directives = dict(
        ([*part.split(" ", 1), ""])[:2] for part in (p.strip() for p in csp.split(";")) if part
    )
    assert directives["script-src"] == "'self'", csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"
    assert h["X-Frame-Options"] == "DENY"
    if production:
        assert h["Strict-Transport-Security"].startswith("max-age=31536000")
    else:
        assert "Strict-Transport-Security" not in h
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
        assert not re.search(r"\son[a-z]+\s*=\s*[\"']", html), "inline event handler"
        assert not re.search(r"javascript:", html, re.IGNORECASE)


def _signed_in(app, person) -> Client:
    client = app.test_client()
    if person is not None:
        assert sign_in(client, person.email).status_code == 302
        client.csrf = csrf_token(client, "/")
    return client


# --- headers on every page ---------------------------------------------------------------


@pytest.mark.parametrize("relation", ["anonymous", "subject", "direct_manager", "hr"])
def test_every_page_sends_the_security_headers(app, world, relation):  # noqa: F811
    people, values, overrides = world
    client = _signed_in(app, people.get(relation))
    pages = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        response = client.get(_url(rule, values, overrides))
        check_headers(response)
        if rule.endpoint != "static":
            assert response.headers["Cache-Control"] == "no-store", rule.rule
        pages += response.status_code == 200
        response.close()
    assert pages >= {"anonymous": 3, "subject": 20, "direct_manager": 20, "hr": 45}[relation]


def test_production_sends_hsts_and_secure_cookies_on_every_public_page(app_config):
    app = create_app({**app_config, "REVIEWS_ENV": "production", "SECRET_KEY": PRODUCTION_SECRET})
    try:
        with app.app_context():
            client = app.test_client()
            for rule in app.url_map.iter_rules():
                if "GET" in rule.methods and rule.arguments <= {"filename", "token"}:
                    url = _url(rule, {"filename": "app.css", "token": "x" * 43})
                    response = client.get(url, base_url="https://reviews.example")
                    check_headers(response, production=True)
                    response.close()
            page = client.get("/auth/login", base_url="https://reviews.example")
            cookies = [c for c in page.headers.getlist("Set-Cookie") if c.startswith("session=")]
            assert cookies
            assert all("Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_development_sends_no_hsts_and_plain_cookies(app_config):
    app = create_app({**app_config, "REVIEWS_ENV": "development"})
    try:
        with app.app_context():
            page = app.test_client().get("/auth/login")
            assert "Strict-Transport-Security" not in page.headers
            cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("session="))
            assert "HttpOnly" in cookie
            assert "SameSite=Lax" in cookie
            assert "Secure" not in cookie  # http://127.0.0.1 in development
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- CSRF on every write -------------------------------------------------------------------


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, to prove a refused request changed nothing."""
    db.session.commit()
    with db.engine.connect() as conn:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in conn.execute(table.select())), key=repr
            )
            for table in db.metadata.sorted_tables
        }


PREFERRED = ["hr", "subject", "direct_manager", "peer", "anonymous"]


def _writes(app) -> list:
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        for method in sorted(rule.methods & WRITE_METHODS)
    ]


# Writes that no session cookie authenticates, so that a forged cross-site request has
# nothing to ride on: SCIM (the provisioning token), and the SAML assertion consumer
# and single logout service (the identity provider's signed answers, posted
# cross-site by design, each tied to its request by a signed RelayState).
CSRF_EXEMPT = {"saml.acs", "saml.sls"}


def test_writes_without_csrf_take_no_session(app, world):  # noqa: F811
    """HR's signed-in browser posting to SCIM or the SAML consumer changes nothing."""
    people, values, overrides = world
    hr = _signed_in(app, people["hr"])
    checked = 0
    for rule, method in _writes(app):
        if rule.endpoint not in CSRF_EXEMPT and not rule.endpoint.startswith("scim."):
            continue
        url = _url(rule, values, overrides)
        before = snapshot()
        response = hr.open(url, method=method, data={})
        assert response.status_code in (400, 401, 404), (method, url, response.status_code)
        check_headers(response)
        assert snapshot() == before, (method, url)
        checked += 1
    assert checked >= 5


def test_every_write_without_a_csrf_token_is_refused_and_changes_nothing(app, world):  # noqa: F811
    people, values, overrides = world
    clients = {}
    writes = _writes(app)
    assert len(writes) >= 40
    for rule, method in writes:
        if rule.endpoint in CSRF_EXEMPT or rule.endpoint.startswith("scim."):
            continue  # no session cookie authenticates these: see the test below
        relation = next(r for r in PREFERRED if r in EXPECTED[rule.endpoint])
        if relation not in clients:
            clients[relation] = _signed_in(app, people.get(relation))
        client = clients[relation]
        url = _url(rule, values, overrides)
        before = snapshot()
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": csrf_token(app.test_client())}):
            response = client.open(url, method=method, data=data)
            assert response.status_code == 400, (relation, method, url, response.status_code)
            if url.startswith("/api/"):
                assert response.is_json
            else:
                assert "Form expired" in response.get_data(as_text=True), (method, url)
            check_headers(response)
        after = snapshot()
        changed = [name for name in before if before[name] != after[name]]
        assert changed == [], (method, url, changed)
    # The same client with its token does get through (the refusals above were CSRF's).
    hr = clients["hr"]
    assert post(hr, "/account/tokens", {"name": "proof"}).status_code in (200, 302)
    assert db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc())) is not None


# --- rate limits ---------------------------------------------------------------------------


def _redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")


@pytest.fixture(params=["memory", "redis"])
def storage_config(request, app_config):
    """Settings for an app counting in memory or in Redis under a key prefix of its own."""
    if request.param == "redis":
        _redis_or_skip()
        prefix = f"test:{uuid.uuid4().hex}:"
        yield {**app_config, "RATE_LIMIT_STORAGE_URL": REDIS, "RATE_LIMIT_KEY_PREFIX": prefix}
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)
    else:
        yield {**app_config, "RATE_LIMIT_STORAGE_URL": "memory://"}


def _limited_app(config, **limits):
    app = create_app({**config, "RATE_LIMITS": limits})
    app.test_client_class = Client
    return app


@pytest.fixture
def limited(storage_config):
    apps = []

    def make(**limits):
        app = _limited_app(storage_config, **limits)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_sign_in_is_rate_limited_per_address(limited, make_person):
    app = limited(**{"sign-in": (3, 60)})
    with app.app_context():
        make_person(email="ada@example.com")
        client = app.test_client()
        codes = [sign_in(client, "ada@example.com", "wrong password").status_code for _ in range(3)]
        assert codes == [401, 401, 401]
        refused = sign_in(client, "ada@example.com")  # even the right password
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "Too many requests" in refused.get_data(as_text=True)  # the app's own page
        check_headers(refused)
        elsewhere = app.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "10.0.0.9"
        assert sign_in(elsewhere, "ada@example.com").status_code == 302  # its own budget
        assert client.get("/auth/login").status_code == 200  # only POSTs count


def test_password_links_are_rate_limited(limited, make_person):
    app = limited(**{"password-link": (2, 60), "password-link-issue": (2, 3600)})
    with app.app_context():
        hr = make_person(role=Role.HR)
        target, other = make_person(), make_person()
        client = app.test_client()
        assert [client.get(f"/auth/set-password/{'x' * 43}").status_code for _ in range(2)] == [
            404,
            404,
        ]
        assert client.get(f"/auth/set-password/{'y' * 43}").status_code == 429
        hr_client = _signed_in(app, hr)
        issued = [post(hr_client, f"/people/{target.id}/password-link") for _ in range(3)]
        assert [r.status_code for r in issued] == [200, 200, 429]
        assert post(hr_client, f"/people/{other.id}/password-link").status_code == 200


def test_api_tokens_are_rate_limited_with_json_answers(limited, make_person):
    from reviews.api.operations import create_token

    app = limited(**{"api-token": (3, 60), "api-token-failure": (2, 60)})
    with app.app_context():
        person = make_person()
        with app.test_request_context():
            _token, secret = create_token(person, person, "limits")
            db.session.commit()
        client = app.test_client()
        good = {"Authorization": f"Bearer {secret}"}
        assert [client.get("/api/v1/me", headers=good).status_code for _ in range(3)] == [200] * 3
        over = client.get("/api/v1/me", headers=good)
        assert over.status_code == 429
        assert over.is_json
        assert over.get_json()["error"]["code"] == "too_many_requests"
        assert int(over.headers["Retry-After"]) >= 1
        bad = {"Authorization": "Bearer rvw_guess"}
        codes = [client.get("/api/v1/me", headers=bad).status_code for _ in range(3)]
        assert codes == [401, 401, 429]


def test_redis_counts_are_shared_by_every_worker(app_config, make_person):
    _redis_or_skip()
    prefix = f"test:{uuid.uuid4().hex}:"
    config = {**app_config, "RATE_LIMIT_STORAGE_URL": REDIS, "RATE_LIMIT_KEY_PREFIX": prefix}
    one, two = (_limited_app(config, **{"sign-in": (2, 60)}) for _ in range(2))
    try:
        with one.app_context():
            assert sign_in(one.test_client(), "nobody@example.com", "x").status_code == 401
        with two.app_context():
            assert sign_in(two.test_client(), "nobody@example.com", "x").status_code == 401
            assert sign_in(two.test_client(), "nobody@example.com", "x").status_code == 429
        store = redis.Redis.from_url(REDIS)
        assert 0 < store.ttl(next(store.scan_iter(f"{prefix}*"))) <= 60
    finally:
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        for app in (one, two):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def test_memory_windows_reset(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(security.time, "monotonic", lambda: now[0])
    storage = security.MemoryStorage()
    assert storage.hit("k", 60) == (1, 60)
    now[0] += 59.5
    assert storage.hit("k", 60) == (2, 1)
    now[0] += 1
    assert storage.hit("k", 60) == (1, 60)


def test_rate_limit_keys_never_hold_the_raw_token(app_config):
    _redis_or_skip()
    prefix = f"test:{uuid.uuid4().hex}:"
    app = _limited_app(
        {**app_config, "RATE_LIMIT_STORAGE_URL": REDIS, "RATE_LIMIT_KEY_PREFIX": prefix}
    )
    client = redis.Redis.from_url(REDIS)
    try:
        with app.app_context():
            app.test_client().get("/api/v1/me", headers={"Authorization": "Bearer rvw_secret"})
        keys = [k.decode() for k in client.scan_iter(f"{prefix}*")]
        assert keys
        assert not any("rvw_secret" in k for k in keys)
    finally:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_sign_in_still_works_when_redis_is_away(app_config, make_person, caplog):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = _limited_app(
        {**app_config, "RATE_LIMIT_STORAGE_URL": f"redis://127.0.0.1:{port}/0"},
        **{"sign-in": (1, 60)},
    )
    try:
        with app.app_context():
            make_person(email="ada@example.com")
            client = app.test_client()
            assert sign_in(client, "ada@example.com", "wrong").status_code == 401
            assert sign_in(client, "ada@example.com").status_code == 302
        assert "rate limit storage unreachable" in caplog.text
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
