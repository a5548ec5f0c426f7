"""SAML sign-in through Chromium: Reviews and the test IdP both served on loopback.

The browser follows Reviews' HTTP-Redirect to the IdP, fills the IdP's own form, and
the IdP's page POSTs the signed Response back to the ACS by itself (HTTP-POST binding)
across origins, without the SameSite=Lax session cookie: what real IdPs do.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from saml_idp import EMAIL_CLAIM, Keys, SamlIdP, make_keys, serve_idp
from sqlalchemy import select

from reviews import create_app
from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.identity.admission import REASONS
from reviews.identity.models import ExternalIdentity
from reviews.people.models import Person, Role

from .conftest import serving

USERS = {"ann@example.com": "Ann Example", "nobody@example.com": "Not In Reviews"}


@pytest.fixture(scope="session")
def saml_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("saml-keys"))


@pytest.fixture
def saml_site(
    app_config: dict[str, Any], tmp_path: Path, saml_keys: Keys
) -> Iterator[tuple[str, SamlIdP, Any]]:
    """Reviews with a SAML provider and Ann in it, the IdP, both served; (url, idp, app)."""
    with serve_idp(tmp_path / "idp", saml_keys, USERS) as idp:
        provider = {
            "name": "testidp",
            "protocol": "saml",
            "label": "Test IdP",
            "idp_metadata_file": str(idp.metadata_file),
            "attributes": {"email": EMAIL_CLAIM},
        }
        app = create_app({**app_config, "SSO_PROVIDERS": [provider]})
        with app.app_context():
            db.session.add(Person(name="Ann Example", email="ann@example.com", role=Role.EMPLOYEE))
            db.session.commit()
            db.session.remove()
        with serving(app) as url:
            app.config["PUBLIC_URL"] = url  # before the first SAML request builds the SP
            with urllib.request.urlopen(f"{url}/auth/saml/testidp/metadata") as reply:  # noqa: S310
                idp.trust(reply.read().decode())
            yield url, idp, app


def _sign_in_at_idp(page: Any, url: str, idp: SamlIdP, email: str) -> None:
    page.goto(f"{url}/auth/login")
    page.get_by_role("link", name="Sign in with Test IdP").click()
    page.wait_for_url(re.compile(rf"^{re.escape(idp.url)}/sso\?SAMLRequest="))
    page.get_by_label("Username").fill(email)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_through_the_idp_in_a_browser(page, saml_site):
    url, idp, app = saml_site
    _sign_in_at_idp(page, url, idp, "ann@example.com")
    page.wait_for_url(f"{url}/")
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert "Ann Example" in page.locator("body").inner_text()
    # Signed in for real: a page that needs a session opens.
    page.goto(f"{url}/people")
    assert page.url == f"{url}/people"
    with app.app_context():
        link = db.session.scalar(select(ExternalIdentity))
        assert link is not None
        assert link.subject == "ann@example.com"
        db.session.remove()
    assert page.console_errors == []


def test_unknown_person_sees_a_clear_refusal_in_the_browser(page, saml_site):
    url, idp, app = saml_site
    _sign_in_at_idp(page, url, idp, "nobody@example.com")
    page.wait_for_url(f"{url}/auth/saml/testidp/acs")
    assert page.get_by_role("heading", name="You are not signed in").is_visible()
    assert page.get_by_role("alert").inner_text().strip() == REASONS["unknown_person"]
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    assert "SAMLResponse" not in body
    page.get_by_role("link", name="Back to sign-in").click()
    page.wait_for_url(f"{url}/auth/login")
    with app.app_context():
        reasons = [
            e.details["reason"]
            for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.event == "auth.sso_refused")
            )
        ]
        assert reasons == ["unknown_person"]
        assert db.session.scalar(select(Person).where(Person.email == "nobody@example.com")) is None
        db.session.remove()


def test_sign_out_of_the_idp_too_in_a_browser(page, saml_site):
    url, idp, app = saml_site
    _sign_in_at_idp(page, url, idp, "ann@example.com")
    page.wait_for_url(f"{url}/")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/auth/saml/testidp/signed-out")
    assert page.get_by_role("heading", name="Signed out of Reviews").is_visible()
    assert page.get_by_role("link", name="Back to sign-in").is_visible()
    page.get_by_role("link", name="Sign out of Test IdP too").click()
    # Reviews -> the IdP's SingleLogoutService -> its LogoutResponse to /sls -> sign-in.
    page.wait_for_url(f"{url}/auth/login")
    assert (
        page.get_by_role("status")
        .filter(has_text="You are signed out of Test IdP too.")
        .is_visible()
    )
    assert len(idp.logout_requests) == 1
    assert idp.logout_requests[0].name_id.text == "ann@example.com"
    page.goto(f"{url}/people")  # the Reviews session is over
    assert page.url.startswith(f"{url}/auth/login")
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == "auth.sso_signed_out")
        ).all()
        assert [e.details["provider"] for e in events] == ["testidp"]
        db.session.remove()
    assert page.console_errors == []
