"""OpenID Connect sign-in against a real OpenID Provider (npm `oidc-provider`, loopback).

Every refusal shows a clear page, leaves an `auth.sso_refused` audit event with its
reason, and creates nobody: the negatives run with just-in-time creation on, so a
check that let a bad answer through would make a person.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from reviews import create_app
from reviews.audit.models import AuditEvent
from reviews.config import ConfigError
from reviews.extensions import db
from reviews.identity.models import ExternalIdentity
from reviews.people.models import Person, Role, Source
from tests.conftest import Client, csrf_token, sign_in
from tests.oidc_peer import (
    NAME,
    Peer,
    free_port,
    private_jwk,
    running_provider,
    sign_in_at_provider,
)

CALLBACK = f"http://localhost/auth/sso/{NAME}/callback"


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Peer]:
    with running_provider(tmp_path_factory.mktemp("op"), [CALLBACK]) as found:
        yield found


@pytest.fixture(autouse=True)
def honest(peer: Peer) -> Iterator[None]:
    peer.misbehave("")
    peer.accounts({})
    yield
    peer.misbehave("")
    peer.accounts({})


def sso_app(
    app_config: dict[str, Any], peer: Peer, *, config: dict[str, Any] | None = None, **settings: Any
) -> Flask:
    app = create_app({**app_config, "SSO_PROVIDERS": [peer.provider(**settings)], **(config or {})})
    app.test_client_class = Client
    return app


@pytest.fixture
def sso(app_config: dict[str, Any], peer: Peer) -> Iterator[Flask]:
    app = sso_app(app_config, peer)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def sso_only(app_config: dict[str, Any], peer: Peer) -> Iterator[Flask]:
    """Passwords off, but for the one break-glass account."""
    app = sso_app(
        app_config, peer, config={"SSO_ONLY": True, "SSO_BREAK_GLASS": "root@example.com"}
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def jit(app_config: dict[str, Any], peer: Peer) -> Iterator[Flask]:
    """Just-in-time creation on: a refusal that slipped would create the person."""
    app = sso_app(app_config, peer, create_people=True)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def add_person(email: str, *, active: bool = True, name: str = "Ada Lovelace") -> Person:
    person = Person(email=email, name=name, role=Role.EMPLOYEE, active=active)
    db.session.add(person)
    db.session.commit()
    return person


def sign_in_as(client: Any, login: str, next_url: str = "") -> Any:
    start = client.get(f"/auth/sso/{NAME}/start" + (f"?next={next_url}" if next_url else ""))
    assert start.status_code == 302, start.get_data(as_text=True)
    back = sign_in_at_provider(start.headers["Location"], login, "http://localhost/")
    return client.get(back.removeprefix("http://localhost"))


def refusals() -> list[dict[str, Any]]:
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "auth.sso_refused").order_by(AuditEvent.id)
    ).all()
    return [e.details for e in events]


def people() -> int:
    return db.session.scalar(select(func.count()).select_from(Person)) or 0


def assert_refused(response: Any, reason: str, message: str, status: int = 403) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:800]
    assert "You are not signed in" in html
    assert message in html
    assert "Traceback" not in html  # no stack trace
    assert "eyJ" not in html  # no token
    assert refusals()[-1]["reason"] == reason


def test_a_known_person_signs_in_and_lands_where_they_were_going(sso: Flask) -> None:
    ada = add_person("ada@example.com")
    client = sso.test_client()
    answer = sign_in_as(client, "Ada@Example.com", next_url="/reviews/mine")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/reviews/mine"
    home = client.get("/")
    assert home.status_code == 200
    assert "Ada" in home.get_data(as_text=True)
    link = db.session.scalar(select(ExternalIdentity).where(ExternalIdentity.person_id == ada.id))
    assert link is not None
    assert (link.protocol, link.provider, link.subject) == ("oidc", NAME, "Ada@Example.com")
    assert link.last_sign_in_at is not None
    events = [
        e.event
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.subject_id == ada.id))
    ]
    assert "auth.sso_linked" in events
    assert "auth.sso_signed_in" in events
    # A second sign-in reuses the link and makes no second one.
    client2 = sso.test_client()
    assert sign_in_as(client2, "Ada@Example.com").status_code == 302
    count = db.session.scalar(
        select(func.count())
        .select_from(ExternalIdentity)
        .where(ExternalIdentity.person_id == ada.id)
    )
    assert count == 1


def test_the_sign_in_page_offers_the_provider(sso: Flask) -> None:
    html = sso.test_client().get("/auth/login?next=/reviews/mine").get_data(as_text=True)
    assert "Sign in with Test OP" in html
    assert f"/auth/sso/{NAME}/start?next=/reviews/mine" in html
    assert "Sign in with a password" in html  # passwords still work unless SSO_ONLY


def test_an_unknown_person_is_refused_and_nothing_is_created(sso: Flask) -> None:
    before = people()
    answer = sign_in_as(sso.test_client(), "stranger@example.com")
    assert_refused(answer, "unknown_person", "There is no account for your email address")
    assert people() == before
    assert refusals()[-1]["email"] == "stranger@example.com"
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)) == 0


def test_just_in_time_creation_makes_an_employee(jit: Flask) -> None:
    client = jit.test_client()
    client_answer = sign_in_as(client, "new.starter@example.com")
    assert client_answer.status_code == 302
    person = db.session.scalar(select(Person).where(Person.email == "new.starter@example.com"))
    assert person is not None
    assert person.role is Role.EMPLOYEE
    assert person.source is Source.SSO
    assert person.provisioned_at is not None
    created = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.event == "person.created", AuditEvent.subject_id == person.id
        )
    )
    assert created is not None
    assert created.details["source"] == f"sso:{NAME}"


def test_a_deactivated_person_is_refused_even_with_a_valid_token(sso: Flask) -> None:
    gone = add_person("gone@example.com", active=False)
    answer = sign_in_as(sso.test_client(), "gone@example.com")
    assert_refused(answer, "deactivated", "Your account in Reviews is deactivated")
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)) == 0
    # The log names a known person by id, never by address.
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "auth.sso_refused")
    ).one()
    assert event.subject_id == gone.id
    assert "email" not in event.details


def test_anonymising_removes_the_address_a_refusal_kept(sso: Flask) -> None:
    from reviews.privacy import anonymise

    sign_in_as(sso.test_client(), "later@example.com")  # refused: not in Reviews yet
    assert refusals()[-1]["email"] == "later@example.com"
    hr = add_person("hr@example.com", name="Hanna HR")
    hr.role = Role.HR
    later = add_person("later@example.com", name="Later Hire", active=False)
    anonymise(hr, later)
    db.session.commit()
    assert all("email" not in r for r in refusals())
    assert refusals()[0]["reason"] == "unknown_person"


def test_an_unverified_email_is_refused(jit: Flask, peer: Peer) -> None:
    peer.accounts({"unverified": {"email": "ada@example.com", "email_verified": False}})
    add_person("ada@example.com")
    before = people()
    answer = sign_in_as(jit.test_client(), "unverified")
    assert_refused(answer, "email_unverified", "Your email address is not verified")
    assert people() == before


def test_a_domain_outside_the_allowed_ones_is_refused(
    app_config: dict[str, Any], peer: Peer
) -> None:
    app = sso_app(app_config, peer, create_people=True, allowed_domains=["example.com"])
    with app.app_context():
        before = people()
        answer = sign_in_as(app.test_client(), "someone@elsewhere.org")
        assert_refused(answer, "domain_not_allowed", "domain may not sign in here")
        assert people() == before
        assert sign_in_as(app.test_client(), "someone@example.com").status_code == 302
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("mode", ["wrong_audience", "expired", "foreign_key", "unsigned"])
def test_an_id_token_that_does_not_check_out_is_refused(jit: Flask, peer: Peer, mode: str) -> None:
    before = people()
    peer.misbehave(mode)
    answer = sign_in_as(jit.test_client(), "mallory@example.com")
    assert_refused(answer, "token_invalid", "could not be trusted")
    assert people() == before
    assert db.session.scalar(select(func.count()).select_from(ExternalIdentity)) == 0


def test_a_state_that_does_not_match_is_refused(jit: Flask) -> None:
    client = jit.test_client()
    start = client.get(f"/auth/sso/{NAME}/start")
    back = sign_in_at_provider(start.headers["Location"], "eve@example.com", "http://localhost/")
    forged = back.replace("state=", "state=x")
    before = people()
    answer = client.get(forged.removeprefix("http://localhost"))
    assert_refused(answer, "state_mismatch", "did not start here", status=400)
    assert people() == before


def test_a_replayed_answer_is_refused(sso: Flask) -> None:
    add_person("ada@example.com")
    client = sso.test_client()
    start = client.get(f"/auth/sso/{NAME}/start")
    back = sign_in_at_provider(start.headers["Location"], "ada@example.com", "http://localhost/")
    path = back.removeprefix("http://localhost")
    assert client.get(path).status_code == 302
    # The same answer again, in another browser that has this one's session: refused.
    again = client.get(path)
    assert_refused(again, "state_mismatch", "already used", status=400)


def test_a_subject_linked_to_someone_else_is_refused(sso: Flask, peer: Peer) -> None:
    ada = add_person("ada@example.com")
    add_person("bob@example.com", name="Bob Hope")
    peer.accounts({"acct-7": {"email": "ada@example.com", "email_verified": True}})
    assert sign_in_as(sso.test_client(), "acct-7").status_code == 302
    # The provider's account now claims Bob's address: it stays Ada's account.
    peer.accounts({"acct-7": {"email": "bob@example.com", "email_verified": True}})
    answer = sign_in_as(sso.test_client(), "acct-7")
    assert_refused(answer, "identity_mismatch", "linked to someone else")
    links = db.session.scalars(select(ExternalIdentity)).all()
    assert [(link.person_id, link.subject) for link in links] == [(ada.id, "acct-7")]


def test_the_provider_saying_no_is_shown_clearly(sso: Flask) -> None:
    client = sso.test_client()
    client.get(f"/auth/sso/{NAME}/start")
    answer = client.get(f"/auth/sso/{NAME}/callback?error=access_denied&state=whatever")
    assert_refused(answer, "provider_error", "did not sign you in")
    assert refusals()[-1]["detail"] == "access_denied"


def test_an_unreachable_provider_is_a_clear_page(app_config: dict[str, Any], peer: Peer) -> None:
    closed = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    app = sso_app(app_config, peer, discovery_url=closed)
    with app.app_context():
        answer = app.test_client().get(f"/auth/sso/{NAME}/start")
        assert_refused(answer, "unreachable", "could not be reached", status=502)
        db.session.remove()
        db.engine.dispose()


def test_an_unknown_provider_is_not_found(sso: Flask) -> None:
    assert sso.test_client().get("/auth/sso/nobody/start").status_code == 404
    assert sso.test_client().get("/auth/sso/nobody/callback").status_code == 404


def test_signing_out_offers_the_providers_sign_out(sso: Flask, peer: Peer) -> None:
    add_person("ada@example.com")
    client = sso.test_client()
    assert sign_in_as(client, "ada@example.com").status_code == 302
    token = csrf_token(client, "/")
    out = client.post("/auth/logout", data={"csrf_token": token})
    assert out.status_code == 302
    assert out.headers["Location"] == f"/auth/sso/{NAME}/signed-out"
    page = client.get(out.headers["Location"]).get_data(as_text=True)
    assert "Sign out of Test OP too" in page
    assert f"{peer.issuer}/session/end?client_id=reviews-tests" in page.replace("&amp;", "&")
    assert client.get("/").status_code == 302  # signed out of Reviews


def test_keys_rotated_at_the_provider_are_fetched_again(
    app_config: dict[str, Any], tmp_path: Any
) -> None:
    port = free_port()
    with running_provider(tmp_path, [CALLBACK], port=port, keys=[private_jwk("old")]) as first:
        app = sso_app(app_config, first)
        with app.app_context():
            add_person("ada@example.com")
            assert sign_in_as(app.test_client(), "ada@example.com").status_code == 302
    # The provider restarts with a new key (the old one retired): Reviews, which
    # cached the old key set, fetches the JWKS again for the new key id.
    with (
        running_provider(tmp_path, [CALLBACK], port=port, keys=[private_jwk("new")]),
        app.app_context(),
    ):
        assert sign_in_as(app.test_client(), "ada@example.com").status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_sso_only_turns_passwords_off_but_for_break_glass(sso_only: Flask) -> None:
    app = sso_only
    from reviews.auth.operations import hash_password

    for email, role in (("ada@example.com", Role.EMPLOYEE), ("root@example.com", Role.HR)):
        db.session.add(
            Person(
                email=email,
                name=email,
                role=role,
                password_hash=hash_password("a long password"),
            )
        )
    db.session.commit()
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Sign in with Test OP" in page
    assert "Emergency sign-in for HR administrators" in page
    refused = sign_in(client, "ada@example.com", "a long password")
    assert refused.status_code == 403
    assert "Passwords are turned off here" in refused.get_data(as_text=True)
    assert sign_in(client, "root@example.com", "a long password").status_code == 302


def test_sso_settings_report_every_problem_at_once(app_config: dict[str, Any]) -> None:
    bad = [
        {"name": "Bad Name", "protocol": "oidc"},
        {"name": "x", "protocol": "carrier-pigeon"},
        {"name": "y", "protocol": "saml", "allowed_domains": ["not a domain"]},
    ]
    with pytest.raises(ConfigError) as raised:
        create_app({**app_config, "SSO_PROVIDERS": bad})
    message = str(raised.value)
    for expected in (
        "SSO_PROVIDERS[0]: name must be",
        "discovery_url is required",
        "protocol must be oidc or saml",
        "give one of idp_metadata_file and idp_metadata_url",
        "allowed_domains has what is not a domain: not a domain",
    ):
        assert expected in message
    with pytest.raises(ConfigError, match="SSO_ONLY is on but"):
        create_app({**app_config, "SSO_ONLY": True})


def test_sso_only_offers_no_password_links_but_for_break_glass(sso_only: Flask) -> None:
    app = sso_only
    from reviews.auth.models import LinkPurpose
    from reviews.auth.operations import hash_password, issue_password_link
    from reviews.errors import PhaseClosed

    root = Person(
        email="root@example.com",
        name="Root Admin",
        role=Role.HR,
        password_hash=hash_password("a long password"),
    )
    ada = Person(email="ada@example.com", name="Ada Lovelace", role=Role.EMPLOYEE)
    db.session.add_all([root, ada])
    db.session.commit()
    with pytest.raises(PhaseClosed, match="passwords are turned off"):
        issue_password_link(root, ada, LinkPurpose.INVITE)
    assert issue_password_link(root, root, LinkPurpose.RESET)
    client = app.test_client()
    assert sign_in(client, "root@example.com", "a long password").status_code == 302
    profile = client.get(f"/people/{ada.id}").get_data(as_text=True)
    assert "Passwords are turned off: Ada Lovelace signs in with the identity provider" in profile
    assert "Create a sign-in invitation link" not in profile
    refused = client.post(
        f"/people/{ada.id}/password-link", data={"csrf_token": csrf_token(client, "/")}
    )
    assert refused.status_code in (302, 409)
    from reviews.auth.models import PasswordLink

    assert (
        db.session.scalar(
            select(func.count()).select_from(PasswordLink).where(PasswordLink.person_id == ada.id)
        )
        == 0
    )
