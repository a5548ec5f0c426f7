"""Helpers for the between-cycles tests: one signed-in client per person."""

from __future__ import annotations

from typing import Any

from conftest import csrf_token, sign_in


def client_for(app: Any, person: Any) -> Any:
    client = app.test_client()
    response = sign_in(client, person.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = csrf_token(client, "/")
    return client
