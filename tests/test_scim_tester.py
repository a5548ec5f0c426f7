"""scim2-tester's conformance checks, run against /scim/v2 of a real app."""

from __future__ import annotations

from flask import Flask
from scim2_client.engines.wsgi import WSGISCIMClient
from scim2_tester import Status, check_server

from reviews.extensions import db
from reviews.scim.auth import issue_token


def test_scim2_tester_checks_pass(app: Flask) -> None:
    token = issue_token()
    db.session.commit()
    client = WSGISCIMClient(
        app, base_url="http://localhost/scim/v2", headers={"Authorization": f"Bearer {token}"}
    )
    results = check_server(client)
    failing = [r for r in results if r.status != Status.SUCCESS]
    for r in failing:
        print(r.status, r.title, r.resource_type, r.reason, repr(r.data)[:500])
    assert not failing
    assert len(results) >= 60
    print(f"{len(results)} checks, all succeeded")
