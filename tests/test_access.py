"""Every URL rule has a declared access rule, and the rule holds for every role."""

from __future__ import annotations

import re

import pytest
from conftest import post

from reviews.people.models import Role

PUBLIC = {"auth.login", "auth.set_password_with_link", "healthz", "static"}


def _concrete(rule) -> str:
    """A URL for the rule with plausible values filled in."""
    values = {
        "person_id": "1",
        "opportunity_id": "1",
        "key": "engineer",
        "token": "x" * 43,
        "filename": "app.css",
    }
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", values.get(arg, "1"), url)
    if "competencies/engineer" in url:
        url = url.replace("competencies/engineer", "competencies/technical-fluency")
    return url


def _rules(app):
    return list(app.url_map.iter_rules())


def test_every_view_declares_an_access_rule(app):
    missing = [
        r.endpoint
        for r in _rules(app)
        if getattr(app.view_functions[r.endpoint], "access_rule", None) is None
    ]
    assert missing == [], f"views without an access rule: {missing}"


def test_public_views_are_exactly_the_expected_ones(app):
    public = {
        r.endpoint for r in _rules(app) if app.view_functions[r.endpoint].access_rule == "public"
    }
    assert public == PUBLIC


def test_anonymous_is_sent_to_sign_in_for_every_other_page(app, client):
    for rule in _rules(app):
        if rule.endpoint in PUBLIC:
            continue
        url = _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if method == "POST":
                # CSRF is checked before sign-in: refused either way, nothing runs.
                assert response.status_code in (302, 400), (method, url)
            else:
                assert response.status_code == 302, (method, url)
                assert "/auth/login" in response.headers["Location"], url


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.MANAGER])
def test_hr_only_pages_refuse_other_roles(app, make_person, login_as, role):
    hr = make_person("Harriet HR", role=Role.HR)
    boss = make_person("Boss", role=Role.MANAGER)
    someone = make_person("Someone", manager=boss)
    client = login_as(make_person("Caller", role=role, manager=boss))
    checked = 0
    for rule in _rules(app):
        if app.view_functions[rule.endpoint].access_rule != "hr":
            continue
        url = _concrete(rule).replace("/people/1", f"/people/{someone.id}")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = post(client, url) if method == "POST" else client.get(url)
            assert response.status_code == 403, (method, url)
            checked += 1
    assert checked >= 15
    assert hr.active  # nothing was deactivated on the way
    assert someone.active


def test_signed_in_pages_open_for_every_role(app, make_person, login_as):
    boss = make_person("Boss", role=Role.MANAGER)
    make_person("Someone", manager=boss)
    client = login_as(make_person("Reader", manager=boss))
    for rule in _rules(app):
        if app.view_functions[rule.endpoint].access_rule != "signed_in":
            continue
        if "GET" not in rule.methods:
            continue
        url = (
            _concrete(rule)
            .replace("/people/1", f"/people/{boss.id}")
            .replace("/org/1", f"/org/{boss.id}")
        )
        assert client.get(url).status_code == 200, url
