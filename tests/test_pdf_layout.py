"""How the cycle summary and growth-plan PDFs are set, read back page by page with pypdf.

The text of each page is what a reader sees on that sheet, so a table split
across a page break, a nearly blank page or a header broken over two lines
shows up in it.  The demo's numbers are rebuilt here: four departments, the
size at which the old summary split a table after its first row.
"""

from __future__ import annotations

import io
import re

import pytest
from cycle_helpers import launched_cycle, release_with_manager_ratings, review_of
from pypdf import PdfReader
from sqlalchemy import select

from reviews.cycles.workflow import LABELS, CycleState
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.growth.models import GrowthPlan
from reviews.people.models import Department, Role

DEPARTMENTS = {"Data": 3, "People Operations": 2, "Platform": 4, "Product Engineering": 4}
# A page but the last that holds less than this is a wasted sheet (the old
# cover held 159 characters, a page of tables and charts holds 500 and more).
MEANINGFUL_PAGE = 300


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture
def summary(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    for name, size in DEPARTMENTS.items():
        department = Department(name=name)
        db.session.add(department)
        if name == "People Operations":
            hr.department = department
        manager = make_person(f"{name} Lead", role=Role.MANAGER, level_key="engineering-manager")
        manager.department = department
        for n in range(size):
            make_person(f"{name} Member {n}", manager=manager).department = department
    db.session.commit()
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    keys = list(db.session.scalars(select(Competency.key)))
    release_with_manager_ratings(
        hr, cycle, lambda review: (2 + review.id % 3, dict.fromkeys(keys, 3))
    )
    response = login_as(hr).get(f"/cycles/{cycle.id}/summary.pdf")
    assert response.status_code == 200
    return pages_text(response.data)


@pytest.fixture
def plan_pdf(app, make_person, login_as):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    em = make_person("Elena Marsh", role=Role.MANAGER, level_key="engineering-manager")
    dev = make_person("Devon Clarke", manager=em, level_key="engineer")
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    keys = list(db.session.scalars(select(Competency.key)))
    release_with_manager_ratings(hr, cycle, lambda review: (3, dict.fromkeys(keys, 2)))
    review = review_of(cycle, dev)
    plan = db.session.scalar(select(GrowthPlan).where(GrowthPlan.review_id == review.id))
    assert plan.items, "the released review's plan proposes stretch opportunities"
    response = login_as(dev).get(f"/reviews/{review.id}/plan.pdf")
    assert response.status_code == 200
    return plan, "\n".join(pages_text(response.data))


def test_the_summary_names_the_phase_as_the_pages_do(summary):
    text = "\n".join(summary)
    assert str(LABELS[CycleState.RELEASED]) in text
    assert not re.search(r"\breleased\b", text), "the raw state word, not the phase's label"


def test_the_summary_wastes_no_page(summary):
    # The title block shares the first page with the first section: no bare cover.
    assert "Completion" in summary[0]
    for number, text in enumerate(summary[:-1], start=1):
        assert len(text) >= MEANINGFUL_PAGE, f"page {number} of {len(summary)} is nearly empty"


# Each small table of the summary: its header, and a row's pattern for a department.
SUMMARY_TABLES = {
    "completion": ("DEPARTMENT REVIEWS SELF MANAGER ACKNOWLEDGED", r"{} \d+ \d+ \d+/\d+ \d+"),
    "ratings": ("DEPARTMENT 1 2 3 4 5", r"{}( \d+){{5}}"),
}


def test_a_small_summary_table_is_on_one_page(summary):
    for table, (header, row) in SUMMARY_TABLES.items():
        pages = [number for number, text in enumerate(summary) if header in text]
        assert len(pages) == 1, f"the {table} table's header is on pages {pages}"
        page = summary[pages[0]]
        for name in DEPARTMENTS:
            found = re.search(rf"^{row.format(re.escape(name))}$", page, re.MULTILINE)
            assert found, f"{name}'s row of the {table} table is not on its header's page"


def test_the_plan_pdf_says_what_each_opportunity_grows(app, plan_pdf):
    plan, text = plan_pdf
    names = {c.key: c.name for c in db.session.scalars(select(Competency))}
    grown = [item for item in plan.items if item.competencies]
    assert grown
    # Compared without spaces: a long line wraps, and pypdf reads a kerned "Te" as "T e".
    flat = "".join(text.split())
    for item in grown:
        line = f"Grows {', '.join(names[k] for k in item.competencies)}"
        assert "".join(line.split()) in flat, item.title


def test_the_plan_pdf_sets_check_in_dates_on_one_line(app, plan_pdf):
    plan, text = plan_pdf
    printed = app.jinja_env.filters["date"]  # as the documents print a date
    assert "CHECK-INS" in text
    assert not re.search(r"CHECK-\s*\n\s*INS", text), "the column header is broken at its hyphen"
    assert not re.search(r"\b\d{1,2} [A-Z][a-z]{2}\n\d{4}\b", text), "a date wraps before its year"
    for item in plan.items:
        for checkin in item.checkins:
            assert printed(checkin) in text, checkin
