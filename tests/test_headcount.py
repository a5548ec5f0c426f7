"""Each department's active people, kept by triggers on person (reviews.people.headcount):
the count follows every way a person changes, one by one or many in one statement, and
the departments page reads it in statements that do not grow with the org."""

from __future__ import annotations

import pytest
from conftest import PG_URL, count_queries
from sqlalchemy import delete, func, insert, select, update

from reviews.extensions import db
from reviews.people import headcount
from reviews.people.models import Department, Person


def _kept() -> dict[str, int]:
    return dict(db.session.execute(select(Department.name, Department.active_people)).all())


def _recounted() -> dict[str, int]:
    """The same figures counted again from the people by the migration's backfill, in a
    transaction rolled back."""
    with db.engine.connect() as conn:
        headcount.recount(conn)
        counts = dict(conn.execute(select(Department.name, Department.active_people)).all())
        conn.rollback()
    return counts


def _check(expected: dict[str, int]) -> None:
    db.session.commit()
    assert _recounted() == expected  # first: SQLite's session would hold the write lock
    assert _kept() == expected


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
    # many people in one statement each way (the synthetic org, a bulk deactivation):
    # inserted, moved, deactivated, moved and deactivated at once, rewritten as they
    # are, deleted; and a transaction rolled back leaves the counts as they were
    db.session.execute(
        insert(Person).values(
            [
                {
                    "name": f"New {n}",
                    "email": f"new{n}@example.com",
                    "department_id": b.id,
                    "role": "employee",
                    "active": True,
                    "session_version": 1,
                    "created_at": func.current_timestamp(),
                }
                for n in range(5)
            ]
        )
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
    db.session.execute(
        update(Person)
        .where(Person.name.in_(["New 0", "New 1"]))
        .values(department_id=b.id, active=False)
    )
    _check({"Apps": 5, "Billing": 0})
    db.session.execute(update(Person).where(Person.name.like("New %")).values(active=Person.active))
    _check({"Apps": 5, "Billing": 0})
    db.session.execute(update(Person).where(Person.name.like("New %")).values(active=True))
    _check({"Apps": 5, "Billing": 2})
    db.session.execute(update(Person).values(active=False))
    db.session.rollback()
    _check({"Apps": 5, "Billing": 2})
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

    # nothing on the page counts people: it reads the departments as they are kept
    with count_queries() as seen:
        client.get("/departments")
    assert not [s for s in seen if "count(" in s.lower() and "person" in s.lower()], seen


def test_the_org_import_adds_its_changes_up_once(app, make_person):
    """The org import writes a person a statement in one transaction: the counts are
    held back and added at the end (on PostgreSQL), and come out as a recount would,
    for people created, moved, deactivated and left as they were."""
    from reviews.people import operations as ops
    from reviews.people.models import Role

    hr = make_person("Hanna HR", email="hr@example.com", role=Role.HR, level_key=None)
    people = Department(name="People")
    db.session.add(people)
    db.session.commit()
    hr.department = people
    stay, move, leave = (
        make_person(n, email=f"{n.lower()}@example.com") for n in ("Stay", "Move", "Leave")
    )
    for person in (stay, move, leave):
        person.department = people
    _check({"People": 4})
    rows = [
        "email,name,manager_email,department,level,role",
        "hr@example.com,Hanna HR,,People,,hr",
        "stay@example.com,Stay,hr@example.com,People,,employee",
        "move@example.com,Move,hr@example.com,Platform,,employee",
        *(f"new{n}@example.com,New {n},hr@example.com,Platform,,employee" for n in range(30)),
        *(f"more{n}@example.com,More {n},hr@example.com,People,,employee" for n in range(5)),
    ]
    check = ops.check_org_file("\n".join(rows).encode(), hr)
    assert not check.errors
    ops.apply_import(check, hr)
    _check({"People": 7, "Platform": 31})


def test_deferred_counts_wait_for_the_end_of_the_block(app, make_person):
    """Inside `deferred` a department's row is not written per person on PostgreSQL
    (that is what made the import slow); SQLite updates it in place as it goes. Either
    way the block's end leaves the counts a recount gives."""
    apps = Department(name="Apps")
    db.session.add(apps)
    db.session.commit()
    ann = make_person("Ann")
    ann.department = apps
    _check({"Apps": 1})
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    with headcount.deferred(connection):
        for n in range(3):
            db.session.execute(
                insert(Person).values(
                    name=f"N {n}", email=f"n{n}@example.com", department_id=apps.id
                )
            )
        db.session.execute(update(Person).where(Person.id == ann.id).values(active=False))
        held = db.session.scalar(select(Department.active_people).where(Department.id == apps.id))
        assert held == (1 if postgres else 3)
    _check({"Apps": 3})
    # the setting ended with the block: the next change counts at once again
    db.session.execute(update(Person).where(Person.id == ann.id).values(active=True))
    assert db.session.scalar(select(Department.active_people).where(Department.id == apps.id)) == 4
    # a second block on the same connection (its table made again, the triggers' plans
    # of the first one's table dropped), moved people among them
    with headcount.deferred(db.session.connection()):
        db.session.execute(update(Person).where(Person.id == ann.id).values(department_id=None))
    _check({"Apps": 3})


@pytest.mark.skipif(not PG_URL, reason="SQLite has one writer at a time")
def test_people_written_by_others_during_the_import_still_count(app, make_person):
    """The import adds its own changes to the counts, it does not recount: a person
    another transaction adds while the import's block is open is counted once."""
    apps = Department(name="Apps")
    db.session.add(apps)
    db.session.commit()
    connection = db.session.connection()
    with headcount.deferred(connection):
        db.session.execute(
            insert(Person).values(name="Mine", email="mine@example.com", department_id=apps.id)
        )
        with db.engine.begin() as other:
            other.execute(
                insert(Person).values(
                    name="Theirs",
                    email="theirs@example.com",
                    department_id=apps.id,
                    role="employee",
                    active=True,
                    session_version=1,
                    created_at=func.current_timestamp(),
                )
            )
    _check({"Apps": 2})
