"""Personal API tokens and the first /api/v1 resources, with the OpenAPI document."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from conftest import post
from sqlalchemy import select

from reviews.api.models import ApiToken
from reviews.audit.models import AuditEvent
from reviews.db import utcnow
from reviews.extensions import db
from reviews.people.models import Role


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_cli_prints_a_token_on_the_last_line_that_works(app, runner, make_person, client):
    person = make_person("Ada Lovelace", email="ada@example.com")
    result = runner.invoke(args=["users", "token", "ada@example.com", "--name", "HRIS"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("rvw_")
    me = client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200
    assert me.get_json()["email"] == person.email
    stored = db.session.scalar(select(ApiToken))
    assert token not in (stored.token_hash, stored.prefix)  # only a fingerprint is kept
    assert stored.last_used_at is not None
    unknown = runner.invoke(args=["users", "token", "nobody@example.com"])
    assert unknown.exit_code != 0
    assert len(unknown.stderr.strip().splitlines()) == 1


def test_bad_revoked_and_expired_tokens_are_refused_as_json(app, runner, make_person, client):
    make_person("Ada", email="ada@example.com")
    token = (
        runner.invoke(args=["users", "token", "ada@example.com"]).output.strip().splitlines()[-1]
    )
    for headers in ({}, _bearer("rvw_made-up"), _bearer(token + "x"), {"Authorization": token}):
        answer = client.get("/api/v1/me", headers=headers)
        assert answer.status_code == 401
        assert answer.get_json()["error"]["code"] == "unauthorized"
    row = db.session.scalar(select(ApiToken))
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401
    row.expires_at = None
    row.revoked_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_tokens_never_appear_in_logs_or_the_audit(app, runner, make_person, client, caplog):
    make_person("Ada", email="ada@example.com")
    caplog.set_level(logging.DEBUG)
    token = (
        runner.invoke(args=["users", "token", "ada@example.com"]).output.strip().splitlines()[-1]
    )
    client.get("/api/v1/me", headers=_bearer(token))
    client.get("/api/v1/people?cursor=bad", headers=_bearer(token))
    assert token not in caplog.text
    details = " ".join(str(e.details) for e in db.session.scalars(select(AuditEvent)))
    assert token not in details
    assert token[:10] in details  # the prefix identifies the token in the audit log


def test_people_are_paged_with_a_cursor_and_scoped(app, runner, make_person, client):
    hr = make_person("Hana HR", role=Role.HR, level_key=None, email="hr@example.com")
    people = [make_person(f"Person {i}") for i in range(7)]
    make_person("Gone", active=False)
    employee = runner.invoke(args=["users", "token", people[0].email])
    token = employee.output.strip().splitlines()[-1]
    seen, cursor = [], None
    while True:
        url = "/api/v1/people?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=_bearer(token)).get_json()
        seen += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert "Gone" not in seen
    assert len(seen) == len(set(seen)) == 8  # HR and seven people, each once
    hr_token = runner.invoke(args=["users", "token", hr.email]).output.strip().splitlines()[-1]
    everyone = client.get("/api/v1/people?limit=200", headers=_bearer(hr_token)).get_json()
    assert "Gone" in [p["name"] for p in everyone["items"]]
    bad = client.get("/api/v1/people?cursor=abc", headers=_bearer(token))
    assert bad.status_code == 400
    huge = client.get("/api/v1/people?cursor=3000000000", headers=_bearer(token))
    assert huge.status_code == 400  # past any id, and past what PostgreSQL's integer holds
    assert bad.get_json()["error"]["fields"]["cursor"]
    zero = client.get("/api/v1/people?limit=0", headers=_bearer(token))
    assert zero.status_code == 400
    assert zero.get_json()["error"]["fields"]["limit"]


def test_the_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"].startswith("3.1")
    routes = {
        (re.sub(r"<(?:int:)?(\w+)>", r"{\1}", r.rule.removeprefix("/api/v1")), method.lower())
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/api/v1/")
        for method in r.methods - {"HEAD", "OPTIONS"}
    }
    assert {(path, m) for path, ops in spec["paths"].items() for m in ops} == routes
    assert len(routes) > 40
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            assert op["summary"], path
            ok = op["responses"].get("200") or op["responses"]["201"]
            assert ok["content"], (method, path)
            params = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert params == set(re.findall(r"{(\w+)}", path)), path
            if method in ("put", "patch") or "body" in op.get("description", ""):
                assert op.get("requestBody") or "text/csv" in op.get("description", ""), path
    assert spec["paths"]["/me"]["get"]["security"] == [{"bearer": []}]
    assert spec["paths"]["/openapi.json"]["get"]["security"] == []
    assert "requestBody" in spec["paths"]["/reviews/{review_id}/self"]["put"]
    assert "409" in spec["paths"]["/reviews/{review_id}/self"]["put"]["responses"]


def test_people_create_and_revoke_their_own_tokens(app, make_person, login_as, client):
    person = make_person("Ada")
    web = login_as(person)
    created = post(web, "/account/tokens", {"name": "Laptop script"})
    assert created.status_code == 200
    token = re.search(r'value="(rvw_[^"]+)"', created.get_data(as_text=True)).group(1)
    assert "shown only once" in created.get_data(as_text=True)
    listing = web.get("/account/tokens").get_data(as_text=True)
    assert token not in listing  # shown once, never again
    assert token[:10] in listing
    assert app.test_client().get("/api/v1/me", headers=_bearer(token)).status_code == 200
    row = db.session.scalar(select(ApiToken))
    other = login_as_other(app, make_person("Mallory"))
    assert post(other, f"/account/tokens/{row.id}/revoke").status_code == 403
    assert post(web, f"/account/tokens/{row.id}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/me", headers=_bearer(token)).status_code == 401
    too_long = post(web, "/account/tokens", {"name": "x" * 101})
    assert too_long.status_code == 400


def login_as_other(app, person):
    from test_cycle_flow import login_as_fresh

    return login_as_fresh(app, person)


def test_the_reference_page_lists_every_operation_for_people(app, make_person, login_as):
    web = login_as(make_person("Ada"))
    page = web.get("/developers/api")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"{method.upper()}</span> <code>{path}</code>" in html, (method, path)
    assert "If-Match" in html
    assert "rationale" in html  # request bodies are described field by field
