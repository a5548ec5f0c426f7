"""HR imports the org chart through the web: upload, preview, apply (SPEC 9)."""

from __future__ import annotations

import html
import io
import re

import pytest
from conftest import post
from sqlalchemy import select
from test_orgimport import BAD_FILES

from reviews.extensions import db
from reviews.people.models import Department, Person, Role

ORG = """\
email,name,manager_email,department,level,role
hr@example.com,Hannah Reyes,,People Operations,,hr
amara@example.com,Amara Okafor,,Engineering,Director of Engineering,manager
em@example.com,Elena Marsh,amara@example.com,Engineering,engineering-manager,manager
dev@example.com,Devon Clarke,em@example.com,Engineering,Engineer,employee
sofia@example.com,Sofia Alvarez,em@example.com,Engineering,senior engineer,employee
kwame@example.com,Kwame Mensah,amara@example.com,Data,,employee
"""

HIDDEN_CONTENT = re.compile(r'<input[^>]*name="content"[^>]*value="([^"]*)"', re.S)


@pytest.fixture
def hr(make_person):
    return make_person("Hannah Reyes", email="hr@example.com", role=Role.HR, level_key=None)


@pytest.fixture
def hr_client(hr, login_as):
    return login_as(hr)


def upload(client, data: bytes | str, filename: str = "org.csv"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return post(
        client,
        "/people/import",
        {"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def counts(response) -> dict[str, int]:
    page = response.get_data(as_text=True)
    return {k: int(v) for k, v in re.findall(r"<dt>(\w+)</dt><dd>(\d+)</dd>", page)}


def hidden_content(response) -> str:
    match = HIDDEN_CONTENT.search(response.get_data(as_text=True))
    assert match, "the preview has no apply form"
    return html.unescape(match.group(1))


def apply(client, content: str):
    return post(client, "/people/import/apply", {"content": content})


def snapshot() -> list[tuple]:
    """Every column of every person and every department, to prove nothing changed."""
    db.session.expire_all()
    people = [
        tuple(getattr(p, c.key) for c in Person.__table__.columns)
        for p in db.session.scalars(select(Person).order_by(Person.id))
    ]
    departments = db.session.execute(
        select(Department.id, Department.name).order_by(Department.id)
    ).all()
    return [*people, *departments]


def people_by_email() -> dict[str, Person]:
    db.session.expire_all()
    return {p.email: p for p in db.session.scalars(select(Person))}


def test_upload_previews_and_apply_writes_the_org(hr, hr_client):
    hr_password = hr.password_hash
    before = snapshot()
    preview = upload(hr_client, ORG)
    assert preview.status_code == 200
    assert counts(preview) == {"New": 5, "Updated": 1, "Deactivated": 0, "Unchanged": 0}
    page = text_of(preview)
    assert "Hannah Reyes (hr@example.com): department" in page  # what changes for HR herself
    assert "Apply 6 changes" in page
    assert snapshot() == before  # a preview writes nothing

    content = hidden_content(preview)
    assert content == ORG
    response = apply(hr_client, content)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/people")

    people = people_by_email()
    assert set(people) == {
        "hr@example.com",
        "amara@example.com",
        "em@example.com",
        "dev@example.com",
        "sofia@example.com",
        "kwame@example.com",
    }
    assert all(p.active for p in people.values())
    dev, sofia, em = (
        people["dev@example.com"],
        people["sofia@example.com"],
        people["em@example.com"],
    )
    assert dev.name == "Devon Clarke"
    assert dev.manager is em
    assert em.manager is people["amara@example.com"]
    assert people["amara@example.com"].manager is None
    assert dev.department.name == "Engineering"
    assert people["kwame@example.com"].department.name == "Data"
    assert people["hr@example.com"].department.name == "People Operations"
    assert dev.level.key == "engineer"
    assert sofia.level.key == "senior-engineer"
    assert em.level.key == "engineering-manager"
    assert people["amara@example.com"].level.key == "director-of-engineering"
    assert people["kwame@example.com"].level is None
    assert (dev.role, em.role, people["hr@example.com"].role) == (
        Role.EMPLOYEE,
        Role.MANAGER,
        Role.HR,
    )
    assert dev.password_hash is None  # imported people are invited separately
    assert people["hr@example.com"].id == hr.id  # matched by email, not re-created
    assert people["hr@example.com"].password_hash == hr_password

    directory = text_of(hr_client.get("/people"))
    assert "Org chart imported: 5 new, 1 updated (0 reactivated), 0 deactivated" in directory


def test_reimporting_the_same_file_changes_nothing(hr_client):
    assert apply(hr_client, ORG).status_code == 302
    before = snapshot()

    preview = upload(hr_client, ORG)
    assert preview.status_code == 200
    assert counts(preview) == {"New": 0, "Updated": 0, "Deactivated": 0, "Unchanged": 6}
    page = text_of(preview)
    assert "there is nothing to apply" in page
    assert 'name="content"' not in page  # no apply button

    assert apply(hr_client, ORG).status_code == 302  # applying anyway is harmless
    assert snapshot() == before


def test_file_with_a_bom_and_crlf_line_endings_round_trips(hr_client):
    data = b"\xef\xbb\xbf" + ORG.replace("\n", "\r\n").encode()
    preview = upload(hr_client, data)
    assert preview.status_code == 200
    assert counts(preview)["New"] == 5
    assert apply(hr_client, hidden_content(preview)).status_code == 302
    assert len(people_by_email()) == 6
    assert counts(upload(hr_client, data))["Unchanged"] == 6


def test_person_missing_from_the_file_is_deactivated_not_deleted(hr_client):
    assert apply(hr_client, ORG).status_code == 302
    sofia = people_by_email()["sofia@example.com"]
    sofia_id, version = sofia.id, sofia.session_version
    without_sofia = "".join(
        line for line in ORG.splitlines(keepends=True) if not line.startswith("sofia@")
    )

    preview = upload(hr_client, without_sofia)
    assert counts(preview) == {"New": 0, "Updated": 0, "Deactivated": 1, "Unchanged": 5}
    assert "sofia@example.com" in text_of(preview)
    assert apply(hr_client, hidden_content(preview)).status_code == 302

    people = people_by_email()
    assert len(people) == 6  # the row is kept
    sofia = people["sofia@example.com"]
    assert sofia.id == sofia_id
    assert sofia.active is False
    assert sofia.deactivated_at is not None
    assert sofia.session_version > version  # signed out everywhere
    assert sum(p.active for p in people.values()) == 5

    # Putting her back in the file reactivates the same row.
    preview = upload(hr_client, ORG)
    assert counts(preview) == {"New": 0, "Updated": 1, "Deactivated": 0, "Unchanged": 5}
    assert "Sofia Alvarez (sofia@example.com): active" in text_of(preview)
    assert apply(hr_client, hidden_content(preview)).status_code == 302
    sofia = people_by_email()["sofia@example.com"]
    assert (sofia.id, sofia.active, sofia.deactivated_at) == (sofia_id, True, None)


def test_changed_rows_are_updated_in_place(hr_client):
    assert apply(hr_client, ORG).status_code == 302
    ids = {e: p.id for e, p in people_by_email().items()}
    changed = ORG.replace(
        "Devon Clarke,em@example.com,Engineering,Engineer,employee",
        "Devon Clarke,amara@example.com,Data,Tech Lead,manager",
    )
    preview = upload(hr_client, changed)
    assert counts(preview) == {"New": 0, "Updated": 1, "Deactivated": 0, "Unchanged": 5}
    assert "Devon Clarke (dev@example.com): manager, department, level, role" in text_of(preview)
    assert apply(hr_client, hidden_content(preview)).status_code == 302

    people = people_by_email()
    assert {e: p.id for e, p in people.items()} == ids
    dev = people["dev@example.com"]
    assert (dev.manager.email, dev.department.name, dev.level.key, dev.role) == (
        "amara@example.com",
        "Data",
        "tech-lead",
        Role.MANAGER,
    )


@pytest.mark.parametrize(("data", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_with_its_lines_and_nothing_changes(hr_client, data, expected):
    assert apply(hr_client, ORG).status_code == 302  # an org exists that could be damaged
    before = snapshot()

    response = upload(hr_client, data)
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was imported" in page
    assert 'name="content"' not in page  # no apply form
    items = re.findall(r"<li>(Line \d+: [^<]*)</li>", page)
    assert len(items) == len(expected), items
    for item, (line, fragment) in zip(items, expected, strict=True):
        assert item.startswith(f"Line {line}: ")
        assert fragment in item
    assert snapshot() == before


TEXT_BAD_FILES = {k: v for k, v in BAD_FILES.items() if k not in {"non-utf8", "empty-file"}}


@pytest.mark.parametrize(("data", "expected"), TEXT_BAD_FILES.values(), ids=TEXT_BAD_FILES.keys())
def test_bad_content_posted_to_apply_is_refused_and_nothing_changes(hr_client, data, expected):
    """The apply step checks the content again: a tampered hidden field writes nothing."""
    before = snapshot()
    response = apply(hr_client, data.decode("utf-8"))
    assert response.status_code == 422
    page = text_of(response)
    assert "Nothing was imported" in page
    for line, fragment in expected:
        assert f"Line {line}: " in page
        assert fragment in page
    assert snapshot() == before


def test_empty_content_posted_to_apply_sends_back_to_upload(hr_client):
    before = snapshot()
    response = apply(hr_client, "")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/people/import")
    assert snapshot() == before


def test_several_errors_are_all_listed_in_line_order(hr_client):
    data = (
        "email,name,manager_email,department,level,role\n"
        "hr@example.com,Hannah Reyes,,People,,hr\n"
        "ann@example.com,Ann,nobody@example.com,Eng,,employee\n"
        "bob@example.com,Bob,,Eng,Wizard,employee\n"
        "ann@example.com,Ann Again,,Eng,,employee\n"
    )
    before = snapshot()
    response = upload(hr_client, data)
    assert response.status_code == 422
    page = text_of(response)
    assert "the file has 3 problems" in page
    items = re.findall(r"<li>(Line \d+): ", page)
    assert items == ["Line 3", "Line 4", "Line 5"]
    assert snapshot() == before


def test_hr_cannot_import_a_file_that_leaves_them_out(hr_client):
    without_me = "".join(
        line for line in ORG.splitlines(keepends=True) if not line.startswith("hr@")
    )
    before = snapshot()
    response = upload(hr_client, without_me)
    assert response.status_code == 422
    assert "Line 1: hr@example.com (you) is not in the file" in text_of(response)
    assert apply(hr_client, without_me).status_code == 422
    assert snapshot() == before


def test_hr_cannot_import_a_file_that_takes_their_hr_role(hr_client):
    demoted = ORG.replace("People Operations,,hr", "People Operations,,employee")
    before = snapshot()
    response = upload(hr_client, demoted)
    assert response.status_code == 422
    assert "Line 2: hr@example.com (you) would lose the HR role" in text_of(response)
    assert apply(hr_client, demoted).status_code == 422
    assert snapshot() == before


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.MANAGER], ids=["employee", "manager"])
def test_only_hr_may_import(make_person, login_as, role):
    make_person("Hannah Reyes", email="hr@example.com", role=Role.HR)
    client = login_as(make_person("Not HR", role=role))
    before = snapshot()
    assert client.get("/people/import").status_code == 403
    assert upload(client, ORG).status_code == 403
    assert apply(client, ORG).status_code == 403
    assert snapshot() == before


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/people/import")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_posts_without_csrf_token_are_refused(hr_client):
    before = snapshot()
    response = hr_client.post(
        "/people/import",
        data={"file": (io.BytesIO(ORG.encode()), "org.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    response = hr_client.post("/people/import/apply", data={"content": ORG})
    assert response.status_code == 400
    assert snapshot() == before


def test_upload_without_a_file_is_a_bad_request(hr_client):
    response = post(hr_client, "/people/import", {}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a CSV file to upload." in text_of(response)


def test_import_page_shows_the_upload_form(hr_client):
    page = hr_client.get("/people/import")
    assert page.status_code == 200
    assert 'type="file"' in page.get_data(as_text=True)


def test_unit_test_level_table_matches_the_default_framework(app):
    from test_orgimport import LEVELS

    from reviews.people.operations import level_lookup

    assert level_lookup() == LEVELS
