"""PDFs of a shard, rendered by a pool of worker processes (reviews.jobs.tasks).

This process makes each document's HTML (it needs the database) while PDF_WORKERS
processes turn earlier ones into PDFs; at most a few documents per worker wait in
memory. The workers are forked from a warm forkserver (`reviews.jobs.renderer`) and
replaced every few documents, since WeasyPrint's memory grows with each.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable
from typing import Any

from reviews.documents.pdf import render_pdf, stylesheet
from reviews.jobs.lifeline import die_with_parent

TASKS_PER_WORKER = 25
IN_FLIGHT_PER_WORKER = 4


def _render(args: tuple[str, str]) -> bytes:
    html, css = args
    return render_pdf(html, css)


def _pool(workers: int) -> Any:
    """Worker processes forked from a warm forkserver (see `reviews.jobs.renderer`).

    multiprocessing.Pool rather than ProcessPoolExecutor: the latter's
    max_tasks_per_child hangs when it replaces workers on Python 3.11.  Workers
    are replaced every few documents, since WeasyPrint's memory grows with each."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["reviews.jobs.renderer"])
    return context.Pool(workers, initializer=die_with_parent, maxtasksperchild=TASKS_PER_WORKER)


def render_all(
    documents: list[tuple[str, Callable[[], str]]],
    workers: int,
    write: Callable[[str, bytes], None],
) -> None:
    """Each (name, HTML maker) as a PDF handed to `write`, in order."""
    css = stylesheet()
    if workers <= 1:
        for name, html in documents:
            write(name, _render((html(), css)))
        return
    from reviews.jobs.renderer import render

    pool = _pool(workers)
    waiting: deque[tuple[str, Any]] = deque()
    try:
        for name, html in documents:
            waiting.append((name, pool.apply_async(render, ((html(), css),))))
            while len(waiting) > IN_FLIGHT_PER_WORKER * workers:
                done_name, result = waiting.popleft()
                write(done_name, result.get())
        while waiting:
            done_name, result = waiting.popleft()
            write(done_name, result.get())
    finally:
        pool.terminate()
        pool.join()
