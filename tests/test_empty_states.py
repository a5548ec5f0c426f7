"""A list with nothing in it says so and says what to do next, rather than showing a bare table."""

from __future__ import annotations

import re

import pytest

from reviews.people.models import Role

EMPTY = re.compile(r'class="empty"[^>]*>(.*?)</', re.S)


@pytest.mark.parametrize(
    "path",
    [
        "/cycles",
        "/requests",
        "/notifications",
        "/people?q=nobody-by-this-name",
        "/audit?event=no.such.event",
        "/departments",
        "/account/tokens",
    ],
)
def test_empty_lists_explain_themselves(client, make_person, login_as, path):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    page = login_as(hr).get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    found = EMPTY.search(html)
    assert found, f"{path} shows no empty state"
    assert len(found.group(1).strip()) > 15, found.group(1)
    assert "<tbody></tbody>" not in re.sub(r"\s+", "", html)
