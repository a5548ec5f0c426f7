"""Two benchmark runs side by side: 10,000 and 100,000 people on one database (issue 22).

    .venv/bin/python -m bench.compare [SMALL.json BIG.json] [--database PostgreSQL]
                                      [--write-docs]

Without files it takes the newest run of each size in bench/results/. It prints a
table of each measure at both sizes, with the targets for the large org: every page
under 50 ms at p95 in statements that do not grow with the org, HR's dashboard and
cycle progress within 1.5x of their time at the small size, the exports within
1.5x of the database's own COPY and of XlsxWriter alone, launch within 1x of a Core
executemany. `--write-docs` puts the table in docs/benchmarks.md between its
markers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.run import DOCS, RESULTS

BEGIN, END = "<!-- sizes: written by python -m bench.compare -->", "<!-- end of sizes -->"
GROWTH = 1.5  # HR's figures at the large size against the small one
PAGE_P95_MS = 50.0
LAUNCH_RATIO = 1.0
EXPORT_RATIO = 1.5
MEMORY_MB = 50.0
HR_PAGES = ("HR cycle progress", "HR dashboard")


def newest(people: int, database: str) -> Path:
    found = []
    for path in RESULTS.glob(f"*-{people}*.json"):
        report = json.loads(path.read_text())
        if any(d["database"] == database and d["people"] == people for d in report["databases"]):
            found.append(path)
    if not found:
        raise SystemExit(f"no {database} run of {people} people in {RESULTS}")
    return max(found, key=lambda p: p.name)


def run_of(path: Path, database: str) -> tuple[dict[str, Any], dict[str, Any]]:
    report = json.loads(path.read_text())
    for each in report["databases"]:
        if each["database"] == database:
            return report, each
    raise SystemExit(f"{path} has no {database} run")


def _page(p: dict[str, Any]) -> str:
    return f"p95 {p['p95_ms']} ms, {p['statements']} statements"


def rows(small: dict[str, Any], big: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """(measure, small, big, target at the big size, met) for two runs of one database."""
    out = []
    s_launch, b_launch = small["launch"], big["launch"]
    out.append(
        (
            "launch vs Core executemany",
            f"{s_launch['ratio']}x ({s_launch['seconds']} s)",
            f"{b_launch['ratio']}x ({b_launch['seconds']} s)",
            f"<= {LAUNCH_RATIO}x",
            b_launch["ratio"] <= LAUNCH_RATIO,
        )
    )
    if "same_tables_ratio" in s_launch and "same_tables_ratio" in b_launch:
        out.append(
            (
                "launch vs executemany of its own rows into its own tables",
                f"{s_launch['same_tables_ratio']}x ({s_launch['same_tables_seconds']} s)",
                f"{b_launch['same_tables_ratio']}x ({b_launch['same_tables_seconds']} s)",
                "-",
                True,
            )
        )
    for name, b in big["pages"].items():
        s = small["pages"].get(name)
        if s is None:
            continue
        limit = 150.0 if name == "calibration page" else PAGE_P95_MS
        met = b["p95_ms"] < limit and b["statements"] <= s["statements"]
        target = f"p95 < {limit:.0f} ms, statements <= {s['statements']}"
        if name in HR_PAGES:
            ratio = b["p95_ms"] / s["p95_ms"] if s["p95_ms"] else 0.0
            met = met and ratio <= GROWTH
            target += f", <= {GROWTH}x the small org ({ratio:.2f}x)"
        out.append((name, _page(s), _page(b), target, met))
    for kind, limit_name in (("csv", "COPY"), ("xlsx", "XlsxWriter alone")):
        s, b = small["exports"][kind], big["exports"][kind]
        ratio_key = "copy_ratio" if kind == "csv" else "xlsxwriter_ratio"
        figure = f"{b['seconds']} s, peak {b['peak_traced_mb']} MB"
        met = b["peak_traced_mb"] < MEMORY_MB
        if ratio_key in b:
            figure += f", {b[ratio_key]}x {limit_name}"
            met = met and b[ratio_key] <= EXPORT_RATIO
        else:
            met = False
        out.append(
            (
                f"{kind.upper()} export",
                f"{s['seconds']} s, peak {s['peak_traced_mb']} MB",
                figure,
                f"<= {EXPORT_RATIO}x {limit_name}, < {MEMORY_MB:.0f} MB",
                met,
            )
        )
    for name in ("employee home", "manager team page"):
        s, b = small["gunicorn"].get(name), big["gunicorn"].get(name)
        if s and b:
            out.append((f"gunicorn: {name}", f"{s['rps']} req/s", f"{b['rps']} req/s", "-", True))
    return out


def markdown(
    small_report: dict[str, Any],
    small: dict[str, Any],
    big_report: dict[str, Any],
    big: dict[str, Any],
) -> str:
    lines = [
        f"### {big['database']}: {small['people']:,} and {big['people']:,} people side by side",
        "",
        f"Runs of {small_report['date']} and {big_report['date']} "
        f"({big_report['machine'].get('cores', '?')} cores).",
        "",
        f"| Measure | {small['people']:,} | {big['people']:,} "
        f"| Target at {big['people']:,} | Met |",
        "|---|---|---|---|---|",
    ]
    for measure, s, b, target, met in rows(small, big):
        lines.append(f"| {measure} | {s} | {b} | {target} | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def write_docs(text: str, path: Path = DOCS) -> None:
    """Put the table between the markers, or after the runs' tables if there are none."""
    doc = path.read_text()
    block = f"{BEGIN}\n{text}{END}"
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + block + rest.split(END, 1)[1]
    else:
        anchor = "<!-- end of results -->"
        doc = doc.replace(anchor, f"{anchor}\n\n{block}", 1)
    path.write_text(doc)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__)
    parser.add_argument("runs", nargs="*", type=Path, help="the small run's JSON, the big one's")
    parser.add_argument("--database", default="PostgreSQL")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    if args.runs and len(args.runs) != 2:
        parser.error("give two result files (the small run, the big run) or none")
    small_path, big_path = args.runs or [
        newest(args.small, args.database),
        newest(args.big, args.database),
    ]
    small_report, small = run_of(small_path, args.database)
    big_report, big = run_of(big_path, args.database)
    text = markdown(small_report, small, big_report, big)
    print(text)
    if args.write_docs:
        write_docs(text)
    return text


if __name__ == "__main__":
    main()
