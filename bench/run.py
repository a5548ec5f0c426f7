"""Every hot path of Reviews against its limit, in one run (issue 9).

    .venv/bin/python -m bench [--people 10000] [--postgres URL] [--no-sqlite] [--quick]

For each database it builds a synthetic org with `flask --app wsgi demo --people
N`, runs a cycle through every phase (3 peers each, generated content), and
measures, beside a limit taken in the same run where there is one:

1. cycle launch (median of three) vs a SQLAlchemy Core executemany of as many
   rows into a bare table, and vs an executemany of launch's own rows into its
   own tables;
2. server time (median, p95) and SQL statements of the main pages;
3. gunicorn (2 sync workers) throughput and p50/p99 of the employee home and the
   manager page vs a bare one-query route of the same app;
4. CSV and XLSX export of the whole cycle: seconds and peak traced memory;
5. growth-plan PDF warm time vs WeasyPrint on the same HTML, and the bulk ZIP
   rate with one and two worker processes;
6. feedback analysis of a 2,000-word text.

Results go to bench/results/*.json and a markdown table on stdout;
`--write-docs` also rewrites docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
PASSWORD = "demo-password"  # noqa: S105  (the demo accounts' published password)

LARGE_ORG = 100_000  # from this size the large-org targets apply (issue 22)
TARGETS = {
    "launch_ratio": 2.0,
    "launch_large_ratio": 1.0,
    "page_p95_ms": 50.0,
    "calibration_p95_ms": 150.0,
    "home_throughput_share": 0.40,
    "csv_copy_ratio": 1.5,  # the CSV export vs COPY of its SELECT (PostgreSQL)
    "xlsx_writer_ratio": 1.5,  # the XLSX export vs XlsxWriter alone writing its rows
    "export_memory_mb": 50.0,
    "pdf_ratio": 1.5,
    "bulk_speedup": 1.8,
    "coach_ms": 20.0,
}


# Setting up -------------------------------------------------------------------------


def flask(env: dict[str, str], *args: str) -> str:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout


def fresh_postgres(url: str, name: str = "reviews_bench") -> str:
    import psycopg

    admin = re.sub(r"^postgresql(\+psycopg)?://", "postgresql://", url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/?]*(\?|$)", f"/{name}\\1", admin, count=1)


def environment(database_url: str, instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REVIEWS_INSTANCE_PATH=str(instance),
        REVIEWS_ENV="development",
        PYTHONPATH=str(ROOT),
    )
    env.pop("REDIS_URL", None)
    return env


@contextmanager
def statements(engine: Any) -> Iterator[list[str]]:
    from sqlalchemy import event

    seen: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *args: Any) -> None:
        if not statement.startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "COMMIT")):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def client_class() -> Any:
    from flask.testing import FlaskClient

    from reviews.extensions import db

    class Client(FlaskClient):
        """Each request in its own app context (a fresh session and `g`), as in production."""

        def open(self, *args: Any, **kwargs: Any) -> Any:
            db.session.commit()
            with self.application.app_context():
                return super().open(*args, **kwargs)

    return Client


def sign_in(app: Any, email: str) -> Any:
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/auth/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    if answer.status_code != 302:
        raise SystemExit(f"could not sign in as {email}")
    return client


def timed_page(app: Any, client: Any, url: str, repeat: int) -> dict[str, Any]:
    from reviews.extensions import db

    for _ in range(2):  # warm: templates compiled, caches filled
        answer = client.get(url)
        answer.close()
        assert answer.status_code == 200, url  # noqa: S101
    timings = []
    counts = []
    for _ in range(repeat):
        with statements(db.engine) as seen:
            start = time.perf_counter()
            answer = client.get(url)
            answer.get_data()
            answer.close()
            timings.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (url, answer.status_code)  # noqa: S101
        counts.append(len(seen))
    timings.sort()
    return {
        "url": url,
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[min(len(timings) - 1, int(0.95 * (len(timings) - 1)))], 2),
        "statements": max(counts),
    }


# Filling a cycle set-based (the content is generated, not typed) --------------------

TEXTS = {
    "accomplishments": "Led the billing migration; p95 latency down 30% with no downtime.",
    "growth": "Plan larger projects and share trade-offs earlier.",
    "strengths": "Explains complex systems clearly and unblocks others quickly.",
    "growth_areas": "Share work in progress earlier.",
    "suggestion": "Post a short weekly update on the project's risks.",
    "summary": "A strong half with clear ownership of the main project.",
}


def fill_self_parts(cycle: Any, keys: list[str]) -> None:
    from sqlalchemy import select, update

    from reviews.cycles.models import Assessment, PartKind, PartState, Review
    from reviews.db import utcnow
    from reviews.extensions import db

    reviews = select(Review.id).where(Review.cycle_id == cycle.id)
    db.session.execute(
        update(Assessment)
        .where(Assessment.kind == PartKind.SELF, Assessment.review_id.in_(reviews))
        .values(
            ratings=dict.fromkeys(keys, 3),
            comments={keys[0]: "Shipped the search rewrite in March."},
            answers={k: TEXTS[k] for k in ("accomplishments", "growth")},
            state=PartState.SUBMITTED,
            submitted_at=utcnow(),
            version=Assessment.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def add_peer_feedback(cycle: Any, keys: list[str], per_review: int = 3) -> int:
    from sqlalchemy import insert, select

    from reviews.cycles.models import (
        Assessment,
        PartKind,
        PartState,
        PeerRequest,
        RequestState,
        Review,
    )
    from reviews.db import utcnow
    from reviews.extensions import db

    rows = db.session.execute(
        select(Review.id, Review.subject_id, Review.manager_id)
        .where(Review.cycle_id == cycle.id)
        .order_by(Review.subject_id)
    ).all()
    subjects = [r.subject_id for r in rows]
    now = utcnow()
    requests = []
    for i, r in enumerate(rows):
        for step in range(1, per_review + 1):
            requests.append(
                {
                    "review_id": r.id,
                    "reviewer_id": subjects[(i + step) % len(subjects)],
                    "state": RequestState.APPROVED,
                    "proposed_by_id": r.subject_id,
                    "decided_by_id": r.manager_id,
                    "created_at": now,
                    "decided_at": now,
                }
            )
    db.session.execute(insert(PeerRequest), requests)
    created = db.session.execute(
        select(PeerRequest.id, PeerRequest.review_id, PeerRequest.reviewer_id)
        .join(Review, Review.id == PeerRequest.review_id)
        .where(Review.cycle_id == cycle.id)
    ).all()
    db.session.execute(
        insert(Assessment),
        [
            {
                "review_id": review_id,
                "kind": PartKind.PEER,
                "author_id": reviewer_id,
                "peer_request_id": request_id,
                "state": PartState.SUBMITTED,
                "ratings": dict.fromkeys(keys, 4),
                "comments": {},
                "answers": {k: TEXTS[k] for k in ("strengths", "growth_areas", "suggestion")},
                "reopened": False,
                "version": 2,
                "created_at": now,
                "updated_at": now,
                "submitted_at": now,
            }
            for request_id, review_id, reviewer_id in created
        ],
    )
    db.session.commit()
    return len(created)


def fill_manager_parts(cycle: Any, keys: list[str]) -> None:
    from sqlalchemy import bindparam, select

    from reviews.coach.analysis import text_quality
    from reviews.cycles.models import Assessment, PartKind, PartState, Potential, Readiness, Review
    from reviews.db import utcnow
    from reviews.extensions import db

    ids = db.session.execute(
        select(Assessment.id, Assessment.review_id)
        .join(Review, Review.id == Assessment.review_id)
        .where(Review.cycle_id == cycle.id, Assessment.kind == PartKind.MANAGER)
    ).all()
    spread = [3, 3, 4, 3, 2, 4, 3, 5, 3, 1]  # roughly the guidance
    now = utcnow()
    table = Assessment.__table__
    comments = {keys[0]: "Drove the incident review to five follow-ups."}
    answers = {k: TEXTS[k] for k in ("summary", "strengths", "growth_areas")}
    # what submitting stores: the coach's figures of the texts
    texts, evidence, personal = text_quality([*comments.values(), *answers.values()])
    db.session.execute(
        table.update()
        .where(table.c.id == bindparam("part_id"))
        .values(
            ratings=bindparam("r"),
            comments=comments,
            answers=answers,
            quality_texts=texts,
            quality_evidence=evidence,
            quality_personal=personal,
            overall_rating=bindparam("overall"),
            potential=Potential.MEDIUM,
            promotion_readiness=Readiness.NOT_YET,
            state=PartState.SUBMITTED,
            submitted_at=now,
            version=table.c.version + 1,
        ),
        [
            {
                "part_id": part_id,
                "r": dict.fromkeys(keys, spread[review_id % 10]),
                "overall": spread[review_id % 10],
            }
            for part_id, review_id in ids
        ],
    )
    db.session.commit()


def reports_of() -> dict[int, list[int]]:
    from sqlalchemy import select

    from reviews.extensions import db
    from reviews.people.models import Person

    children: dict[int, list[int]] = {}
    for pid, manager in db.session.execute(select(Person.id, Person.manager_id)):
        if manager is not None:
            children.setdefault(manager, []).append(pid)
    return children


def count_below(pid: int, children: dict[int, list[int]] | None = None) -> int:
    """Everyone below this person in the reporting tree."""
    children = reports_of() if children is None else children
    stack, total = [pid], 0
    while stack:
        for child in children.get(stack.pop(), []):
            total += 1
            stack.append(child)
    return total


def manager_with_org_near(size: int, *, at_least: bool = False) -> Any:
    """The manager whose org (everyone below them) is closest to `size` people,
    or with `at_least` the smallest org of at least that size."""
    from reviews.extensions import db
    from reviews.people.models import Person

    children = reports_of()
    below = {pid: count_below(pid, children) for pid in children}
    # The smallest org of at least `size` people (the synthetic tree has 7 reports a
    # manager, so orgs come in sizes 7, 56, 399, 2,800...), else the largest.
    big_enough = [pid for pid in below if below[pid] >= size]
    if at_least and big_enough:
        best = min(big_enough, key=lambda pid: below[pid])
    else:
        best = min(below, key=lambda pid: abs(below[pid] - size))
    return db.session.get(Person, best), below[best]


def calibration_group(hr: Any, cycle: Any, size: int) -> tuple[list[Any], int]:
    """A calibration session of at least `size` people, as close to it as the org allows.

    The synthetic orgs come in sizes 7, 56, 399, 2,800..., so the smallest org of at
    least `size` people is usually much bigger. As HR does in a large org, its
    biggest sub-orgs are calibrated in sessions of their own first while what is
    left stays above `size`; the session measured is the rest of the org.
    """
    from sqlalchemy import func, select

    from reviews.calibration import operations as cal_ops
    from reviews.calibration.models import CalibrationMember, GroupKind
    from reviews.extensions import db
    from reviews.people.models import Person

    def open_org(manager: Any) -> Any:
        return cal_ops.open_session(
            hr,
            cycle,
            GroupKind.MANAGER_ORG,
            department=None,
            manager=manager,
            managers_calibrate=True,
        )

    manager, org = manager_with_org_near(size, at_least=True)
    reports = list(db.session.scalars(select(Person).where(Person.manager_id == manager.id)))
    children = reports_of()
    below = {p.id: count_below(p.id, children) for p in reports}
    left, before = org, []
    for report in sorted(reports, key=lambda p: -below[p.id]):
        if below[report.id] and left - below[report.id] >= size:
            before.append(open_org(report))
            left -= below[report.id]
    session = open_org(manager)
    db.session.flush()
    members = db.session.scalar(
        select(func.count()).where(CalibrationMember.session_id == session.id)
    )
    return [session, *before], int(members or 0)


# One database -------------------------------------------------------------------------


def measure(database_url: str, label: str, args: argparse.Namespace) -> dict[str, Any]:
    instance = Path(tempfile.mkdtemp(prefix=f"reviews-bench-{label}-"))
    env = environment(database_url, instance)
    result: dict[str, Any] = {"database": label, "people": args.people}
    print(f"[{label}] schema and a synthetic org of {args.people} people", flush=True)
    flask(env, "db", "upgrade")
    start = time.perf_counter()
    flask(env, "demo", "--people", str(args.people))
    result["org_build_seconds"] = round(time.perf_counter() - start, 2)
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "REVIEWS_INSTANCE_PATH", "REVIEWS_ENV")}
    os.environ.update({k: env[k] for k in saved})
    try:
        result.update(in_process(label, args))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    result["gunicorn"] = under_gunicorn(env, args, result.pop("_cycle_id"))
    return result


def in_process(label: str, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import func, select

    from reviews import create_app
    from reviews.extensions import db

    result: dict[str, Any] = {}
    app = create_app()
    app.test_client_class = client_class()
    # As wsgi.py does for the app gunicorn serves; undone after, for a caller (the
    # test suite) that goes on in this process.
    gc.collect()
    gc.freeze()
    try:
        with app.app_context():
            result["server_version"] = (
                db.session.execute(select(func.version())).scalar()
                if db.engine.dialect.name == "postgresql"
                else f"SQLite {sqlite3.sqlite_version}"
            )
            result.update(run_cycle(app, args))
            db.session.remove()
            db.engine.dispose()
    finally:
        gc.unfreeze()
    return result


def table_rows() -> dict[str, int]:
    from sqlalchemy import func, inspect, select, table

    from reviews.extensions import db

    names = inspect(db.engine).get_table_names()
    counts = {
        name: db.session.scalar(select(func.count()).select_from(table(name))) or 0
        for name in names
        if name != "alembic_version"
    }
    db.session.commit()  # on SQLite even a read holds the write lock until it ends
    return counts


def settle() -> None:
    """After a bulk write, do what PostgreSQL's autovacuum does within a minute or so on
    a live server: VACUUM (the rows that updates left dead: the cycle's figures are
    rewritten by every change of a review, 900,000 dead rows for 14,000 live ones at
    100,000 people) and ANALYZE (the new row counts, for the planner). The benchmark's
    server may run with autovacuum off, as this machine's does. SQLite keeps no
    statistics unless asked, and the app never asks, so nothing is done there."""
    from reviews.extensions import db

    if db.engine.dialect.name == "postgresql":
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


LIMIT_RUNS = 3  # runs of Core executemany behind the launch's ratio (the median is kept)
# Launches timed, the same way: the first ones are rolled back, the last is committed
# and the cycle goes on. Each is timed to its last statement; the kept one's commit
# (flushing its log) is added to their median.
LAUNCH_RUNS = 3


def core_executemany(rows: int) -> float:
    from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

    from reviews.db import utcnow
    from reviews.extensions import db

    meta = MetaData()
    scratch = Table(
        "bench_rows",
        meta,
        Column("id", Integer, primary_key=True),
        Column("a", Integer),
        Column("b", Integer),
        Column("c", String(60)),
        Column("d", DateTime(timezone=True)),
    )
    meta.drop_all(db.engine, checkfirst=True)
    meta.create_all(db.engine)
    now = utcnow()
    data = [{"a": i, "b": i % 97, "c": "draft", "d": now} for i in range(rows)]
    start = time.perf_counter()
    with db.engine.begin() as conn:
        conn.execute(scratch.insert(), data)
    elapsed = time.perf_counter() - start
    meta.drop_all(db.engine)
    return elapsed


def same_tables_executemany(cycle_id: int) -> tuple[float, int]:
    """(seconds, rows) of a Core executemany of the rows launch wrote for `cycle_id`
    (its reviews, parts, notices and figures) into the same tables, with their keys,
    indexes and triggers, for a copy of the cycle, rolled back.

    Beside the scratch-table limit: this is the row-by-row way of doing launch's own
    work, so the two differ only in how the rows are sent, not in what the database
    checks for each. The rows are read before the clock starts; the parts' and
    notices' review ids are mapped to the copies' inside it."""
    from sqlalchemy import insert, select

    from reviews.extensions import db

    tables = db.metadata.tables
    review, part, notice = tables["review"], tables["assessment"], tables["notification"]
    figure_tables = [tables["cycle_group_figures"], tables["cycle_manager_figures"]]
    cycle = tables["cycle"]

    def rows(stmt: Any, *drop: str) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in r.items() if k not in drop}
            for r in db.session.execute(stmt).mappings()
        ]

    ids = select(review.c.id).where(review.c.cycle_id == cycle_id)
    reviews = rows(select(review).where(review.c.cycle_id == cycle_id).order_by(review.c.id))
    parts = rows(select(part).where(part.c.review_id.in_(ids)), "id")
    notices = rows(
        select(notice).where(notice.c.target == "cycles.self_part", notice.c.target_id.in_(ids)),
        "id",
    )
    figures = [rows(select(t).where(t.c.cycle_id == cycle_id)) for t in figure_tables]
    copy = rows(select(cycle).where(cycle.c.id == cycle_id), "id")[0]
    db.session.commit()
    with db.engine.connect() as conn:
        transaction = conn.begin()
        copy_id = conn.execute(
            insert(cycle)
            .values({**copy, "name": f"{copy['name']} (executemany)"})
            .returning(cycle.c.id)
        ).scalar_one()
        old_ids = [r.pop("id") for r in reviews]
        for r in [*reviews, *(r for group in figures for r in group)]:
            r["cycle_id"] = copy_id
        start = time.perf_counter()
        new_ids = conn.execute(
            insert(review).returning(review.c.id, sort_by_parameter_order=True), reviews
        ).scalars()
        to_copy = dict(zip(old_ids, new_ids, strict=True))
        conn.execute(insert(part), [{**r, "review_id": to_copy[r["review_id"]]} for r in parts])
        conn.execute(insert(notice), [{**r, "target_id": to_copy[r["target_id"]]} for r in notices])
        for table, group in zip(figure_tables, figures, strict=True):
            if group:
                conn.execute(insert(table), group)
        elapsed = time.perf_counter() - start
        transaction.rollback()
    written = len(reviews) + len(parts) + len(notices) + sum(len(g) for g in figures)
    return elapsed, written


def run_cycle(app: Any, args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import select

    from reviews.calibration import operations as cal_ops
    from reviews.calibration.views import uncalibrated_count
    from reviews.cycles import operations as ops
    from reviews.cycles.models import Review
    from reviews.cycles.workflow import CycleState
    from reviews.extensions import db
    from reviews.framework.models import Competency
    from reviews.people.models import Person

    out: dict[str, Any] = {"pages": {}}
    people = {
        e: db.session.scalar(select(Person).where(Person.email == e))
        for e in ("hr@example.com", "em@example.com", "dev@example.com")
    }
    hr, em, dev = people["hr@example.com"], people["em@example.com"], people["dev@example.com"]
    keys = list(db.session.scalars(select(Competency.key).order_by(Competency.id)))
    today = date.today()
    # The org was just built; a real one was imported days before its first cycle, and
    # autovacuum has long since cleared what the import left. This machine's server runs
    # with autovacuum off, and the generator writes every person three times (insert,
    # manager, path): 200,000 dead rows at 100,000 people, which every one of launch's
    # key checks on `person` walks past (0.3-0.6 s of launch).
    settle()
    with app.test_request_context():
        cycle = ops.create_cycle(
            hr,
            ops.CycleFields.for_everyone("Benchmark cycle", today),
        )
        db.session.commit()
        before = table_rows()
        print(f"  launch for {args.people} people ({LAUNCH_RUNS} runs)", flush=True)
        runs = []
        for run in range(LAUNCH_RUNS):
            start = time.perf_counter()
            ops.advance_cycle(hr, cycle, CycleState.SELF_REVIEW)
            db.session.flush()
            runs.append(time.perf_counter() - start)
            if run < LAUNCH_RUNS - 1:
                db.session.rollback()
                settle()  # the rolled-back rows, dead now
        start = time.perf_counter()
        db.session.commit()
        commit = time.perf_counter() - start
        launch = statistics.median(runs) + commit
    after = table_rows()
    written = sum(after[t] - before.get(t, 0) for t in after)
    # the limit's median of three: one executemany of 400,000 rows varies by 15% from
    # run to run on this machine, more than the margin the target is about
    limit = statistics.median(core_executemany(written) for _ in range(LIMIT_RUNS))
    same_tables, same_rows = same_tables_executemany(cycle.id)
    settle()
    out["launch"] = {
        "seconds": round(launch, 3),
        "runs_seconds": [round(r, 3) for r in runs],
        "commit_seconds": round(commit, 3),
        "rows": written,
        "executemany_seconds": round(limit, 3),
        "ratio": round(launch / limit, 2),
        "same_tables_seconds": round(same_tables, 3),
        "same_tables_rows": same_rows,
        "same_tables_ratio": round(launch / same_tables, 2),
    }
    review_of = {
        r.subject_id: r.id
        for r in db.session.scalars(select(Review).where(Review.cycle_id == cycle.id))
    }
    clients = {p.email: sign_in(app, p.email) for p in (hr, em, dev)}
    pages = out["pages"]
    print("  pages in the self-review phase", flush=True)
    pages["employee home"] = timed_page(app, clients[dev.email], "/", args.repeat)
    pages["self-review form"] = timed_page(
        app, clients[dev.email], f"/reviews/{review_of[dev.id]}/self", args.repeat
    )
    fill_self_parts(cycle, keys)
    with app.test_request_context():
        ops.advance_cycle(hr, cycle, CycleState.PEER_FEEDBACK)
        db.session.commit()
    out["peer_feedback_rows"] = add_peer_feedback(cycle, keys)
    settle()
    with app.test_request_context():
        ops.advance_cycle(hr, cycle, CycleState.MANAGER_REVIEW)
        db.session.commit()
    print("  pages in the manager-review phase", flush=True)
    pages["manager team page"] = timed_page(
        app, clients[em.email], f"/cycles/{cycle.id}/team", args.repeat
    )
    fill_manager_parts(cycle, keys)
    settle()
    with app.test_request_context():
        ops.advance_cycle(hr, cycle, CycleState.CALIBRATION)
        sessions, size = calibration_group(hr, cycle, args.calibration_size)
        session = sessions[0]
        db.session.commit()
    settle()
    print(f"  calibration page for {size} people", flush=True)
    pages["HR cycle progress"] = timed_page(
        app, clients[hr.email], f"/cycles/{cycle.id}", args.repeat
    )
    pages["HR dashboard"] = timed_page(
        app, clients[hr.email], f"/cycles/{cycle.id}/dashboard", args.repeat
    )
    calibration = timed_page(
        app, clients[hr.email], f"/calibration/{session.id}", max(5, args.repeat // 3)
    )
    calibration["people"] = size
    pages["calibration page"] = calibration
    # The rater-effects model is fitted when the group's ratings change: the first view
    # after a change pays for the fit, the others read it from the process's cache.
    app.extensions["rater_models"].clear()
    start = time.perf_counter()
    answer = clients[hr.email].get(f"/calibration/{session.id}")
    answer.get_data()
    answer.close()
    out["calibration_first_view_ms"] = round((time.perf_counter() - start) * 1000, 1)
    with app.test_request_context():
        for each in sessions:
            cal_ops.finish_session(hr, each)
        if uncalibrated_count(cycle):
            cal_ops.finalise_uncalibrated(hr, cycle)
        db.session.commit()
        start = time.perf_counter()
        ops.advance_cycle(hr, cycle, CycleState.RELEASED)  # proposes every growth plan
        db.session.commit()
        out["release_seconds"] = round(time.perf_counter() - start, 2)
    settle()
    print("  exports", flush=True)
    out["exports"] = exports(clients[hr.email], cycle.id)
    print("  growth-plan PDFs", flush=True)
    out["pdf"] = pdfs(app, clients[dev.email], review_of[dev.id], hr, cycle, args)
    out["coach"] = coach()
    out["_cycle_id"] = cycle.id
    return out


EXPORT_RUNS = 3  # timed runs of each export and of its limit (the medians are kept)


def exports(client: Any, cycle_id: int) -> dict[str, Any]:
    """Each report export of the whole cycle, as HR asks for it: median seconds, peak
    traced memory, and its limit: for the CSV, PostgreSQL's COPY of the report's own
    SELECT read by psycopg (none on SQLite); for the XLSX, XlsxWriter alone writing the
    report's rows, fetched beforehand. Each timed export is followed by a run of its
    limit, so that a machine busy with something else slows both alike."""
    from functools import partial

    from reviews.cycles.models import Cycle
    from reviews.extensions import db
    from reviews.reports.exports import report_rows, report_select

    cycle = db.session.get(Cycle, cycle_id)
    postgres = db.engine.dialect.name == "postgresql"
    result: dict[str, Any] = {}
    for kind in ("csv", "xlsx"):
        limit: Any = None
        if kind == "csv" and postgres:
            stmt = report_select(cycle)
            sql = str(
                stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
            )
            limit = partial(copy_seconds, sql)
        elif kind == "xlsx":
            rows = list(report_rows(cycle))
            limit = partial(xlsxwriter_seconds, rows)
        db.session.commit()  # no transaction (nor SQLite's lock) held meanwhile
        url = f"/cycles/{cycle_id}/report.{kind}"
        export_seconds(client, url)  # warm
        tracemalloc.start()
        export_seconds(client, url)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        timings, limit_timings = [], []
        if limit is not None:
            limit()  # warm
        for _ in range(EXPORT_RUNS):
            seconds, size = export_seconds(client, url)
            timings.append(seconds)
            if limit is not None:
                limit_timings.append(limit())
        figures = result[kind] = {
            "seconds": round(statistics.median(timings), 3),
            "bytes": size,
            "peak_traced_mb": round(peak / 2**20, 1),
        }
        if limit_timings:
            name = "copy" if kind == "csv" else "xlsxwriter"
            figures[f"{name}_seconds"] = round(statistics.median(limit_timings), 3)
            figures[f"{name}_ratio"] = round(figures["seconds"] / figures[f"{name}_seconds"], 2)
    result["xlsx"]["rows"] = len(rows)
    del rows, limit
    gc.collect()
    return result


def export_seconds(client: Any, url: str) -> tuple[float, int]:
    """Seconds and bytes of one export, read to the end as a browser would."""
    start = time.perf_counter()
    answer = client.get(url)
    size = sum(len(chunk) for chunk in answer.response)
    answer.close()
    return time.perf_counter() - start, size


def copy_seconds(sql: str) -> float:
    """Seconds of `COPY (<sql>) TO STDOUT WITH CSV`, every byte read by psycopg: the
    database's own fastest way to hand over the same rows as CSV."""
    from reviews.extensions import db

    with db.engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        start = time.perf_counter()
        with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT WITH CSV") as copy:
            for _data in copy:
                pass
        seconds = time.perf_counter() - start
        conn.rollback()
    return seconds


def xlsxwriter_seconds(rows: list[Any]) -> float:
    """Seconds of XlsxWriter alone (constant-memory mode, the export's options) writing
    `rows`, already in memory, a write_row each, into a spooled file."""
    from tempfile import SpooledTemporaryFile

    import xlsxwriter

    start = time.perf_counter()
    with SpooledTemporaryFile(max_size=8 * 1024 * 1024) as out:
        book = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        sheet = book.add_worksheet("Reviews")
        for r, row in enumerate(rows, start=1):
            sheet.write_row(r, 0, row)
        book.close()
    return time.perf_counter() - start


def pdfs(
    app: Any, client: Any, review_id: int, hr: Any, cycle: Any, args: argparse.Namespace
) -> dict[str, Any]:
    from sqlalchemy import func, select

    from reviews.cycles.models import Review
    from reviews.cycles.queries import org_manager_ids
    from reviews.documents.pdf import render_pdf, stylesheet
    from reviews.extensions import db
    from reviews.growth.models import GrowthPlan
    from reviews.growth.operations import plan_for
    from reviews.growth.views import growth_plan_html

    url = f"/reviews/{review_id}/plan.pdf"
    client.get(url).close()  # warm: fonts, stylesheet, templates
    review = db.session.get(Review, review_id)
    with app.test_request_context():
        html = growth_plan_html(review, plan_for(review))
    db.session.commit()
    css = stylesheet()
    render_pdf(html, css)
    # The plan through the app and WeasyPrint alone on its HTML, taken in turns so
    # that the machine's drifts and the garbage collector weigh on both alike.
    plan_times, static_times = [], []
    for _ in range(args.pdf_repeat):
        start = time.perf_counter()
        answer = client.get(url)
        body = answer.get_data()
        answer.close()
        plan_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        render_pdf(html, css)
        static_times.append(time.perf_counter() - start)
    from bench import shards

    manager, _size = manager_with_org_near(args.bulk_plans)
    plans = db.session.scalar(
        select(func.count())
        .select_from(Review)
        .join(GrowthPlan, GrowthPlan.review_id == Review.id)
        .where(Review.cycle_id == cycle.id, Review.manager_id.in_(org_manager_ids(manager.id)))
    )
    db.session.commit()
    bulk = shards.measure(app, hr, cycle, manager, plans, args.bulk_workers, args.bulk_runs)
    plan = statistics.median(plan_times)
    static = statistics.median(static_times)
    return {
        "plan_seconds": round(plan, 3),
        "static_seconds": round(static, 3),
        "ratio": round(plan / static, 2),
        "pdf_bytes": len(body),
        "html_characters": len(html),
        "bulk": bulk,
    }


def coach() -> dict[str, Any]:
    from bench.coach import review_text
    from reviews.coach.analysis import analyse

    text = review_text(2000)
    analyse(text, 4)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        analyse(text, 4)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "words": len(text.split()),
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * 49)], 2),
    }


# Under gunicorn ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_sign_in(base: str, email: str) -> str:
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/auth/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    data = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    opener.open(base + "/auth/login", data.encode())
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def under_gunicorn(env: dict[str, str], args: argparse.Namespace, cycle_id: int) -> dict[str, Any]:
    from bench import http_load

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "bench" / "gunicorn.conf.py"),
            "-w",
            "2",
            "-k",
            "sync",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "bench.wsgi_bench:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        dev, em = http_sign_in(base, "dev@example.com"), http_sign_in(base, "em@example.com")
        targets = {
            "one-query route": (base + "/bench/one-query", None),
            # the cheapest signed-in page: session, user, CSRF token, the base layout
            "signed-in form (floor)": (base + "/auth/password", dev),
            "employee home": (base + "/", dev),
            "manager team page": (base + f"/cycles/{cycle_id}/team", em),
        }
        out: dict[str, Any] = {}
        for name, (url, cookie) in targets.items():
            http_load.run(url, 1, args.connections, cookie)  # warm both workers
            r = http_load.run(url, args.load_seconds, args.connections, cookie)
            out[name] = {
                "tool": r.tool,
                "requests": r.requests,
                "errors": r.errors,
                "rps": round(r.rps, 1),
                "p50_ms": round(r.p50_ms, 2),
                "p99_ms": round(r.p99_ms, 2),
            }
        bare = out["one-query route"]["rps"]
        out["home_share"] = round(out["employee home"]["rps"] / bare, 2) if bare else None
        out["manager_share"] = round(out["manager team page"]["rps"] / bare, 2) if bare else None
        out["floor_share"] = round(out["signed-in form (floor)"]["rps"] / bare, 2) if bare else None
        return out
    finally:
        server.terminate()
        server.wait(timeout=20)


# Report ----------------------------------------------------------------------------------------


def launch_limit(people: int) -> float:
    """Launch against a Core executemany of as many rows: within 2x for a small org,
    within 1x from 100,000 people (issue 22), where its set-based statements win."""
    return TARGETS["launch_large_ratio"] if people >= LARGE_ORG else TARGETS["launch_ratio"]


def verdicts(r: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(measure, figure, target, met) for one database's results."""
    rows = []
    launch = r["launch"]
    limit = launch_limit(r["people"])
    rows.append(
        (
            f"launch of {r['people']} ({launch['rows']} rows)",
            f"{launch['seconds']} s = {launch['ratio']}x executemany "
            f"({launch['executemany_seconds']} s)",
            f"<= {limit}x",
            launch["ratio"] <= limit,
        )
    )
    if "same_tables_seconds" in launch:  # runs from 2026-12-05 on
        rows.append(
            (
                f"launch vs executemany of its own {launch['same_tables_rows']} rows "
                "into its own tables",
                f"{launch['same_tables_ratio']}x ({launch['same_tables_seconds']} s)",
                "-",
                True,
            )
        )
    for name, page in r["pages"].items():
        limit = TARGETS["calibration_p95_ms" if name == "calibration page" else "page_p95_ms"]
        label = name + (f" ({page['people']} people)" if "people" in page else "")
        rows.append(
            (
                label,
                f"median {page['median_ms']} ms, p95 {page['p95_ms']} ms, "
                f"{page['statements']} statements",
                f"p95 < {limit:.0f} ms",
                page["p95_ms"] < limit,
            )
        )
    if "calibration_first_view_ms" in r:
        rows.append(
            (
                "calibration page, first view after ratings change (model fitted)",
                f"{r['calibration_first_view_ms']} ms",
                "(once per change)",
                True,
            )
        )
    g = r["gunicorn"]
    for name in ("one-query route", "signed-in form (floor)", "employee home", "manager team page"):
        if name not in g:  # results of runs before the floor was measured
            continue
        x = g[name]
        rows.append(
            (
                f"gunicorn: {name}",
                f"{x['rps']} req/s, p50 {x['p50_ms']} ms, p99 {x['p99_ms']} ms, "
                f"{x['errors']} errors",
                "" if name == "one-query route" else "-",
                x["errors"] == 0,
            )
        )
    rows.append(
        (
            "gunicorn: home throughput / one-query route",
            f"{g['home_share']:.0%}",
            f">= {TARGETS['home_throughput_share']:.0%}",
            (g["home_share"] or 0) >= TARGETS["home_throughput_share"],
        )
    )
    if g.get("floor_share") is not None:
        rows.append(
            (
                "gunicorn: signed-in floor / one-query route",
                f"{g['floor_share']:.0%}",
                "-",
                True,
            )
        )
    memory = TARGETS["export_memory_mb"]
    e = r["exports"]["csv"]
    within = e["peak_traced_mb"] < memory
    if "copy_ratio" in e:
        figure = f"{e['seconds']} s = {e['copy_ratio']}x COPY ({e['copy_seconds']} s)"
        within = within and e["copy_ratio"] <= TARGETS["csv_copy_ratio"]
    else:
        figure = f"{e['seconds']} s (no COPY to compare with on SQLite)"
    rows.append(
        (
            f"CSV export of {r['people']} reviews",
            f"{figure}, peak {e['peak_traced_mb']} MB traced, {e['bytes'] // 1024} KB",
            f"<= {TARGETS['csv_copy_ratio']}x COPY (PostgreSQL), < {memory:.0f} MB",
            within,
        )
    )
    e = r["exports"]["xlsx"]
    if "xlsxwriter_ratio" in e:
        figure = (
            f"{e['seconds']} s = {e['xlsxwriter_ratio']}x XlsxWriter alone "
            f"({e['xlsxwriter_seconds']} s)"
        )
        within = e["xlsxwriter_ratio"] <= TARGETS["xlsx_writer_ratio"]
    else:  # a run from before the limit was measured
        figure, within = f"{e['seconds']} s", True
    rows.append(
        (
            f"XLSX export of {r['people']} reviews",
            f"{figure}, peak {e['peak_traced_mb']} MB traced, {e['bytes'] // 1024} KB",
            f"<= {TARGETS['xlsx_writer_ratio']}x XlsxWriter, < {memory:.0f} MB",
            within and e["peak_traced_mb"] < memory,
        )
    )
    p = r["pdf"]
    rows.append(
        (
            "growth-plan PDF (warm)",
            f"{p['plan_seconds']} s vs {p['static_seconds']} s static = {p['ratio']}x",
            f"<= {TARGETS['pdf_ratio']}x",
            p["ratio"] <= TARGETS["pdf_ratio"],
        )
    )
    b = p["bulk"]
    counts = sorted(int(k.split("_")[1]) for k in b if k.startswith("workers_"))
    first, last = counts[0], counts[-1]
    # 2 workers: 1.8x; more: 80% of linear (4 workers, 3.2x), the target.
    limit = TARGETS["bulk_speedup"] if last == 2 else round(0.8 * last / first, 2)
    how = (
        f"on RQ worker processes, {b['shards']} shards of {b['shard_size']}"
        if b.get("rq_workers")
        else "in one job's process pool"
    )
    rows.append(
        (
            f"bulk ZIP of {b['plans']} plans {how}"
            + (f" (median of {b['runs']} runs)" if b.get("runs") else ""),
            ", ".join(
                f"{n} worker{'s' if n != 1 else ''} {b[f'workers_{n}']['plans_per_second']}/s"
                for n in counts
            )
            + f" = {b['speedup']}x",
            f">= {limit}x",
            b["speedup"] >= limit,
        )
    )
    c = r["coach"]
    rows.append(
        (
            f"feedback analysis of {c['words']} words",
            f"median {c['median_ms']} ms, p95 {c['p95_ms']} ms",
            f"< {TARGETS['coach_ms']:.0f} ms",
            c["p95_ms"] < TARGETS["coach_ms"],
        )
    )
    return rows


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "cpu": next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        ),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Run on {report['date']}: {report['machine']['cores']} cores "
        f"({report['machine']['cpu']}), Python {report['machine']['python']}.",
        "",
    ]
    for r in report["databases"]:
        lines += [
            f"### {r['database']}: {r['people']} people ({r['server_version'].split(' on ')[0]})",
            "",
            f"Org built in {r['org_build_seconds']} s; {r['peer_feedback_rows']} peer feedbacks; "
            f"release (proposing every growth plan) {r['release_seconds']} s.",
            "",
            "| Measure | Result | Target | Met |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {m} | {fig} | {t} | {'yes' if ok else '**no**'} |" for m, fig, t, ok in verdicts(r)
        ]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES_URL"),
        help="a PostgreSQL server URL; the run uses a fresh database reviews_bench",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--repeat", type=int, default=30, help="requests per page")
    parser.add_argument("--pdf-repeat", type=int, default=9)
    parser.add_argument("--calibration-size", type=int, default=1000)
    parser.add_argument("--bulk-plans", type=int, default=60)
    parser.add_argument("--bulk-runs", type=int, default=3, help="bulk ZIP runs per worker count")
    parser.add_argument(
        "--bulk-workers",
        type=lambda text: sorted({int(n) for n in text.split(",")}),
        default=[1, 2],
        help="RQ worker processes to time the bulk ZIP on, e.g. 1,2,4 (default 1,2)",
    )
    parser.add_argument("--load-seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="small and short: for CI")
    parser.add_argument("--write-docs", action="store_true", help="rewrite docs/benchmarks.md")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.repeat, args.pdf_repeat, args.load_seconds = 5, 2, 2
        args.bulk_runs = 1
        args.bulk_plans, args.calibration_size = (
            min(args.bulk_plans, 8),
            min(args.calibration_size, 100),
        )
    targets = [] if args.no_sqlite else [("SQLite", None)]
    if args.postgres:
        targets.append(("PostgreSQL", args.postgres))
    report: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "targets": TARGETS,
        "databases": [],
    }
    for label, url in targets:
        if url is None:
            folder = Path(tempfile.mkdtemp(prefix="reviews-bench-db-"))
            database_url = f"sqlite:///{folder / 'bench.db'}"
        else:
            database_url = fresh_postgres(url)
        report["databases"].append(measure(database_url, label, args))
    text = markdown(report)
    print()
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    (args.out / f"{stamp}-{args.people}.json").write_text(json.dumps(report, indent=2) + "\n")
    if args.write_docs:
        write_docs(text, people=args.people)
    return report


BEGIN, END = "<!-- results: written by make bench -->", "<!-- end of results -->"


def markers(people: int) -> tuple[str, str]:
    """The markers of one size's tables: a run of 100,000 people does not replace
    the tables of 10,000 (the default size keeps the markers it always had)."""
    if people == 10_000:
        return BEGIN, END
    return (
        f"<!-- results of {people} people: written by make bench -->",
        f"<!-- end of results of {people} people -->",
    )


def write_docs(text: str, path: Path = DOCS, people: int = 10_000) -> None:
    """Put the tables between the markers of their size in docs/benchmarks.md, keeping
    the notes written around them; another size's block goes after the default's,
    and a missing file is started afresh."""
    begin, end = markers(people)
    block = f"{begin}\n{text}\n{end}"
    old = path.read_text() if path.exists() else ""
    if begin in old and end in old:
        before, rest = old.split(begin, 1)
        after = rest.split(end, 1)[1]
        path.write_text(before + block + after)
        return
    if old and END in old:
        head, tail = old.split(END, 1)
        path.write_text(f"{head}{END}\n\n{block}{tail}")
        return
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        "# Benchmarks\n\n"
        "Made by `make bench` (`python -m bench`; see `bench/run.py` for what each "
        "figure measures). The JSON of each run is in `bench/results/`.\n\n" + block + "\n"
    )
