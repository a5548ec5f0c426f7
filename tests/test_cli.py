"""The flask commands: org import, users, demo (SPEC 9 and 12)."""

from __future__ import annotations

import re

import pytest
from conftest import csrf_token, sign_in
from sqlalchemy import func, select
from test_orgimport import BAD_FILES

from reviews.extensions import db
from reviews.people.models import Department, Person, Role

ORG = """\
email,name,manager_email,department,level,role
hr@example.com,Hannah Reyes,,People Operations,,hr
amara@example.com,Amara Okafor,,Engineering,Director of Engineering,manager
em@example.com,Elena Marsh,amara@example.com,Engineering,engineering-manager,manager
dev@example.com,Devon Clarke,em@example.com,Engineering,Engineer,employee
kwame@example.com,Kwame Mensah,amara@example.com,Data,,employee
"""


def invoke(runner, *args: str):
    db.session.commit()  # end the test's transaction; the command runs in its own session
    result = runner.invoke(args=list(args))
    db.session.expire_all()
    return result


def snapshot() -> list[tuple]:
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


def assert_one_error_line(result, *fragments: str) -> None:
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.output + result.stderr


@pytest.fixture
def org_file(tmp_path):
    path = tmp_path / "org.csv"
    path.write_text(ORG, encoding="utf-8")
    return path


# --- org import ---------------------------------------------------------------------------


def test_org_import_writes_the_org_and_reimport_is_idempotent(runner, org_file):
    result = invoke(runner, "org", "import", str(org_file))
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        f"Imported {org_file}: 5 new, 0 updated (0 reactivated), 0 deactivated, 0 unchanged"
    )
    people = people_by_email()
    assert len(people) == 5
    assert people["dev@example.com"].manager.email == "em@example.com"
    assert people["dev@example.com"].level.key == "engineer"
    assert people["dev@example.com"].department.name == "Engineering"
    assert people["hr@example.com"].role == Role.HR
    assert people["kwame@example.com"].level is None

    before = snapshot()
    again = invoke(runner, "org", "import", str(org_file))
    assert again.exit_code == 0, again.output + again.stderr
    assert (
        again.stdout.strip()
        .splitlines()[-1]
        .endswith(": 0 new, 0 updated (0 reactivated), 0 deactivated, 5 unchanged")
    )
    assert snapshot() == before


def test_org_import_speaks_the_deployment_s_language(app, runner, org_file):
    """The CLI writes its lines in the deployment's language, the import's counts too."""
    app.config["LANGUAGE"] = "de"
    result = invoke(runner, "org", "import", str(org_file))
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        f"{org_file} importiert: 5 neu, 0 geändert (0 reaktiviert), 0 deaktiviert, 0 unverändert"
    )


def test_org_import_deactivates_people_left_out(runner, org_file, tmp_path):
    assert invoke(runner, "org", "import", str(org_file)).exit_code == 0
    smaller = tmp_path / "smaller.csv"
    smaller.write_text(
        "".join(line for line in ORG.splitlines(keepends=True) if not line.startswith("kwame@"))
    )
    result = invoke(runner, "org", "import", str(smaller))
    assert result.exit_code == 0, result.stderr
    assert "0 new, 0 updated (0 reactivated), 1 deactivated, 4 unchanged" in result.stdout
    people = people_by_email()
    assert len(people) == 5
    assert people["kwame@example.com"].active is False
    assert people["kwame@example.com"].deactivated_at is not None


def test_org_import_dry_run_writes_nothing(runner, org_file):
    before = snapshot()
    result = invoke(runner, "org", "import", str(org_file), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert "Dry run, nothing written: 5 new, 0 updated (0 reactivated), 0 deactivated" in (
        result.stdout
    )
    assert snapshot() == before
    assert people_by_email() == {}


BAD_CASES = [
    *(pytest.param(data, expected, False, id=kind) for kind, (data, expected) in BAD_FILES.items()),
    pytest.param(*BAD_FILES["manager-loop"], True, id="manager-loop-dry-run"),
]


@pytest.mark.parametrize(("data", "expected", "dry_run"), BAD_CASES)
def test_org_import_of_a_bad_file_fails_with_one_line_per_error(
    runner, org_file, tmp_path, data, expected, dry_run
):
    assert invoke(runner, "org", "import", str(org_file)).exit_code == 0
    before = snapshot()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data)

    result = invoke(runner, "org", "import", str(bad), *(["--dry-run"] if dry_run else []))
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(expected), result.stderr
    for line, (number, fragment) in zip(lines, expected, strict=True):
        assert f"line {number}: " in line
        assert fragment in line
    assert "Traceback" not in result.output
    assert "Imported" not in result.stdout
    assert snapshot() == before


def test_org_import_reports_every_error_on_its_own_line(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,name,manager_email,department,level,role\n"
        "ann@example.com,Ann,nobody@example.com,Eng,,employee\n"
        "bob@example.com,Bob,,Eng,Wizard,employee\n"
        "ann@example.com,Ann Again,,Eng,,employee\n"
        "cat@example.com,Cat,,Eng,,queen\n"
    )
    result = invoke(runner, "org", "import", str(bad))
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert [re.search(r"line (\d+):", line).group(1) for line in lines] == ["2", "3", "4", "5"]
    assert people_by_email() == {}


def test_org_import_of_a_missing_file_fails_in_one_line(runner, tmp_path):
    missing = tmp_path / "nope.csv"
    result = invoke(runner, "org", "import", str(missing))
    assert_one_error_line(result, "nope.csv")
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert people_by_email() == {}


# --- users --------------------------------------------------------------------------------


def test_users_create_prints_a_working_set_password_link(runner, client):
    result = invoke(
        runner,
        "users",
        "create",
        "New.Person@Example.com",
        "--name",
        "New Person",
        "--level",
        "Senior Engineer",
        "--department",
        "Platform",
    )
    assert result.exit_code == 0, result.output + result.stderr
    link = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"https?://[^/]+(/auth/set-password/[\w-]+)", link)
    assert match, link
    path = match.group(1)

    person = people_by_email()["new.person@example.com"]
    assert (person.name, person.role, person.password_hash) == ("New Person", Role.EMPLOYEE, None)
    assert person.level.key == "senior-engineer"
    assert person.department.name == "Platform"

    assert client.get(path).status_code == 200
    token = csrf_token(client, path)
    response = client.post(
        path,
        data={
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    assert sign_in(client, "new.person@example.com", "a brand new passphrase").status_code == 302
    assert client.get(path).status_code == 404  # the link is spent


def test_users_create_refuses_an_email_that_is_taken(runner, make_person):
    make_person("Ann", email="ann@example.com")
    before = snapshot()
    result = invoke(runner, "users", "create", "ann@example.com", "--name", "Another Ann")
    assert_one_error_line(result, "ann@example.com")
    assert snapshot() == before


def test_users_reset_password_prints_a_link(runner, make_person, client):
    make_person("Ann", email="ann@example.com")
    result = invoke(runner, "users", "reset-password", "ann@example.com")
    assert result.exit_code == 0, result.stderr
    path = re.search(r"/auth/set-password/[\w-]+$", result.stdout.strip()).group(0)
    assert client.get(path).status_code == 200


def test_users_reset_password_for_unknown_email_fails(runner):
    result = invoke(runner, "users", "reset-password", "ghost@example.com")
    assert_one_error_line(result, "ghost@example.com")


def test_users_set_password(runner, make_person, client):
    make_person("Ann", email="ann@example.com")
    result = invoke(
        runner, "users", "set-password", "ann@example.com", "--password", "another good passphrase"
    )
    assert result.exit_code == 0, result.stderr
    assert sign_in(client, "ann@example.com", "another good passphrase").status_code == 302


def test_users_set_password_too_short_fails_and_keeps_the_old_one(runner, make_person):
    make_person("Ann", email="ann@example.com")
    before = snapshot()
    result = invoke(runner, "users", "set-password", "ann@example.com", "--password", "short")
    assert_one_error_line(result, "at least 10 characters")
    assert snapshot() == before


def test_users_set_password_for_unknown_email_fails(runner):
    result = invoke(
        runner,
        "users",
        "set-password",
        "ghost@example.com",
        "--password",
        "a long enough passphrase",
    )
    assert_one_error_line(result, "ghost@example.com")


def test_users_list(runner, make_person):
    make_person("Ann", email="ann@example.com", role=Role.HR)
    make_person("Bob", email="bob@example.com", password=False, active=False)
    result = invoke(runner, "users", "list")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "ann@example.com\tAnn\thr\tactive\tpassword set",
        "bob@example.com\tBob\temployee\tinactive\tno password",
    ]
    only_hr = invoke(runner, "users", "list", "--role", "hr")
    assert only_hr.stdout.splitlines() == ["ann@example.com\tAnn\thr\tactive\tpassword set"]


# --- demo ---------------------------------------------------------------------------------


def direct_reports(person: Person) -> list[Person]:
    return list(db.session.scalars(select(Person).where(Person.manager_id == person.id)))


def test_demo_loads_the_spec_accounts_and_refuses_to_run_twice(runner, app):
    result = invoke(runner, "demo")
    assert result.exit_code == 0, result.output + result.stderr
    assert "demo-password" in result.stdout

    people = people_by_email()
    assert len(people) >= 40
    departments = db.session.scalar(
        select(func.count(func.distinct(Person.department_id))).where(Person.active.is_(True))
    )
    assert departments >= 3
    assert people["hr@example.com"].role == Role.HR
    em = people["em@example.com"]
    assert len(direct_reports(em)) >= 5
    assert people["dev@example.com"].manager is em
    assert all(p.active for p in people.values())
    for email in ("hr@example.com", "em@example.com", "dev@example.com"):
        response = sign_in(app.test_client(), email, "demo-password")
        assert response.status_code == 302, email

    before = snapshot()
    again = invoke(runner, "demo")
    assert_one_error_line(again, "already holds")
    assert snapshot() == before


def test_demo_synthetic_org_has_exactly_n_people(runner):
    result = invoke(runner, "demo", "--people", "200")
    assert result.exit_code == 0, result.output + result.stderr
    people = people_by_email()
    assert len(people) == 200
    em = people["em@example.com"]
    assert len(direct_reports(em)) >= 5
    assert people["dev@example.com"].manager is em
    assert people["hr@example.com"].role == Role.HR
    assert db.session.scalar(select(func.count(func.distinct(Person.department_id)))) >= 3
    # A tree: everyone but the top reaches the top without a loop.
    tops = [p for p in people.values() if p.manager is None]
    assert {p.email for p in tops} >= {"hr@example.com"}
    for person in people.values():
        seen = set()
        while person.manager is not None:
            assert person.id not in seen
            seen.add(person.id)
            person = person.manager


def test_demo_refuses_a_database_with_people(runner, make_person):
    make_person("Ann")
    before = snapshot()
    result = invoke(runner, "demo", "--people", "50")
    assert_one_error_line(result, "already holds 1 people")
    assert snapshot() == before


def test_setup_loads_the_demo_into_an_empty_database_once(runner):
    result = invoke(runner, "setup")
    assert result.exit_code == 0, result.stderr
    assert "Demo sign-in" in result.stdout
    count = len(people_by_email())
    assert count >= 40
    again = invoke(runner, "setup")
    assert again.exit_code == 0, again.stderr
    assert len(people_by_email()) == count
