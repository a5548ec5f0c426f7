"""The load script, small: gunicorn with 2 workers on PostgreSQL, a few simulated people
walking a cycle at once; every accepted part stored exactly once, no error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import PG_URL

from reviews import ROOT


@pytest.mark.skipif(not PG_URL, reason="the load test runs on PostgreSQL (TEST_DATABASE_URL)")
def test_the_load_script_walks_a_cycle_without_errors():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.load",
            "--users",
            "10",
            "--seconds",
            "60",
            "--database",
            PG_URL,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "errors 0" in output
    assert "each stored exactly once: yes" in output
    assert "req/s" in output
    assert "p95" in output
    submitted = int(output.split("parts submitted ")[1].split()[0])
    assert submitted >= 25  # self, peer and manager parts of a 10-person organisation
