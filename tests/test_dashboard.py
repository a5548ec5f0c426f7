"""HR's cycle dashboard: exact figures at a known stage, bounded queries, and big exports."""

from __future__ import annotations

import re
import tracemalloc
from datetime import date

import pytest
from conftest import count_queries, csrf_token
from cycle_helpers import advance, approved_peer, launched_cycle, review_of, submit_manager_review
from flask import current_app
from sqlalchemy import func, select, update

from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import Assessment, ParticipantMode, PartKind, PartState, Review
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.demo import DEMO_PASSWORD, build_synthetic_org
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Department, Person, Role
from reviews.reports import queries as q


@pytest.fixture
def stage(app, make_person):
    """Two departments at a known point of the manager-review phase.

    Platform: Ada, Ben (manager Mo). Data: Cy (manager Di). Mo and Di report to Vic.
    Self-reviews: Ada and Cy submitted. Peers: Ada has Ben and Cy approved (Ben wrote),
    Ben has Ada approved (nothing written). Manager reviews: Mo submitted Ada's (4).
    """
    platform = Department(name="Platform")
    data = Department(name="Data")
    db.session.add_all([platform, data])
    db.session.commit()
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    vic = make_person("Vic Director", role=Role.MANAGER, level_key="director-of-engineering")
    mo = make_person("Mo Manager", role=Role.MANAGER, manager=vic, level_key="engineering-manager")
    di = make_person("Di Manager", role=Role.MANAGER, manager=vic, level_key="engineering-manager")
    ada = make_person("Ada", manager=mo)
    ben = make_person("Ben", manager=mo, level_key="senior-engineer")
    cy = make_person("Cy", manager=di)
    for person, department in (
        (mo, platform),
        (ada, platform),
        (ben, platform),
        (di, data),
        (cy, data),
    ):
        person.department = department
    db.session.commit()
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW, peer_min=2)
    keys = list(db.session.scalars(select(Competency.key)))
    with current_app.test_request_context():
        for person in (ada, cy):
            own = cycle_ops.part_for(review_of(cycle, person), PartKind.SELF)
            cycle_ops.save_part(
                person,
                own,
                own.version,
                PartInput(
                    ratings=dict.fromkeys(keys, 3), answers={"accomplishments": "a", "growth": "g"}
                ),
                submit=True,
            )
        db.session.commit()
    ada_review = review_of(cycle, ada)
    ben_request = approved_peer(mo, ada_review, ben)
    approved_peer(mo, ada_review, cy)
    approved_peer(mo, review_of(cycle, ben), ada)
    advance(hr, cycle, CycleState.PEER_FEEDBACK)
    with current_app.test_request_context():
        feedback = cycle_ops.peer_assessment(ben_request)
        cycle_ops.save_part(
            ben,
            feedback,
            feedback.version,
            PartInput(answers={"strengths": "s", "growth_areas": "g", "suggestion": "x"}),
            submit=True,
        )
        db.session.commit()
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    submit_manager_review(mo, ada_review, 4, dict.fromkeys(keys, 3))
    return cycle, hr


def test_completion_figures_at_a_known_stage(app, stage):
    cycle, _hr = stage
    total, by_department = q.completion(cycle, "department")
    # Eight participants: HR, Vic, Mo, Di, Ada, Ben, Cy.  (7 people.)
    assert total.reviews == 7
    assert (total.self_done, total.nominated, total.peer_done, total.peer_total) == (2, 1, 1, 3)
    # Manager parts: Vic reviews Mo and Di, Mo reviews Ada and Ben, Di reviews Cy.
    assert (total.manager_done, total.manager_total, total.calibrated, total.acknowledged) == (
        1,
        5,
        0,
        0,
    )
    rows = {r.label: r for r in by_department}
    assert (rows["Platform"].reviews, rows["Platform"].self_done, rows["Platform"].peer_total) == (
        3,
        1,
        3,
    )
    assert (rows["Data"].reviews, rows["Data"].self_done, rows["Data"].manager_total) == (2, 1, 2)
    assert rows["No department"].reviews == 2  # HR and Vic, named for a reader, not "None"
    _, by_manager = q.completion(cycle, "manager")
    managers = {r.label: r for r in by_manager}
    assert (managers["Mo Manager"].reviews, managers["Mo Manager"].manager_done) == (2, 1)
    assert (managers["No manager"].reviews, managers["No manager"].manager_total) == (2, 0)
    # the dashboard's one pass: the same completion, and the rating distributions
    same_total, same_departments, dists = q.department_figures(cycle)
    assert same_total == total
    assert same_departments == by_department
    assert dists.overall == [0, 0, 0, 1, 0]
    assert dists.by_department == {"Platform": [0, 0, 0, 1, 0]}
    assert dists.by_level == {"Engineer": [0, 0, 0, 1, 0]}
    after_deadline = date.fromordinal(cycle.manager_review_due.toordinal() + 1)
    assert q.overdue(cycle, cycle.manager_review_due) == []  # due today is not late yet
    late = q.overdue(cycle, after_deadline)
    assert sorted((o.name, o.task) for o in late) == [
        ("Di Manager", "review of Cy"),
        ("Mo Manager", "review of Ben"),
        ("Vic Director", "review of Di Manager"),
        ("Vic Director", "review of Mo Manager"),
    ]
    # the dashboard's count comes from the figures and its list is cut in SQL
    assert q.overdue_count(cycle, after_deadline, total) == len(late) == 4
    assert q.overdue_count(cycle, cycle.manager_review_due, total) == 0
    first = q.overdue(cycle, after_deadline, limit=2)
    assert [(o.name, o.task) for o in first] == [
        ("Di Manager", "review of Cy"),
        ("Mo Manager", "review of Ben"),
    ]


def test_the_dashboard_page_shows_the_figures(app, stage, login_as):
    cycle, hr = stage
    page = login_as(hr).get(f"/cycles/{cycle.id}/dashboard")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2/7" in html  # self-reviews
    assert "1/3" in html  # peer feedback
    assert "1/5" in html  # manager reviews
    assert 'id="completion-title"' in html
    assert 'id="dist-title"' in html


def test_dashboard_queries_do_not_grow_with_the_cycle(app):
    build_synthetic_org(500)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    few = list(db.session.scalars(select(Person.id).order_by(Person.id).limit(40)))
    small = launched_cycle(
        hr,
        CycleState.MANAGER_REVIEW,
        name="Small",
        participant_mode=ParticipantMode.LIST,
        participant_ids=few,
    )
    big = launched_cycle(hr, CycleState.MANAGER_REVIEW, name="Big")
    assert _dashboard_statements(app, small.id) == _dashboard_statements(app, big.id) <= 25


def _dashboard_statements(app, cycle_id: int) -> int:
    client = app.test_client()
    token = csrf_token(client)
    assert (
        client.post(
            "/auth/login",
            data={"email": "hr@example.com", "password": DEMO_PASSWORD, "csrf_token": token},
        ).status_code
        == 302
    )
    client.get(f"/cycles/{cycle_id}/dashboard")
    with count_queries() as statements:
        assert client.get(f"/cycles/{cycle_id}/dashboard").status_code == 200
    return len(statements)


def _stream_peak(client, url: str) -> tuple[int, int, int]:
    """(lines, bytes, peak traced memory) of streaming one export to the end."""
    tracemalloc.start()
    try:
        response = client.get(url)
        lines = size = 0
        for chunk in response.response:  # consume the stream as a browser would
            lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
            size += len(chunk)
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, size, peak


def test_streaming_the_csv_of_10000_reviews_keeps_memory_flat(app, capsys):
    build_synthetic_org(10_000)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW, name="Company")
    keys = list(db.session.scalars(select(Competency.key)))
    db.session.execute(
        update(Assessment)
        .where(Assessment.kind == PartKind.MANAGER)
        .values(
            state=PartState.SUBMITTED,
            overall_rating=3,
            ratings=dict.fromkeys(keys, 3),
            comments={"technical-fluency": "Clear, careful work on the storage layer."},
            submitted_at=func.now(),
        )
    )
    db.session.commit()
    department = db.session.scalar(select(Department).where(Department.name == "Platform"))
    client = app.test_client()
    token = csrf_token(client)
    client.post(
        "/auth/login",
        data={"email": "hr@example.com", "password": DEMO_PASSWORD, "csrf_token": token},
    )
    part_lines, _part_size, part_peak = _stream_peak(
        client, f"/cycles/{cycle.id}/report.csv?department={department.id}"
    )
    lines, size, peak = _stream_peak(client, f"/cycles/{cycle.id}/report.csv")
    assert lines == 10_001  # header and one row per review
    assert 500 < part_lines < lines / 3
    with capsys.disabled():
        print(
            f"\n10,000-review CSV: {size / 1e6:.1f} MB streamed with a peak of "
            f"{peak / 1e6:.1f} MB traced; {part_lines - 1} reviews: {part_peak / 1e6:.1f} MB"
        )
    # Rows are fetched and written a chunk at a time: five to seven times the rows
    # need about the same memory, not five to seven times more.
    assert peak < part_peak * 1.6
    assert peak < 50e6


def test_feedback_quality_shows_only_managers_with_enough_reviews(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    big = make_person("Bea Bigteam", role=Role.MANAGER, level_key="engineering-manager")
    small = make_person("Sol Smallteam", role=Role.MANAGER, level_key="engineering-manager")
    team = [make_person(f"Big {i}", manager=big) for i in range(5)]
    solo = make_person("Only One", manager=small)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    keys = list(db.session.scalars(select(Competency.key)))
    for i, person in enumerate(team):
        review = review_of(cycle, person)
        submit_manager_review(big, review, 3, dict.fromkeys(keys, 3))
        part = db.session.scalar(
            select(Assessment).where(
                Assessment.review_id == review.id, Assessment.kind == PartKind.MANAGER
            )
        )
        # Two of five summaries name an event; one calls the person abrasive.
        part.answers = {
            **part.answers,
            "summary": (
                "In the March incident she kept the timeline clear."
                if i < 2
                else "She can be abrasive."
                if i == 2
                else "Great job."
            ),
        }
        db.session.commit()
    submit_manager_review(small, review_of(cycle, solo), 3, dict.fromkeys(keys, 3))
    page = login_as(hr).get(f"/cycles/{cycle.id}/feedback-quality").get_data(as_text=True)
    row = page.split("Bea Bigteam")[1].split("</tr>")[0]
    # 15 texts (summary, strengths, growth areas per review); 2 name evidence; 1 personality word.
    assert ">15<" in row
    assert "13%" in row
    assert "0.07" in row
    small_row = page.split("Sol Smallteam")[1].split("</tr>")[0]
    assert "Too few reviews to show" in small_row


def test_feedback_quality_pages_the_managers_by_name(app, make_person, login_as, monkeypatch):
    """The report reads a page of managers at a time by name (at 100,000 people it
    summed every manager part of the cycle and named 14,000 managers on one page:
    570 ms); every manager who submitted shows once, and a page costs the same
    statements whatever the number of managers."""
    monkeypatch.setattr("reviews.reports.views.QUALITY_PAGE", 2)
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    keys = list(db.session.scalars(select(Competency.key)))
    names = ["Ann Able", "Bo Brand", "Cy Cole", "Di Dunn", "Ed Eve"]
    bosses = [make_person(n, role=Role.MANAGER, level_key="engineering-manager") for n in names]
    idle = make_person("Ida Idle", role=Role.MANAGER, level_key="engineering-manager")
    reports = [make_person(f"Report {i}", manager=b) for i, b in enumerate(bosses)]
    make_person("Report of idle", manager=idle)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    web = login_as(hr)
    url = f"/cycles/{cycle.id}/feedback-quality"
    assert "No manager review is submitted yet." in web.get(url).get_data(as_text=True)
    for boss, person in zip(bosses, reports, strict=True):
        submit_manager_review(boss, review_of(cycle, person), 3, dict.fromkeys(keys, 3))
    seen, link, counts = [], url, []
    while link:
        with count_queries() as statements:
            html = web.get(link).get_data(as_text=True)
        counts.append(len(statements))
        seen += [n for n in names if f'<th scope="row">{n}</th>' in html]
        found = re.search(r'href="([^"]+)" rel="next"', html)
        link = found.group(1).replace("&amp;", "&") if found else None
    assert seen == names  # by name, each once; the manager who wrote nothing is not listed
    assert "Ida Idle" not in seen
    # the first page, then each later one with the lookup of where it starts
    assert counts == [counts[0]] + [counts[0] + 1] * (len(counts) - 1), counts
    assert "5 managers have submitted reviews; 2 on this page, by name." in web.get(url).get_data(
        as_text=True
    )
    for wild in ("abc", "0", str(idle.id), "999999"):
        answer = web.get(f"{url}?after={wild}")
        assert answer.status_code == 400, wild
        assert "parameter “after”" in answer.get_data(as_text=True)


def test_the_coachs_figures_are_stored_with_a_submitted_part_and_follow_its_texts(app, make_person):
    """Calibration and the feedback-quality report sum stored figures: they are set on
    submission, follow a later change of the texts, and are cleared on reopening."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Bea Boss", role=Role.MANAGER, level_key="engineering-manager")
    person = make_person("Pat Person", manager=boss)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    review = review_of(cycle, person)
    manager_part = db.session.scalar(
        select(Assessment).where(
            Assessment.review_id == review.id, Assessment.kind == PartKind.MANAGER
        )
    )
    assert manager_part.quality_texts is None  # a draft has none
    keys = list(db.session.scalars(select(Competency.key)))
    submit_manager_review(boss, review, 3, dict.fromkeys(keys, 3))
    db.session.refresh(manager_part)
    # "Summary for Pat Person.", "Ownership.", "Influence.": three texts, no evidence
    assert (
        manager_part.quality_texts,
        manager_part.quality_evidence,
        manager_part.quality_personal,
    ) == (3, 0, 0)
    manager_part.answers = {**manager_part.answers, "summary": "Abrasive in the March review."}
    db.session.commit()
    db.session.refresh(manager_part)
    assert (manager_part.quality_evidence, manager_part.quality_personal) == (1, 1)
    with app.test_request_context():
        cycle_ops.reopen_part(hr, manager_part)
        db.session.commit()
    db.session.refresh(manager_part)
    assert manager_part.state == PartState.DRAFT
    assert manager_part.quality_texts is None


def test_managers_are_ordered_by_the_database_as_completion_defines_it(app):
    """The dashboard's managers furthest behind and the paged managers page are sorted
    in SQL: the same order as Completion.share, then most reviews, then name."""
    build_synthetic_org(400)
    hr = db.session.scalar(select(Person).where(Person.email == "hr@example.com"))
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    # varied progress: every third manager's reviews written, every fifth review's self part
    managers = sorted(
        set(db.session.scalars(select(Review.manager_id).where(Review.manager_id.is_not(None))))
    )
    db.session.execute(
        update(Assessment)
        .where(
            Assessment.kind == PartKind.MANAGER,
            Assessment.review_id.in_(select(Review.id).where(Review.manager_id.in_(managers[::3]))),
        )
        .values(state=PartState.SUBMITTED, overall_rating=3, submitted_at=func.now())
    )
    db.session.execute(
        update(Assessment)
        .where(Assessment.kind == PartKind.SELF, Assessment.review_id % 5 == 0)
        .values(state=PartState.SUBMITTED, submitted_at=func.now())
    )
    db.session.commit()
    _total, everyone = q.completion(cycle, "manager")

    def key(r):
        return (r.label, r.share, r.reviews, r.self_done, r.manager_done)

    behind, count = q.manager_completion(cycle)
    assert count == len(everyone) > 25
    # least complete first, then most reviews (ties in the manager's id order)
    assert [(r.share, -r.reviews) for r in behind] == sorted(
        (r.share, -r.reviews) for r in everyone
    )
    assert sorted(map(key, behind)) == sorted(map(key, everyone))
    assert len({r.share for r in behind}) > 2  # the order is tested on differing shares
    by_name, _ = q.manager_completion(cycle, order="name")
    assert [r.label for r in by_name] == sorted(r.label for r in everyone)
    page, count = q.manager_completion(cycle, limit=25, offset=25)
    assert [key(r) for r in page] == [key(r) for r in behind[25:50]]
    # past the last page: no rows, and still the number of managers (kept, not counted
    # from the rows read)
    assert q.manager_completion(cycle, limit=25, offset=10_000) == ([], len(everyone))


def test_calibration_changes_up_and_down_by_session(app, stage, login_as):
    """Moves of the overall rating, counted per session; unchanged ratings (finalising
    records one for everyone), other fields and other cycles' changes are not moves."""
    from reviews.calibration.models import CalibrationChange, CalibrationSession, GroupKind

    cycle, hr = stage
    reviews = list(db.session.scalars(select(Review).where(Review.cycle_id == cycle.id)))
    departments = {d.name: d for d in db.session.scalars(select(Department))}
    platform, data = (
        CalibrationSession(
            cycle_id=cycle.id,
            name=name,
            group_kind=GroupKind.DEPARTMENT,
            department_id=departments[name].id,
        )
        for name in ("Platform", "Data")
    )
    db.session.add_all([platform, data])
    db.session.flush()
    moves = [
        (platform, "3", "4"),
        (platform, "3", "4"),
        (platform, "2", "4"),
        (platform, "4", "3"),
        (data, "3", "2"),
        (data, "3", "3"),  # unchanged
        (None, "2", "3"),  # finalised outside a session
        (None, "4", "4"),  # unchanged
        (None, None, "3"),  # a first rating, not a move
    ]
    for n, (session, old, new) in enumerate(moves):
        db.session.add(
            CalibrationChange(
                session_id=session.id if session else None,
                review_id=reviews[n % len(reviews)].id,
                actor_id=hr.id,
                field="overall",
                old_value=old,
                new_value=new,
                rationale="r",
            )
        )
    db.session.add(
        CalibrationChange(
            session_id=platform.id,
            review_id=reviews[0].id,
            actor_id=hr.id,
            field="potential",
            old_value="low",
            new_value="high",
            rationale="r",
        )
    )
    db.session.commit()
    changes = q.calibration_changes(cycle)
    assert (changes.total, changes.up, changes.down) == (6, 4, 2)
    assert changes.by_session == {"Platform": (3, 1), "Data": (0, 1), "Finalised": (1, 0)}
    client = login_as(hr)
    page = client.get(f"/cycles/{cycle.id}/dashboard").get_data(as_text=True)
    assert "6 final ratings changed: 4 up, 2 down." in page
