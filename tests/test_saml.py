"""SAML 2.0 sign-in against a real IdP (tests/saml_idp.py: pysaml2's Server on loopback).

Reviews is driven with the Flask test client; the IdP over HTTP with urllib, as a
browser would (its sign-in form, then its auto-submitting POST form, whose fields are
posted to the ACS). Every refusal: a clear page with the reason's message, an
`auth.sso_refused` audit event naming the reason, nobody signed in, nothing created.
"""

from __future__ import annotations

import html
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Client
from flask import Flask
from flask.testing import FlaskClient
from saml_idp import ELSEWHERE, EMAIL_CLAIM, Keys, SamlIdP, make_keys, serve_idp
from sqlalchemy import func, select

from reviews import create_app
from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.identity import saml as saml_sp
from reviews.identity.admission import REASONS
from reviews.identity.models import ExternalIdentity, SeenAssertion
from reviews.people.models import Person, Source

SP_URL = "https://reviews.example.com"
ACS = "/auth/saml/testidp/acs"
USERS = {
    "ann@example.com": "Ann Example",
    "dee@example.com": "Dee Deactivated",
    "nobody@example.com": "Not In Reviews",
    "Upper.Case@Example.COM": "Upper Case",
}


@pytest.fixture(scope="session")
def saml_keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_keys(tmp_path_factory.mktemp("saml-keys"))


@pytest.fixture
def idp(tmp_path: Path, saml_keys: Keys) -> Iterator[SamlIdP]:
    with serve_idp(tmp_path / "idp", saml_keys, USERS) as running:
        yield running


@pytest.fixture
def provider_settings() -> dict[str, Any]:
    """Extra settings of the `testidp` provider; tests parametrize this."""
    return {}


@pytest.fixture
def app(
    app_config: dict[str, Any], idp: SamlIdP, provider_settings: dict[str, Any]
) -> Iterator[Flask]:
    provider = {
        "name": "testidp",
        "protocol": "saml",
        "label": "Test IdP",
        "idp_metadata_file": str(idp.metadata_file),
        "attributes": {"email": EMAIL_CLAIM},
        **provider_settings,
    }
    if provider.get("idp_metadata_url") == "served":  # the IdP's own metadata URL
        provider["idp_metadata_url"] = f"{idp.url}/metadata"
    if provider.get("idp_metadata_url"):
        del provider["idp_metadata_file"]
    app = create_app({**app_config, "PUBLIC_URL": SP_URL, "SSO_PROVIDERS": [provider]})
    app.test_client_class = Client
    with app.app_context():
        metadata = app.test_client().get("/auth/saml/testidp/metadata")
        idp.trust(metadata.get_data(as_text=True))  # the IdP admin imports our metadata
        yield app
        db.session.remove()
        db.engine.dispose()


# ---------------------------------------------------------------- driving the peers


def _fields(page: str) -> dict[str, str]:
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', page)
    }


def start(client: FlaskClient, next_path: str = "/") -> str:
    """Reviews' redirect to the IdP (the AuthnRequest)."""
    response = client.get(f"/auth/saml/testidp/login?next={urllib.parse.quote(next_path)}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def idp_answer(idp: SamlIdP, location: str, username: str) -> dict[str, str]:
    """The person signs in at the IdP; what its auto-submitting form would POST."""
    assert location.startswith(f"{idp.url}/sso?SAMLRequest="), location
    with urllib.request.urlopen(location, timeout=10) as reply:  # noqa: S310 (loopback)
        form = _fields(reply.read().decode())
    form["username"] = username
    body = urllib.parse.urlencode(form).encode()
    with urllib.request.urlopen(f"{idp.url}/sso/login", body, timeout=10) as reply:  # noqa: S310
        page = reply.read().decode()
    action = re.search(r'action="([^"]+)"', page)
    assert action, page
    assert html.unescape(action.group(1)) == f"{SP_URL}{ACS}"
    return _fields(page)


def sign_in_via_idp(
    client: FlaskClient, idp: SamlIdP, username: str, next_path: str = "/"
) -> tuple[Any, dict[str, str]]:
    answer = idp_answer(idp, start(client, next_path), username)
    return client.post(ACS, data=answer), answer


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def refusals() -> list[dict[str, Any]]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "auth.sso_refused").order_by(AuditEvent.id)
    )
    return [event.details for event in events]


def assert_refused(
    client: FlaskClient, response: Any, reason: str, status: int, answer: dict[str, str]
) -> dict[str, Any]:
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, page
    assert "You are not signed in" in page
    assert REASONS[reason] in page
    assert "Test IdP" in page
    assert "Traceback" not in page
    assert "<saml" not in page.lower()
    assert "ns0:" not in page
    if answer.get("SAMLResponse"):
        assert answer["SAMLResponse"][:40] not in page
    found = refusals()
    assert found, "no audit event"
    event = found[-1]
    assert event["reason"] == reason
    assert event["provider"] == "testidp"
    assert event["protocol"] == "saml"
    assert "<" not in event.get("detail", "")
    assert client.get("/").status_code == 302  # nobody is signed in
    return event


def counts() -> tuple[int, int]:
    return count(Person), count(ExternalIdentity)


# ---------------------------------------------------------------- metadata


def test_metadata_tells_the_idp_what_it_needs(client):
    response = client.get("/auth/saml/testidp/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    xml = response.get_data(as_text=True)
    assert f'entityID="{SP_URL}/auth/saml/testidp/metadata"' in xml
    acs = re.search(r"<[^>]*AssertionConsumerService [^>]*>", xml)
    assert acs
    assert f'Location="{SP_URL}{ACS}"' in acs.group(0)
    assert 'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"' in acs.group(0)
    assert 'WantAssertionsSigned="true"' in xml
    assert 'AuthnRequestsSigned="false"' in xml
    assert "nameid-format:emailAddress" in xml
    assert "KeyDescriptor" not in xml  # no SP key configured
    assert client.get("/auth/saml/testidp/metadata").get_data(as_text=True) == xml  # stable


@pytest.mark.parametrize("provider_settings", [{"entity_id": "urn:reviews:example"}])
def test_metadata_uses_the_configured_entity_id(client, idp, make_person):
    xml = client.get("/auth/saml/testidp/metadata").get_data(as_text=True)
    assert 'entityID="urn:reviews:example"' in xml
    make_person("Ann", email="ann@example.com")
    response, _answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert response.status_code == 302, [
        r.get("detail") for r in refusals()
    ]  # the audience is that entity id


def test_with_an_sp_key_requests_are_signed_and_the_key_published(app_config, idp, saml_keys):
    provider = {
        "name": "testidp",
        "protocol": "saml",
        "label": "Test IdP",
        "idp_metadata_file": str(idp.metadata_file),
        "sp_key_file": saml_keys.sp.key_file,
        "sp_cert_file": saml_keys.sp.cert_file,
    }
    app = create_app({**app_config, "PUBLIC_URL": SP_URL, "SSO_PROVIDERS": [provider]})
    with app.app_context():
        client = app.test_client()
        xml = client.get("/auth/saml/testidp/metadata").get_data(as_text=True)
        cert = Path(saml_keys.sp.cert_file).read_text().split("-----")[2].split()
        assert "".join(cert) in xml.replace("\n", "")
        assert 'AuthnRequestsSigned="true"' in xml
        location = client.get("/auth/saml/testidp/login").headers["Location"]
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        assert query["SigAlg"] == ["http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"]
        assert query["Signature"]
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("path", ["metadata", "login"])
def test_unknown_provider_is_not_found(client, path):
    assert client.get(f"/auth/saml/nope/{path}").status_code == 404
    assert client.post("/auth/saml/nope/acs").status_code == 404


# ---------------------------------------------------------------- signing in


def test_sign_in_matches_the_person_and_links_the_identity(client, idp, make_person):
    ann = make_person("Ann", email="ann@example.com")
    response, _answer = sign_in_via_idp(client, idp, "ann@example.com", "/people")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/people"
    home = client.get("/")
    assert home.status_code == 200
    assert "Ann" in home.get_data(as_text=True)
    link = db.session.scalar(select(ExternalIdentity))
    assert link is not None
    assert (link.person_id, link.protocol, link.provider, link.subject) == (
        ann.id,
        "saml",
        "testidp",
        "ann@example.com",
    )
    events = [e.event for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "auth.sso_linked" in events
    assert "auth.sso_signed_in" in events
    assert refusals() == []
    seen = db.session.scalars(select(SeenAssertion.key)).all()
    assert len(seen) == 1
    assert seen[0].startswith("saml:testidp:")


@pytest.mark.parametrize("provider_settings", [{"idp_metadata_url": "served"}])
def test_idp_metadata_can_come_from_a_url(client, idp, make_person):
    make_person("Ann", email="ann@example.com")
    response, _answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "provider_settings", [{"idp_metadata_url": "http://idp.example.com/metadata"}]
)
def test_idp_metadata_over_plain_http_is_not_trusted(client):
    response = client.get("/auth/saml/testidp/login")
    event = assert_refused(client, response, "unreachable", 503, {})
    assert "https" in event["detail"]


def test_email_is_matched_case_insensitively(client, idp, make_person):
    make_person("Upper", email="upper.case@example.com")
    response, _answer = sign_in_via_idp(client, idp, "Upper.Case@Example.COM")
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_an_opaque_name_id_with_an_email_attribute_signs_in(client, idp, make_person):
    ann = make_person("Ann", email="ann@example.com")
    idp.name_id_format = "persistent"
    response, _answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert response.status_code == 302
    link = db.session.scalar(select(ExternalIdentity))
    assert link is not None
    assert link.person_id == ann.id
    assert "@" not in link.subject  # the persistent NameID, not the address


def test_next_must_stay_on_this_site(client, idp, make_person):
    make_person("Ann", email="ann@example.com")
    response, _answer = sign_in_via_idp(client, idp, "ann@example.com", "https://evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("provider_settings", [{"create_people": True}])
def test_just_in_time_creation_when_the_provider_creates_people(client, idp):
    before = count(Person)
    response, _answer = sign_in_via_idp(client, idp, "nobody@example.com")
    assert response.status_code == 302
    person = db.session.scalar(select(Person).where(Person.email == "nobody@example.com"))
    assert person is not None
    assert person.name == "Not In Reviews"  # the displayName attribute
    assert person.source == Source.SSO
    assert count(Person) == before + 1
    assert count(ExternalIdentity) == 1


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("mode", "why"),
    [
        ("wrong_audience", "AudienceRestrictions"),
        ("expired", "too old"),
        ("wrong_key", "Signature"),
        ("unsigned", "Signature"),
        ("response_signed_only", "Signature"),
        ("sha1", "SHA-1"),
        ("wrong_recipient", "recipient"),
        ("wrong_destination", "no valid assertion"),
    ],
)
def test_an_untrustworthy_assertion_is_refused(client, idp, make_person, mode, why):
    make_person("Ann", email="ann@example.com")
    before = counts()
    idp.mode = mode
    response, answer = sign_in_via_idp(client, idp, "ann@example.com")
    event = assert_refused(client, response, "token_invalid", 403, answer)
    assert why.lower() in event["detail"].lower(), event["detail"]
    assert counts() == before
    assert count(SeenAssertion) == 0


def test_wrong_audience_really_names_another_service(idp, client):
    """The IdP's misbehaviour is what the test says: the audience is someone else."""
    import base64

    idp.mode = "wrong_audience"
    _response, answer = sign_in_via_idp(client, idp, "ann@example.com")
    xml = base64.b64decode(answer["SAMLResponse"]).decode()
    assert f">{ELSEWHERE}</" in xml
    assert f">{SP_URL}/auth/saml/testidp/metadata</" not in xml


def test_a_replayed_assertion_is_refused(app, client, idp, make_person):
    make_person("Ann", email="ann@example.com")
    response, answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert response.status_code == 302
    before = counts()
    other = app.test_client()  # someone who captured the POST
    replay = other.post(ACS, data=answer)
    assert_refused(other, replay, "replayed", 403, answer)
    assert counts() == before


@pytest.mark.parametrize("tamper", ["altered", "missing", "other_request", "expired"])
def test_state_mismatch_is_refused(client, idp, make_person, monkeypatch, tamper):
    make_person("Ann", email="ann@example.com")
    before = counts()
    first = start(client)
    answer = idp_answer(idp, first, "ann@example.com")
    if tamper == "altered":
        state = answer["RelayState"]
        answer["RelayState"] = state[:-2] + ("AA" if state[-2:] != "AA" else "BB")
    elif tamper == "missing":  # also what an IdP-initiated (unsolicited) response looks like
        del answer["RelayState"]
    elif tamper == "other_request":  # a genuine answer, but to another sign-in
        second = start(client)
        answer["RelayState"] = urllib.parse.parse_qs(urllib.parse.urlsplit(second).query)[
            "RelayState"
        ][0]
    else:
        monkeypatch.setattr(saml_sp, "RELAY_MAX_AGE", -1)
    response = client.post(ACS, data=answer)
    assert_refused(client, response, "state_mismatch", 400, answer)
    assert counts() == before
    assert count(SeenAssertion) == 0


def test_garbage_instead_of_a_response_is_refused(client, idp):
    location = start(client)
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["RelayState"][0]
    for junk in ["", "not base64 at all!", "PHNhbWw+PC9zYW1sPg=="]:
        response = client.post(ACS, data={"SAMLResponse": junk, "RelayState": state})
        assert_refused(client, response, "token_invalid", 403, {"SAMLResponse": junk})


def test_unknown_person_is_refused(client, idp, make_person):
    make_person("Ann", email="ann@example.com")
    before = counts()
    response, answer = sign_in_via_idp(client, idp, "nobody@example.com")
    event = assert_refused(client, response, "unknown_person", 403, answer)
    assert event["email"] == "nobody@example.com"
    assert counts() == before


def test_deactivated_person_is_refused_despite_a_valid_assertion(client, idp, make_person):
    make_person("Dee", email="dee@example.com", active=False)
    before = counts()
    response, answer = sign_in_via_idp(client, idp, "dee@example.com")
    assert_refused(client, response, "deactivated", 403, answer)
    assert counts() == before


@pytest.mark.parametrize("provider_settings", [{"allowed_domains": ["example.org"]}])
def test_domain_not_allowed_is_refused(client, idp, make_person):
    make_person("Ann", email="ann@example.com")
    before = counts()
    response, answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert_refused(client, response, "domain_not_allowed", 403, answer)
    assert counts() == before


@pytest.mark.parametrize("provider_settings", [{"create_people": True}])
def test_no_verified_email_is_refused_even_with_just_in_time_creation(client, idp):
    """SAML's "unverified email": the IdP asserted no address (an opaque NameID and no
    email attribute), so there is nothing it vouches for to match or create."""
    idp.name_id_format = "persistent"
    idp.send_email = False
    before = counts()
    response, answer = sign_in_via_idp(client, idp, "nobody@example.com")
    assert_refused(client, response, "email_missing", 403, answer)
    assert counts() == before


def test_unreadable_idp_metadata_is_a_clear_refusal(app_config, idp, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<not metadata")
    provider = {
        "name": "testidp",
        "protocol": "saml",
        "label": "Test IdP",
        "idp_metadata_file": str(broken),
    }
    app = create_app({**app_config, "PUBLIC_URL": SP_URL, "SSO_PROVIDERS": [provider]})
    app.test_client_class = Client
    with app.app_context():
        client = app.test_client()
        assert client.get("/auth/saml/testidp/metadata").status_code == 200  # ours still
        response = client.get("/auth/saml/testidp/login")
        assert_refused(client, response, "unreachable", 503, {})
        db.session.remove()
        db.engine.dispose()
