"""Growth-plan PDFs: their content, a PNG to look at, and nothing fetched from outside."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cycle_helpers import launched_cycle, release_with_manager_ratings, review_of
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select

from reviews.cycles.workflow import CycleState
from reviews.documents.pdf import STATIC, StaticOnlyFetcher, render_pdf, stylesheet
from reviews.extensions import db
from reviews.framework.models import Competency
from reviews.growth.models import GrowthPlan, GrowthPlanItem
from reviews.growth.views import growth_plan_html
from reviews.people.models import Role

HOSTILE = (
    '<img src="file:///etc/passwd"> <img src="http://evil.example/pixel.png"> '
    '<link rel="stylesheet" href="http://evil.example/x.css"> '
    '<style>@import url(http://evil.example/a.css); @import "file:///etc/passwd";</style> '
    '@import url("http://evil.example/b.css");'
)


@pytest.fixture
def released(app, make_person):
    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    em = make_person("Elena Marsh", role=Role.MANAGER, level_key="engineering-manager")
    dev = make_person("Devon Clarke", manager=em, level_key="engineer")
    cycle = launched_cycle(hr, CycleState.MANAGER_REVIEW)
    keys = list(db.session.scalars(select(Competency.key)))
    release_with_manager_ratings(hr, cycle, lambda review: (3, dict.fromkeys(keys, 2)))
    review = review_of(cycle, dev)
    plan = db.session.scalar(select(GrowthPlan).where(GrowthPlan.review_id == review.id))
    return review, plan


def _pdf(review, plan, fetcher=None) -> bytes:
    with current_app.test_request_context():
        return render_pdf(growth_plan_html(review, plan), stylesheet(), fetcher)


def test_growth_plan_pdf_has_what_a_person_needs(app, released):
    review, plan = released
    pdf = _pdf(review, plan)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Devon Clarke" in text
    assert "Engineer → Senior Engineer" in text
    for name in db.session.scalars(select(Competency.name)):
        assert name in text, name
    focus_names = {c.key: c.name for c in db.session.scalars(select(Competency))}
    assert len(plan.focus) >= 2
    for key in plan.focus:
        assert focus_names[key] in text
    pages = len(reader.pages)
    assert pages >= 2
    assert f"Page 2 of {pages}" in text  # page numbers (the cover has none)
    assert "Devon Clarke · Growth plan" in text  # running header
    # The chart is vector: drawn with path operators, no raster image on any page.
    assert all(not page.images for page in reader.pages)
    chart_page = reader.pages[1].get_contents().get_data()
    assert chart_page.count(b" re") >= len(focus_names)


def test_growth_plan_pdf_renders_to_png_for_a_person_to_look_at(app, released, tmp_path):
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing: .ci/run installs poppler-utils")
        pytest.skip("pdftoppm (Debian's poppler-utils) is not installed")
    review, plan = released
    source = tmp_path / "plan.pdf"
    source.write_bytes(_pdf(review, plan))
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(source), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    assert all(p.read_bytes().startswith(b"\x89PNG") and p.stat().st_size > 2000 for p in pages)


def test_free_text_cannot_fetch_files_or_urls(app, released):
    review, plan = released
    plan.notes = HOSTILE
    plan.employee_comment = HOSTILE
    for item in plan.items:
        item.notes = HOSTILE
    db.session.add(
        GrowthPlanItem(
            plan=plan,
            position=99,
            title=HOSTILE[:200],
            description=HOSTILE,
            competencies=[],
            start_date=plan.items[0].start_date,
            end_date=plan.items[0].end_date,
            checkins=[],
        )
    )
    db.session.commit()
    fetcher = StaticOnlyFetcher()
    pdf = _pdf(review, plan, fetcher)
    # Nothing outside the package's static folder was even asked for: the text is escaped.
    assert not any("evil.example" in url or "passwd" in url for url in fetcher.requested)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert '<img src="file:///etc/passwd">' in text.replace("\n", " ")
    assert "root:x:0:0" not in text
    with current_app.test_request_context():
        html = growth_plan_html(review, plan)
    assert "<img src=" not in html
    assert "&lt;img src=" in html


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://evil.example/a.css",
        "https://evil.example/a.png",
        f"file://{STATIC}/../../pyproject.toml",
        "data:text/plain,hello",
        "ftp://evil.example/x",
        "file://evil.example/etc/passwd",
    ],
)
def test_the_fetcher_refuses_everything_but_static_files(url):
    fetcher = StaticOnlyFetcher()
    with pytest.raises(ValueError, match=r"blocked|disallowed"):
        fetcher.fetch(url)


def test_the_fetcher_serves_the_package_static_files():
    fetcher = StaticOnlyFetcher()
    response = fetcher.fetch((STATIC / "print.css").as_uri())
    try:
        assert b"@page" in response.read()
    finally:
        response.close()
    assert Path(STATIC / "print.css").is_file()


def test_review_summary_pdf_keeps_peers_anonymous(app, make_person, login_as):
    from cycle_helpers import advance, approved_peer, submit_manager_review

    from reviews.cycles import operations as cycle_ops
    from reviews.cycles.parts import PartInput

    hr = make_person("Hana HR", role=Role.HR, level_key=None)
    em = make_person("Elena Marsh", role=Role.MANAGER, level_key="engineering-manager")
    dev = make_person("Devon Clarke", manager=em)
    peers = [make_person(name, manager=em) for name in ("Pia Peer", "Quinn Quill", "Rosa Reed")]
    cycle = launched_cycle(hr, CycleState.PEER_FEEDBACK)
    review = review_of(cycle, dev)
    for peer in peers:
        request = approved_peer(em, review, peer)
        with current_app.test_request_context():
            feedback = cycle_ops.peer_assessment(request)
            cycle_ops.save_part(
                peer,
                feedback,
                feedback.version,
                PartInput(
                    answers={
                        "strengths": f"Strength seen by {peer.name.split()[1]}-team.",
                        "growth_areas": "More tests.",
                        "suggestion": "Pair weekly.",
                    }
                ),
                submit=True,
            )
            db.session.commit()
    advance(hr, cycle, CycleState.MANAGER_REVIEW)
    keys = list(db.session.scalars(select(Competency.key)))
    submit_manager_review(em, review, 4, dict.fromkeys(keys, 3))
    client = login_as(dev)
    assert client.get(f"/reviews/{review.id}/summary.pdf").status_code == 404  # not released
    advance(hr, cycle, CycleState.CALIBRATION)
    with current_app.test_request_context():
        from reviews.calibration import operations as calibration_ops

        calibration_ops.finalise_uncalibrated(hr, cycle)
        db.session.commit()
    advance(hr, cycle, CycleState.RELEASED)
    response = client.get(f"/reviews/{review.id}/summary.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    # Named after what it holds (issue 20), not "review-summary.pdf".
    assert (
        'filename="devon-clarke-2026-h2-review-review.pdf"'
        in response.headers["Content-Disposition"]
    )
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Exceeds expectations" in text  # the final rating, after release
    assert "Strength seen by Peer-team." in text
    for peer in peers:
        assert peer.name not in text
    # The manager sees the names (the cycle allows it), in the same document path.
    from test_cycle_flow import login_as_fresh

    manager_pdf = login_as_fresh(app, em).get(f"/reviews/{review.id}/summary.pdf")
    manager_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(manager_pdf.data)).pages)
    assert "Pia Peer" in manager_text
    # Hana has no manager: her summary says the final rating is not set, never "None".
    own = login_as_fresh(app, hr).get(f"/reviews/{review_of(cycle, hr).id}/summary.pdf")
    assert own.status_code == 200
    own_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(own.data)).pages)
    assert "Not set" in own_text
    assert "None" not in own_text
