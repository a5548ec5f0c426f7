"""The people directory, profiles, org chart and HR's people management pages."""

from __future__ import annotations

import re
from html import unescape

import pytest
from conftest import PASSWORD, count_queries, csrf_token, level, post, sign_in
from sqlalchemy import func, select

from reviews.auth.models import PasswordLink
from reviews.extensions import db
from reviews.people.models import Department, Person, Role

FIELD = re.compile(r'<div class="field[^"]*">(.*?)</div>', re.S)


def field_error(html: str, field_id: str) -> str | None:
    """The error shown inside the field block of `field_id` (None when it has none)."""
    for block in FIELD.findall(html):
        if f'id="{field_id}"' in block:
            found = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', block, re.S)
            if found is None:
                return None
            assert re.search(rf'aria-describedby="[^"]*{field_id}-error', block), block
            return unescape(found.group(1))
    raise AssertionError(f"no field {field_id!r} on the page")


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


def main(response) -> str:
    """The page's own content, without the top bar (which names the signed-in person)."""
    html = text(response)
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def people_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Person))


def signed_in_client(app, person):
    client = app.test_client()
    response = sign_in(client, person.email)
    assert response.status_code == 302, response.get_data(as_text=True)
    client.csrf = csrf_token(client, "/")
    return client


def is_signed_in(client) -> bool:
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


class Org:
    """Carla -> Victor -> (Dana, Eli); Hanna (HR) at the top too."""

    def __init__(self, make_person) -> None:
        self.ceo = make_person(
            "Carla Chief",
            email="carla@example.com",
            role=Role.MANAGER,
            level_key="director-of-engineering",
        )
        self.vp = make_person(
            "Victor Vance",
            email="victor@example.com",
            manager=self.ceo,
            role=Role.MANAGER,
            level_key="engineering-manager",
        )
        self.dana = make_person("Dana Dev", email="dana@example.com", manager=self.vp)
        self.eli = make_person(
            "Eli Engineer", email="eli@example.com", manager=self.vp, level_key="senior-engineer"
        )
        self.hr = make_person("Hanna HR", email="hanna@example.com", role=Role.HR)


@pytest.fixture
def org(make_person) -> Org:
    return Org(make_person)


@pytest.fixture
def hr(org, login_as):
    return login_as(org.hr)


def form_data(**overrides):
    data = {
        "name": "Nora New",
        "email": "nora@example.com",
        "department": "Platform",
        "level": str(level("engineer").id),
        "manager": "victor@example.com",
        "role": "employee",
    }
    data.update(overrides)
    return data


# --- directory --------------------------------------------------------------------------


def row(email: str) -> str:
    return f"<td>{email}</td>"


def test_directory_search_by_part_of_name_or_email(org, login_as):
    client = login_as(org.dana)
    by_name = main(client.get("/people?q=VANC"))
    assert row("victor@example.com") in by_name
    assert row("dana@example.com") not in by_name
    assert "1 person matching" in by_name
    by_email = main(client.get("/people?q=eli@exa"))
    assert row("eli@example.com") in by_email
    assert row("victor@example.com") not in by_email
    nobody = client.get("/people?q=zzzz")
    assert nobody.status_code == 200
    assert "Nobody matches" in main(nobody)


def test_one_or_two_letters_find_the_start_of_a_word(org, login_as):
    """Shorter than a trigram, a search matches where a word of the name or the email
    starts (an index answers it at any size), not anywhere inside one."""
    client = login_as(org.dana)
    page = main(client.get("/people?q=VA"))
    assert row("victor@example.com") in page  # Victor Vance: a word starts with "va"
    assert row("eli@example.com") not in page
    page = main(client.get("/people?q=e"))
    assert row("eli@example.com") in page  # "Eli", "Engineer", eli@
    assert row("dana@example.com") not in page  # "e" only inside words: dEv, danA@Example
    assert row("victor@example.com") not in page
    page = main(client.get("/people?q=ev"))
    assert row("dana@example.com") not in page  # "dev": inside a word
    assert "Nobody matches" in page
    assert row("dana@example.com") in main(client.get("/people?q=dev"))  # three: anywhere


def test_the_search_pattern_is_planned_with_its_value(org, login_as):
    """The pattern is written into the SQL, not bound: PostgreSQL then plans each search
    for its own pattern instead of reusing, once psycopg has prepared the statement, one
    plan for them all (the trigram index for "e" or a full read for "zq")."""
    client = login_as(org.dana)
    with count_queries() as statements:
        assert "Nobody matches" in main(client.get("/people?q=O'Da"))
    # (psycopg's statements double every %)
    searched = [s.replace("%%", "%") for s in statements if "LIKE" in s]
    assert searched
    assert all("'%o''da%'" in s for s in searched), searched
    with count_queries() as statements:
        client.get("/people?q=zq")
    assert all("'% zq%'" in s.replace("%%", "%") for s in statements if "LIKE" in s)


@pytest.mark.parametrize("q", ["%", "_", "\\", "%_%"])
def test_search_wildcards_are_taken_literally(org, login_as, q):
    client = login_as(org.dana)
    response = client.get("/people", query_string={"q": q})
    assert response.status_code == 200
    assert "Dana Dev" not in main(response)
    assert "0 people" in main(response)


def test_directory_department_filter(org, make_person, login_as):
    platform, mobile = Department(name="Platform"), Department(name="Mobile")
    db.session.add_all([platform, mobile])
    org.dana.department = platform
    org.eli.department = mobile
    db.session.commit()
    client = login_as(org.hr)
    page = main(client.get(f"/people?department={platform.id}"))
    assert row("dana@example.com") in page
    assert row("eli@example.com") not in page
    assert row("victor@example.com") not in page
    page = main(client.get(f"/people?department={mobile.id}&q=eli"))
    assert row("eli@example.com") in page
    assert row("dana@example.com") not in page


def test_inactive_people_are_hidden_except_from_hr_who_asks(org, make_person, login_as, app):
    make_person("Olga Oldtimer", email="olga@example.com", active=False)
    employee = login_as(org.dana)
    for url in ("/people", "/people?inactive=1", "/people?q=olga&inactive=1"):
        assert "Olga Oldtimer" not in main(employee.get(url)), url
    hr = signed_in_client(app, org.hr)
    assert "Olga Oldtimer" not in main(hr.get("/people"))
    shown = main(hr.get("/people?inactive=1"))
    assert "Olga Oldtimer" in shown
    assert "deactivated" in shown


def test_directory_pages(org, login_as):
    engineer = level("engineer")
    db.session.add_all(
        Person(name=f"Zed {i:02d}", email=f"zed{i:02d}@example.com", level=engineer, manager=org.vp)
        for i in range(60)
    )
    db.session.commit()
    client = login_as(org.dana)
    first = text(client.get("/people"))
    assert "65 people" in first
    assert 'rel="prev"' not in first
    assert first.count("@example.com</td>") == 50
    after = re.search(r'href="([^"]*after=\d+[^"]*)" rel="next"', first)
    assert after, "a link to the next page"
    second = client.get(after.group(1).replace("&amp;", "&"))
    assert second.status_code == 200
    html = text(second)
    assert 'rel="next"' not in html
    assert html.count("@example.com</td>") == 15
    assert "Zed 59" in html
    # back again: the first page, whole
    before = re.search(r'href="([^"]*before=\d+[^"]*)" rel="prev"', html)
    assert before, "a link to the previous page"
    again = text(client.get(before.group(1).replace("&amp;", "&")))
    assert again.count("@example.com</td>") == 50
    assert re.findall(r"[\w.]+@example.com</td>", again) == re.findall(
        r"[\w.]+@example.com</td>", first
    )
    # Filters survive paging.
    filtered = text(client.get("/people?q=zed"))
    assert "60 people" in filtered
    assert re.search(r'href="[^"]*q=zed[^"]*after=|href="[^"]*after=[^"]*q=zed', filtered)


def test_a_directory_larger_than_the_count_limit_says_more_than(org, login_as, monkeypatch):
    monkeypatch.setattr("reviews.people.queries.COUNT_LIMIT", 3)
    monkeypatch.setattr("reviews.people.views.COUNT_LIMIT", 3)
    page = text(login_as(org.dana).get("/people"))
    assert "More than 3 people" in page


# A query the directory can answer, and one it refuses with a 400 naming the parameter.
ODD_QUERIES = {
    "after=abc": 400,
    "after=-1": 400,
    "after=0": 400,
    "after=99999999": 400,  # nobody this list shows
    "before=99999999999999": 400,
    "after=1&before=2": 400,
    "department=abc": 400,
    "department=999999": 200,
    "department=-5": 400,
    "inactive=yes": 400,
    "q=" + "x" * 5000: 400,
    "q=%3Cscript%3E": 200,
    "q=%F0%9F%98%80": 200,
    "q=%C0%AF": 200,
    "q=%00": 400,  # NUL is refused as a bad request
}


def test_directory_survives_odd_queries(org, login_as):
    client = login_as(org.hr)
    broken = {}
    for query, expected in ODD_QUERIES.items():
        try:
            status = client.get(f"/people?{query}").status_code
        except Exception as exc:  # testing propagates server errors; collect them all
            status = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        if status != expected:
            broken[query] = status
    assert broken == {}
    escaped = client.get("/people?q=%3Cscript%3E").get_data(as_text=True)
    assert "&lt;script&gt;" in escaped
    assert 'value="<script>"' not in escaped


# --- profiles and org chart -------------------------------------------------------------


def test_profile_shows_reporting_line_and_reports(org, login_as):
    client = login_as(org.dana)
    vp = text(client.get(f"/people/{org.vp.id}"))
    chain = vp.split("Reporting line", 1)[1].split("Direct reports", 1)[0]
    assert "Carla Chief" in chain
    reports = vp.split("Direct reports", 1)[1]
    assert "Dana Dev" in reports
    assert "Eli Engineer" in reports
    assert "2 direct, 2 in their whole org" in reports
    dana = text(client.get(f"/people/{org.dana.id}"))
    chain = dana.split("Reporting line", 1)[1].split("Direct reports", 1)[0]
    assert chain.index("Carla Chief") < chain.index("Victor Vance")
    assert "Nobody reports to Dana Dev." in dana
    ceo = text(client.get(f"/people/{org.ceo.id}"))
    assert "Reporting line" not in ceo
    assert "Nobody (top of the org)" in ceo


def test_an_orgs_size_counts_every_active_level_below_up_to_the_limit(
    org, make_person, login_as, monkeypatch
):
    """Everyone below, at any depth, who is active; the person themself is not; above
    the count limit the page says "more than" (a range of the org-path index, counted
    no further than the limit whatever the size of the org)."""
    deep = make_person("Deep Report", manager=org.dana)
    make_person("Deeper Report", manager=deep)
    gone = make_person("Gone Report", manager=org.eli)
    gone.active = False
    db.session.commit()
    client = login_as(org.dana)
    # Dana, Eli, Deep and Deeper; not Gone
    assert "2 direct, 4 in their whole org" in text(client.get(f"/people/{org.vp.id}"))
    assert "1 direct report, 5 people in this org" in text(client.get(f"/org/{org.ceo.id}"))
    assert "1 direct report, 1 person in this org" in text(client.get(f"/org/{deep.id}"))
    monkeypatch.setattr("reviews.paging.COUNT_LIMIT", 3)
    assert "2 direct, more than 3 in their whole org" in text(client.get(f"/people/{org.vp.id}"))
    with count_queries() as statements:
        client.get(f"/org/{org.ceo.id}")
    assert not any("RECURSIVE" in s.upper() for s in statements if "below" in s)


def test_inactive_profiles_are_hidden_from_everyone_but_hr(org, make_person, login_as, app):
    olga = make_person("Olga Oldtimer", active=False)
    for person in (org.dana, org.ceo):
        client = signed_in_client(app, person)
        assert client.get(f"/people/{olga.id}").status_code == 404
    hr = login_as(org.hr)
    response = hr.get(f"/people/{olga.id}")
    assert response.status_code == 200
    assert "deactivated" in text(response)
    assert "Reactivate" in text(response)


def test_account_details_are_for_hr_and_the_person(org, app):
    employee = signed_in_client(app, org.dana)
    assert "Sign-in" not in text(employee.get(f"/people/{org.eli.id}"))
    assert "Sign-in" in text(employee.get(f"/people/{org.dana.id}"))
    hr = signed_in_client(app, org.hr)
    assert "Sign-in" in text(hr.get(f"/people/{org.eli.id}"))


def test_org_chart_top_and_slices(org, make_person, login_as):
    make_person("Olga Oldtimer", active=False)  # inactive, at the top: not shown
    client = login_as(org.dana)
    top = text(client.get("/org"))
    cards = top.split('<ul class="org-grid">', 1)[1]
    assert "Carla Chief" in cards
    assert "Hanna HR" in cards
    assert "Victor Vance" not in cards
    assert "Olga Oldtimer" not in cards
    assert "1 direct report<" in cards  # Carla's badge

    slice_ = text(client.get(f"/org/{org.ceo.id}"))
    cards = slice_.split('<ul class="org-grid">', 1)[1]
    assert "Victor Vance" in cards
    assert "2 direct reports" in cards
    assert "1 direct report, 3 people in this org" in slice_

    vp = text(client.get(f"/org/{org.vp.id}"))
    crumbs = vp.split('aria-label="Reporting line"', 1)[1].split("</nav>", 1)[0]
    assert "Carla Chief" in crumbs
    cards = vp.split('<ul class="org-grid">', 1)[1]
    assert "Dana Dev" in cards
    assert "Eli Engineer" in cards
    assert "direct report" not in cards  # neither has reports
    assert "Nobody reports to Dana Dev." in text(client.get(f"/org/{org.dana.id}"))


@pytest.mark.parametrize(
    "url",
    [
        "/people/999999",
        "/people/0",
        "/people/-1",
        "/people/abc",
        "/org/999999",
        "/org/abc",
        "/people/999999/edit",
        "/people/99999999999999999999999",
        "/org/99999999999999999999999",
        "/people/99999999999999999999999/edit",
        "/people/2147483648",
    ],
)
def test_unknown_people_are_not_found(org, login_as, url):
    client = login_as(org.hr)
    response = client.get(url)
    assert response.status_code == 404
    assert "Go to your home page" in text(response)


def test_inactive_person_has_no_org_chart_page(org, make_person, login_as):
    olga = make_person("Olga Oldtimer", active=False)
    client = login_as(org.hr)
    assert client.get(f"/org/{olga.id}").status_code == 404


# --- HR creates people ------------------------------------------------------------------


def test_hr_adds_a_person(org, hr):
    page = hr.get("/people/new")
    assert page.status_code == 200
    response = post(hr, "/people/new", form_data(email="Nora.New@Example.com"))
    assert response.status_code == 302
    nora = db.session.scalar(select(Person).where(Person.email == "nora.new@example.com"))
    assert nora is not None
    assert response.headers["Location"] == f"/people/{nora.id}"
    assert nora.name == "Nora New"
    assert nora.manager_id == org.vp.id
    assert nora.level.key == "engineer"
    assert nora.department.name == "Platform"
    assert nora.role == Role.EMPLOYEE
    assert nora.active
    assert nora.password_hash is None
    profile = text(hr.get(f"/people/{nora.id}"))
    assert "Nora New is added." in profile
    assert "Create a sign-in invitation link" in profile


def test_hr_adds_a_person_at_the_top_without_level(org, hr):
    response = post(hr, "/people/new", form_data(manager="", level="", department=""))
    assert response.status_code == 302
    nora = db.session.scalar(select(Person).where(Person.email == "nora@example.com"))
    assert nora.manager is None
    assert nora.level is None
    assert nora.department is None


def test_a_new_person_joins_an_existing_department_by_name(org, hr):
    db.session.add(Department(name="Platform"))
    db.session.commit()
    assert post(hr, "/people/new", form_data(department="platform")).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Department)) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "dana@example.com"}, "email", "dana@example.com already belongs to Dana Dev"),
        ({"email": "DANA@example.com"}, "email", "already belongs to Dana Dev"),
        ({"manager": "ghost@example.com"}, "manager", "Nobody has the email ghost@example.com."),
        ({"email": "not-an-email"}, "email", "Enter an email address"),
        ({"email": "two@@example.com"}, "email", "Enter an email address"),
        ({"email": ""}, "email", "required"),
        ({"name": "N" * 201}, "name", "200"),
        ({"name": "   "}, "name", "required"),
        ({"level": "999999"}, "level", "Not a valid choice"),
        ({"level": "abc"}, "level", "Not a valid choice"),
        ({"role": "superuser"}, "role", "Not a valid choice"),
        ({"department": "D" * 101}, "department", "100"),
        ({"manager": "m" * 300}, "manager", "254"),
    ],
    ids=[
        "duplicate",
        "duplicate-case",
        "unknown-manager",
        "bad-email",
        "double-at",
        "no-email",
        "long-name",
        "blank-name",
        "unknown-level",
        "junk-level",
        "bad-role",
        "long-department",
        "long-manager",
    ],
)
def test_bad_new_person_is_refused_beside_the_field(org, hr, overrides, field, message):
    before = people_count()
    departments = db.session.scalar(select(func.count()).select_from(Department))
    response = post(hr, "/people/new", form_data(**overrides))
    assert response.status_code == 400
    error = field_error(text(response), field)
    assert error is not None, field
    assert message.lower() in error.lower()
    assert people_count() == before
    assert db.session.scalar(select(func.count()).select_from(Department)) == departments
    # What was typed is kept for correction.
    if field != "name":
        assert 'value="Nora New"' in response.get_data(as_text=True)


def test_deactivated_manager_cannot_take_new_reports(org, make_person, hr):
    make_person("Olga Oldtimer", email="olga@example.com", active=False)
    before = people_count()
    response = post(hr, "/people/new", form_data(manager="olga@example.com"))
    assert response.status_code == 400
    assert "deactivated" in field_error(text(response), "manager")
    assert people_count() == before


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Nul\x00Name"},
        {"email": "nul\x00@example.com"},
        {"manager": "victor\x00@example.com"},
        {"department": "Dept\x00"},
        {"name": "<script>alert(1)</script>"},
        {"name": "Ünïcødé Ñame 😀"},
        {"email": "ünïcødé@example.com"},
    ],
    ids=[
        "nul-name",
        "nul-email",
        "nul-manager",
        "nul-department",
        "html-name",
        "unicode-name",
        "unicode-email",
    ],
)
def test_odd_input_never_breaks_the_form(org, hr, overrides):
    response = post(hr, "/people/new", form_data(**overrides))
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        nora = db.session.scalar(select(Person).order_by(Person.id.desc()))
        page = hr.get(f"/people/{nora.id}")
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.get_data(as_text=True)
        directory = hr.get("/people")
        assert directory.status_code == 200
        assert "<script>alert(1)</script>" not in directory.get_data(as_text=True)


# --- HR edits people --------------------------------------------------------------------


def edit_data(person: Person, **overrides):
    data = {
        "name": person.name,
        "email": person.email,
        "department": "",
        "level": str(person.level_id or ""),
        "manager": person.manager.email if person.manager else "",
        "role": person.role.value,
    }
    data.update(overrides)
    return data


def test_edit_form_is_filled_in(org, hr):
    page = hr.get(f"/people/{org.dana.id}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="Dana Dev"' in html
    assert 'value="victor@example.com"' in html
    option = re.search(rf'<option[^>]*value="{org.dana.level_id}"[^>]*>', html)
    assert option is not None
    assert "selected" in option.group(0)


def test_hr_edits_a_person(org, hr):
    response = post(
        hr,
        f"/people/{org.dana.id}/edit",
        edit_data(
            org.dana,
            name="Dana Developer",
            manager="carla@example.com",
            department="Mobile",
            level=str(level("senior-engineer").id),
        ),
    )
    assert response.status_code == 302
    db.session.refresh(org.dana)
    assert org.dana.name == "Dana Developer"
    assert org.dana.manager_id == org.ceo.id
    assert org.dana.department.name == "Mobile"
    assert org.dana.level.key == "senior-engineer"
    assert "Dana Developer's details are saved." in text(hr.get(f"/people/{org.dana.id}"))


@pytest.mark.parametrize("who", ["direct", "indirect", "self"])
def test_reporting_loops_are_refused(org, hr, who):
    new_manager = {"direct": org.vp, "indirect": org.dana, "self": org.ceo}[who]
    response = post(hr, f"/people/{org.ceo.id}/edit", edit_data(org.ceo, manager=new_manager.email))
    assert response.status_code == 400
    error = field_error(text(response), "manager")
    assert error is not None
    assert "loop" in error or "own manager" in error
    db.session.refresh(org.ceo)
    assert org.ceo.manager_id is None
    assert org.ceo.name == "Carla Chief"


def test_edit_to_a_taken_email_is_refused(org, hr):
    response = post(hr, f"/people/{org.dana.id}/edit", edit_data(org.dana, email="eli@example.com"))
    assert response.status_code == 400
    assert "already belongs to Eli Engineer" in field_error(text(response), "email")
    db.session.refresh(org.dana)
    assert org.dana.email == "dana@example.com"


def test_hr_cannot_remove_their_own_hr_role(org, hr):
    response = post(hr, f"/people/{org.hr.id}/edit", edit_data(org.hr, role="employee"))
    assert response.status_code == 400
    assert "HR role" in field_error(text(response), "role")
    db.session.refresh(org.hr)
    assert org.hr.role == Role.HR
    assert is_signed_in(hr)
    assert hr.get("/people/new").status_code == 200


def test_changing_someones_role_signs_them_out(org, hr, app):
    dana = signed_in_client(app, org.dana)
    response = post(hr, f"/people/{org.dana.id}/edit", edit_data(org.dana, role="manager"))
    assert response.status_code == 302
    db.session.refresh(org.dana)
    assert org.dana.role == Role.MANAGER
    assert not is_signed_in(dana)


# --- deactivation -----------------------------------------------------------------------


def test_deactivating_a_manager_with_reports_is_refused(org, hr):
    response = post(hr, f"/people/{org.vp.id}/deactivate")
    assert response.status_code == 302
    page = text(hr.get(response.headers["Location"]))
    assert "Victor Vance still manages 2 active people" in page
    db.session.refresh(org.vp)
    assert org.vp.active


def test_deactivating_a_leaf_signs_them_out_and_reactivating_brings_them_back(org, hr, app):
    dana = signed_in_client(app, org.dana)
    assert is_signed_in(dana)
    response = post(hr, f"/people/{org.dana.id}/deactivate")
    assert response.status_code == 302
    assert "Dana Dev is deactivated and signed out." in text(hr.get(response.headers["Location"]))
    db.session.refresh(org.dana)
    assert not org.dana.active
    assert org.dana.deactivated_at is not None
    assert not is_signed_in(dana)
    assert sign_in(app.test_client(), "dana@example.com").status_code == 401
    # Deactivating twice is refused politely.
    again = post(hr, f"/people/{org.dana.id}/deactivate", follow_redirects=True)
    assert again.status_code == 200
    assert "already deactivated" in text(again)

    response = post(hr, f"/people/{org.dana.id}/reactivate")
    assert response.status_code == 302
    assert "Dana Dev is active again." in text(hr.get(response.headers["Location"]))
    db.session.refresh(org.dana)
    assert org.dana.active
    assert org.dana.deactivated_at is None
    assert sign_in(app.test_client(), "dana@example.com", PASSWORD).status_code == 302


def test_hr_cannot_deactivate_themselves(org, hr):
    page = text(hr.get(f"/people/{org.hr.id}"))
    assert "Deactivate" not in page
    response = post(hr, f"/people/{org.hr.id}/deactivate", follow_redirects=True)
    assert "you cannot deactivate your own account" in text(response)
    db.session.refresh(org.hr)
    assert org.hr.active
    assert is_signed_in(hr)


def test_reactivation_under_a_deactivated_manager_is_refused(org, make_person, hr):
    olga = make_person("Olga Oldtimer", active=False)
    orphan = make_person("Otto Orphan", manager=olga, active=False)
    response = post(hr, f"/people/{orphan.id}/reactivate", follow_redirects=True)
    assert "choose another manager first" in text(response)
    db.session.refresh(orphan)
    assert not orphan.active


# --- only HR manages people -------------------------------------------------------------


def hr_only_urls(app, person_id: int) -> list[tuple[str, str]]:
    adapter = app.url_map.bind("localhost")
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not rule.endpoint.startswith("people.") or getattr(view, "access_rule", None) != "hr":
            continue
        url = adapter.build(rule.endpoint, dict.fromkeys(rule.arguments, person_id))
        found.extend((method, url) for method in sorted(rule.methods & {"GET", "POST"}))
    return found


@pytest.mark.parametrize("role", ["employee", "manager"])
def test_non_hr_gets_403_on_every_hr_route(org, app, role):
    person = org.dana if role == "employee" else org.vp
    client = signed_in_client(app, person)
    urls = hr_only_urls(app, org.dana.id)
    expected = {
        ("GET", "/people/new"),
        ("POST", "/people/new"),
        ("GET", f"/people/{org.dana.id}/edit"),
        ("POST", f"/people/{org.dana.id}/edit"),
        ("POST", f"/people/{org.dana.id}/password-link"),
        ("POST", f"/people/{org.dana.id}/deactivate"),
        ("POST", f"/people/{org.dana.id}/reactivate"),
        ("GET", "/people/import"),
        ("POST", "/people/import"),
    }
    assert expected <= set(urls)
    before = people_count()
    for method, url in urls:
        if method == "GET":
            response = client.get(url)
        else:
            response = post(
                client,
                url,
                {"name": "Hacked", "email": "hacked@example.com", "role": "hr", "content": "x"},
            )
        assert response.status_code == 403, (method, url, response.status_code)
    assert people_count() == before
    db.session.refresh(org.dana)
    db.session.refresh(person)
    assert org.dana.active
    assert org.dana.name == "Dana Dev"
    assert person.role != Role.HR
    assert db.session.scalar(select(func.count()).select_from(PasswordLink)) == 0
    assert is_signed_in(client)


def test_anonymous_visitors_are_sent_to_sign_in_from_hr_routes(org, app):
    client = app.test_client()
    for method, url in hr_only_urls(app, org.dana.id):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.headers["Location"].startswith("/auth/login"), url


@pytest.mark.parametrize("role", ["employee", "manager"])
def test_hr_actions_are_not_offered_to_others(org, app, role):
    person = org.dana if role == "employee" else org.vp
    client = signed_in_client(app, person)
    directory = main(client.get("/people"))
    assert "Add a person" not in directory
    assert "Include deactivated" not in directory
    assert "Import org" not in directory
    for target in (org.dana, org.eli, org.vp):
        profile = main(client.get(f"/people/{target.id}"))
        for label in (
            "Edit details",
            "Deactivate",
            "password reset link",
            "invitation link",
            "Recent changes",
            "/edit",
            "/deactivate",
            "/password-link",
        ):
            assert label not in profile, (target.name, label)


def test_hr_actions_are_offered_to_hr(org, hr):
    directory = text(hr.get("/people"))
    assert "Add a person" in directory
    assert "Include deactivated" in directory
    profile = text(hr.get(f"/people/{org.dana.id}"))
    for label in ("Edit details", "Deactivate", "Create a password reset link", "Recent changes"):
        assert label in profile, label


def test_departments_page(org, login_as):
    platform = Department(name="Platform")
    db.session.add(platform)
    org.dana.department = platform
    db.session.commit()
    client = login_as(org.dana)
    page = client.get("/departments")
    assert page.status_code == 200
    assert "Platform" in text(page)
