"""The cycle report streamed from the database (issue 22): the same rows as before, one
statement whatever the size of the cycle, and memory that does not grow with it."""

from __future__ import annotations

import io
import threading
import time
import tracemalloc

import pytest
from conftest import PG_URL, count_queries
from cycle_helpers import advance, launched_cycle, review_of
from flask import current_app
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select, update
from test_exports import (
    FIXED,
    acknowledge,
    csv_rows,
    expected_report,
    fetch,
    keys_of,
    manager_review,
    peer_feedback,
    question_columns,
    self_review,
    xlsx_rows,
)

from reviews.calibration import operations as calibration_ops
from reviews.calibration.models import GroupKind
from reviews.cycles.models import Assessment, ParticipantMode, PartKind, PartState, Review
from reviews.cycles.workflow import CycleState
from reviews.demo import build_synthetic_org
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.people.models import Department, Person, Role
from reviews.reports import exports, spreadsheets, streaming
from reviews.reports.queries import Scope
from reviews.reports.spreadsheets import (
    DANGEROUS,
    csv_batches,
    csv_stream,
    csv_text,
    headings,
    looks_typed,
    xlsx_batches,
    xlsx_file,
)

SELF, PEER, MANAGER = (FIXED.index(c) for c in ("Self average", "Peer average", "Manager average"))
RECEIVED = FIXED.index("Peer feedback received")


def column(name: str) -> int:
    return FIXED.index(name)


@pytest.fixture
def small(app, make_person):
    """A released anonymous cycle (at least 3 peers, authors hidden from managers and HR)
    whose figures are known:

    - Ana: a self-review of 8 ratings summing to 17 (2.125: Python rounds it to 2.12, SQL
      would say 2.13); three peers (4 x 11, 5 x 4, 1 + 2: 67 over 17 values = 3.94); a
      manager review calibrated (overall 4 -> 5, the first competency 5 -> 4); acknowledged.
    - Ben: two peers who wrote of three approved (the average is withheld), a manager
      review kept as written.
    - Cy: a draft self-review and a draft manager review (no results).
    - Mia, their manager, without a manager: nothing started.
    """
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    mia = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    ana = make_person("Ana Three", manager=mia, level_key="senior-engineer")
    ben = make_person("Ben Two", manager=mia)
    cy = make_person("Cy Draft", manager=mia, level_key=None)
    peers = [make_person(f"Peer {n}") for n in range(1, 5)]
    cycle = launched_cycle(
        hr,
        CycleState.SELF_REVIEW,
        peer_anonymous=True,
        anonymity_threshold=3,
        peer_names_to_managers=False,
        participant_mode=ParticipantMode.LIST,
        participant_ids=[mia.id, ana.id, ben.id, cy.id],
    )
    keys = keys_of(cycle)
    assert len(keys) >= 8
    ana_review, ben_review, cy_review = (review_of(cycle, p) for p in (ana, ben, cy))
    self_review(ana, ana_review, {k: 3 if i == 0 else 2 for i, k in enumerate(keys[:8])})
    self_review(cy, cy_review, dict.fromkeys(keys, 5), submit=False)
    peer_feedback(mia, ana_review, peers[0], dict.fromkeys(keys, 4))
    peer_feedback(mia, ana_review, peers[1], dict.fromkeys(keys[:4], 5))
    peer_feedback(mia, ana_review, peers[2], {keys[0]: 1, keys[1]: 2})
    peer_feedback(mia, ben_review, peers[0], dict.fromkeys(keys, 5))
    peer_feedback(mia, ben_review, peers[1], dict.fromkeys(keys, 4))
    peer_feedback(mia, ben_review, peers[3], None)
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    manager_review(mia, ana_review, 4, {k: 5 if i == 0 else 3 for i, k in enumerate(keys)}, "high")
    manager_review(mia, ben_review, 2, dict.fromkeys(keys, 2), "low", "within_a_year")
    manager_review(mia, cy_review, 1, dict.fromkeys(keys, 1), submit=False)
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        session = calibration_ops.open_session(
            hr, cycle, GroupKind.MANAGER_ORG, department=None, manager=mia, managers_calibrate=False
        )
        db.session.flush()
        db.session.refresh(ana_review)
        calibration_ops.change_final(
            hr,
            session,
            ana_review,
            ana_review.final_version,
            calibration_ops.FinalChange(overall=5, potential=None, ratings={keys[0]: 4}),
            "Led the migration.",
        )
        calibration_ops.finish_session(hr, session)  # locks Ben's as his manager wrote it
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    acknowledge(ana, ana_review)
    return cycle, hr, {"mia": mia, "ana": ana, "ben": ben, "cy": cy}


def test_the_rows_are_the_reports_rows(app, small):
    cycle, _hr, people = small
    keys = keys_of(cycle)
    rows = {row[0]: row for row in exports.report_rows(cycle)}
    # The independent computation of tests/test_exports.py (in review order), peer
    # averages withheld under the threshold (it does not know the anonymity rule).
    expected = {row[0]: row for row in expected_report(cycle)}
    assert list(rows) == list(expected)
    assert set(rows) == {"Mia Manager", "Ana Three", "Ben Two", "Cy Draft"}
    for name, row in expected.items():
        if row[RECEIVED] < 3:
            row[PEER] = None
        assert list(rows[name]) == row, name
    ana, ben, cy, mia = rows["Ana Three"], rows["Ben Two"], rows["Cy Draft"], rows["Mia Manager"]
    acknowledged = review_of(cycle, people["ana"]).acknowledged_at
    finals = len(FIXED) + len(keys)
    asked = len(question_columns(cycle))
    assert ana[-asked:][0] == "Shipped things (Ana Three)."  # Self: Accomplishments
    assert ana[:-asked] == (
        "Ana Three",
        people["ana"].email,
        "",
        "Senior Engineer",
        "Mia Manager",
        "Submitted",
        3,
        3,
        "Submitted",
        "Yes",
        2.12,  # 17 / 8 = 2.125, rounded as Python rounds (half to even)
        3.94,
        round((3 * len(keys) + 2) / len(keys), 2),  # 5 and 3s
        4,
        5,
        4,  # calibrated
        *[3] * (len(keys) - 1),  # the manager's
        "High",
        "Not yet",
        acknowledged.date(),
    )
    assert ben[column("Peers approved")] == 3
    assert ben[RECEIVED] == 2
    assert ben[PEER] is None  # two peers: fewer than the threshold
    assert ben[MANAGER] == 2.0
    assert ben[len(FIXED) : finals] == (2,) * len(keys)  # kept as the manager wrote them
    assert ben[finals : finals + 3] == ("Low", "Within a year", None)
    assert cy[column("Level")] == "No level"
    assert cy[column("Self-review")] == cy[column("Manager review")] == "Draft"
    assert cy[SELF] is cy[MANAGER] is cy[column("Manager overall rating")] is None
    assert cy[len(FIXED) :] == (None,) * len(keys) + ("", "", None) + ("",) * asked
    assert mia[column("Manager")] == ""
    assert mia[column("Self-review")] == "Draft"  # opened at launch, never written
    assert mia[column("Manager review")] == "Not started"  # she has no manager
    assert mia[column("Calibrated")] == "No"


def test_both_ways_of_reading_give_the_same_rows(app, small, monkeypatch):
    """PostgreSQL's rows are fetched by a thread of the export's own; without it, or on
    SQLite, the batches come through SQLAlchemy's server-side cursor: the same rows."""
    cycle, _hr, _people = small
    monkeypatch.setattr(streaming, "FETCH", 3)
    rows = list(exports.report_rows(cycle))
    monkeypatch.setattr(streaming, "read_ahead_supported", lambda: False)
    assert list(exports.report_rows(cycle)) == rows


def test_a_cycle_that_shows_peer_authors_shows_every_peer_average(app, small):
    cycle, _hr, _people = small
    cycle.peer_names_to_managers = True
    db.session.commit()
    rows = {row[0]: row for row in exports.report_rows(cycle)}
    assert rows["Ben Two"][PEER] == 4.5  # (5 x 11 + 4 x 11) / 22


def test_the_typed_writers_write_what_the_cell_by_cell_writers_write(app, small):
    """The column kinds are a shortcut, not a rule: text, numbers and dates come out as
    the writers that look at every cell write them."""
    cycle, _hr, _people = small
    header = exports.report_header(cycle)
    rows = list(exports.report_rows(cycle))
    assert "".join(csv_batches(header, [rows[:2], rows[2:]])) == "".join(
        csv_stream(headings(header), rows)
    )
    with (
        xlsx_batches("Reviews", header, [rows[:1], rows[1:]]) as typed,
        xlsx_file("Reviews", headings(header), rows) as plain,
    ):
        workbook = typed.read()
        assert xlsx_rows(workbook) == xlsx_rows(plain.read())
    sheet = load_workbook(io.BytesIO(workbook)).worksheets[0]
    ana = next(row for row in sheet.iter_rows() if row[0].value == "Ana Three")
    day = ana[[c.heading for c in header].index("Acknowledged on")]  # her acknowledgement
    assert day.is_date
    assert day.number_format == "yyyy-mm-dd"


def test_the_report_is_one_statement_whatever_the_batches(app, small, monkeypatch):
    cycle, _hr, _people = small
    monkeypatch.setattr(streaming, "FETCH", 3)  # four reviews: two batches and an empty one
    assert cycle.framework_snapshot  # loaded before counting
    with count_queries() as seen:
        batches = list(exports.report_batches(cycle))
    assert [len(b) for b in batches if b] == [3, 1]
    assert len(seen) == 1, seen
    assert "review" in seen[0]


def test_the_statement_is_the_one_the_benchmark_copies(app, small):
    """bench/run.py times PostgreSQL's COPY of report_select with its values inlined."""
    cycle, _hr, _people = small
    stmt = exports.report_select(cycle)
    connection = db.session.connection()
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    rows = connection.exec_driver_sql(sql).all()
    assert len(rows) == 4
    assert [r[0] for r in rows] == [r[0] for r in exports.report_rows(cycle)]
    if connection.dialect.name == "postgresql":
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV") as copy:
            text = b"".join(bytes(data) for data in copy).decode()
        assert text.count("\n") == 4
        assert "Ana Three" in text


def test_a_reader_that_stops_early_leaves_the_connection_usable(app, small, monkeypatch):
    cycle, _hr, _people = small
    monkeypatch.setattr(streaming, "FETCH", 1)
    stream = exports.report_batches(cycle)
    assert len(next(stream)) == 1
    stream.close()  # as when a client goes away mid-download
    # the same transaction goes on: another query, and the whole report again
    assert db.session.scalar(select(func.count()).select_from(Review)) == 4
    assert sum(len(b) for b in exports.report_batches(cycle)) == 4
    db.session.commit()


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("export_")]


@pytest.mark.skipif(not PG_URL, reason="the reader thread fetches from PostgreSQL only")
def test_the_reader_thread_ends_with_the_stream_and_hands_over_its_errors(app, small, monkeypatch):
    """A database error while the thread fetches reaches whoever reads the export (the
    download fails, nothing is cut short in silence), and no thread outlives its stream,
    whether it ends, stops early, fails, or its writer fails."""
    monkeypatch.setattr(streaming, "FETCH", 1)
    ids = sorted(db.session.scalars(select(Review.id)))
    by_id = select(Review.id).order_by(Review.id)
    assert [r for batch in streaming.read_ahead(by_id, list) for (r,) in batch] == ids
    assert _reader_threads() == []
    # the last review's row divides by zero: its batch fails once the others are read
    # (random() makes the division volatile: computed as each row is sent, whatever
    # the plan)
    failing = select(Review.id, 1 / (Review.id - ids[-1] + func.floor(func.random() * 0)))
    read: list[int] = []

    def read_all() -> None:
        stream = streaming.read_ahead(
            failing.order_by(Review.id), lambda rows: [r[0] for r in rows]
        )
        for batch in stream:
            read.extend(batch)

    with pytest.raises(Exception, match="division by zero"):
        read_all()
    assert read == ids[:-1]
    assert _reader_threads() == []
    db.session.rollback()
    stream = streaming.read_ahead(by_id, list)
    next(stream)
    assert len(_reader_threads()) == 1
    stream.close()
    assert _reader_threads() == []
    assert db.session.scalar(select(func.count()).select_from(Review)) == len(ids)

    def failing_writer(*_args):
        raise OSError("No space left on device")

    # a writer that fails mid-way closes the stream it was given (no thread left
    # fetching on a connection the request is about to hand back)
    monkeypatch.setattr(spreadsheets, "_converted", failing_writer)
    with pytest.raises(OSError, match="No space"):
        "".join(spreadsheets.csv_batches(["Id"], streaming.read_ahead(by_id, list)))
    assert _reader_threads() == []


def _statements(client, url: str) -> int:
    fetch(client, url)  # warm: first-use queries of the session and the app
    with count_queries() as seen:
        status, _data, _headers = fetch(client, url)
    assert status == 200
    return len(seen)


def test_an_exports_statements_do_not_grow_with_its_reviews(
    app, make_person, login_as, monkeypatch
):
    """10 reviews and 60, each read in batches of 7: the same number of statements."""
    monkeypatch.setattr(streaming, "FETCH", 7)
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person("Mia Manager", role=Role.MANAGER, level_key="engineering-manager")
    people = [make_person(manager=boss) for _ in range(60)]
    cycles = {
        n: launched_cycle(
            hr,
            CycleState.MANAGER_REVIEW,
            name=f"Cycle of {n}",
            participant_mode=ParticipantMode.LIST,
            participant_ids=[p.id for p in people[:n]],
        )
        for n in (10, 60)
    }
    keys = list(db.session.scalars(select(Competency.key)))
    db.session.execute(
        update(Assessment)
        .where(Assessment.kind.in_((PartKind.SELF, PartKind.MANAGER)))
        .values(
            state=PartState.SUBMITTED,
            overall_rating=3,
            ratings=dict.fromkeys(keys, 3),
            submitted_at=func.now(),
        )
    )
    db.session.commit()
    client = login_as(hr)
    for ext in ("csv", "xlsx"):
        counts = {n: _statements(client, f"/cycles/{c.id}/report.{ext}") for n, c in cycles.items()}
        # the user, the cycle, the audit record and the report
        assert counts[10] == counts[60] <= 6, (ext, counts)
    _status, data, _ = fetch(client, f"/cycles/{cycles[60].id}/report.csv")
    assert len(csv_rows(data)) == 61
    _status, data, _ = fetch(client, f"/cycles/{cycles[60].id}/report.xlsx")
    assert len(xlsx_rows(data)) == 61


def _peak(cycle, scope: Scope) -> tuple[int, int]:
    """(rows, peak traced bytes) of streaming the report's CSV text to the end."""
    header = exports.report_header(cycle)
    tracemalloc.start()
    try:
        lines = sum(
            chunk.count("\n") for chunk in csv_batches(header, exports.report_batches(cycle, scope))
        )
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    db.session.commit()
    return lines - 1, peak


def test_memory_does_not_grow_with_the_rows(app, monkeypatch, capsys):
    """A batch at a time: four times the rows (each batch of 100) need the same memory."""
    build_synthetic_org(1200)
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
            submitted_at=func.now(),
        )
    )
    db.session.commit()
    platform = db.session.scalar(select(Department.id).where(Department.name == "Platform"))
    monkeypatch.setattr(streaming, "FETCH", 100)
    _peak(cycle, Scope(department_id=platform))  # warm: statements compiled and cached
    part_rows, part_peak = _peak(cycle, Scope(department_id=platform))
    rows, peak = _peak(cycle, Scope())
    with capsys.disabled():
        print(
            f"\n{rows} reviews: peak {peak / 1e6:.2f} MB traced; "
            f"{part_rows} reviews: {part_peak / 1e6:.2f} MB"
        )
    assert rows == 1200
    assert 200 < part_rows <= rows / 3
    assert peak < part_peak * 1.3


@settings(max_examples=3000, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789 .,/:-+=@$€%()eEaApPmM\t\r\n\xa0xyz")))
    | st.sampled_from(
        ["TRUE", " false ", "fal\u017fe", "Mar 3", "3-mar-2026", "1e5", "a@b.com", "12 p.m."]
    )
    | st.text()
)
def test_a_csv_text_cell_is_quoted_exactly_when_a_spreadsheet_would_retype_it(text):
    expected = "'" + text if text.startswith(DANGEROUS) or looks_typed(text) else text
    assert csv_text(text) == expected


def test_a_long_run_of_spaces_costs_no_more_than_a_quadratic_search():
    started = time.perf_counter()
    assert csv_text(" " * 2000 + "1" + " " * 2000 + "x") == " " * 2000 + "1" + " " * 2000 + "x"
    # a cubic search took minutes at this length; a quadratic one takes milliseconds
    assert time.perf_counter() - started < 5
