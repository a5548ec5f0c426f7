"""Forwarded headers are believed only from the configured number of reverse proxies."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Client, sign_in
from sqlalchemy import select

from reviews import create_app
from reviews.audit.models import AuditEvent
from reviews.config import ConfigError
from reviews.extensions import db


def _signed_in_ip(app: Any, email: str) -> str:
    """Sign in through a proxy at 10.0.0.2 that forwards a chain of two addresses."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "10.0.0.2"
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.7, 203.0.113.9"
    assert sign_in(client, email).status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "auth.signed_in"))
    return str(event.details["ip"])


def test_forwarded_headers_are_ignored_by_default(app, make_person):
    # A client cannot choose the address the sign-in throttle counts against.
    assert _signed_in_ip(app, make_person().email) == "10.0.0.2"


@pytest.mark.parametrize(("hops", "seen"), [(1, "203.0.113.9"), (2, "198.51.100.7")])
def test_trusted_proxies_give_the_client_address(app, app_config, make_person, hops, seen):
    person = make_person()
    behind_proxies = create_app({**app_config, "TRUSTED_PROXIES": hops})
    behind_proxies.test_client_class = Client
    try:
        assert _signed_in_ip(behind_proxies, person.email) == seen
    finally:
        with behind_proxies.app_context():
            db.engine.dispose()  # its own pool: close it before the next test


def test_a_bad_trusted_proxies_value_stops_start_up(app_config, monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", "one")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be a whole number"):
        create_app(app_config)
