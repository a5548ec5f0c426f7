"""PDF rendering with WeasyPrint, fetching nothing but the package's own static files.

`render_pdf` takes finished HTML (user text already escaped by the template)
and is a plain function of its arguments, so bulk jobs can run it in worker
processes that are recycled (WeasyPrint's memory grows with each document).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

STATIC = (Path(__file__).resolve().parent.parent / "static").resolve()


class StaticOnlyFetcher(URLFetcher):
    """Serves files under the package's static folder; refuses everything else.

    No http(s), no data exfiltration through user text, no file outside the
    folder (``..`` and symlinks are resolved first).  Every URL asked for is
    kept in `requested`, so tests can prove what was (not) fetched.
    """

    def __init__(self) -> None:
        super().__init__(timeout=5, allowed_protocols=("file",), allow_redirects=False)
        self.requested: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        self.requested.append(url)
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            raise ValueError(f"blocked: {url[:80]}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_file() or not path.is_relative_to(STATIC):
            raise ValueError(f"blocked: {url[:80]}")
        return super().fetch(path.as_uri(), headers)


def render_pdf(html: str, stylesheet: str, fetcher: StaticOnlyFetcher | None = None) -> bytes:
    fetcher = fetcher or StaticOnlyFetcher()
    fonts = FontConfiguration()
    css = CSS(
        string=stylesheet, font_config=fonts, url_fetcher=fetcher, base_url=STATIC.as_uri() + "/"
    )
    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css], font_config=fonts)  # type: ignore[no-any-return]


def stylesheet() -> str:
    return (STATIC / "print.css").read_text(encoding="utf-8")


def page_numbers_css() -> Markup:
    """The page footer's "Page 2 of 5" in the document's language, as a CSS rule for the
    document's own <style> (print.css, the same for every language, gives its look):
    the message's placeholders become CSS page counters."""
    from reviews.languages import gettext

    marks = {"\x00page\x00": "counter(page)", "\x00pages\x00": "counter(pages)"}
    text = str(gettext("Page %(page)s of %(pages)s", page="\x00page\x00", pages="\x00pages\x00"))
    pieces = []
    for piece in re.split("(\x00pages?\x00)", text):
        if piece in marks:
            pieces.append(marks[piece])
        elif piece:
            escaped = piece.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
            pieces.append(f'"{escaped}"')
    rule = "@page { @bottom-right { content: " + " ".join(pieces) + "; } }"
    # the catalogs are ours and every "<" is escaped for CSS: nothing can end the element
    return Markup("<style>" + rule.replace("<", "\\3C ") + "</style>")  # noqa: S704
