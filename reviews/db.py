"""Declarative base, column types and the per-connection SQLite settings."""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import has_request_context, request
from sqlalchemy import DateTime, Enum, Index, MetaData, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def string_enum(cls: type[enum.Enum], name: str) -> Enum:
    """An enum stored as its string values with a named CHECK constraint (no native
    type: adding a value is then a plain migration on both databases)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_loads(text: str | bytes) -> Any:
    """The JSON columns' decoder on both databases (the engine's json_deserializer).

    orjson decodes the rating and answer documents several times faster than the
    standard library; a calibration page or an export reads thousands of them.
    What orjson refuses and the standard library writes (NaN, integers past 64
    bits) falls back to the standard library, so nothing stored becomes unreadable.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event below issue BEGIN itself (IMMEDIATE unless
    # the request only reads): with pysqlite's own deferred transactions
    # concurrent read-modify-writes are silently lost (STACK-NOTES).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# Requests that only read; a GET that writes after all upgrades on its first write.
_READING_METHODS = frozenset({"GET", "HEAD"})
# conn.info flag: this SQLite transaction began deferred and has not written yet.
_DEFERRED = "reviews.sqlite_deferred"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    conn.info.pop(_DEFERRED, None)  # info lives with the pooled connection, not the transaction
    if has_request_context() and request.method in _READING_METHODS:
        # A page view only reads as a rule: a deferred BEGIN takes no lock, so
        # workers read side by side in WAL mode instead of queueing for the
        # write lock (and starving each other past the busy timeout).
        conn.exec_driver_sql("BEGIN")
        conn.info[_DEFERRED] = True
    else:
        # Everything else takes the write lock up front, so concurrent
        # read-modify-writes are never lost (STACK-NOTES).
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_upgrade_before_write(
    conn: Connection,
    cursor: Any,
    statement: str,
    _parameters: Any,
    context: Any,
    _executemany: bool,
) -> None:
    """Turn a reading request's deferred transaction into BEGIN IMMEDIATE at its
    first write (a GET that records an audit event, a token's last use, ...).

    Safe because nothing was written before: ending the read-only transaction
    loses nothing, and the write lock is then taken, waiting up to the busy
    timeout, as in every other transaction. SQLite would otherwise refuse to
    upgrade a read snapshot that another connection has since written past
    (SQLITE_BUSY_SNAPSHOT, at once, without waiting). Rows read before the
    upgrade may be older than the database the write lands in, as under
    PostgreSQL's read committed: what page views write are inserts and plain
    overwrites, and the concurrent-edit checks are `UPDATE ... WHERE version=?`
    (version_id_col), evaluated inside the write transaction, so a stale read
    still cannot overwrite a newer save. A SAVEPOINT upgrades too, so that a
    nested transaction is never cut by the COMMIT. SQLAlchemy's own COMMIT or
    ROLLBACK then ends the IMMEDIATE transaction (isolation_level=None:
    pysqlite issues them only when a transaction is open, and one is).
    """
    if not conn.info.get(_DEFERRED):
        return
    writes = context is not None and (context.isinsert or context.isupdate or context.isdelete)
    if not writes and not statement.lstrip()[:9].upper().startswith(_WRITE_VERBS):
        return
    dbapi_connection = cursor.connection
    dbapi_connection.execute("COMMIT")
    try:
        dbapi_connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        # Still locked after the busy timeout: stay inside a read transaction, as
        # SQLAlchemy believes, instead of running on in autocommit mode.
        dbapi_connection.execute("BEGIN")
        raise
    del conn.info[_DEFERRED]


# Indexes on an expression that autogenerate cannot compare (SQLAlchemy reflects
# them only in part; a PostgreSQL-only one is absent from the models): their
# migrations write them by hand, and `flask db check` leaves them out.
UNCOMPARED_INDEXES = frozenset(
    {"ix_manager_figures_behind", "ix_person_search", "ix_person_lower_name"}
)


def compared_in_autogenerate(obj: Any, name: str | None, type_: str, *_args: Any) -> bool:
    """Alembic's include_object: everything but UNCOMPARED_INDEXES."""
    return not (type_ == "index" and name in UNCOMPARED_INDEXES)


# Triggers the database keeps derived rows by (counters, figures, org paths) ------------


def execute_all(connection: Connection, statements: Iterable[str]) -> None:
    """Run SQL written by the app's own modules (no value from outside) in order."""
    for statement in statements:
        connection.exec_driver_sql(statement)


def create_with(table: Any, statements_for: Callable[[Any, str], list[str]]) -> None:
    """Whenever the metadata creates `table` (the tests' create_all), run the
    statements `statements_for(table, dialect name)` gives: its triggers. The
    migrations create the same triggers explicitly."""

    def after_create(target: Any, connection: Connection, **_kw: Any) -> None:
        execute_all(connection, statements_for(target, connection.dialect.name))

    event.listen(table, "after_create", after_create)


def unique_where_set(table: str, column: str) -> Index:
    """A unique index of the rows whose `column` has a value (named as the unique
    constraint would be): the rows without one, most of them, are not written into it,
    and any number of them may exist, as under a unique constraint."""
    where = text(f"{column} IS NOT NULL")
    return Index(
        f"uq_{table}_{column}", column, unique=True, postgresql_where=where, sqlite_where=where
    )
