"""HR exports (SPEC 4 and 7): cell-by-cell against the database, anonymity, injection, audit."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from typing import Any

import pytest
from conftest import post
from cycle_helpers import advance, approved_peer, launched_cycle, review_of
from flask import current_app
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from reviews.audit.models import AuditEvent
from reviews.calibration import operations as calibration_ops
from reviews.calibration.models import GroupKind
from reviews.cycles import operations as cycle_ops
from reviews.cycles.models import (
    Assessment,
    Cycle,
    ParticipantMode,
    PartKind,
    PartState,
    PeerRequest,
    RequestState,
    Review,
)
from reviews.cycles.parts import PartInput
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.framework.models import Level
from reviews.people.models import Department, Person, Role
from reviews.reports.spreadsheets import csv_stream, safe, xlsx_file

BOM = "\ufeff"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# The columns SPEC 7 asks for, in the order of the export, headed as people read them.
FIXED = [
    "Employee",
    "Email",
    "Department",
    "Level",
    "Manager",
    "Self-review",
    "Peers approved",
    "Peer feedback received",
    "Manager review",
    "Calibrated",
    "Self average",
    "Peer average",
    "Manager average",
    "Manager overall rating",
    "Final rating",
]
TAIL = ["Potential", "Promotion readiness", "Acknowledged on"]
STATES = {"draft": "Draft", "submitted": "Submitted"}
POTENTIAL_LABELS = {"low": "Low", "medium": "Medium", "high": "High"}
READINESS_LABELS = {
    "not_yet": "Not yet",
    "within_a_year": "Within a year",
    "ready_now": "Ready now",
}


# Building a cycle through the real operations -------------------------------------------------


def keys_of(cycle: Cycle) -> list[str]:
    return [c["key"] for c in cycle.framework_snapshot["competencies"]]


def names_of(cycle: Cycle) -> list[str]:
    return [c["name"] for c in cycle.framework_snapshot["competencies"]]


def spread(keys: list[str], seed: int) -> dict[str, int]:
    """Uneven ratings, so that averages are not round numbers."""
    return {k: (i * 2 + seed) % 5 + 1 for i, k in enumerate(keys)}


def self_review(person: Person, review: Review, ratings: dict[str, int], *, submit=True) -> None:
    own = cycle_ops.part_for(review, PartKind.SELF)
    with current_app.test_request_context():
        cycle_ops.save_part(
            person,
            own,
            own.version,
            PartInput(
                ratings=ratings,
                comments={next(iter(ratings)): f"Self comment of {person.name}."},
                answers={
                    "accomplishments": f"Shipped things ({person.name}).",
                    "growth": "Grow into design reviews.",
                },
            ),
            submit=submit,
        )
        db.session.commit()


def peer_feedback(
    manager: Person, review: Review, peer: Person, ratings: dict[str, int] | None, text: str = ""
) -> PeerRequest:
    """The manager approves `peer`; with `ratings`, the peer also submits feedback."""
    request = approved_peer(manager, review, peer)
    if ratings is not None:
        with current_app.test_request_context():
            feedback = cycle_ops.peer_assessment(request)
            cycle_ops.save_part(
                peer,
                feedback,
                feedback.version,
                PartInput(
                    ratings=ratings,
                    answers={
                        "strengths": text or "Reliable.",
                        "growth_areas": f"{text} growth" if text else "Scope.",
                        "suggestion": f"{text} suggestion" if text else "Pair more.",
                    },
                ),
                submit=True,
            )
            db.session.commit()
    return request


def manager_review(
    manager: Person,
    review: Review,
    overall: int,
    ratings: dict[str, int],
    potential: str = "medium",
    readiness: str = "not_yet",
    *,
    submit: bool = True,
) -> None:
    own = cycle_ops.part_for(review, PartKind.MANAGER)
    with current_app.test_request_context():
        cycle_ops.save_part(
            manager,
            own,
            own.version,
            PartInput(
                ratings=ratings,
                overall=overall,
                potential=potential,
                readiness=readiness,
                answers={
                    "summary": f"Manager summary of {review.subject.name}.",
                    "strengths": "Ownership.",
                    "growth_areas": "Influence.",
                },
            ),
            submit=submit,
        )
        db.session.commit()


def finalise_and_release(hr: Person, cycle: Cycle) -> None:
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        calibration_ops.finalise_uncalibrated(hr, cycle)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)


def acknowledge(person: Person, review: Review, comment: str = "") -> None:
    with current_app.test_request_context():
        calibration_ops.acknowledge(person, review, comment)
        db.session.commit()


# Reading exports back -------------------------------------------------------------------------


def fetch(client, url: str) -> tuple[int, bytes, Any]:
    """Status, the whole body (streams consumed) and the headers; the response is closed."""
    response = client.get(url)
    try:
        return response.status_code, response.data, response.headers
    finally:
        response.close()


def csv_rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(BOM), "the CSV starts with a UTF-8 byte order mark for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def excel_text(value: Any) -> Any:
    """A cell's text as Excel shows it: OOXML writes characters that XML would not keep
    (a carriage return) as _xHHHH_ escapes, which openpyxl leaves as they are."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def xlsx_rows(data: bytes) -> list[list[Any]]:
    book = load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    return [[excel_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def inert(value: str) -> str:
    """A text cell as a spreadsheet must receive it: a quote before a dangerous start."""
    return "'" + value if value.startswith(DANGEROUS) else value


def as_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return inert(value) if isinstance(value, str) else str(value)


# The expected report, computed from the database on its own ---------------------------------


def expected_report(cycle: Cycle, review_ids: list[int] | None = None) -> list[list[Any]]:
    keys = keys_of(cycle)
    levels = dict(db.session.execute(select(Level.key, Level.name)).all())
    rows = []
    reviews = db.session.scalars(
        select(Review).where(Review.cycle_id == cycle.id).order_by(Review.id)
    )
    for review in reviews:
        if review_ids is not None and review.id not in review_ids:
            continue
        parts = list(
            db.session.scalars(select(Assessment).where(Assessment.review_id == review.id))
        )
        own = next((p for p in parts if p.kind == PartKind.SELF), None)
        boss = next((p for p in parts if p.kind == PartKind.MANAGER), None)
        submitted_boss = boss if boss is not None and boss.state == PartState.SUBMITTED else None
        peers = [p for p in parts if p.kind == PartKind.PEER and p.state == PartState.SUBMITTED]
        approved = db.session.scalar(
            select(func.count()).where(
                PeerRequest.review_id == review.id, PeerRequest.state == RequestState.APPROVED
            )
        )
        peer_values = [v for p in peers for v in p.ratings.values()]

        def average(values: list[int]) -> float | None:
            return round(sum(values) / len(values), 2) if values else None

        finals = review.final_ratings or (submitted_boss.ratings if submitted_boss else {})
        if review.final_potential is not None:
            potential = POTENTIAL_LABELS[review.final_potential.value]
        elif submitted_boss is not None and submitted_boss.potential is not None:
            potential = POTENTIAL_LABELS[submitted_boss.potential.value]
        else:
            potential = ""
        readiness = (
            READINESS_LABELS[submitted_boss.promotion_readiness.value]
            if submitted_boss is not None and submitted_boss.promotion_readiness is not None
            else ""
        )
        rows.append(
            [
                review.subject.name,
                review.subject.email,
                review.department.name if review.department else "",
                levels[review.level_key] if review.level_key else "No level",
                review.manager.name if review.manager else "",
                STATES[own.state.value] if own else "Not started",
                approved,
                len(peers),
                STATES[boss.state.value] if boss else "Not started",
                "Yes" if review.final_locked else "No",
                average(list(own.ratings.values()))
                if own and own.state == PartState.SUBMITTED
                else None,
                average(peer_values),
                average(list(submitted_boss.ratings.values())) if submitted_boss else None,
                submitted_boss.overall_rating if submitted_boss else None,
                review.final_rating,
                *[finals.get(k) for k in keys],
                potential,
                readiness,
                review.acknowledged_at.date() if review.acknowledged_at else None,
                *answer_cells(cycle, own, submitted_boss),
            ]
        )
    return rows


def question_columns(cycle: Cycle) -> list[str]:
    """A column per question of the self-review and manager review (every audience of
    the built-in questions is everyone who reads the part)."""
    from reviews.review_templates.queries import template_of

    return [
        f"{title}: {q.label}"
        for part, title in (("self", "Self"), ("manager", "Manager"))
        for q in template_of(cycle, part).questions
    ]


def answer_cells(cycle: Cycle, own: Any, boss: Any) -> list[str]:
    from reviews.review_templates.queries import template_of

    cells = []
    for part, written in (("self", own), ("manager", boss)):
        given = (
            {**written.answers, **written.choices}
            if written is not None and written.state == PartState.SUBMITTED
            else {}
        )
        cells += [q.as_text(given.get(q.key)) for q in template_of(cycle, part).questions]
    return cells


def assert_csv_matches(data: bytes, cycle: Cycle, expected: list[list[Any]]) -> None:
    rows = csv_rows(data)
    header = FIXED + [f"Final: {name}" for name in names_of(cycle)] + TAIL
    header += question_columns(cycle)
    assert rows[0] == header
    body = rows[1:]
    assert len(body) == len(expected)
    for got, want in zip(body, expected, strict=True):
        assert len(got) == len(header)
        for column, cell, value in zip(header, got, want, strict=True):
            assert cell == as_csv(value), (want[0], column, cell, value)


def assert_xlsx_matches(data: bytes, cycle: Cycle, expected: list[list[Any]]) -> None:
    rows = xlsx_rows(data)
    header = FIXED + [f"Final: {name}" for name in names_of(cycle)] + TAIL
    header += question_columns(cycle)
    assert rows[0] == header
    body = rows[1:]
    assert len(body) == len(expected)
    for got, want in zip(body, expected, strict=True):
        assert len(got) == len(header)
        for column, cell, value in zip(header, got, want, strict=True):
            where = (want[0], column, cell, value)
            if value is None or value == "":
                assert cell is None, where  # an empty cell
            elif isinstance(value, str):
                assert isinstance(cell, str), where
                assert cell == inert(value), where
            elif isinstance(value, date):
                assert isinstance(cell, datetime), where  # a date cell, not text
                assert cell.date() == value, where
            else:
                assert type(cell) in (int, float), where
                assert cell == value, where


# A released cycle with awkward names ---------------------------------------------------------


HYPERLINK = '=HYPERLINK("http://x","y")'


@pytest.fixture
def seeded(app, make_person):
    """A released cycle whose people have accents, CJK, emoji and formula-looking names.

    Director Dora: Zoë (manager of 王小明, Emoji, HYPERLINK, +1 Plus) and Omar (manager of
    -Minus and @At). Hana (HR) and Dora have no manager. Every state a row can be in:
    submitted and draft self-reviews, submitted and pending peer feedback, a draft manager
    review, a calibrated change of final values, and an acknowledgement.
    """
    platform = Department(name="Plateforme Zürich")
    danger = Department(name="=1+2 Ops")
    db.session.add_all([platform, danger])
    db.session.commit()
    hr = make_person("Hana HR", email="hana@example.com", role=Role.HR, level_key=None)
    dora = make_person(
        "Dora Director",
        email="dora@example.com",
        role=Role.MANAGER,
        level_key="director-of-engineering",
    )
    zoe = make_person(
        "Zoë Ångström",
        email="zoe@example.com",
        role=Role.MANAGER,
        manager=dora,
        level_key="engineering-manager",
    )
    omar = make_person(
        "Omar Other",
        email="omar@example.com",
        role=Role.MANAGER,
        manager=dora,
        level_key="engineering-manager",
    )
    wang = make_person("王小明", email="wang@example.com", manager=zoe, level_key="senior-engineer")
    emoji = make_person("Emoji 🚀 Person", email="emoji@example.com", manager=zoe)
    hyper = make_person(HYPERLINK, email="hyper@example.com", manager=zoe)
    plus = make_person(
        "+1 Plus", email="+plus@example.com", manager=zoe, level_key="junior-engineer"
    )
    minus = make_person("-Minus", email="-minus@example.com", manager=omar)
    at = make_person("@At", email="at@example.com", manager=omar, level_key="tech-lead")
    for person, department in (
        (zoe, platform),
        (wang, platform),
        (emoji, danger),
        (hyper, danger),
        (plus, platform),
        (omar, danger),
        (minus, danger),
        (at, danger),
    ):
        person.department = department
    db.session.commit()

    cycle = launched_cycle(hr, CycleState.SELF_REVIEW, peer_min=1)
    keys = keys_of(cycle)
    reviews = {p.id: review_of(cycle, p) for p in (zoe, wang, emoji, hyper, plus, minus, at, omar)}
    for seed, person in enumerate((zoe, wang, emoji, hyper)):
        self_review(person, reviews[person.id], spread(keys, seed))
    self_review(plus, reviews[plus.id], spread(keys, 4), submit=False)  # a draft
    # Peers: 王小明 has three approved (two wrote), Emoji one (who skipped some
    # competencies), -Minus one who has not written.
    peer_feedback(zoe, reviews[wang.id], emoji, spread(keys, 1))
    peer_feedback(zoe, reviews[wang.id], hyper, spread(keys, 3))
    peer_feedback(zoe, reviews[wang.id], plus, None)
    peer_feedback(zoe, reviews[emoji.id], wang, dict.fromkeys(keys[:4], 4))
    peer_feedback(omar, reviews[minus.id], at, None)
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    manager_review(zoe, reviews[wang.id], 4, spread(keys, 2), "high", "ready_now")
    manager_review(zoe, reviews[emoji.id], 3, spread(keys, 0), "medium", "within_a_year")
    manager_review(zoe, reviews[hyper.id], 2, spread(keys, 1), "low", "not_yet")
    manager_review(zoe, reviews[plus.id], 5, dict.fromkeys(keys, 5), "high", "ready_now")
    manager_review(omar, reviews[minus.id], 3, spread(keys, 3), "medium", "not_yet")
    manager_review(omar, reviews[at.id], 4, dict.fromkeys(keys, 4), "medium", "within_a_year")
    manager_review(dora, reviews[zoe.id], 4, spread(keys, 4), "high", "within_a_year")
    # Dora's review of Omar stays a half-written draft (see the test of drafts below).
    omar_part = cycle_ops.part_for(reviews[omar.id], PartKind.MANAGER)
    with current_app.test_request_context():
        cycle_ops.save_part(
            dora,
            omar_part,
            omar_part.version,
            PartInput(answers={"summary": "Half-written."}),
            submit=False,
        )
        db.session.commit()
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        session = calibration_ops.open_session(
            hr,
            cycle,
            GroupKind.MANAGER_ORG,
            department=None,
            manager=zoe,
            managers_calibrate=False,
        )
        db.session.flush()
        wang_review = reviews[wang.id]
        db.session.refresh(wang_review)
        calibration_ops.change_final(
            hr,
            session,
            wang_review,
            wang_review.final_version,
            calibration_ops.FinalChange(overall=5, potential=None, ratings={keys[0]: 5}),
            "=Led the migration across teams.",
        )
        hyper_review = reviews[hyper.id]
        db.session.refresh(hyper_review)
        calibration_ops.change_final(
            hr,
            session,
            hyper_review,
            hyper_review.final_version,
            calibration_ops.FinalChange(overall=None, potential="medium", ratings={}),
            "Grew fast in the last quarter.",
        )
        calibration_ops.finish_session(hr, session)
        calibration_ops.finalise_uncalibrated(hr, cycle)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    acknowledge(wang, reviews[wang.id], "Read it, thanks.")
    people = {
        "hr": hr,
        "dora": dora,
        "zoe": zoe,
        "omar": omar,
        "wang": wang,
        "emoji": emoji,
        "hyper": hyper,
        "plus": plus,
        "minus": minus,
        "at": at,
    }
    return cycle, people, {"platform": platform.id, "danger": danger.id}


def test_seeded_cycle_is_what_the_test_thinks(app, seeded):
    """Guard the fixture, so the cell comparisons below compare something meaningful."""
    cycle, _people, _ = seeded
    expected = {row[0]: row for row in expected_report(cycle)}
    assert len(expected) == 10
    wang = expected["王小明"]
    assert wang[FIXED.index("Peer feedback received")] == 2
    assert wang[FIXED.index("Final rating")] == 5
    tail = len(wang) - len(question_columns(cycle))  # the fixed columns end here
    assert wang[tail - 1]  # acknowledged
    assert isinstance(wang[FIXED.index("Peer average")], float)
    assert expected[HYPERLINK][tail - 3] == "Medium"  # calibration changed the potential
    assert expected[HYPERLINK][tail] == f"Shipped things ({HYPERLINK})."  # a text answer
    assert expected["+1 Plus"][FIXED.index("Self-review")] == "Draft"
    assert expected["Omar Other"][FIXED.index("Manager review")] == "Draft"
    assert expected["Hana HR"][FIXED.index("Level")] == "No level"


def test_report_csv_and_xlsx_match_the_database_cell_by_cell(app, seeded, login_as):
    cycle, people, _ = seeded
    expected = expected_report(cycle)
    client = login_as(people["hr"])
    status, data, headers = fetch(client, f"/cycles/{cycle.id}/report.csv")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    assert data.startswith(BOM.encode("utf-8"))
    assert_csv_matches(data, cycle, expected)
    text = data.decode("utf-8-sig")
    for name in ("Zoë Ångström", "王小明", "Emoji 🚀 Person", "Plateforme Zürich"):
        assert name in text
    # The formula-looking name is text, quoted once, exactly as written after the quote.
    by_email = {row[1]: row for row in csv_rows(data)[1:]}
    assert by_email["hyper@example.com"][0] == "'" + HYPERLINK
    assert by_email["'+plus@example.com"][:2] == ["'+1 Plus", "'+plus@example.com"]
    assert by_email["'-minus@example.com"][:3] == ["'-Minus", "'-minus@example.com", "'=1+2 Ops"]

    status, data, headers = fetch(client, f"/cycles/{cycle.id}/report.xlsx")
    assert status == 200
    assert headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert_xlsx_matches(data, cycle, expected)
    # No cell of the workbook is a formula.
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    hyper_row = next(r for r in xlsx_rows(data) if r[1] == "hyper@example.com")
    assert hyper_row[0] == "'" + HYPERLINK


def test_hr_filters_restrict_the_rows(app, seeded, login_as):
    cycle, people, departments = seeded
    client = login_as(people["hr"])
    danger = [
        r.id
        for r in db.session.scalars(
            select(Review).where(
                Review.cycle_id == cycle.id, Review.department_id == departments["danger"]
            )
        )
    ]
    status, data, _ = fetch(
        client, f"/cycles/{cycle.id}/report.csv?department={departments['danger']}"
    )
    assert status == 200
    expected = expected_report(cycle, danger)
    assert {r[0] for r in expected} == {"Emoji 🚀 Person", HYPERLINK, "Omar Other", "-Minus", "@At"}
    assert_csv_matches(data, cycle, expected)
    # HR narrows to a manager's org (Zoë: her four reports).
    zoe_org = [
        r.id
        for r in db.session.scalars(
            select(Review).where(Review.cycle_id == cycle.id, Review.manager_id == people["zoe"].id)
        )
    ]
    status, data, _ = fetch(client, f"/cycles/{cycle.id}/report.xlsx?manager={people['zoe'].id}")
    assert status == 200
    assert_xlsx_matches(data, cycle, expected_report(cycle, zoe_org))
    # Both filters at once.
    status, data, _ = fetch(
        client,
        f"/cycles/{cycle.id}/report.csv?manager={people['zoe'].id}&department={departments['danger']}",
    )
    assert {r[0] for r in csv_rows(data)[1:]} == {"Emoji 🚀 Person", "'" + HYPERLINK}


def test_a_managers_export_holds_exactly_their_org(app, seeded):
    from test_cycle_flow import login_as_fresh

    cycle, people, departments = seeded
    everyone = {r[0] for r in expected_report(cycle)}
    # Dora: everyone below her, direct (Zoë, Omar) and indirect, and nobody else.
    dora = login_as_fresh(app, people["dora"])
    status, data, _ = fetch(dora, f"/cycles/{cycle.id}/report.csv")
    assert status == 200
    names = [r[0] for r in csv_rows(data)[1:]]
    org = {"Zoë Ångström", "Omar Other", "王小明", "Emoji 🚀 Person", HYPERLINK}
    org |= {"+1 Plus", "-Minus", "@At"}
    assert sorted(names) == sorted(inert(n) for n in org)
    assert everyone - org == {"Hana HR", "Dora Director"}
    ids = [r.id for r in db.session.scalars(select(Review).where(Review.cycle_id == cycle.id))]
    org_ids = [i for i in ids if db.session.get(Review, i).subject.name in org]
    assert_csv_matches(data, cycle, expected_report(cycle, org_ids))
    status, data, _ = fetch(dora, f"/cycles/{cycle.id}/report.xlsx")
    assert status == 200
    assert_xlsx_matches(data, cycle, expected_report(cycle, org_ids))
    # Dora may narrow to Zoë's org (below her), and to a department.
    status, data, _ = fetch(dora, f"/cycles/{cycle.id}/report.csv?manager={people['zoe'].id}")
    assert status == 200
    assert sorted(r[0] for r in csv_rows(data)[1:]) == sorted(
        inert(n) for n in ("王小明", "Emoji 🚀 Person", HYPERLINK, "+1 Plus")
    )
    status, data, _ = fetch(
        dora, f"/cycles/{cycle.id}/report.csv?department={departments['danger']}"
    )
    assert sorted(r[0] for r in csv_rows(data)[1:]) == sorted(
        inert(n) for n in ("Emoji 🚀 Person", HYPERLINK, "Omar Other", "-Minus", "@At")
    )

    # Zoë: her four reports only, whatever the filter says.
    zoe = login_as_fresh(app, people["zoe"])
    for url in (f"/cycles/{cycle.id}/report.csv", f"/cycles/{cycle.id}/report.csv?manager="):
        status, data, _ = fetch(zoe, url)
        assert status == 200
        assert sorted(r[0] for r in csv_rows(data)[1:]) == sorted(
            inert(n) for n in ("王小明", "Emoji 🚀 Person", HYPERLINK, "+1 Plus")
        )
    status, data, _ = fetch(
        zoe, f"/cycles/{cycle.id}/report.xlsx?department={departments['danger']}"
    )
    assert status == 200
    assert sorted(r[0] for r in xlsx_rows(data)[1:]) == sorted(
        inert(n) for n in ("Emoji 🚀 Person", HYPERLINK)
    )
    # Someone outside her org (her peer manager, her own manager, HR) is refused.
    for outsider in ("omar", "dora", "hr", "minus"):
        for ext in ("csv", "xlsx"):
            url = f"/cycles/{cycle.id}/report.{ext}?manager={people[outsider].id}"
            assert fetch(zoe, url)[0] == 403, url
    # Not HR's exports, though.
    assert fetch(zoe, f"/cycles/{cycle.id}/calibration.csv")[0] == 403
    assert fetch(zoe, f"/cycles/{cycle.id}/summary.pdf")[0] == 403
    assert fetch(zoe, "/audit.csv")[0] == 403

    # Someone who manages nobody in the cycle gets nothing.
    employee = login_as_fresh(app, people["wang"])
    for url in (
        f"/cycles/{cycle.id}/report.csv",
        f"/cycles/{cycle.id}/report.xlsx",
        f"/cycles/{cycle.id}/report.csv?manager={people['wang'].id}",
        f"/cycles/{cycle.id}/calibration.csv",
        f"/cycles/{cycle.id}/summary.pdf",
        f"/cycles/{cycle.id}/dashboard",
        "/audit.csv",
    ):
        assert fetch(employee, url)[0] == 403, url
    assert post(employee, f"/cycles/{cycle.id}/remind").status_code == 403


def test_calibration_ledger_csv_matches_the_changes(app, seeded, login_as):
    from reviews.calibration.models import CalibrationChange, CalibrationSession

    cycle, people, _ = seeded
    status, data, headers = fetch(login_as(people["hr"]), f"/cycles/{cycle.id}/calibration.csv")
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    rows = csv_rows(data)
    assert rows[0] == [
        "When (UTC)",
        "Employee",
        "Email",
        "Session",
        "What changed",
        "From",
        "To",
        "By",
        "Rationale",
    ]
    competencies = {c["key"]: c["name"] for c in cycle.framework_snapshot["competencies"]}
    labels = {"overall": "Overall rating", "potential": "Potential"}
    labels |= {key: f"Rating: {name}" for key, name in competencies.items()}
    changes = list(
        db.session.scalars(
            select(CalibrationChange).order_by(CalibrationChange.at, CalibrationChange.id)
        )
    )
    assert len(rows) - 1 == len(changes) >= 4
    sessions = dict(
        db.session.execute(select(CalibrationSession.id, CalibrationSession.name)).all()
    )
    expected = []
    for c in changes:
        review = db.session.get(Review, c.review_id)
        actor = db.session.get(Person, c.actor_id) if c.actor_id else None
        expected.append(
            [
                c.at.strftime("%Y-%m-%d %H:%M:%S"),
                review.subject.name,
                review.subject.email,
                sessions.get(c.session_id, "Finalised without a session"),
                labels[c.field],
                POTENTIAL_LABELS.get(c.old_value or "", c.old_value or ""),
                POTENTIAL_LABELS.get(c.new_value, c.new_value),
                actor.name if actor else "Reviews (automatic)",
                c.rationale,
            ]
        )
    assert sorted(rows[1:]) == sorted([as_csv(v) for v in row] for row in expected)
    flat = [cell for row in rows[1:] for cell in row]
    assert "'=Led the migration across teams." in flat
    assert "Zoë Ångström's org" in flat


def test_formula_injection_for_every_dangerous_first_character(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    names = {c: f"{c}cmd|' /C calc'!A0 {ord(c)}" for c in DANGEROUS}
    people = {
        c: make_person(name, email=f"x{ord(c)}@example.com", manager=boss)
        for c, name in names.items()
    }
    sneaky = make_person("Sam Sneaky", email="=sam@example.com", manager=boss)
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW, peer_min=1)
    keys = keys_of(cycle)
    self_review(people["-"], review_of(cycle, people["-"]), {keys[0]: 2, keys[1]: 3, keys[2]: 3})
    peer_feedback(boss, review_of(cycle, people["="]), sneaky, None)
    client = login_as(hr)
    status, csv_data, _ = fetch(client, f"/cycles/{cycle.id}/report.csv")
    assert status == 200
    status, xlsx_data, _ = fetch(client, f"/cycles/{cycle.id}/report.xlsx")
    assert status == 200
    expected = expected_report(cycle)
    assert_csv_matches(csv_data, cycle, expected)
    assert_xlsx_matches(xlsx_data, cycle, expected)
    csv_by_email = {r[1]: r for r in csv_rows(csv_data)[1:]}
    xlsx_by_email = {r[1]: r for r in xlsx_rows(xlsx_data)[1:]}
    self_avg = FIXED.index("Self average")
    approved = FIXED.index("Peers approved")
    for c, name in names.items():
        email = f"x{ord(c)}@example.com"
        assert csv_by_email[email][0] == "'" + name, repr(c)
        assert xlsx_by_email[email][0] == "'" + name, repr(c)
    assert "'=sam@example.com" in csv_by_email
    assert "'=sam@example.com" in xlsx_by_email
    # Numbers stay numbers: never quoted, typed as numbers in the workbook.
    minus = f"x{ord('-')}@example.com"
    assert csv_by_email[minus][self_avg] == "2.67"
    assert xlsx_by_email[minus][self_avg] == 2.67
    equals = f"x{ord('=')}@example.com"
    assert csv_by_email[equals][approved] == "1"
    assert xlsx_by_email[equals][approved] == 1
    assert type(xlsx_by_email[equals][approved]) is int
    for row in csv_rows(csv_data)[1:]:
        assert not any(cell.startswith(DANGEROUS) for cell in row), row
    for row in xlsx_rows(xlsx_data)[1:]:
        for cell in row:
            assert not (
                isinstance(cell, str) and cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n"))
            )


def test_the_writers_neutralise_text_and_keep_numbers():
    """The spreadsheet writers on their own: negative numbers stay numbers, text is inert."""
    row = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", -1, -2.5, 0, "safe", None, "a=b"]
    assert [safe(v) for v in row[:6]] == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx"]
    assert safe(-1) == -1
    assert safe(-2.5) == -2.5
    assert safe(None) is None
    text = "".join(csv_stream(["=h", "b"], [row]))
    assert text.startswith(BOM)
    parsed = list(csv.reader(io.StringIO(text[1:], newline="")))
    assert parsed == [
        ["'=h", "b"],
        ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "-1", "-2.5", "0", "safe", "", "a=b"],
    ]
    handle = xlsx_file("A very long sheet name that Excel would refuse", ["=h", "b"], [row])
    try:
        book = load_workbook(io.BytesIO(handle.read()))
    finally:
        handle.close()
    sheet = book.worksheets[0]
    assert sheet.title == "A very long sheet name that Exc"
    values = [[excel_text(v) for v in r] for r in sheet.iter_rows(values_only=True)]
    assert values[0][:2] == ["'=h", "b"]
    assert not any(values[0][2:])
    assert values[1] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        -1,
        -2.5,
        0,
        "safe",
        None,
        "a=b",
    ]
    assert [c.data_type for c in list(sheet.iter_rows())[1]][:8] == ["s"] * 6 + ["n", "n"]


# Anonymity (SPEC 4): peer authors in no export, for any role ------------------------------


PEERS = (
    ("Pia Peerless", "pia.secret@example.com"),
    ("Quentin Quillfeather", "quentin.secret@example.com"),
    ("Rosalind Reedwater", "rosalind.secret@example.com"),
)
FEEDBACK = ("Sparkling incident write-ups", "Mentors with patience", "Clearer roadmaps")


@pytest.fixture(params=[True, False], ids=["names_to_managers", "names_hidden"])
def anonymous(request, app, make_person):
    """An anonymous cycle: Devon has three peers (not themselves reviewed) who wrote feedback."""
    names_to_managers = request.param
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    em = make_person("Elena Marsh", role=Role.MANAGER, level_key="engineering-manager")
    dev = make_person("Devon Clarke", manager=em)
    kim = make_person("Kim Other", manager=em)
    peers = [make_person(name, email=email) for name, email in PEERS]
    cycle = launched_cycle(
        hr,
        CycleState.SELF_REVIEW,
        peer_anonymous=True,
        anonymity_threshold=3,
        peer_names_to_managers=names_to_managers,
        participant_mode=ParticipantMode.LIST,
        participant_ids=[em.id, dev.id, kim.id],
    )
    keys = keys_of(cycle)
    review = review_of(cycle, dev)
    self_review(dev, review, spread(keys, 1))
    for seed, (peer, text) in enumerate(zip(peers, FEEDBACK, strict=True)):
        peer_feedback(em, review, peer, spread(keys, seed), text)
    peer_feedback(em, review_of(cycle, kim), peers[0], spread(keys, 2), "Kim gets it done")
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    manager_review(em, review, 4, spread(keys, 3))
    manager_review(em, review_of(cycle, kim), 3, spread(keys, 0))
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        session = calibration_ops.open_session(
            hr, cycle, GroupKind.MANAGER_ORG, department=None, manager=em, managers_calibrate=True
        )
        db.session.flush()
        db.session.refresh(review)
        calibration_ops.change_final(
            hr,
            session,
            review,
            review.final_version,
            calibration_ops.FinalChange(overall=5, potential=None, ratings={}),
            "Peer feedback was consistently strong.",
        )
        calibration_ops.finish_session(hr, session)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    acknowledge(dev, review, "Thanks.")
    return cycle, hr, em, dev, peers, names_to_managers


def _assert_no_peer(text: str, where: str, *, emails: bool = True, content: bool = False) -> None:
    for name, email in PEERS:
        assert name not in text, (where, name)
        for part in name.split():
            assert part not in text, (where, part)
        if emails:
            assert email not in text, (where, email)
            assert email.split("@")[0] not in text, (where, email)
    if content:
        for feedback in FEEDBACK:
            assert feedback not in text, (where, feedback)


def test_anonymous_peer_authors_appear_in_no_export(app, anonymous):
    from test_cycle_flow import login_as_fresh

    cycle, hr, em, dev, peers, names_to_managers = anonymous
    review_id = review_of(cycle, dev).id
    hr_client = login_as_fresh(app, hr)
    manager_client = login_as_fresh(app, em)
    for client, who in ((hr_client, "hr"), (manager_client, "manager")):
        for ext in ("csv", "xlsx"):
            status, data, _ = fetch(client, f"/cycles/{cycle.id}/report.{ext}")
            assert status == 200
            text = (
                data.decode("utf-8")
                if ext == "csv"
                else json.dumps(xlsx_rows(data), ensure_ascii=False, default=str)
            )
            assert "Devon Clarke" in text
            _assert_no_peer(text, f"{who} report.{ext}", content=True)
    status, data, _ = fetch(hr_client, f"/cycles/{cycle.id}/calibration.csv")
    assert status == 200
    assert "Peer feedback was consistently strong." in data.decode("utf-8")
    _assert_no_peer(data.decode("utf-8"), "calibration.csv", content=True)
    # The audit log names who was asked (peer.added) and who submitted, by email, for HR:
    # no event carries feedback content, and no name.
    status, data, _ = fetch(hr_client, f"/audit.csv?cycle={cycle.id}")
    assert status == 200
    text = data.decode("utf-8")
    assert "part.submitted" in text
    _assert_no_peer(text, "audit.csv", emails=False, content=True)
    if names_to_managers:  # the documents do not depend on the setting: rendered once
        status, data, _ = fetch(hr_client, f"/cycles/{cycle.id}/summary.pdf")
        assert status == 200
        text = pdf_text(data)
        assert cycle.name in text
        _assert_no_peer(text, "summary.pdf", content=True)
        subject_client = login_as_fresh(app, dev)
        status, data, _ = fetch(subject_client, f"/reviews/{review_id}/summary.pdf")
        assert status == 200
        text = pdf_text(data)
        assert "Devon Clarke" in text
        assert all(f in text for f in FEEDBACK)  # three peers: the threshold is met
        _assert_no_peer(text, "the subject's summary.pdf")
    # The personal-data export HR hands Devon follows Devon's rules: no author, whoever
    # else may see them (SPEC 4), in the JSON and the PDF.
    status, data, _ = fetch(hr_client, f"/people/{dev.id}/data.json")
    assert status == 200
    personal = json.loads(data)
    (entry,) = personal["reviews"]
    authors = sorted(p["author"] or "" for p in entry["peer_feedback"]["entries"])
    texts = sorted(p["answers"]["strengths"] for p in entry["peer_feedback"]["entries"])
    assert texts == sorted(FEEDBACK)
    assert authors == ["", "", ""]
    _assert_no_peer(data.decode("utf-8"), "data.json")
    status, data, _ = fetch(hr_client, f"/people/{dev.id}/data.pdf")
    assert status == 200
    _assert_no_peer(pdf_text(data), "data.pdf")
    # A peer's own export: what they wrote, and about whom, only where HR sees authors (that
    # they were asked, HR knows: the requests are in the audit log and their notifications).
    for ext in ("json", "pdf"):
        status, data, _ = fetch(hr_client, f"/people/{peers[0].id}/data.{ext}")
        assert status == 200
        text = data.decode("utf-8") if ext == "json" else " ".join(pdf_text(data).split())
        shown = [f for f in FEEDBACK if f in text]
        if names_to_managers:
            assert len(shown) == 1, (ext, shown)
            assert ('"about": "Devon Clarke"' if ext == "json" else "About Devon Clarke") in text
        else:
            assert shown == [], ext
            assert '"about"' not in text
            assert "About Devon" not in text
            assert "withheld: this cycle keeps peer authors from HR" in text


# Every export is audited --------------------------------------------------------------------


def test_every_export_is_audited_with_its_actor(app, seeded):
    from test_cycle_flow import login_as_fresh

    cycle, people, departments = seeded
    hr_id, zoe_id, wang_id = people["hr"].id, people["zoe"].id, people["wang"].id
    hr = login_as_fresh(app, people["hr"])
    zoe = login_as_fresh(app, people["zoe"])
    cases = [
        (hr, hr_id, f"/cycles/{cycle.id}/report.csv?department={departments['platform']}"),
        (hr, hr_id, f"/cycles/{cycle.id}/report.xlsx"),
        (zoe, zoe_id, f"/cycles/{cycle.id}/report.csv"),
        (zoe, zoe_id, f"/cycles/{cycle.id}/report.xlsx"),
        (hr, hr_id, f"/cycles/{cycle.id}/calibration.csv"),
        (hr, hr_id, f"/audit.csv?cycle={cycle.id}&from=2000-01-01"),
        (hr, hr_id, f"/cycles/{cycle.id}/summary.pdf"),
        (hr, hr_id, f"/people/{wang_id}/data.json"),
        (hr, hr_id, f"/people/{wang_id}/data.pdf"),
    ]
    for client, actor_id, url in cases:
        before = db.session.scalar(select(func.max(AuditEvent.id))) or 0
        status, data, _ = fetch(client, url)
        assert status == 200, url
        assert data, url
        new = list(
            db.session.scalars(
                select(AuditEvent).where(AuditEvent.id > before).order_by(AuditEvent.id)
            )
        )
        exports = [e for e in new if e.event.startswith("export.")]
        assert len(exports) == 1, (url, [e.event for e in new])
        assert exports[0].actor_id == actor_id, url
        if "/people/" in url:
            assert exports[0].subject_id == wang_id
        elif "audit" not in url:
            assert exports[0].cycle_id == cycle.id
    # The manager's export records the org it was limited to.
    zoe_events = list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.actor_id == zoe_id, AuditEvent.event == "export.cycle_report"
            )
        )
    )
    assert {e.details["format"] for e in zoe_events} == {"csv", "xlsx"}
    assert all(e.details["manager"] == zoe_id for e in zoe_events)
    # A refused export is not recorded as an export.
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert fetch(zoe, f"/cycles/{cycle.id}/report.csv?manager={hr_id}")[0] == 403
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before


def test_audit_csv_applies_the_log_filters(app, seeded, login_as):
    cycle, people, _ = seeded
    client = login_as(people["hr"])
    header = ["When (UTC)", "Event", "Actor", "Subject", "Cycle", "Details"]

    def rows(query: str) -> list[list[str]]:
        status, data, headers = fetch(client, f"/audit.csv{query}")
        assert status == 200
        assert headers["Content-Type"].startswith("text/csv")
        parsed = csv_rows(data)
        assert parsed[0] == header
        return parsed[1:]

    everything = rows("")
    total = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert len(everything) == total  # the export's own event is recorded (and listed) first
    assert all(len(r) == 6 for r in everything)
    # Dangerous emails (actor and subject) are neutralised in this export too.
    minus = rows("?person=-minus@example.com")
    assert minus
    assert all(r[3] == "'-minus@example.com" for r in minus)
    in_cycle = rows(f"?cycle={cycle.id}")
    assert in_cycle
    assert all(r[4] == str(cycle.id) for r in in_cycle)
    assert rows("?from=2000-01-01&to=2000-01-31") == []
    today = db.session.scalar(select(func.max(AuditEvent.at))).date().isoformat()
    assert rows(f"?from={today}&to={today}")
    for r in everything:
        json.loads(r[5])  # details are JSON text


def test_audit_csv_filters_by_actor_and_event(app, seeded, login_as):
    """The log page's actor and event filters work on the CSV too (and are recorded)."""
    _cycle, people, _ = seeded
    client = login_as(people["hr"])
    for query, event, actor in (
        ("?actor=zoe@example.com&event=part.submitted", "part.submitted", people["zoe"].id),
        ("?event=calibration.", "calibration.", None),
        ("?actor=zoe@example.com", "", people["zoe"].id),
    ):
        status, data, _ = fetch(client, f"/audit.csv{query}")
        assert status == 200, query
        found = csv_rows(data)[1:]
        stmt = select(func.count()).where(AuditEvent.event.startswith(event))
        if actor:
            stmt = stmt.where(AuditEvent.actor_id == actor)
        assert found
        assert len(found) == db.session.scalar(stmt), query
        assert all(r[1].startswith(event) for r in found)
        if actor:
            assert all(r[2] == "zoe@example.com" for r in found)
    recorded = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "export.audit_log")
    ).all()
    assert len(recorded) == 3
    assert "zoe@example.com" in json.dumps(recorded[0].details)  # the filters, for the record


def test_a_draft_manager_review_is_not_a_result_in_the_report(app, make_person, login_as):
    """Averages ignore a draft; its overall, potential, readiness and ratings must too."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    done = make_person("Dana Done", manager=boss)
    draft = make_person("Drew Draft", manager=boss)
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    keys = keys_of(cycle)
    manager_review(boss, review_of(cycle, done), 4, spread(keys, 1), "high", "ready_now")
    manager_review(
        boss, review_of(cycle, draft), 1, dict.fromkeys(keys, 1), "low", "not_yet", submit=False
    )
    client = login_as(hr)
    expected = expected_report(cycle)
    drew = next(r for r in expected if r[0] == "Drew Draft")
    assert drew[FIXED.index("Manager review")] == "Draft"
    assert drew[FIXED.index("Manager overall rating")] is None
    tail = len(drew) - len(question_columns(cycle))
    assert drew[tail - 3 : tail] == ["", "", None]
    assert drew[tail:] == [""] * len(question_columns(cycle))  # a draft's answers: none
    status, data, _ = fetch(client, f"/cycles/{cycle.id}/report.csv")
    assert status == 200
    assert_csv_matches(data, cycle, expected)
    status, data, _ = fetch(client, f"/cycles/{cycle.id}/report.xlsx")
    assert status == 200
    assert_xlsx_matches(data, cycle, expected)


def test_hr_sends_reminders_from_the_dashboard(app, make_person, login_as):
    from datetime import date, timedelta

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    make_person("Late Larry", manager=boss)
    cycle = launched_cycle(
        hr, CycleState.SELF_REVIEW, self_review_due=date.today() - timedelta(days=2)
    )
    client = login_as(hr)
    assert client.post(f"/cycles/{cycle.id}/remind").status_code == 400  # no CSRF token
    response = post(client, f"/cycles/{cycle.id}/remind")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cycles/{cycle.id}/dashboard")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "cycle.reminded"))
    assert event.actor_id == hr.id
    assert event.cycle_id == cycle.id
    assert event.details["queued"] >= 3  # three self-reviews are overdue
    # Idempotent per day: a second press sends nothing more.
    post(client, f"/cycles/{cycle.id}/remind")
    second = db.session.scalars(
        select(AuditEvent).where(AuditEvent.event == "cycle.reminded").order_by(AuditEvent.id)
    ).all()[-1]
    assert second.details["queued"] == 0
