"""A SCIM run and the equivalent CSV imports give the same org (1,000 people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import aliased

from reviews import create_app
from reviews.extensions import db
from reviews.framework.models import Level
from reviews.people import operations as people_ops
from reviews.people.models import Department, Person
from reviews.scim.auth import issue_token

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
REVIEWS = "urn:reviews:params:scim:schemas:extension:reviews:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
LEVELS = ["junior-engineer", "engineer", "senior-engineer", "tech-lead", "engineering-manager"]
DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance", "People"]
SIZE = 1000


def build_org() -> list[dict[str, Any]]:
    """A tree five levels deep: each manager has up to ten reports; managers come first."""
    org: list[dict[str, Any]] = []
    for n in range(SIZE):
        manager = None if n == 0 else org[(n - 1) // 10]["email"]
        org.append(
            {
                "email": f"p{n:04}@example.com",
                "name": f"Person {n}",
                "manager_email": manager,
                "department": DEPARTMENTS[(n // 10) % len(DEPARTMENTS)],
                "level": LEVELS[n % len(LEVELS)],
                "role": "hr" if n == 1 else ("manager" if n * 10 + 1 < SIZE else "employee"),
            }
        )
    return org


def moved(org: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Moves (new managers, departments) and leavers (leaves of the tree, so no reports)."""
    after = [dict(p) for p in org]
    for n in range(150, 250):
        after[n]["manager_email"] = "p0002@example.com"
        after[n]["department"] = "Sales"
    leavers = [p["email"] for p in after[900:1000:7]]
    return [p for p in after if p["email"] not in leavers], leavers


def csv_of(org: list[dict[str, Any]]) -> bytes:
    lines = ["email,name,manager_email,department,level,role"]
    lines += [
        ",".join(
            [
                p["email"],
                p["name"],
                p["manager_email"] or "",
                p["department"],
                p["level"],
                p["role"],
            ]
        )
        for p in org
    ]
    return "\n".join(lines).encode()


def snapshot() -> dict[str, tuple[Any, ...]]:
    manager = aliased(Person)
    rows = db.session.execute(
        select(
            Person.email,
            Person.name,
            manager.email,
            Department.name,
            Level.key,
            Person.role,
            Person.active,
        )
        .outerjoin(manager, Person.manager_id == manager.id)
        .outerjoin(Department, Person.department_id == Department.id)
        .outerjoin(Level, Person.level_id == Level.id)
    ).all()
    return {r[0]: (r[1], r[2], r[3], r[4], str(r[5]), r[6]) for r in rows}


def import_csv(data: bytes) -> None:
    check = people_ops.check_org_file(data)
    assert not check.errors, check.errors[:5]
    people_ops.apply_import(check, None)
    db.session.commit()


@pytest.fixture
def scim_app(tmp_path: Path) -> Any:
    """A second app on a database of its own (another schema on PostgreSQL)."""
    from conftest import Database

    (tmp_path / "other").mkdir()
    (tmp_path / "run").mkdir()
    other = Database(tmp_path / "other")
    config = other.fresh(tmp_path / "run")
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    other.drop()


def test_scim_run_matches_csv_imports(app: Flask, scim_app: Flask) -> None:
    org = build_org()
    after, leavers = moved(org)

    import_csv(csv_of(org))
    csv_first = snapshot()
    import_csv(csv_of(after))
    csv_second = snapshot()
    assert sum(1 for v in csv_second.values() if not v[5]) == len(leavers)

    with scim_app.app_context():
        token = issue_token()
        db.session.commit()
        client = scim_app.test_client()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
        ids: dict[str, str] = {}
        for p in org:
            body: dict[str, Any] = {
                "schemas": [USER, ENTERPRISE, REVIEWS],
                "userName": p["email"],
                "displayName": p["name"],
                ENTERPRISE: {"department": p["department"]},
                REVIEWS: {"level": p["level"], "role": p["role"]},
            }
            if p["manager_email"]:
                body[ENTERPRISE]["manager"] = {"value": ids[p["manager_email"]]}
            response = client.post("/scim/v2/Users", data=json.dumps(body), headers=headers)
            assert response.status_code == 201, response.get_data(as_text=True)
            ids[p["email"]] = response.get_json()["id"]
        assert snapshot() == csv_first

        for n in range(150, 250):
            operations = [
                {
                    "op": "replace",
                    "path": f"{ENTERPRISE}:manager",
                    "value": {"value": ids["p0002@example.com"]},
                },
                {"op": "replace", "path": f"{ENTERPRISE}:department", "value": "Sales"},
            ]
            response = client.patch(
                f"/scim/v2/Users/{ids[org[n]['email']]}",
                data=json.dumps({"schemas": [PATCH], "Operations": operations}),
                headers=headers,
            )
            assert response.status_code == 200, response.get_data(as_text=True)
        for email in leavers:
            operations = [{"op": "replace", "path": "active", "value": False}]
            response = client.patch(
                f"/scim/v2/Users/{ids[email]}",
                data=json.dumps({"schemas": [PATCH], "Operations": operations}),
                headers=headers,
            )
            assert response.status_code == 200, response.get_data(as_text=True)
        assert snapshot() == csv_second
