"""What a PDF worker process runs.

Bulk jobs fork their workers from a forkserver that imports this module first:
WeasyPrint is loaded and its fonts are found once, there, and every worker
(and every replacement of a recycled worker) starts warm in milliseconds
instead of importing everything again.
"""

from __future__ import annotations

from reviews.documents.pdf import render_pdf


def render(args: tuple[str, str]) -> bytes:
    html, css = args
    return render_pdf(html, css)


def warm() -> None:
    render_pdf("<p>Reviews</p>", "body { font-family: sans-serif; }")


warm()
