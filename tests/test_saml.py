"""SAML 2.0 sign-in against a real IdP (tests/saml_idp.py: pysaml2's Server on loopback).

Reviews is driven with the Flask test client; the IdP over HTTP with urllib, as a
browser would (its sign-in form, then its auto-submitting POST form, whose fields are
posted to the ACS). Every refusal: a clear page with the reason's message, an
`auth.sso_refused` audit event naming the reason, nobody signed in, nothing created.
"""

from __future__ import annotations

import base64
import html
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Client, csrf_token, sign_in
from flask import Flask
from flask.testing import FlaskClient
from saml2 import BINDING_HTTP_POST
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS
from saml_idp import ELSEWHERE, EMAIL_CLAIM, Keys, SamlIdP, make_keys, serve_idp
from sqlalchemy import func, select

from reviews import create_app
from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.identity import saml_sp
from reviews.identity.admission import REASONS
from reviews.identity.models import ExternalIdentity, SeenAssertion
from reviews.people.models import Person, Source

SP_URL = "https://reviews.example.com"
ACS = "/auth/saml/testidp/acs"
SLS = "/auth/saml/testidp/sls"
SIGNED_OUT = "You are signed out of Test IdP too."
NOT_CONFIRMED = "Test IdP did not confirm that you are signed out there."
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
    app_config: dict[str, Any],
    idp: SamlIdP,
    provider_settings: dict[str, Any],
    saml_keys: Keys,
) -> Iterator[Flask]:
    provider = {
        "name": "testidp",
        "protocol": "saml",
        "label": "Test IdP",
        "idp_metadata_file": str(idp.metadata_file),
        "attributes": {"email": EMAIL_CLAIM},
        **provider_settings,
    }
    if provider.pop("sp_key", False):  # Reviews' own key pair (the tests' SP key)
        provider["sp_key_file"] = saml_keys.sp.key_file
        provider["sp_cert_file"] = saml_keys.sp.cert_file
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
    slo = re.findall(r"<[^>]*SingleLogoutService [^>]*>", xml)
    assert len(slo) == 2
    assert all(f'Location="{SP_URL}{SLS}"' in service for service in slo)
    assert any("bindings:HTTP-Redirect" in service for service in slo)
    assert any("bindings:HTTP-POST" in service for service in slo)
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


# ---------------------------------------------------------------- single logout


def _at_idp(url: str) -> tuple[int, str]:
    """GET `url` at the IdP without following its redirect: the status, and the
    Location it redirects to (or the body of any other answer)."""

    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    try:
        with urllib.request.build_opener(Stop).open(url, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as reply:
        return reply.code, str(reply.headers.get("Location") or reply.read().decode())


def _no_redirect(url: str) -> str:
    """The Location the IdP redirects the browser to from `url`."""
    status, location = _at_idp(url)
    assert status == 302, location
    return location


def sign_out(client: FlaskClient) -> Any:
    """The "Sign out" button of a signed-in page."""
    return client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})


def signed_in_then_out(client: FlaskClient, idp: SamlIdP) -> Any:
    response, _answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert response.status_code == 302, response.get_data(as_text=True)
    return sign_out(client)


def logout_at_idp(client: FlaskClient, idp: SamlIdP) -> str:
    """Follow "Sign out of Test IdP too": the IdP's LogoutResponse URL (back to Reviews)."""
    response = client.get("/auth/saml/testidp/logout")
    assert response.status_code == 302, response.get_data(as_text=True)
    location = str(response.headers["Location"])
    assert location.startswith(f"{idp.url}/slo?SAMLRequest="), location
    answer = _no_redirect(location)
    assert answer.startswith(f"{SP_URL}{SLS}?"), answer
    return answer


def back_at_reviews(client: FlaskClient, answer: str) -> tuple[Any, str]:
    """The IdP's redirect arrives; the response and the page it leads to."""
    parts = urllib.parse.urlsplit(answer)
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"] == "/auth/login"
    page = html.unescape(client.get("/auth/login").get_data(as_text=True))
    assert "Traceback" not in page
    return response, page


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}


def with_query(url: str, fields: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts._replace(query=urllib.parse.urlencode(fields)).geturl()


def sign_outs() -> list[AuditEvent]:
    found = select(AuditEvent).where(AuditEvent.event == "auth.sso_signed_out")
    return list(db.session.scalars(found.order_by(AuditEvent.id)))


def test_single_logout_signs_out_at_the_idp_too(client, idp, make_person):
    ann = make_person("Ann", email="ann@example.com")
    response, answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert response.status_code == 302
    with client.session_transaction() as session:
        kept = session[saml_sp.LOGOUT_KEY]
    assertion = base64.b64decode(answer["SAMLResponse"]).decode()
    index = re.search(r'SessionIndex="([^"]+)"', assertion)
    assert index
    assert kept["session_index"] == index.group(1)
    assert kept["name_id"] == {"text": "ann@example.com", "format": NAMEID_FORMAT_EMAILADDRESS}

    out = sign_out(client)
    assert out.status_code == 302
    assert out.headers["Location"] == "/auth/saml/testidp/signed-out"
    assert client.get("/").status_code == 302  # signed out of Reviews already
    page = html.unescape(client.get(out.headers["Location"]).get_data(as_text=True))
    assert "You are signed out." in page
    assert "Sign out of Test IdP too" in page
    assert "Back to sign-in" in page
    assert 'href="/auth/saml/testidp/logout"' in page

    back = logout_at_idp(client, idp)
    [received] = idp.logout_requests
    assert received.name_id.text == "ann@example.com"
    assert received.name_id.format == NAMEID_FORMAT_EMAILADDRESS
    assert [i.text for i in received.session_index] == [index.group(1)]
    assert received.issuer.text == f"{SP_URL}/auth/saml/testidp/metadata"
    assert received.destination == f"{idp.url}/slo"
    assert "Signature" in query(back)  # the IdP signs its answer

    _response, page = back_at_reviews(client, back)
    assert SIGNED_OUT in page
    [event] = sign_outs()
    assert event.actor_id is None
    assert event.subject_id == ann.id
    assert event.details == {"provider": "testidp", "protocol": "saml", "signed": True}
    assert "ann@example.com" not in str(event.details)
    with client.session_transaction() as session:
        assert saml_sp.LOGOUT_KEY not in session  # spent
    again = client.get("/auth/saml/testidp/logout")
    assert (again.status_code, again.headers["Location"]) == (302, "/auth/login")
    assert len(idp.logout_requests) == 1


@pytest.mark.parametrize("provider_settings", [{"sp_key": True}])
def test_with_an_sp_key_the_logout_request_is_signed(client, idp, make_person):
    make_person("Ann", email="ann@example.com")
    assert signed_in_then_out(client, idp).status_code == 302
    idp.want_signed_requests = True  # the IdP now refuses an unsigned LogoutRequest
    location = client.get("/auth/saml/testidp/logout").headers["Location"]
    fields = query(location)
    assert fields["SigAlg"] == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert fields["Signature"]
    back = _no_redirect(location)  # the IdP checked the signature with our metadata's key
    assert len(idp.logout_requests) == 1
    _response, page = back_at_reviews(client, back)
    assert SIGNED_OUT in page
    assert len(sign_outs()) == 1


def test_the_test_idp_refuses_an_unsigned_logout_request_when_it_wants_one(
    client, idp, make_person
):
    """So the test above shows a signature, not an IdP that takes anything."""
    make_person("Ann", email="ann@example.com")
    assert signed_in_then_out(client, idp).status_code == 302
    idp.want_signed_requests = True
    location = client.get("/auth/saml/testidp/logout").headers["Location"]
    status, page = _at_idp(location)
    assert (status, page) == (400, "Test IdP: bad LogoutRequest (IncorrectlySigned)")
    assert idp.logout_requests == []


def test_an_idp_that_does_not_sign_its_logout_response(client, idp, make_person):
    make_person("Ann", email="ann@example.com")
    assert signed_in_then_out(client, idp).status_code == 302
    idp.mode = "unsigned"
    back = logout_at_idp(client, idp)
    assert "Signature" not in query(back)
    _response, page = back_at_reviews(client, back)
    assert SIGNED_OUT in page
    [event] = sign_outs()
    assert event.details["signed"] is False  # the audit log says what was proven


def test_without_single_logout_at_the_idp_sign_out_goes_to_sign_in(client, idp, make_person):
    idp.slo = False
    idp.write_metadata()  # before Reviews first reads it
    make_person("Ann", email="ann@example.com")
    out = signed_in_then_out(client, idp)
    assert out.status_code == 302
    assert out.headers["Location"] == "/auth/login"
    assert client.get("/").status_code == 302
    with client.session_transaction() as session:
        assert saml_sp.LOGOUT_KEY not in session
    for path in ("signed-out", "logout"):
        response = client.get(f"/auth/saml/testidp/{path}")
        assert (response.status_code, response.headers["Location"]) == (302, "/auth/login")
    assert idp.logout_requests == []


def test_password_sign_in_signs_out_as_before(client, idp, make_person):
    person = make_person("Ann", email="ann@example.com")
    assert sign_in(client, person.email).status_code == 302
    out = sign_out(client)
    assert out.headers["Location"] == "/auth/login"


@pytest.mark.parametrize("path", ["signed-out", "logout"])
def test_nothing_kept_means_straight_to_sign_in(client, path):
    response = client.get(f"/auth/saml/testidp/{path}")
    assert (response.status_code, response.headers["Location"]) == (302, "/auth/login")


@pytest.mark.parametrize("path", ["signed-out", "logout", "sls"])
def test_single_logout_of_an_unknown_provider_is_not_found(client, path):
    assert client.get(f"/auth/saml/nope/{path}").status_code == 404


def _reinflate(saml_response: str, change: Any) -> str:
    xml = zlib.decompress(base64.b64decode(saml_response), -15).decode()
    changed = change(xml)
    assert changed != xml
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(packer.compress(changed.encode()) + packer.flush()).decode()


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        ("altered_response", "does not verify"),
        ("wrong_key", "does not verify"),
        ("sha1", "SHA-1"),
        ("wrong_destination", "another URL"),
        ("logout_refused", "provider_error"),
        ("other_request", "InResponseTo"),
        ("altered_relay_state", "bad RelayState"),
        ("sign_in_relay_state", "bad RelayState"),
        ("expired_relay_state", "bad RelayState"),
        ("missing", "bad RelayState"),
        ("garbage", "token_invalid"),
        ("replayed", "seen before"),
    ],
)
def test_an_untrustworthy_logout_response_is_refused(
    app, client, idp, make_person, monkeypatch, caplog, tamper, why
):
    make_person("Ann", email="ann@example.com")
    assert signed_in_then_out(client, idp).status_code == 302
    if tamper in ("wrong_key", "sha1", "wrong_destination", "logout_refused"):
        idp.mode = tamper
    if tamper == "other_request":  # a genuine answer, but to someone else's sign-out
        other = app.test_client()
        assert signed_in_then_out(other, idp).status_code == 302
        idp.mode = "unsigned"  # so that the signature is not what refuses it
        others = query(logout_at_idp(other, idp))["RelayState"]
    back = logout_at_idp(client, idp)
    fields = query(back)
    if tamper == "altered_response":
        fields["SAMLResponse"] = _reinflate(
            fields["SAMLResponse"], lambda xml: xml.replace('Version="2.0"', 'Version="2.0" ')
        )
    elif tamper == "other_request":
        fields["RelayState"] = others
    elif tamper == "altered_relay_state":
        state = fields["RelayState"]
        fields["RelayState"] = state[:-2] + ("AA" if state[-2:] != "AA" else "BB")
    elif tamper == "sign_in_relay_state":  # signed by Reviews, but for a sign-in
        fields["RelayState"] = query(start(client))["RelayState"]
    elif tamper == "expired_relay_state":
        monkeypatch.setattr(saml_sp, "RELAY_MAX_AGE", -1)
    elif tamper == "missing":
        fields = {}
    elif tamper == "garbage":
        fields["SAMLResponse"] = "not base64 at all!"
        del fields["Signature"], fields["SigAlg"]
    elif tamper == "replayed":
        _response, page = back_at_reviews(client, back)
        assert SIGNED_OUT in page
    with caplog.at_level(logging.WARNING, logger="reviews.identity.saml"):
        _response, page = back_at_reviews(client, with_query(back, fields))
    assert NOT_CONFIRMED in page
    assert SIGNED_OUT not in page
    assert "<saml" not in page.lower()
    assert why.lower() in caplog.text.lower(), caplog.text
    assert len(sign_outs()) == (1 if tamper == "replayed" else 0)
    assert client.get("/").status_code == 302  # still signed out of Reviews


@pytest.mark.parametrize("mode", ["good", "wrong_key"])
def test_a_logout_response_may_come_by_post_without_the_session_cookie(
    app, client, idp, make_person, caplog, mode
):
    """HTTP-POST from the IdP's page is cross-site: SameSite=Lax keeps the cookie back,
    so RelayState carries what is needed. The XML signature is checked by pysaml2."""
    ann = make_person("Ann", email="ann@example.com")
    assert signed_in_then_out(client, idp).status_code == 302
    idp.logout_binding = BINDING_HTTP_POST
    idp.mode = mode
    location = client.get("/auth/saml/testidp/logout").headers["Location"]
    with urllib.request.urlopen(location, timeout=10) as reply:  # noqa: S310 (loopback)
        page = reply.read().decode()
    action = re.search(r'action="([^"]+)"', page)
    assert action
    assert html.unescape(action.group(1)) == f"{SP_URL}{SLS}"
    fields = _fields(page)
    assert ":SignatureValue>" in base64.b64decode(fields["SAMLResponse"]).decode()
    cookieless = app.test_client()
    with caplog.at_level(logging.WARNING, logger="reviews.identity.saml"):
        response = cookieless.post(SLS, data=fields)
    assert (response.status_code, response.headers["Location"]) == (302, "/auth/login")
    shown = html.unescape(cookieless.get("/auth/login").get_data(as_text=True))
    if mode == "good":
        assert SIGNED_OUT in shown
        [event] = sign_outs()
        assert (event.subject_id, event.details["signed"]) == (ann.id, True)
    else:
        assert NOT_CONFIRMED in shown
        assert "signature" in caplog.text.lower(), caplog.text
        assert sign_outs() == []


def test_a_logout_started_at_the_idp_is_not_taken_for_an_answer(client, idp, make_person):
    """Single logout is SP-initiated only: a LogoutRequest at /sls changes nothing."""
    make_person("Ann", email="ann@example.com")
    response, _answer = sign_in_via_idp(client, idp, "ann@example.com")
    assert response.status_code == 302
    out = client.get(f"{SLS}?SAMLRequest=PHNhbWw%2B&RelayState=x")
    assert (out.status_code, out.headers["Location"]) == (302, "/auth/login")
    home = client.get("/")
    assert home.status_code == 200  # still signed in to Reviews
    page = html.unescape(home.get_data(as_text=True))
    assert "Reviews does not take part in signing out at Test IdP" in page
    assert sign_outs() == []
