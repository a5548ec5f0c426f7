"""SCIM 2.0 at /scim/v2: auth, the org rules, errors, filters, paging, PATCH, DELETE, CLI."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from conftest import count_queries
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from reviews.audit.models import AuditEvent
from reviews.extensions import db
from reviews.identity.models import ProvisioningToken
from reviews.people.models import Person, Role, Source
from reviews.scim.auth import issue_token

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
REVIEWS = "urn:reviews:params:scim:schemas:extension:reviews:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def token(app: Flask) -> str:
    secret = issue_token()
    db.session.commit()
    return secret


@pytest.fixture
def scim(client: FlaskClient, token: str) -> Callable[..., Any]:
    def call(method: str, path: str, body: Any = None, *, raw: str | None = None, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {kw.pop('secret', token)}"}
        data = (
            raw if raw is not None else (None if body is None else __import__("json").dumps(body))
        )
        return client.open(
            f"/scim/v2{path}",
            method=method,
            data=data,
            headers=headers,
            content_type="application/scim+json",
            **kw,
        )

    return call


def user(email: str, name: str = "", manager: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": [USER, ENTERPRISE, REVIEWS],
        "userName": email,
        "displayName": name or email.split("@")[0].title(),
        ENTERPRISE: {"department": extra.pop("department", "Engineering")},
        REVIEWS: {"level": extra.pop("level", "engineer"), "role": extra.pop("role", "employee")},
    }
    if manager:
        body[ENTERPRISE]["manager"] = {"value": manager}
    body.update(extra)
    return body


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH], "Operations": list(operations)}


def people() -> int:
    return db.session.scalar(select(func.count()).select_from(Person)) or 0


def person(email: str) -> Person:
    found = db.session.scalar(select(Person).where(Person.email == email))
    assert found is not None
    db.session.refresh(found)
    return found


def events(kind: str, subject: Person) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.event == kind, AuditEvent.subject_id == subject.id)
        )
    )


def assert_error(response: Any, status: int, scim_type: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/scim+json"
    body: dict[str, Any] = response.get_json()
    assert body["schemas"] == [ERROR]
    assert body["status"] == str(status)
    if scim_type:
        assert body.get("scimType") == scim_type, body
    return body


# Auth ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/Users", "/ServiceProviderConfig", "/Schemas", "/Users/1"])
def test_no_or_wrong_token_is_401(client: FlaskClient, token: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer rvscim_wrong"}, {"Authorization": token}):
        response = client.get(f"/scim/v2{path}", headers=headers)
        assert_error(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_personal_api_token_is_not_a_provisioning_token(
    client: FlaskClient, make_person: Callable[..., Person], token: str
) -> None:
    from reviews.api.operations import create_token

    hr = make_person(role=Role.HR)
    _row, secret = create_token(hr, hr, "mine")
    db.session.commit()
    response = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {secret}"})
    assert_error(response, 401)


def test_token_command_rotates_and_keeps_only_the_hash(runner: Any, scim: Any, token: str) -> None:
    result = runner.invoke(args=["scim", "token"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    assert secret.startswith("rvscim_")
    rows = list(db.session.scalars(select(ProvisioningToken)))
    assert {r.token_hash for r in rows} >= {hashlib.sha256(secret.encode()).hexdigest()}
    assert all(secret not in (r.token_hash, r.prefix) for r in rows)
    assert scim("GET", "/Users", secret=secret).status_code == 200
    assert_error(scim("GET", "/Users"), 401)  # the older token was revoked
    result = runner.invoke(args=["scim", "revoke"])
    assert result.exit_code == 0
    assert "Revoked 1" in result.output
    assert_error(scim("GET", "/Users", secret=secret), 401)


# Creating and the org rules -----------------------------------------------------


def test_create_user_with_manager_department_and_level(scim: Any) -> None:
    boss = scim("POST", "/Users", user("Boss@Example.com", "The Boss", role="manager"))
    assert boss.status_code == 201, boss.get_data(as_text=True)
    assert boss.mimetype == "application/scim+json"
    boss_id = boss.get_json()["id"]
    assert boss.headers["Location"].endswith(f"/scim/v2/Users/{boss_id}")
    response = scim(
        "POST",
        "/Users",
        user("ann@example.com", "Ann", boss_id, level="Senior Engineer", externalId="okta-1"),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["userName"] == "ann@example.com"
    assert body["displayName"] == "Ann"
    assert body["active"] is True
    assert body["externalId"] == "okta-1"
    assert body[ENTERPRISE]["manager"]["value"] == boss_id
    assert body[ENTERPRISE]["manager"]["$ref"].endswith(f"/Users/{boss_id}")
    assert body[ENTERPRISE]["department"] == "Engineering"
    assert body[REVIEWS] == {"level": "senior-engineer"}  # employee: no extra role
    assert body["meta"]["resourceType"] == "User"
    ann = person("ann@example.com")
    assert ann.manager is not None
    assert ann.manager.email == "boss@example.com"
    assert ann.source == Source.SCIM
    assert ann.provisioned_at is not None
    assert ann.level is not None
    assert ann.level.key == "senior-engineer"
    created = events("person.created", ann)
    assert [e.details for e in created] == [{"source": "scim"}]
    assert person("boss@example.com").role == Role.MANAGER


def test_the_manager_may_be_given_by_email(scim: Any) -> None:
    boss = scim("POST", "/Users", user("boss@example.com")).get_json()["id"]
    made = scim("POST", "/Users", user("ann@example.com", manager="Boss@Example.com"))
    assert made.status_code == 201, made.get_json()
    assert made.get_json()[ENTERPRISE]["manager"]["value"] == boss
    assert person("ann@example.com").manager_id == int(boss)
    unknown = scim("POST", "/Users", user("bob@example.com", manager="nobody@example.com"))
    assert_error(unknown, 400, "invalidValue")


def test_unknown_manager_is_refused_and_nothing_changes(scim: Any) -> None:
    before = people()
    body = assert_error(scim("POST", "/Users", user("a@example.com", manager="999")), 400)
    assert body["scimType"] == "invalidValue"
    assert "unknown manager '999'" in body["detail"]
    assert people() == before


def test_unknown_level_and_role_are_refused(scim: Any) -> None:
    assert (
        "unknown level"
        in assert_error(
            scim("POST", "/Users", user("a@example.com", level="wizard")), 400, "invalidValue"
        )["detail"]
    )
    assert (
        "unknown role"
        in assert_error(
            scim("POST", "/Users", user("a@example.com", role="king")), 400, "invalidValue"
        )["detail"]
    )
    assert people() == 0


def test_taken_email_is_a_uniqueness_conflict(scim: Any, make_person: Any) -> None:
    make_person(email="taken@example.com")
    before = people()
    assert_error(scim("POST", "/Users", user("TAKEN@example.com")), 409, "uniqueness")
    other = scim("POST", "/Users", user("b@example.com")).get_json()["id"]
    response = scim(
        "PATCH",
        f"/Users/{other}",
        patch({"op": "replace", "path": "userName", "value": "taken@example.com"}),
    )
    assert_error(response, 409, "uniqueness")
    assert people() == before + 1
    assert person("b@example.com").email == "b@example.com"


def test_manager_loops_self_management_and_deactivated_managers(scim: Any) -> None:
    a = scim("POST", "/Users", user("a@example.com")).get_json()["id"]
    b = scim("POST", "/Users", user("b@example.com", manager=a)).get_json()["id"]
    c = scim("POST", "/Users", user("c@example.com", manager=b)).get_json()["id"]
    loop = patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": c}})
    body = assert_error(scim("PATCH", f"/Users/{a}", loop), 400, "invalidValue")
    assert "loop" in body["detail"]
    itself = patch({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": {"value": a}})
    assert "own manager" in assert_error(scim("PATCH", f"/Users/{a}", itself), 400)["detail"]
    assert person("a@example.com").manager_id is None
    gone = scim("POST", "/Users", user("gone@example.com", active=False)).get_json()["id"]
    body = assert_error(scim("POST", "/Users", user("d@example.com", manager=gone)), 400)
    assert "deactivated" in body["detail"]


def test_deactivation_and_its_refusal_while_managing(scim: Any) -> None:
    boss = scim("POST", "/Users", user("boss@example.com")).get_json()["id"]
    ann = scim("POST", "/Users", user("ann@example.com", manager=boss)).get_json()["id"]
    off = patch({"op": "replace", "path": "active", "value": False})
    body = assert_error(scim("PATCH", f"/Users/{boss}", off), 400)
    assert "still manages 1 active people" in body["detail"]
    assert person("boss@example.com").active
    version = person("ann@example.com").session_version
    response = scim("PATCH", f"/Users/{ann}", off)
    assert response.status_code == 200
    assert response.get_json()["active"] is False
    gone = person("ann@example.com")
    assert not gone.active
    assert gone.deactivated_at is not None
    assert gone.session_version == version + 1
    assert len(events("person.deactivated", gone)) == 1
    # PUT active=true brings them back
    back = scim("PUT", f"/Users/{ann}", user("ann@example.com", manager=boss, active=True))
    assert back.status_code == 200
    assert back.get_json()["active"] is True
    assert person("ann@example.com").active
    assert len(events("person.reactivated", gone)) == 1


def test_role_or_email_change_signs_out_and_is_audited(scim: Any) -> None:
    ann = scim("POST", "/Users", user("ann@example.com")).get_json()["id"]
    version = person("ann@example.com").session_version
    response = scim(
        "PATCH", f"/Users/{ann}", patch({"op": "replace", "path": f"{REVIEWS}:role", "value": "hr"})
    )
    assert response.status_code == 200
    assert response.get_json()[REVIEWS]["role"] == "hr"
    assert person("ann@example.com").session_version == version + 1
    scim(
        "PATCH",
        f"/Users/{ann}",
        patch({"op": "replace", "path": "userName", "value": "ann2@example.com"}),
    )
    moved = person("ann2@example.com")
    assert moved.session_version == version + 2
    fields = [e.details["fields"] for e in events("person.updated", moved)]
    assert fields == [["role"], ["email"]]
    assert all(e.details["source"] == "scim" for e in events("person.updated", moved))


def test_put_without_the_reviews_extension_keeps_role_and_level(scim: Any) -> None:
    ann = scim("POST", "/Users", user("ann@example.com", role="hr", level="tech-lead")).get_json()[
        "id"
    ]
    body = {"schemas": [USER], "userName": "ann@example.com", "displayName": "Ann Smith"}
    response = scim("PUT", f"/Users/{ann}", body)
    assert response.status_code == 200, response.get_data(as_text=True)
    kept = person("ann@example.com")
    assert kept.name == "Ann Smith"
    assert kept.role == Role.HR
    assert kept.level is not None
    assert kept.level.key == "tech-lead"
    assert kept.department is not None  # the enterprise extension is not named either


# PATCH -------------------------------------------------------------------------


def test_patch_add_replace_remove(scim: Any) -> None:
    boss = scim("POST", "/Users", user("boss@example.com")).get_json()["id"]
    ann = scim("POST", "/Users", user("ann@example.com")).get_json()["id"]
    ops = patch(
        {"op": "add", "path": f"{ENTERPRISE}:manager", "value": {"value": boss}},
        {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Sales"},
        {"op": "add", "path": "externalId", "value": "ext-9"},
        {"op": "replace", "path": "name.givenName", "value": "Annie"},
    )
    response = scim("PATCH", f"/Users/{ann}", ops)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body[ENTERPRISE] == {
        "department": "Sales",
        "manager": {"value": boss, "$ref": f"http://localhost/scim/v2/Users/{boss}"},
    }
    assert body["externalId"] == "ext-9"
    assert body["displayName"] == "Annie"
    # Entra ID's form: a bare id, capitalised op
    entra = patch({"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": boss})
    assert scim("PATCH", f"/Users/{ann}", entra).status_code == 200
    removed = scim(
        "PATCH",
        f"/Users/{ann}",
        patch(
            {"op": "remove", "path": f"{ENTERPRISE}:manager"},
            {"op": "remove", "path": f"{REVIEWS}:level"},
        ),
    )
    assert removed.status_code == 200
    assert "manager" not in removed.get_json()[ENTERPRISE]
    assert REVIEWS not in removed.get_json()
    ann_row = person("ann@example.com")
    assert ann_row.manager_id is None
    assert ann_row.level is None
    assert ann_row.department is not None
    assert ann_row.department.name == "Sales"


def test_removing_active_changes_nobodys_status(scim: Any) -> None:
    """A person is active or deactivated: removing `active` keeps them as they are, and
    the attribute reads back absent, as the provider left it, until it is set again."""
    for status in (True, False):
        email = f"ann-{status}@example.com".lower()
        ann = scim("POST", "/Users", user(email, active=status)).get_json()["id"]
        removed = scim("PATCH", f"/Users/{ann}", patch({"op": "remove", "path": "active"}))
        assert removed.status_code == 200, removed.get_json()
        assert "active" not in removed.get_json()
        assert "active" not in scim("GET", f"/Users/{ann}").get_json()
        assert person(email).active is status
        # Another change keeps it absent; setting it shows it again.
        renamed = scim(
            "PATCH", f"/Users/{ann}", patch({"op": "replace", "path": "displayName", "value": "A"})
        )
        assert "active" not in renamed.get_json()
        assert person(email).active is status
        again = scim(
            "PATCH", f"/Users/{ann}", patch({"op": "replace", "path": "active", "value": True})
        )
        assert again.get_json()["active"] is True
        assert person(email).active is True


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "replace", "path": "nickname.foo", "value": "x"}, "invalidPath"),
        ({"op": "replace", "path": "noSuchThing", "value": "x"}, "invalidPath"),
        ({"op": "remove", "path": "userName"}, "mutability"),
        ({"op": "explode", "path": "active"}, None),
        ({"op": "replace", "path": 'emails[type eq "home"].value', "value": "x@example.com"}, None),
        ({"op": "replace", "path": "active", "value": "maybe"}, None),
        ({"op": "replace", "path": "id", "value": "7"}, "mutability"),
    ],
)
def test_bad_patches_are_scim_errors(
    scim: Any, operation: dict[str, Any], scim_type: str | None
) -> None:
    ann = scim("POST", "/Users", user("ann@example.com")).get_json()["id"]
    response = scim("PATCH", f"/Users/{ann}", patch(operation))
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code, scim_type)
    assert person("ann@example.com").active


# Malformed requests ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "scim_type"),
    [
        ("{not json", "invalidSyntax"),
        ("[1, 2]", "invalidSyntax"),
        ('{"schemas": ["urn:nope"], "userName": "a@example.com"}', None),
        ('{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]}', None),
        (
            '{"schemas": ["' + USER + '"], "userName": "a@example.com", "shoeSize": 9}',
            None,
        ),
        (
            '{"schemas": ["' + USER + '"], "userName": "not an email"}',
            "invalidValue",
        ),
        (
            '{"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a@b"}',
            "invalidValue",
        ),
    ],
)
def test_malformed_bodies_are_scim_errors(scim: Any, raw: str, scim_type: str | None) -> None:
    response = scim("POST", "/Users", raw=raw)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert_error(response, 400, scim_type)
    assert people() == 0


@pytest.mark.parametrize(
    ("query", "scim_type"),
    [
        ("filter=userName%20eq", "invalidFilter"),
        ("filter=nickName%20eq%20%22x%22", "invalidFilter"),
        ("filter=active%20gt%20true", "invalidFilter"),
        ("filter=((((", "invalidFilter"),
        ("startIndex=abc", "invalidValue"),
        ("count=1.5", "invalidValue"),
    ],
)
def test_bad_list_parameters(scim: Any, query: str, scim_type: str) -> None:
    assert_error(scim("GET", f"/Users?{query}"), 400, scim_type)


def test_unknown_urls_and_methods(scim: Any) -> None:
    assert_error(scim("GET", "/Groups"), 404)
    assert_error(scim("GET", "/Users/abc"), 404)
    assert_error(scim("GET", "/Users/99999999999999"), 404)
    assert_error(scim("POST", "/Schemas", {}), 405)
    assert_error(scim("DELETE", "/ServiceProviderConfig"), 405)


# Reading -------------------------------------------------------------------------


def test_filters_and_paging(scim: Any) -> None:
    for n in range(7):
        scim("POST", "/Users", user(f"p{n}@example.com", externalId=f"x{n}"))
    scim("PATCH", "/Users/3", patch({"op": "replace", "path": "active", "value": False}))

    def listing(query: str) -> dict[str, Any]:
        response = scim("GET", f"/Users?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        body: dict[str, Any] = response.get_json()
        return body

    found = listing('filter=userName eq "P4@EXAMPLE.com"')
    assert found["totalResults"] == 1
    assert found["Resources"][0]["userName"] == "p4@example.com"
    assert listing('filter=externalId eq "x5"')["Resources"][0]["userName"] == "p5@example.com"
    assert listing('filter=externalId eq "X5"')["totalResults"] == 0  # caseExact
    assert listing('filter=emails.value eq "p6@example.com"')["totalResults"] == 1
    assert (
        listing('filter=emails[type eq "work" and value eq "p6@example.com"]')["totalResults"] == 1
    )
    inactive = listing("filter=active eq false")
    assert [u["userName"] for u in inactive["Resources"]] == ["p2@example.com"]
    assert listing('filter=userName sw "p" and active eq true')["totalResults"] == 6
    page = listing("startIndex=3&count=2")
    assert page["totalResults"] == 7
    assert page["startIndex"] == 3
    assert page["itemsPerPage"] == 2
    assert [u["userName"] for u in page["Resources"]] == ["p2@example.com", "p3@example.com"]
    assert listing("count=0")["itemsPerPage"] == 0
    assert listing("startIndex=-4&count=1")["startIndex"] == 1
    assert listing("startIndex=50").get("Resources", []) == []
    only = listing("attributes=userName&count=1")["Resources"][0]
    assert set(only) <= {"id", "userName", "schemas", "meta"}
    search = scim(
        "POST",
        "/Users/.search",
        {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'userName eq "p1@example.com"',
        },
    )
    assert search.get_json()["totalResults"] == 1


def test_a_username_lookup_is_one_probe_of_the_email_index(scim: Any, app: Flask) -> None:
    """Identity providers look each user up by userName before they write it: at
    100,000 people a comparison of lower(email) read every person (80 ms each: a full
    sync of 100,000 users spent over two hours of the database on lookups). Emails
    are kept in lower case (a CHECK), so the filter compares the column itself,
    which its unique index answers."""
    from sqlalchemy import text

    from reviews.scim.filters import to_condition

    scim("POST", "/Users", user("Mixed.Case@Example.com"))
    assert (
        scim("GET", '/Users?filter=userName eq "MIXED.case@example.COM"').get_json()["totalResults"]
        == 1
    )
    condition = to_condition('userName eq "MIXED.case@example.COM"')
    stmt = select(Person.id).where(condition)
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    assert "lower(" not in sql.lower()
    assert "'mixed.case@example.com'" in sql
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = " ".join(str(r[0]) for r in conn.execute(text("EXPLAIN " + sql)))
        assert "uq_person_email" in plan, plan


def test_contains_starts_and_ends_go_through_the_directory_search(scim: Any) -> None:
    """`co`, `sw` and `ew` on a name or an email read every person (no index serves
    LIKE '%x%' on a column). They now also carry the directory's search for the value,
    which PostgreSQL's trigram index answers, and each person it gives is held to the
    exact test: the search alone would take "jordan@" for `sw "dan"`."""
    from reviews.scim.filters import to_condition

    for email, name in (
        ("dan@example.com", "Dan Smith"),
        ("jordan@example.com", "Smithers Jordan"),
        ("ann_x@example.com", "Ann Goldsmith"),
        ("annax@example.com", "Anna Danvers"),
    ):
        scim("POST", "/Users", user(email, name))

    def names(expression: str) -> list[str]:
        response = scim("GET", "/Users", query_string={"filter": expression})
        assert response.status_code == 200, response.get_data(as_text=True)
        return sorted(u["userName"] for u in response.get_json().get("Resources", []))

    assert names('userName sw "dan"') == ["dan@example.com"]
    assert names('userName co "dan"') == ["dan@example.com", "jordan@example.com"]
    assert names('displayName ew "SMITH"') == ["ann_x@example.com", "dan@example.com"]
    assert names('displayName sw "smith"') == ["jordan@example.com"]
    assert names('displayName co "gold"') == ["ann_x@example.com"]
    assert names('userName co "n_x"') == ["ann_x@example.com"]  # "_" is itself, not any
    assert names('not (userName co "dan") and userName ew "example.com"') == [
        "ann_x@example.com",
        "annax@example.com",
    ]
    assert names('userName sw "da"') == ["dan@example.com"]  # too short for the search
    # the search is the directory's own, its pattern written into the SQL (planned for
    # its value: see test_people_views)
    sql = str(
        select(Person.id)
        .where(to_condition('userName co "JorD"'))
        .compile(db.engine, compile_kwargs={"literal_binds": True})
    )
    # (psycopg's dialect doubles every %)
    searched = "(lower(person.name) || ' ' || person.email) LIKE '%jord%'"
    assert searched in sql.replace("%%", "%"), sql
    short = str(select(Person.id).where(to_condition('userName co "jo"')).compile(db.engine))
    assert "lower(person.name) ||" not in short


def test_list_query_count_does_not_grow(scim: Any, app: Flask) -> None:
    boss = scim("POST", "/Users", user("boss@example.com", department="Ops")).get_json()["id"]

    def statements() -> int:
        db.session.commit()
        with count_queries() as seen:
            response = scim("GET", "/Users?count=200")
        assert response.status_code == 200
        return len(seen)

    for n in range(3):
        scim("POST", "/Users", user(f"a{n}@example.com", manager=boss, department=f"D{n}"))
    few = statements()
    for n in range(30):
        scim("POST", "/Users", user(f"b{n}@example.com", manager=boss, department=f"E{n}"))
    assert statements() == few <= 5


# DELETE ---------------------------------------------------------------------------


def test_delete_deactivates_hides_and_post_relinks(scim: Any) -> None:
    ann = scim("POST", "/Users", user("ann@example.com", role="hr")).get_json()["id"]
    assert scim("DELETE", f"/Users/{ann}").status_code == 204
    row = person("ann@example.com")
    assert not row.active
    assert row.scim_removed_at is not None
    assert_error(scim("GET", f"/Users/{ann}"), 404)
    assert_error(scim("DELETE", f"/Users/{ann}"), 404)
    assert scim("GET", "/Users").get_json()["totalResults"] == 0
    assert (
        scim("GET", '/Users?filter=userName eq "ann@example.com"').get_json()["totalResults"] == 0
    )
    again = scim("POST", "/Users", user("ann@example.com", "Ann Again"))
    assert again.status_code == 201
    assert again.get_json()["id"] == ann
    row = person("ann@example.com")
    assert row.active
    assert row.scim_removed_at is None
    assert row.name == "Ann Again"
    assert row.role == Role.EMPLOYEE
    assert len(events("person.reactivated", row)) == 1


def test_delete_of_a_manager_with_active_reports_is_refused(scim: Any) -> None:
    boss = scim("POST", "/Users", user("boss@example.com")).get_json()["id"]
    scim("POST", "/Users", user("ann@example.com", manager=boss))
    assert "still manages" in assert_error(scim("DELETE", f"/Users/{boss}"), 400)["detail"]
    assert scim("GET", f"/Users/{boss}").status_code == 200


# Discovery ---------------------------------------------------------------------------


def test_discovery_describes_what_is_kept(scim: Any) -> None:
    config = scim("GET", "/ServiceProviderConfig").get_json()
    assert config["patch"]["supported"] is True
    assert config["bulk"]["supported"] is False
    types = scim("GET", "/ResourceTypes").get_json()["Resources"]
    assert [t["name"] for t in types] == ["User"]  # no Groups: roles are the extension's
    schema = scim("GET", f"/Schemas/{REVIEWS}").get_json()
    level = next(a for a in schema["attributes"] if a["name"] == "level")
    assert "senior-engineer" in level["canonicalValues"]
    enterprise = scim("GET", f"/Schemas/{ENTERPRISE}").get_json()
    manager = next(a for a in enterprise["attributes"] if a["name"] == "manager")
    ref = next(a for a in manager["subAttributes"] if a["name"] == "$ref")
    assert ref["type"] == "reference"
    assert ref["referenceTypes"] == ["User"]
