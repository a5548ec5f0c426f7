"""Each department's active people, kept by triggers on person (reviews.people.headcount):
the count follows every way a person changes, one by one or many in one statement, and
the departments page reads it in statements that do not grow with the org."""

from __future__ import annotations

from conftest import count_queries
from sqlalchemy import delete, func, insert, select, update

from reviews.extensions import db
from reviews.people.models import Department, Person


def _kept() -> dict[str, int]:
    return dict(db.session.execute(select(Department.name, Department.active_people)).all())


def _counted() -> dict[str, int]:
    """The same figures counted from the people, as the page did before."""
    rows = db.session.execute(
        select(Department.name, func.count(Person.id))
        .outerjoin(Person, (Person.department_id == Department.id) & Person.active.is_(True))
        .group_by(Department.name)
    ).all()
    return dict(rows)


def _check(expected: dict[str, int]) -> None:
    db.session.commit()
    assert _kept() == expected
    assert _counted() == expected


def test_the_count_follows_every_change_of_a_person(app, make_person):
    a, b = Department(name="Apps"), Department(name="Billing")
    db.session.add_all([a, b])
    db.session.commit()
    _check({"Apps": 0, "Billing": 0})
    ann, bo, cy = make_person("Ann"), make_person("Bo"), make_person("Cy")
    gone = make_person("Gone", active=False)
    make_person("Nowhere")  # no department: counts nowhere
    for person, department in ((ann, a), (bo, a), (cy, b), (gone, a)):
        person.department = department
    _check({"Apps": 2, "Billing": 1})
    bo.department = b  # moves
    _check({"Apps": 1, "Billing": 2})
    cy.active = False  # leaves
    _check({"Apps": 1, "Billing": 1})
    gone.active = True  # comes back
    _check({"Apps": 2, "Billing": 1})
    ann.department = None
    _check({"Apps": 1, "Billing": 1})
    ann.name = "Ann Other"  # a change of anything else moves nothing
    _check({"Apps": 1, "Billing": 1})
    # many people in one statement each way (the org import, SCIM): inserted, moved
    # and deactivated together, then deleted
    db.session.execute(
        insert(Person),
        [
            {"name": f"New {n}", "email": f"new{n}@example.com", "department_id": b.id}
            for n in range(5)
        ],
    )
    _check({"Apps": 1, "Billing": 6})
    db.session.execute(
        update(Person).where(Person.department_id == b.id).values(department_id=a.id)
    )
    _check({"Apps": 7, "Billing": 0})
    db.session.execute(update(Person).where(Person.name.like("New %")).values(active=False))
    _check({"Apps": 2, "Billing": 0})
    db.session.execute(update(Person).where(Person.name.like("New %")).values(active=True))
    _check({"Apps": 7, "Billing": 0})
    db.session.execute(delete(Person).where(Person.name.like("New %")))
    _check({"Apps": 2, "Billing": 0})


def test_the_departments_page_reads_the_kept_counts_whatever_the_org(app, make_person, login_as):
    platform = Department(name="Platform")
    db.session.add(platform)
    db.session.commit()
    me = make_person("Me")
    me.department = platform
    db.session.commit()
    client = login_as(me)
    client.get("/departments")  # warm: first-use queries of the session and the app

    def page() -> tuple[str, int]:
        with count_queries() as seen:
            answer = client.get("/departments")
        assert answer.status_code == 200
        return answer.get_data(as_text=True), len(seen)

    html, few = page()
    assert '<td class="num">1</td>' in html
    db.session.execute(
        insert(Person),
        [
            {"name": f"P {n}", "email": f"p{n}@example.com", "department_id": platform.id}
            for n in range(1200)
        ],
    )
    db.session.commit()
    html, many = page()
    assert '<td class="num">1,201</td>' in html
    assert many == few
