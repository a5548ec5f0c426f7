"""Pages do a bounded number of SQL statements, whatever the size of the org."""

from __future__ import annotations

from conftest import count_queries, sign_in
from sqlalchemy import insert, select

from reviews.demo import DEMO_PASSWORD, build_synthetic_org
from reviews.extensions import db
from reviews.people.models import Person, Role


def _grow(extra: int) -> None:
    """Add `extra` people, spread under the existing managers."""
    managers = db.session.scalars(select(Person.id).where(Person.role == Role.MANAGER)).all()
    template = db.session.scalar(select(Person).where(Person.email == "dev@example.com"))
    db.session.execute(
        insert(Person),
        [
            {
                "email": f"grown{i}@example.com",
                "name": f"Grown {i}",
                "manager_id": managers[i % len(managers)],
                "department_id": template.department_id,
                "level_id": template.level_id,
                "role": Role.EMPLOYEE,
                "active": True,
                "password_hash": template.password_hash,
                "session_version": 1,
            }
            for i in range(extra)
        ],
    )
    db.session.commit()


def _counts(app, pages_by_user):
    counts = {}
    for email, urls in pages_by_user.items():
        client = app.test_client()
        assert sign_in(client, email, DEMO_PASSWORD).status_code == 302
        for url in urls:
            client.get(url)  # warm-up (first request loads the user etc.)
            with count_queries() as statements:
                response = client.get(url)
            assert response.status_code == 200, url
            counts[(email, url)] = len(statements)
    return counts


def test_pages_do_not_grow_queries_with_the_org(app):
    build_synthetic_org(60)
    db.session.commit()
    em = db.session.scalar(select(Person).where(Person.email == "em@example.com"))
    director = db.session.scalar(
        select(Person).where(Person.manager_id.is_(None), Person.role == Role.MANAGER)
    )
    pages = {
        "hr@example.com": [
            "/",
            "/people",
            "/people?q=a",
            "/people?page=2",
            "/org",
            f"/org/{director.id}",
            f"/org/{em.id}",
            f"/people/{em.id}",
            "/departments",
            "/framework/",
            "/framework/opportunities",
            "/framework/levels/engineer",
            "/framework/competencies/technical-fluency/edit",
        ],
        "em@example.com": ["/", f"/people/{em.id}", f"/org/{em.id}"],
        "dev@example.com": ["/"],
    }
    small = _counts(app, pages)
    _grow(1500)
    large = _counts(app, pages)
    assert large == small
    assert max(small.values()) <= 20, small
