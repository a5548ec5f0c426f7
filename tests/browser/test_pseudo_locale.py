"""Every page the three demo accounts reach, read in the pseudo-locale, holds no English
the catalogs did not translate, and keeps its layout with text 40% longer.

The pseudo-locale (reviews/catalogs.py) writes every message accented, bracketed and
longer, with no ASCII letter left: plain English on a page is text that was never
marked for translation, or a date formatted by hand. What the organisation wrote
itself (names, departments, the career ladder, cycle names, review text) is data,
not the product's text: a run of English words that appears in the database is
allowed. So are the names that are never translated (reviews.baretext.UNTRANSLATED).
Times that app.js rewrites in the browser's own locale are left out (the browser
has no Deseret dates); the server's own, before that rewrite, are covered by the
tests of reviews.dates.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, String, Text, select

from reviews import create_app
from reviews.baretext import UNTRANSLATED
from reviews.extensions import db
from reviews.languages import PSEUDO

from .crawl import ACCOUNTS, crawl, sign_in
from .test_accessibility import OVERFLOW

TEXTS = """() => {
  const out = [document.title];
  // code; user input; times app.js wrote in the browser's locale; and text marked as
  // written in another language than the page's (a language's own name, the OpenAPI
  // document's English descriptions on the API reference)
  const skip = "script, style, code, pre, kbd, samp, textarea, time, [hidden], body [lang]";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest(skip)) continue;
    const text = node.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.body.querySelectorAll("[title], [aria-label], [placeholder], [alt]")) {
    if (el.closest("time, body [lang]")) continue;
    for (const name of ["title", "aria-label", "placeholder", "alt"]) {
      const value = el.getAttribute(name);
      if (value) out.push(value);
    }
  }
  for (const el of document.body.querySelectorAll("input[type=submit], input[type=button]")) {
    out.push(el.value);
  }
  for (const el of document.body.querySelectorAll("option")) {
    if (!el.closest("body [lang]")) out.push(el.textContent.trim());
  }
  return out.filter(Boolean);
}"""
# a run of English words (ASCII letters, with the punctuation between words)
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[\s,.:;'\u2019()/&-]+[A-Za-z]{2,})*")
# emails, addresses, file names and snake_case identifiers (a CSV column, a code)
MACHINE = re.compile(
    r"\S+@\S+|https?://\S+|\b[\w-]+\.(pdf|csv|xlsx|zip|json)\b|\b[a-z]+(?:_[a-z]+)+\b"
)
# names that are not translated: the org CSV's columns (a file's header), and the
# languages, each by its own name
KEPT = {"email", "name", "department", "level", "role", "English"}


def organisation_texts(app_config: dict[str, Any]) -> str:
    """Every text the database holds (its string, text and JSON columns), one per line."""
    app = create_app(app_config)
    values: list[str] = []
    with app.app_context():
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in db.session.execute(select(*columns)):
                values.extend(str(v) for v in row if v is not None)
        db.session.remove()
        db.engine.dispose()
    return "\n".join(" ".join(v.split()) for v in values)


def untranslated(texts: list[str], data: str) -> list[str]:
    found = []
    for text in texts:
        text = MACHINE.sub(" ", " ".join(text.split()))
        for run in ENGLISH.findall(text):
            # data side by side ("Ada Lovelace, Platform"): each piece is the data's
            pieces = [p.strip(" .-'\u2019") for p in re.split(r"[,;:()/&]", run)]
            if all(
                not p
                or p in data
                or p in UNTRANSLATED
                or p in KEPT
                or not re.search(r"[A-Za-z]{2,}", p)
                for p in pieces
            ):
                continue
            found.append(run)
    return found


def test_every_page_is_translated_in_the_pseudo_locale(live_server, chromium, app_config):
    data = organisation_texts(app_config)
    problems: list[str] = []
    pages = 0
    for account in ACCOUNTS:
        for width in (1280, 375):
            context = chromium.new_context(
                viewport={"width": width, "height": 900},
                extra_http_headers={"Accept-Language": PSEUDO.replace("_", "-")},
            )
            page: Any = context.new_page()
            sign_in(page, live_server, account)
            for path in crawl(page, live_server):
                if width == 1280:
                    pages += 1
                    lang = page.eval_on_selector("html", "el => el.lang")
                    if lang != "en-Dsrt":
                        problems.append(f"{account} {path}: lang {lang!r}")
                    for run in sorted(set(untranslated(page.evaluate(TEXTS), data))):
                        problems.append(f"{account} {path}: {run!r}")
                sideways = page.evaluate(OVERFLOW)
                if sideways:
                    problems.append(f"{account} {path} at {width}px: {sideways}")
            context.close()
    assert pages > 40
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems[:400])
