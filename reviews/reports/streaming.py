"""A SELECT's rows read through a server-side cursor, a batch of `FETCH` rows at a time,
each batch finished by the caller's function (the exports in reviews.reports.exports).

On PostgreSQL with psycopg a thread of the stream's own fetches the batches while the
caller finishes and writes the one before (`read_ahead`); elsewhere SQLAlchemy's
server-side cursor reads as it goes (`streamed`). Either way memory holds a few
batches whatever the number of rows, and the SELECT is one statement.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from reviews.extensions import db

T = TypeVar("T")
# Rows a fetch: a batch (its rows, then its text) takes about 2 KB a row, so a batch
# stays near 2 MB whatever the cycle; 100 round trips for 100,000 reviews cost nothing.
# With the reader thread's batch ahead, batches of 2,000 peaked at 14 MB traced.
FETCH = 1000


def batches(stmt: Select[Any], finish: Callable[[Sequence[Any]], list[T]]) -> Iterator[list[T]]:
    """The rows of `stmt`, `finish`ed a batch at a time, the best way the database has."""
    return read_ahead(stmt, finish) if read_ahead_supported() else streamed(stmt, finish)


def streamed(stmt: Select[Any], finish: Callable[[Sequence[Any]], list[T]]) -> Iterator[list[T]]:
    """The rows of `stmt` through a server-side cursor, `finish`ed a batch of `FETCH`
    at a time. The raw rows of a batch are dropped as soon as they are finished: only
    the finished batch is held while it is written. The cursor is closed even when the
    reader stops early (as a client that goes away does)."""
    result = db.session.connection().execute(
        stmt.execution_options(stream_results=True, yield_per=FETCH)
    )
    try:
        yield from iter(lambda: finish(result.fetchmany(FETCH)), [])
    finally:
        result.close()


class _DeclareCursor(Executable, ClauseElement):
    """PostgreSQL's DECLARE of a server-side cursor for a SELECT (bound as usual)."""

    inherit_cache = False

    def __init__(self, name: str, query: Select[Any]) -> None:
        self.name, self.query = name, query


@compiles(_DeclareCursor, "postgresql")
def _declare(element: _DeclareCursor, compiler: Any, **kw: Any) -> str:
    return f"DECLARE {element.name} NO SCROLL CURSOR FOR {compiler.process(element.query, **kw)}"


_cursor_names = itertools.count()


# Batches the reader thread may have fetched that the writer has not taken yet. Beside
# them, the writer holds the batch it finishes (its rows, then its text) and the thread
# the one it fetches: about four batches' worth, 8 MB, at most (7.3 MB traced at
# 10,000 reviews in docs/benchmarks.md).
AHEAD = 1


def read_ahead(stmt: Select[Any], finish: Callable[[Sequence[Any]], list[T]]) -> Iterator[list[T]]:
    """`streamed` on PostgreSQL with psycopg, the fetching done by a thread of its own:
    while a batch is finished and written here, the thread reads the next one off the
    socket, so the database computes and sends the rows as it does for a COPY, instead
    of stopping whenever the socket's buffer is full until the writer asks again (a
    batch ahead in one thread still waited on the database for a third of the export).

    The caller must not use the session's connection until the stream ends, and must
    end it: read it to its end or close it (the writers in reports.spreadsheets close
    what they were given, also when they fail), so that the thread stops and the cursor
    is closed before the request's transaction ends, as when a client goes away. The
    rows come from the driver as they are (no SQLAlchemy result types): the
    statement's columns must be text, numbers and dates.
    """
    connection = db.session.connection()
    raw: psycopg.Connection[Any] = connection.connection.dbapi_connection  # type: ignore[assignment]
    name = f"export_{next(_cursor_names)}"
    connection.execute(_DeclareCursor(name, stmt))
    fetch = f"FETCH FORWARD {FETCH} FROM {name}"
    batches: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def hand_over(item: list[Any] | BaseException) -> bool:
        """Put `item` in the queue once there is room; False if the reader stopped."""
        while not stop.is_set():
            try:
                batches.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while True:
                # a cursor a batch: closing it lets go of the driver's copy of the rows
                with raw.cursor() as cursor:
                    cursor.execute(fetch)
                    rows = cursor.fetchall()
                if not hand_over(rows) or len(rows) < FETCH:  # short: the last
                    return
        except BaseException as exc:  # raised again by the reader
            hand_over(exc)

    reader = threading.Thread(target=read, name=name, daemon=True)
    reader.start()
    try:
        while True:
            got = batches.get()
            if isinstance(got, BaseException):
                raise got
            last = len(got) < FETCH
            # neither the rows nor the finished batch held here while it is written (the
            # reader drops it once written)
            box = [got]
            del got
            yield finish(box.pop())
            if last:
                return
    finally:
        stop.set()
        reader.join()  # at most the FETCH under way
        ours: Any = raw  # the driver's connection, as SQLAlchemy's pool types it
        still_ours = not connection.closed and connection.connection.dbapi_connection is ours
        if still_ours and raw.info.transaction_status == TransactionStatus.INTRANS:
            raw.execute(f"CLOSE {name}")


def read_ahead_supported() -> bool:
    connection = db.session.connection()
    return connection.dialect.driver == "psycopg"
