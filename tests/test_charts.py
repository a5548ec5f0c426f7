"""The charts keep every word inside their drawing in the PDFs, as WeasyPrint sets them.

WeasyPrint sets SVG text wider than Chromium does, and clips whatever runs past
the viewBox: a completion figure once lost its closing parenthesis in the cycle
summary. Each chart is rendered alone on a page the size of its viewBox, and
pdftotext reads back where every word landed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from markupsafe import Markup
from weasyprint import HTML

from reviews.calibration.scoring import Bucket
from reviews.charts import completion_svg, distribution_svg, ratings_svg

LONG = "Technical leadership across several teams and the wider engineering organisation"


WORD = re.compile(r'xMin="([\d.]+)"[^>]*xMax="([\d.]+)"[^>]*>([^<]*)<')


def _words(chart: Markup, tmp_path: Path) -> list[tuple[float, float, str]]:
    """(left, right, word) of every word in the PDF; the page's width last, as (0, w, "")."""
    if not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing: .ci/run installs poppler-utils")
        pytest.skip("pdftotext (Debian's poppler-utils) is not installed")
    found = re.search(r'viewBox="0 0 (\d+) (\d+)"', chart)
    assert found
    width, height = found.groups()
    page = (
        f"<style>@page {{ size: {width}px {height}px; margin: 0 }} body {{ margin: 0; "
        f"font-family: 'DejaVu Sans' }} svg {{ display: block }}</style>{chart}"
    )
    source = tmp_path / "chart.pdf"
    HTML(string=page).write_pdf(source)
    boxes = subprocess.run(
        ["pdftotext", "-bbox", str(source), "-"], capture_output=True, text=True, check=True
    ).stdout
    page_width = float(re.findall(r'<page width="([\d.]+)"', boxes)[0])
    words = [(float(left), float(right), word) for left, right, word in WORD.findall(boxes)]
    return [*words, (0.0, page_width, "")]


def _inside(words: list[tuple[float, float, str]]) -> list[str]:
    width = words[-1][1]
    return [word for left, right, word in words[:-1] if left < 0 or right > width + 0.5]


def test_completion_figures_of_a_whole_company_are_whole(tmp_path):
    rows = [("Self-reviews submitted", 10_000, 10_000), ("Peer feedback received", 29_999, 30_000)]
    words = _words(completion_svg(rows, "Completion"), tmp_path)
    assert [w for _, _, w in words].count("(100%)") == 2  # WeasyPrint dropped the ")" once
    assert _inside(words) == []


def test_long_competency_names_are_cut_with_an_ellipsis(tmp_path):
    rows = [(LONG, 3, 4), ("Communication and Listening", None, 2), ("W" * 27, 1, 1)]
    words = _words(ratings_svg(rows, "Ratings"), tmp_path)
    text = " ".join(w for _, _, w in words)
    assert "Technical leadership" in text
    assert "organisation" not in text
    assert "Communication and Listening" in text  # the seed framework's names stay whole
    assert "\u2026" in text
    assert _inside(words) == []


def test_distribution_counts_of_a_whole_company_are_whole(tmp_path):
    counts = {1: 0, 2: 0, 3: 10_000, 4: 0, 5: 0}
    buckets = [
        Bucket(rating=r, count=n, share=n / 10_000, target=0.2, low=0.1, high=0.3)
        for r, n in counts.items()
    ]
    words = _words(distribution_svg(buckets, [str(v) for v in range(1, 6)], "Ratings"), tmp_path)
    assert "10000" in [w for _, _, w in words]
    assert _inside(words) == []


def test_distribution_counts_stand_clear_of_the_guidance_band():
    """A count sits above its bar and its guidance band, where the dashed target line
    cannot strike it through (it once did, for bars shorter than their target)."""
    counts = {1: 1, 2: 12, 3: 20, 4: 7, 5: 1}
    buckets = [
        Bucket(rating=r, count=n, share=n / 41, target=t, low=t - 0.05, high=t + 0.05)
        for (r, n), t in zip(counts.items(), (0.05, 0.2, 0.5, 0.2, 0.05), strict=True)
    ]
    chart = distribution_svg(buckets, [str(v) for v in range(1, 6)], "Ratings")
    bands = [float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)"[^>]*><title>Guid', chart)]
    labels = [
        float(y)
        for y, _ in re.findall(r'<text x="[\d.]+" y="([\d.]+)"[^>]*700[^>]*>(\d+ \()', chart)
    ]
    assert len(bands) == len(labels) == 5
    assert all(label < band for label, band in zip(labels, bands, strict=True)), (labels, bands)
