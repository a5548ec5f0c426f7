"""PDF rendering with WeasyPrint, fetching nothing but the package's own static files.

`render_pdf` takes finished HTML (user text already escaped by the template)
and is a plain function of its arguments, so bulk jobs can run it in worker
processes that are recycled (WeasyPrint's memory grows with each document).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

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
