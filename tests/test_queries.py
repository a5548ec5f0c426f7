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
            f"/people?after={em.id}",
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
    # The home page is the busiest: tasks from cycles, goals' check-ins and upward feedback.
    assert max(small.values()) <= 22, small


def test_cycle_pages_do_not_grow_queries_with_the_cycle(app):
    """Home (tasks), the manager's team page and a review page, in a small and a big cycle."""
    from cycle_helpers import launched_cycle

    from reviews.cycles.models import ParticipantMode, Review
    from reviews.cycles.workflow import CycleState

    build_synthetic_org(400)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    em = db.session.scalar(select(Person).where(Person.email == "em@example.com"))
    dev = db.session.scalar(select(Person).where(Person.email == "dev@example.com"))
    # The small cycle holds em, dev and a few others; the big one everyone.
    few = [
        em.id,
        dev.id,
        *db.session.scalars(select(Person.id).where(Person.manager_id == em.id).limit(5)),
    ]
    results = []
    for name, overrides in (
        ("Small", {"participant_mode": ParticipantMode.LIST, "participant_ids": few}),
        ("Big", {}),
    ):
        cycle = launched_cycle(hr, CycleState.SELF_REVIEW, name=name, **overrides)
        review = db.session.scalar(
            select(Review).where(Review.cycle_id == cycle.id, Review.subject_id == dev.id)
        )
        counts = _counts(
            app,
            {
                "em@example.com": ["/", f"/cycles/{cycle.id}/team", f"/reviews/{review.id}"],
                "dev@example.com": ["/", f"/reviews/{review.id}", f"/reviews/{review.id}/self"],
            },
        )
        results.append(list(counts.values()))  # the same pages in the same order
        # Close the small cycle's tasks out of the way of the big one's counts.
        cycle.state = CycleState.CLOSED
        db.session.commit()
    small, big = results
    assert small == big
    assert max(big) <= 25, big
