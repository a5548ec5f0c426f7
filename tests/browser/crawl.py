"""Walk every page a signed-in person can reach by following links, a few of each kind.

Shared by the accessibility and layout tests, so pages added later are checked
without anyone listing them. Only same-origin GET links are followed; files
(PDF, CSV, XLSX, ZIP) and the API are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urldefrag, urlsplit

from reviews.demo import DEMO_PASSWORD

ACCOUNTS = ("hr@example.com", "em@example.com", "dev@example.com")
SKIP = re.compile(
    r"^/(api/|static/|auth/logout)|/download$|\.(pdf|csv|xlsx|zip|json)$|/export|/pdf\b"
)
PER_KIND = 2  # pages of the same shape (/people/3, /people/7) visited at most
MAX_PAGES = 150


def sign_in(page: Any, base: str, email: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def shape(path: str) -> str:
    """/cycles/3/reviews/17?tab=x -> /cycles/#/reviews/#?tab; framework keys count as ids."""
    parts = urlsplit(path)
    query = "&".join(sorted(p.split("=")[0] for p in parts.query.split("&") if p))
    generic = re.sub(r"/(levels|competencies)/[^/]+", r"/\1/#", parts.path)
    return re.sub(r"\d+", "#", generic) + ("?" + query if query else "")


def crawl(page: Any, base: str) -> Iterator[str]:
    """Visit pages breadth-first from the home page; yield each path once it is loaded."""
    queue = ["/"]
    seen = {"/"}
    kinds: dict[str, int] = {}
    visited = 0
    while queue and visited < MAX_PAGES:
        path = queue.pop(0)
        response = page.goto(base + path)
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        visited += 1
        yield path
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for href in hrefs:
            url, _ = urldefrag(href)
            if not url.startswith(base):
                continue
            found = url[len(base) :] or "/"
            if found in seen or SKIP.search(urlsplit(found).path):
                continue
            seen.add(found)
            kind = shape(found)
            if kinds.get(kind, 0) >= PER_KIND:
                continue
            kinds[kind] = kinds.get(kind, 0) + 1
            queue.append(found)
