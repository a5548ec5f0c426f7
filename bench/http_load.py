"""Loopback load: wrk when Debian's wrk is installed, else a small threaded client.

Both keep connections alive and report requests per second with p50 and p99
latency in milliseconds.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    tool: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def run(url: str, seconds: float, connections: int, cookie: str | None = None) -> LoadResult:
    if shutil.which("wrk"):
        return _wrk(url, seconds, connections, cookie)
    return _threads(url, seconds, connections, cookie)


def _wrk(url: str, seconds: float, connections: int, cookie: str | None) -> LoadResult:
    args = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:.0f}s", "--latency"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(x) for x in m.groups())

    def percentile(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    return LoadResult("wrk", total, errors, rps, percentile("50"), percentile("99"))


def _threads(url: str, seconds: float, connections: int, cookie: str | None) -> LoadResult:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop = time.perf_counter() + seconds
    headers = {"Cookie": cookie} if cookie else {}

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.perf_counter() < stop:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                answer = conn.getresponse()
                answer.read()
                if answer.status >= 400:
                    errors[i] += 1
            except (OSError, http.client.HTTPException):
                errors[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                continue
            latencies[i].append((time.perf_counter() - start) * 1000)
        conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    flat = sorted(x for per in latencies for x in per)
    n = len(flat)

    def pct(p: float) -> float:
        return flat[min(n - 1, int(p * (n - 1)))] if n else float("nan")

    return LoadResult("python threads", n, sum(errors), n / elapsed, pct(0.5), pct(0.99))
