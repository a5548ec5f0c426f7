"""Backups and restores of the whole database.

SQLite: the online backup API copies a consistent snapshot while the app
keeps running; restore copies a backup back into the live file the same way.
PostgreSQL: ``pg_dump -Fc`` (custom format) and ``pg_restore --clean`` in one
transaction, both found on PATH.  When Reviews runs in a schema other than
``public`` (its ``search_path``), only that schema is dumped and restored.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from reviews.languages import gettext


class BackupError(RuntimeError):
    """The backup or restore could not be done; the message is one line for the operator."""


def default_path(engine: Engine, folder: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if engine.dialect.name == "sqlite" else "dump"
    return folder / f"reviews-{stamp}.{suffix}"


def backup(engine: Engine, target: Path) -> Path:
    target = target.resolve()
    if target.exists():
        raise BackupError(gettext("%(path)s exists already; choose another file", path=target))
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed when complete: a crash never leaves
    # a file that looks like a backup but is not one.
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if engine.dialect.name == "sqlite":
            _sqlite_backup(_sqlite_file(engine), partial)
        else:
            _pg_run("pg_dump", engine, ["--format=custom", "--no-owner", f"--file={partial}"])
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def restore(engine: Engine, source: Path) -> None:
    if not source.is_file():
        raise BackupError(gettext("%(path)s is not a file", path=source))
    engine.dispose()  # no pooled connection may hold on to the old data
    if engine.dialect.name == "sqlite":
        _sqlite_restore(source, _sqlite_file(engine))
    else:
        _pg_run(
            "pg_restore",
            engine,
            ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(source)],
        )


def _sqlite_file(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError(gettext("the SQLite database is in memory: nothing to back up"))
    return Path(database)


def _sqlite_backup(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
    _check_sqlite(target)


def _check_sqlite(path: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (result,) = conn.execute("PRAGMA integrity_check").fetchone()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            gettext("%(path)s is not a SQLite database (%(problem)s)", path=path, problem=exc)
        ) from exc
    if result != "ok":
        raise BackupError(gettext("%(path)s is damaged: %(problem)s", path=path, problem=result))
    if not {"person", "cycle", "review"} <= tables:
        raise BackupError(gettext("%(path)s is not a Reviews database", path=path))


def _sqlite_restore(source: Path, target: Path) -> None:
    _check_sqlite(source)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # takes the write lock, replaces every page, in one step
    finally:
        dst.close()
        src.close()


def _pg_run(tool: str, engine: Engine, args: list[str]) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(
            gettext("%(tool)s is not on PATH; install the PostgreSQL client tools", tool=tool)
        )
    url = make_url(engine.url.render_as_string(hide_password=False))
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password  # not on the command line, where ps shows it
    libpq = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    engine.dispose()
    schema_args = [f"--schema={schema}"] if schema != "public" else []
    result = subprocess.run(  # noqa: S603  # fixed program, arguments from our own config
        [program, f"--dbname={libpq}", *schema_args, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [
            gettext("exit status %(status)s", status=result.returncode)
        ]
        raise BackupError(gettext("%(tool)s failed: %(problem)s", tool=tool, problem=lines[-1]))
