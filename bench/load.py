"""Load: Reviews under gunicorn (2 workers) on PostgreSQL over loopback, with K
simulated people walking one cycle through its phases at once.

    .venv/bin/python -m bench.load [--users 50] [--seconds 120]
        [--database postgresql://postgres@127.0.0.1:5432/test]

Everything lives in a schema of its own in that database, dropped afterwards.
Phases, each with its share of the time: self-reviews (open, autosave a draft,
submit), peer feedback, manager reviews, calibration edits (each review by one
calibrator), with HR advancing the cycle over HTTP in between.  Afterwards
every part a client saw accepted must be in the database exactly once (and
nothing else submitted), every accepted calibration edit must be in the
ledger, and no request may have failed.  Prints throughput and latency; exits
1 on any error or mismatch.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from reviews.demo import DEMO_PASSWORD as PASSWORD  # every synthetic person's

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TEXT = "In the March migration they kept the rollback plan current, which cut the outage short."

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
NUMBER = re.compile(r"/\d+")
FIELD = re.compile(r'name="((?:rating|comment)_[^"]+|[a-z_]+)"')


# --- HTTP -------------------------------------------------------------------------------


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    by_route: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, route: str, seconds: float) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_route.setdefault(route, []).append(seconds)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


class Browser:
    """One person's session: cookies kept by hand (the app's cookies are Secure in
    production, and this talks plain HTTP on loopback)."""

    def __init__(self, port: int, stats: Stats) -> None:
        self.port, self.stats, self.cookies = port, stats, {}
        self.csrf = ""

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, ok: Iterable[int] = ()
    ) -> tuple[int, dict[str, str], str]:
        body = urlencode(form) if form is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            status = response.status
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    self.cookies[key] = rest.split(";", 1)[0]
            response_headers = {k.lower(): v for k, v in response.getheaders()}
        except OSError as exc:
            self.stats.error(f"{method} {path}: {exc}")
            return 0, {}, ""
        finally:
            conn.close()
        route = method + " " + NUMBER.sub("/<id>", path)
        self.stats.record(route, time.perf_counter() - started)
        if status not in (ok or (200, 302, 303)):
            self.stats.error(f"{method} {path}: {status}")
        return status, response_headers, text

    def get(self, path: str) -> str:
        status, _, text = self.request("GET", path, ok=(200,))
        if match := CSRF.search(text):
            self.csrf = match.group(1)
        return text if status == 200 else ""

    def post(self, path: str, form: dict[str, str], ok: Iterable[int] = (302, 303)) -> int:
        status, _, _ = self.request("POST", path, {**form, "csrf_token": self.csrf}, ok=ok)
        return status

    def sign_in(self, email: str) -> bool:
        self.get("/auth/login")
        return self.post("/auth/login", {"email": email, "password": PASSWORD}) == 302


def fill_part(page: str, rating: int) -> dict[str, str] | None:
    """The values a person would enter in a self, peer or manager part, submitted."""
    version = VERSION.search(page)
    if version is None:
        return None
    form = {"version": version.group(1), "action": "submit"}
    for name in set(FIELD.findall(page)):
        if name.startswith("rating_"):
            form[name] = str(rating)
        elif (
            name in {"accomplishments", "growth", "strengths", "growth_areas", "suggestion"}
            or name == "summary"
        ):
            form[name] = TEXT
        elif name == "overall":
            form[name] = str(rating)
        elif name == "potential":
            form[name] = "medium"
        elif name == "readiness":
            form[name] = "not_yet"
    return form


# --- the organisation and the server -------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(database_url: str, schema: str, users: int, instance: Path) -> dict[str, Any]:
    """Migrate the schema, build the org and a launched cycle with approved peers."""
    env = server_env(database_url, schema, instance)
    subprocess.run(  # noqa: S603
        [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REVIEWS_INSTANCE_PATH")})
    from sqlalchemy import select

    from reviews import create_app
    from reviews.cycles import operations as ops
    from reviews.cycles.models import Review
    from reviews.demo import build_synthetic_org
    from reviews.extensions import db
    from reviews.people.models import Person, Role

    app = create_app({"SECRET_KEY": env["SECRET_KEY"], "REVIEWS_ENV": "production"})
    with app.app_context(), app.test_request_context():
        build_synthetic_org(max(users, 10))
        hr = db.session.scalar(select(Person).where(Person.role == Role.HR))
        today = date.today()
        cycle = ops.create_cycle(
            hr,
            ops.CycleFields.for_everyone("Load test cycle", today, peer_min=1),
        )
        from reviews.cycles.workflow import CycleState

        ops.advance_cycle(hr, cycle, CycleState.SELF_REVIEW)
        reviews = list(
            db.session.scalars(
                select(Review).where(Review.cycle_id == cycle.id).order_by(Review.id)
            )
        )
        with_manager = [r for r in reviews if r.manager_id is not None]
        # One approved peer each: the next colleague with the same manager, else anyone.
        by_manager: dict[int, list[Review]] = {}
        for r in with_manager:
            by_manager.setdefault(r.manager_id, []).append(r)
        for r in with_manager:
            team = by_manager[r.manager_id]
            peer_review = team[(team.index(r) + 1) % len(team)] if len(team) > 1 else None
            peer = peer_review.subject if peer_review else hr
            ops.add_peer(r.manager, r, peer)
        db.session.commit()
        people = {p.id: p.email for p in db.session.scalars(select(Person).where(Person.active))}
        from reviews.cycles.models import PeerRequest

        plan = {
            "requests": {
                q.id: q.review_id
                for q in db.session.scalars(
                    select(PeerRequest).join(Review).where(Review.cycle_id == cycle.id)
                )
            },
            "cycle_id": cycle.id,
            "hr": hr.email,
            "emails": people,
            "reviews": [(r.id, r.subject_id, r.manager_id) for r in reviews],
            "director": db.session.scalar(
                select(Person.email).where(Person.manager_id.is_(None), Person.role != Role.HR)
            ),
        }
        db.session.remove()
        db.engine.dispose()
    return plan


def server_env(database_url: str, schema: str, instance: Path) -> dict[str, str]:
    instance.mkdir(parents=True, exist_ok=True)
    # Every simulated person signs in from 127.0.0.1: the per-address sign-in budget
    # is meant for the internet, not for this.
    (instance / "config.py").write_text('RATE_LIMITS = {"sign-in": (100000, 60)}\n')
    sep = "&" if "?" in database_url else "?"
    env = {
        **os.environ,
        "DATABASE_URL": f"{database_url}{sep}options=-csearch_path%3D{schema}",
        "REVIEWS_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "REVIEWS_INSTANCE_PATH": str(instance),
    }
    env.pop("REDIS_URL", None)
    return env


# --- the walk -------------------------------------------------------------------------------


@dataclass
class Outcome:
    submitted: set[tuple[int, str, int]] = field(default_factory=set)  # review, kind, author
    calibrated: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def part(self, review_id: int, kind: str, author: int) -> None:
        with self.lock:
            self.submitted.add((review_id, kind, author))

    def edit(self, review_id: int) -> None:
        with self.lock:
            self.calibrated.add(review_id)


def rating_for(review_id: int) -> int:
    return 2 + review_id % 3


def run_phase(
    name: str, users: int, jobs: list[Callable[[], None]], deadline: float, log: list[str]
) -> None:
    started = time.perf_counter()
    done = [0]

    def guarded(job: Callable[[], None]) -> None:
        if time.monotonic() < deadline:
            job()
            done[0] += 1

    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(guarded, jobs))
    log.append(f"{name}: {done[0]}/{len(jobs)} people in {time.perf_counter() - started:.1f} s")


def walk(port: int, plan: dict[str, Any], users: int, seconds: float, stats: Stats) -> Outcome:
    outcome = Outcome()
    emails: dict[int, str] = plan["emails"]
    reviews = plan["reviews"]
    cycle_id = plan["cycle_id"]
    hr = Browser(port, stats)
    if not hr.sign_in(plan["hr"]):
        raise SystemExit("HR cannot sign in")
    budget = seconds / 4
    log: list[str] = []

    def advance(target: str) -> None:
        hr.get(f"/cycles/{cycle_id}")
        hr.post(f"/cycles/{cycle_id}/advance", {"target": target})

    def self_review(review_id: int, subject: int) -> Callable[[], None]:
        def job() -> None:
            me = Browser(port, stats)
            if not me.sign_in(emails[subject]):
                return
            me.get("/")
            page = me.get(f"/reviews/{review_id}/self")
            form = fill_part(page, 3)
            if form is None:
                return stats.error(f"no self form for review {review_id}")
            draft = {**form, "action": "save", "csrf_token": me.csrf}
            status, _, body = me.request(
                "POST", f"/reviews/{review_id}/self/autosave", draft, ok=(200,)
            )
            if status == 200 and (m := re.search(r'"version":\s*(\d+)', body)):
                form["version"] = m.group(1)
            if me.post(f"/reviews/{review_id}/self", form) in (302, 303):
                outcome.part(review_id, "self", subject)

        return job

    def peer_feedback(person: int) -> Callable[[], None]:
        def job() -> None:
            me = Browser(port, stats)
            if not me.sign_in(emails[person]):
                return
            inbox = me.get("/requests")
            for request_id in sorted(set(re.findall(r'href="/requests/(\d+)"', inbox))):
                page = me.get(f"/requests/{request_id}")
                form = fill_part(page, 4)
                if form is None:
                    stats.error(f"no peer form for request {request_id}")
                    continue
                if me.post(f"/requests/{request_id}", form) in (302, 303):
                    outcome.part(plan["requests"][int(request_id)], "peer", person)

        return job

    def manager_review(manager: int, review_ids: list[int]) -> Callable[[], None]:
        def job() -> None:
            me = Browser(port, stats)
            if not me.sign_in(emails[manager]):
                return
            me.get("/")
            for review_id in review_ids:
                form = fill_part(me.get(f"/reviews/{review_id}/manager"), rating_for(review_id))
                if form is None:
                    stats.error(f"no manager form for review {review_id}")
                    continue
                if me.post(f"/reviews/{review_id}/manager", form) in (302, 303):
                    outcome.part(review_id, "manager", manager)

        return job

    def calibrate(email: str, session_id: int, review_ids: list[int]) -> Callable[[], None]:
        def job() -> None:
            me = Browser(port, stats)
            if not me.sign_in(email):
                return
            me.get(f"/calibration/{session_id}")
            for review_id in review_ids:
                page = me.get(f"/calibration/{session_id}/reviews/{review_id}")
                version = VERSION.search(page)
                if version is None:
                    stats.error(f"no calibration form for review {review_id}")
                    continue
                form = {
                    "version": version.group(1),
                    "overall": str(rating_for(review_id) % 5 + 1),
                    "rationale": "Calibrated against the level's expectations.",
                    "action": "save",
                }
                if me.post(f"/calibration/{session_id}/reviews/{review_id}", form) in (302, 303):
                    outcome.edit(review_id)

        return job

    start = time.monotonic()
    run_phase(
        "self-reviews",
        users,
        [self_review(r, s) for r, s, _ in reviews],
        start + budget,
        log,
    )
    advance("peer_feedback")
    run_phase(
        "peer feedback",
        users,
        [peer_feedback(p) for p in sorted(emails)],
        start + 2 * budget,
        log,
    )
    advance("manager_review")
    by_manager: dict[int, list[int]] = {}
    for review_id, _subject, manager in reviews:
        if manager is not None:
            by_manager.setdefault(manager, []).append(review_id)
    run_phase(
        "manager reviews",
        users,
        [manager_review(m, ids) for m, ids in by_manager.items()],
        start + 3 * budget,
        log,
    )
    advance("calibration")
    hr.get(f"/cycles/{cycle_id}/calibration")
    hr.post(
        f"/cycles/{cycle_id}/calibration",
        {"group_kind": "manager_org", "manager_email": plan["director"], "managers_calibrate": "y"},
    )
    page = hr.get(f"/cycles/{cycle_id}/calibration")
    session = re.search(r'href="/calibration/(\d+)"', page)
    if session is None:
        stats.error("no calibration session opened")
        return outcome
    session_id = int(session.group(1))
    # Each submitted manager review is calibrated once, by HR or by the direct manager.
    calibrated = sorted(r for r, kind, _ in outcome.submitted if kind == "manager")
    manager_of = {r: m for r, _s, m in reviews}
    assignments: dict[str, list[int]] = {}
    for n, review_id in enumerate(calibrated):
        who = plan["hr"] if n % 2 == 0 else emails[manager_of[review_id]]
        assignments.setdefault(who, []).append(review_id)
    run_phase(
        "calibration edits",
        users,
        [calibrate(email, session_id, ids) for email, ids in assignments.items()],
        start + 4 * budget,
        log,
    )
    print("\n".join(log))
    return outcome


def verify(database_url: str, schema: str, cycle_id: int, outcome: Outcome) -> list[str]:
    """Every accepted part in the database exactly once, nothing more; every edit in the ledger."""
    import psycopg

    problems: list[str] = []
    with psycopg.connect(database_url, options=f"-csearch_path={schema}") as conn:
        rows = conn.execute(
            "SELECT a.review_id, a.kind, a.author_id, count(*) FROM assessment a "
            "JOIN review r ON r.id = a.review_id "
            "WHERE r.cycle_id = %s AND a.state = 'submitted' "
            "GROUP BY a.review_id, a.kind, a.author_id",
            (cycle_id,),
        ).fetchall()
        twice = [r for r in rows if r[3] != 1]
        if twice:
            problems.append(f"parts stored more than once: {twice[:5]}")
        stored = {(r[0], r[1], r[2]) for r in rows}
        if missing := outcome.submitted - stored:
            problems.append(f"{len(missing)} accepted parts are not stored: {sorted(missing)[:5]}")
        if extra := stored - outcome.submitted:
            problems.append(f"{len(extra)} parts stored that no client saw accepted")
        ledger = conn.execute(
            "SELECT review_id, count(*) FROM calibration_change WHERE field = 'overall' "
            "GROUP BY review_id"
        ).fetchall()
        changed = {r[0]: r[1] for r in ledger}
        if set(changed) != outcome.calibrated or any(n != 1 for n in changed.values()):
            problems.append(
                f"calibration ledger {len(changed)} reviews vs {len(outcome.calibrated)} accepted"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="simulated people at once")
    parser.add_argument("--seconds", type=float, default=120, help="time for the whole walk")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--database",
        default=os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    )
    parser.add_argument(
        "--people", type=int, default=0, help="size of the organisation (default: --users)"
    )
    args = parser.parse_args(argv)
    schema = f"load_{uuid.uuid4().hex[:10]}"
    stats = Stats()
    import psycopg

    with psycopg.connect(args.database, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            instance = Path(tmp) / "instance"
            plan = prepare(args.database, schema, args.people or args.users, instance)
            port = free_port()
            env = server_env(args.database, schema, instance)
            server = subprocess.Popen(  # noqa: S603
                [
                    str(BIN / "gunicorn"),
                    "--workers",
                    str(args.workers),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--backlog",
                    "2048",
                    "--timeout",
                    "120",
                    "wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            deadline = time.monotonic() + 30
            while True:
                probe = Browser(port, Stats())
                if probe.request("GET", "/healthz", ok=(200,))[0] == 200:
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"gunicorn did not start: {server.stderr.read().decode()}")
                time.sleep(0.2)
            started = time.perf_counter()
            outcome = walk(port, plan, args.users, args.seconds, stats)
            elapsed = time.perf_counter() - started
            problems = verify(args.database, schema, plan["cycle_id"], outcome)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        with psycopg.connect(args.database, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

    latencies = sorted(stats.latencies)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0
    parts = len(outcome.submitted)
    print(
        f"{args.users} users, {args.workers} gunicorn workers, {len(latencies)} requests "
        f"in {elapsed:.1f} s: {len(latencies) / elapsed:.0f} req/s, "
        f"median {statistics.median(latencies or [0]) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    print(
        f"parts submitted {parts} (each stored exactly once: {'yes' if not problems else 'no'}), "
        f"calibration edits {len(outcome.calibrated)}, errors {len(stats.errors)}"
    )
    print("slowest routes by total time (count, median, p95):")
    for route, times in sorted(stats.by_route.items(), key=lambda kv: -sum(kv[1]))[:6]:
        times.sort()
        print(
            f"  {route}: {len(times)}, {statistics.median(times) * 1000:.0f} ms, "
            f"{times[int(0.95 * (len(times) - 1))] * 1000:.0f} ms"
        )
    for line in stats.errors[:20]:
        print("error:", line)
    for line in problems:
        print("mismatch:", line)
    return 1 if stats.errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
