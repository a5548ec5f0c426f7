"""Fuzzing: every form and the org CSV import take random, huge, unicode and wrongly
typed input without a server error, and a refused request writes nothing.

Examples per form come from the Hypothesis profile in conftest.py (a few, fixed,
in `make test`; HYPOTHESIS_PROFILE=fuzz for a wider random search).
"""

from __future__ import annotations

import io
import re

from conftest import csrf_token, post
from hypothesis import given
from hypothesis import strategies as st
from populated import contents
from test_access import EXPECTED, _url, world  # noqa: F401  # `world` is a fixture
from test_security import PREFERRED, _signed_in, _writes

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "2147483648",
    "99999999999999999999999",
    "1e308",
    "NaN",
    "-inf",
    "true",
    "null",
    "[]",
    '{"a": 1}',
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '=HYPERLINK("http://evil.example")',
    "\u202eevil\u200b",
    "👩🏽‍💻",
    "e\u0301",
    "\ufeffbom",
    "../../etc/passwd",
    "a\x00b",
    "\r\n\t",
    "Zoë O'Brien-Łukasiewicz",
]

value = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=80),
    st.integers(-(2**70), 2**70).map(str),
    st.builds(lambda c, n: c * n, st.sampled_from(["x", "é", "字", "🙂"]), st.integers(1, 60_000)),
)
values = st.one_of(value, st.lists(value, min_size=2, max_size=3))  # wrong type: a list

FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def _field_names(client, app, values_, overrides) -> list[str]:
    """Every form field name on the pages this client can open."""
    names: set[str] = set()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            response = client.get(_url(rule, values_, overrides))
            if response.mimetype == "text/html":
                names.update(FIELD.findall(response.get_data(as_text=True)))
            response.close()
    names.discard("csrf_token")
    return sorted(names)


def _fuzz_one(client, url: str, method: str, fields):
    @given(data=fields)
    def attempt(data):
        before = contents()
        response = client.open(url, method=method, data={**data, "csrf_token": client.csrf})
        assert response.status_code < 500, (method, url, data)
        if response.status_code >= 400:
            assert contents() == before, ("a refused request wrote", method, url, data)
        response.close()

    return attempt


def test_every_form_survives_random_input(app, world):  # noqa: F811
    people, ids, overrides = world
    # Fuzzing the sign-in form fails sign-ins by the hundred: sign everyone in first.
    app.config["RATE_LIMIT_ENABLED"] = False
    clients = {}
    for relation in PREFERRED:
        client = _signed_in(app, people.get(relation))
        if relation == "anonymous":
            client.csrf = csrf_token(client)
        clients[relation] = (client, _field_names(client, app, ids, overrides))
    checked = 0
    for rule, method in _writes(app):
        if rule.endpoint == "auth.logout" or rule.rule.startswith(("/api/", "/scim/")):
            continue  # the API and SCIM take JSON: fuzzed below and in test_api_schema
        relation = next(r for r in PREFERRED if r in EXPECTED[rule.endpoint])
        client, names = clients[relation]
        url = _url(rule, ids, overrides)
        fields = st.dictionaries(
            st.one_of(st.sampled_from(names), st.text(min_size=1, max_size=12)), values, max_size=10
        )

        _fuzz_one(client, url, method, fields)()
        checked += 1
    assert checked >= 40


# --- SCIM: random JSON with the provisioning token ----------------------------------------

json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from(NASTY),
        st.text(max_size=40),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    [
                        "schemas",
                        "userName",
                        "displayName",
                        "active",
                        "externalId",
                        "name",
                        "Operations",
                        "op",
                        "path",
                        "value",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                        "urn:reviews:params:scim:schemas:extension:reviews:2.0:User",
                        "manager",
                        "department",
                        "level",
                        "role",
                        "filter",
                        "startIndex",
                        "count",
                    ]
                ),
                st.text(max_size=12),
            ),
            inner,
            max_size=6,
        ),
    ),
    max_leaves=20,
)
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
scim_body = st.one_of(
    json_value,
    st.fixed_dictionaries(
        {"schemas": st.just([USER_SCHEMA]), "userName": value},
        optional={
            "displayName": json_value,
            "active": json_value,
            "externalId": json_value,
        },
    ),
    st.fixed_dictionaries(
        {"schemas": st.just([PATCH_SCHEMA]), "Operations": st.lists(json_value, max_size=3)}
    ),
)


def test_scim_survives_random_json(app):
    """Every SCIM write takes random JSON without a server error; a refusal writes nothing
    and answers a SCIM error."""
    import json

    from reviews.extensions import db
    from reviews.scim.auth import issue_token

    token = issue_token()
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    made = client.post(
        "/scim/v2/Users",
        headers=headers,
        data=json.dumps({"schemas": [USER_SCHEMA], "userName": "fuzz@example.com"}),
    )
    assert made.status_code == 201
    target = made.get_json()["id"]

    def fuzz(method: str, url: str):
        @given(body=scim_body)
        def attempt(body):
            before = contents()
            response = client.open(url, method=method, headers=headers, data=json.dumps(body))
            assert response.status_code < 500, (method, url, body)
            assert response.content_type == "application/scim+json", (method, url)
            if response.status_code >= 400:
                assert contents() == before, ("a refused request wrote", method, url, body)
            response.close()

        return attempt

    for method, url in (
        ("POST", "/scim/v2/Users"),
        ("PUT", f"/scim/v2/Users/{target}"),
        ("PATCH", f"/scim/v2/Users/{target}"),
        ("POST", "/scim/v2/.search"),
    ):
        fuzz(method, url)()


# --- the org CSV import ------------------------------------------------------------------

HEADER = "email,name,manager_email,department,level,role"
cell = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.emails().map(str),
    st.sampled_from(["engineer", "Senior Engineer", "employee", "manager", "hr", ""]),
    st.builds(
        lambda n: "x" * n, st.integers(1000, 30_000)
    ),  # the test client leaks files past 500 KB
)
row = st.lists(cell, min_size=4, max_size=8).map(
    lambda cells: ",".join('"' + c.replace('"', '""') + '"' for c in cells)
)
csv_text = st.lists(row, max_size=12).map(lambda rows: "\n".join([HEADER, *rows]))
upload_bytes = st.one_of(
    st.binary(max_size=4000),
    csv_text.map(lambda t: t.encode("utf-8")),
    csv_text.map(lambda t: t.encode("utf-16")),
    csv_text.map(lambda t: ("\ufeff" + t).encode("utf-8")),
    st.sampled_from([b"", b"\xff\xfe\x00", HEADER.encode(), b"email\n" * 50_000]),
)


def test_org_import_survives_random_files(app, make_person, login_as):
    from reviews.people.models import Role

    hr = make_person("Hannah Reyes", email="hr@example.com", role=Role.HR, level_key=None)
    client = login_as(hr)

    @given(data=upload_bytes)
    def attempt(data):
        before = contents()
        preview = post(
            client,
            "/people/import",
            {"file": (io.BytesIO(data), "org.csv")},
            content_type="multipart/form-data",
        )
        preview.close()
        assert preview.status_code in (200, 400, 413, 422), preview.status_code
        assert contents() == before, "the preview wrote"
        applied = post(client, "/people/import/apply", {"content": data.decode("utf-8", "replace")})
        applied.close()
        assert applied.status_code < 500
        if applied.status_code != 302 or "/people/import" in applied.headers["Location"]:
            assert contents() == before, "a refused import wrote"

    attempt()
