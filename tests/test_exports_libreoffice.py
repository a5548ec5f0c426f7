"""The cycle report opened by a real spreadsheet program (LibreOffice, headless).

The CSV is imported the way Excel opens a CSV (UTF-8, and "detect special numbers" on,
so that "3/3" or "Mar 3" would become dates); the workbook is opened as it is. What
people read must come out: headings in words, text as text, numbers as numbers, the
acknowledgement as a date, and no formula anywhere.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from cycle_helpers import advance, launched_cycle, review_of
from openpyxl import load_workbook
from test_exports import (
    FIXED,
    TAIL,
    acknowledge,
    fetch,
    keys_of,
    manager_review,
    names_of,
    peer_feedback,
    question_columns,
    self_review,
    spread,
)

from reviews.calibration import operations as calibration_ops
from reviews.cycles.workflow import CycleState
from reviews.extensions import db
from reviews.people.models import Department, Role

# .ci/run installs it (Debian's libreoffice-calc-nogui); without it these tests fail.
SOFFICE = shutil.which("soffice") or "soffice"
# Looks like a date, a time, a number or a truth value to a spreadsheet; each is a name here.
LOOK_ALIKES = {"person": "May 2026", "department": "10:30", "manager": "TRUE"}
# Excel's way of opening a CSV: comma, double quotes, UTF-8 (76), from line 1, English
# (1033), quoted fields not forced to text, special numbers (dates, times) detected.
CSV_AS_EXCEL = "CSV:44,34,76,1,,1033,false,true"


def open_in_libreoffice(path: Path, workdir: Path, infilter: str | None = None) -> list[list]:
    """The file as LibreOffice reads it, saved back as a workbook: (value, type) cells."""
    out = workdir / "out"
    command = [
        SOFFICE,
        f"-env:UserInstallation=file://{workdir / 'profile'}",
        "--headless",
        "--norestore",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(out),
        str(path),
    ]
    if infilter:
        command[4:4] = [f"--infilter={infilter}"]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    book = load_workbook(out / (path.stem + ".xlsx"))
    return [[(c.value, c.data_type) for c in row] for row in book.worksheets[0].iter_rows()]


@pytest.fixture
def released(app, make_person):
    """A released cycle: a person with 3 of 3 peers, names that look like data, and an
    acknowledgement."""
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    boss = make_person(LOOK_ALIKES["manager"], role=Role.MANAGER, level_key="engineering-manager")
    person = make_person(LOOK_ALIKES["person"], manager=boss)
    formula = make_person("=1+2", email="formula@example.com", manager=boss)
    peers = [make_person(f"Peer {n}", manager=boss) for n in range(3)]
    team = Department(name=LOOK_ALIKES["department"])
    db.session.add(team)
    for member in (boss, person, formula, *peers):
        member.department = team
    db.session.commit()
    cycle = launched_cycle(hr, CycleState.SELF_REVIEW, peer_min=1)
    keys = keys_of(cycle)
    review = review_of(cycle, person)
    self_review(person, review, spread(keys, 1))
    for seed, peer in enumerate(peers):
        peer_feedback(boss, review, peer, spread(keys, seed))
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    manager_review(boss, review, 4, spread(keys, 2), "high", "ready_now")
    manager_review(boss, review_of(cycle, formula), 3, spread(keys, 0))
    advance(hr, cycle, CycleState.CALIBRATION)
    calibration_ops.finalise_uncalibrated(hr, cycle)
    db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    acknowledge(person, review, "Thanks.")
    return cycle, hr


def test_the_csv_opens_in_a_spreadsheet_as_people_read_it(released, login_as, tmp_path):
    cycle, hr = released
    status, data, headers = fetch(login_as(hr), f"/cycles/{cycle.id}/report.csv")
    assert status == 200
    name = headers["Content-Disposition"].split('filename="')[1].split('"')[0]
    assert name == "2026-h2-review-report.csv"  # slugged like every export
    path = tmp_path / name
    path.write_bytes(data)
    rows = open_in_libreoffice(path, tmp_path, CSV_AS_EXCEL)
    header = [value for value, _ in rows[0]]
    assert header == FIXED + [f"Final: {n}" for n in names_of(cycle)] + TAIL + question_columns(
        cycle
    )
    by_name = {row[0][0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    may = by_name["'May 2026"]  # a name that looks like a date stays that name, as text
    assert may["Department"] == ("'10:30", "s")
    assert may["Manager"] == ("'TRUE", "s")
    assert may["Peer feedback received"] == (3, "n")  # not 3/3, which became a date
    assert may["Peers approved"] == (3, "n")
    assert may["Final rating"] == (4, "n")
    assert may["Self-review"] == ("Submitted", "s")
    acknowledged, kind = may["Acknowledged on"]
    assert kind == "d"
    assert acknowledged.date() == datetime.now().date()
    assert by_name["'=1+2"]["Self-review"] == ("Draft", "s")
    for row in rows[1:]:
        for column, (value, kind) in zip(header, row, strict=True):
            assert kind != "f", (column, value)  # no formula
            if column in ("Employee", "Email", "Department", "Level", "Manager", "Potential"):
                assert value is None or isinstance(value, str), column  # text, never a number
            if kind == "d":
                assert column == "Acknowledged on", (column, value)  # the only date


def test_the_workbook_is_formatted_and_typed(released, login_as, tmp_path):
    cycle, hr = released
    status, data, headers = fetch(login_as(hr), f"/cycles/{cycle.id}/report.xlsx")
    assert status == 200
    assert "filename=2026-h2-review-report.xlsx" in headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.freeze_panes == "A2"  # the header stays in view
    last_row = 1 + 2 + 2 + 3  # the header, boss and HR, the person and =1+2, three peers
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{last_row}"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["B"].width >= 30  # emails fit
    assert sheet.column_dimensions["A"].width >= 24

    path = tmp_path / "report.xlsx"
    path.write_bytes(data)
    rows = open_in_libreoffice(path, tmp_path)
    header = [value for value, _ in rows[0]]
    assert header == FIXED + [f"Final: {n}" for n in names_of(cycle)] + TAIL + question_columns(
        cycle
    )
    by_name = {row[0][0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    may = by_name["May 2026"]  # typed text in a workbook needs no quote
    assert may["Department"] == ("10:30", "s")
    assert may["Manager"] == ("TRUE", "s")
    assert may["Peer feedback received"] == (3, "n")
    assert may["Acknowledged on"][1] == "d"
    assert by_name["'=1+2"]["Employee"] == ("'=1+2", "s")
    assert all(kind != "f" for row in rows for _, kind in row)
