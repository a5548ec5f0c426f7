"""A small run of the benchmark script, so it cannot rot.  No timing is asserted
here (figures on a shared CI machine mean nothing); the full run is `make bench`."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.bench


def test_the_benchmark_runs_every_measure_and_reports_it(tmp_path, monkeypatch):
    from bench.run import main, markdown

    monkeypatch.delenv("REDIS_URL", raising=False)
    before = dict(os.environ)
    args = ["--people", "60", "--quick", "--load-seconds", "1", "--out", str(tmp_path)]
    postgres = os.environ.get("TEST_DATABASE_URL")
    if postgres:
        args += ["--no-sqlite", "--postgres", postgres]
    report = main(args)
    assert dict(os.environ) == before  # the run leaves the test process as it found it
    (result,) = report["databases"]
    assert result["people"] == 60
    launch = result["launch"]
    assert launch["rows"] > 60 * 3  # reviews and both parts of each, at least
    # three launches timed: two rolled back (a kept one would refuse the next), one kept
    assert len(launch["runs_seconds"]) == 3
    # the same rows by executemany into the same tables: all of them, rolled back
    assert launch["same_tables_rows"] >= launch["rows"] - 2  # not the audit record
    assert launch["same_tables_seconds"] > 0
    assert set(result["pages"]) == {
        "employee home", "self-review form", "manager team page", "HR cycle progress",
        "HR dashboard", "calibration page",
    }  # fmt: skip
    assert all(page["statements"] > 0 for page in result["pages"].values())
    for route in (
        "one-query route",
        "signed-in form (floor)",
        "employee home",
        "manager team page",
    ):
        assert result["gunicorn"][route]["requests"] > 0
        assert result["gunicorn"][route]["errors"] == 0, route
    assert result["exports"]["csv"]["bytes"] > 1000
    assert result["pdf"]["pdf_bytes"] > 10_000
    bulk = result["pdf"]["bulk"]
    assert bulk["plans"] > 0
    assert bulk["rq_workers"]  # the sharded job, on RQ worker processes
    assert bulk["shards"] >= 2
    assert set(bulk) >= {"workers_1", "workers_2", "speedup"}
    written = list(tmp_path.glob("*.json"))
    assert json.loads(written[0].read_text())["databases"][0]["people"] == 60
    assert "| Measure | Result | Target | Met |" in markdown(report)


def test_a_new_run_replaces_the_tables_and_keeps_the_notes(tmp_path):
    from bench.run import BEGIN, END, write_docs

    page = tmp_path / "benchmarks.md"
    write_docs("| first run |", page)
    assert "| first run |" in page.read_text()
    page.write_text(page.read_text() + "\n## Notes\n\nWhy a target was missed.\n")
    write_docs("| second run |", page)
    text = page.read_text()
    assert "| second run |" in text
    assert "| first run |" not in text
    assert text.count(BEGIN) == text.count(END) == 1
    assert text.endswith("Why a target was missed.\n")


def test_each_size_has_tables_of_its_own(tmp_path):
    from bench.run import markers, write_docs

    page = tmp_path / "benchmarks.md"
    write_docs("| 10,000, first |", page)
    write_docs("| 100,000 |", page, people=100_000)
    write_docs("| 10,000, second |", page)
    text = page.read_text()
    assert "| 10,000, first |" not in text
    assert text.index("| 10,000, second |") < text.index("| 100,000 |")
    begin, end = markers(100_000)
    assert text.count(begin) == text.count(end) == 1
    write_docs("| 100,000, again |", page, people=100_000)
    text = page.read_text()
    assert "| 100,000 |" not in text
    assert "| 100,000, again |" in text
    assert "| 10,000, second |" in text
