"""Org chart CSV: parse, validate as a whole, and plan the changes.

Pure: no request, no database.  The operations module applies a plan.
The file is the whole organisation: people missing from it are deactivated.
Its problems are written in the reader's language (`gettext`: English outside a
request or command).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from reviews.languages import force_locale, gettext, ngettext

REQUIRED_COLUMNS = ("email", "name", "manager_email", "department", "level", "role")
ROLES = ("employee", "manager", "hr")
MAX_PEOPLE = 50_000
MAX_NAME = 200
MAX_DEPARTMENT = 100
MAX_EMAIL = 254
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+$")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return str(gettext("line %(line)d: %(message)s", line=self.line, message=self.message))


@dataclass(frozen=True)
class OrgRow:
    line: int
    email: str
    name: str
    manager_email: str | None
    department: str | None
    level_key: str | None
    role: str


@dataclass(frozen=True)
class ExistingPerson:
    email: str
    name: str
    manager_email: str | None
    department: str | None
    level_key: str | None
    role: str
    active: bool


@dataclass
class ImportPlan:
    create: list[OrgRow] = field(default_factory=list)
    update: list[tuple[OrgRow, list[str]]] = field(default_factory=list)
    reactivate: list[str] = field(default_factory=list)
    deactivate: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return len(self.create) + len(self.update) + len(self.deactivate)

    def said(self) -> str:
        """The summary in the reader's language (the CLI's lines)."""
        return str(
            gettext(
                "%(new)s new, %(updated)s updated (%(reactivated)s reactivated), "
                "%(deactivated)s deactivated, %(unchanged)s unchanged",
                new=len(self.create),
                updated=len(self.update),
                reactivated=len(self.reactivate),
                deactivated=len(self.deactivate),
                unchanged=self.unchanged,
            )
        )

    def summary(self) -> str:
        """In English: the audit event's and the API's record of the import."""
        with force_locale("en"):
            return self.said()


def _decode(data: bytes) -> tuple[str | None, RowError | None]:
    if not data.strip():
        return None, RowError(1, gettext("the file is empty"))
    if data.startswith(b"\xef\xbb\xbf"):  # Excel's "CSV UTF-8" writes a BOM
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, RowError(
            line, gettext('the file is not UTF-8 text; save it as "CSV UTF-8" and try again')
        )


def parse_org_csv(data: bytes, levels: Mapping[str, str]) -> tuple[list[OrgRow], list[RowError]]:
    """Parse the file; `levels` maps a lower-cased level key or name to its key.

    Returns every row and every error found; any error means nothing may be written.
    """
    text, error = _decode(data)
    if error or text is None:
        return [], [error or RowError(1, gettext("the file is empty"))]
    reader = csv.reader(io.StringIO(text, newline=""))
    errors: list[RowError] = []
    try:
        header = next(reader)
    except (csv.Error, StopIteration) as exc:
        return [], [RowError(1, gettext("the header cannot be read (%(problem)s)", problem=exc))]
    columns = [c.strip().lower() for c in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        return [], [
            RowError(
                1,
                gettext(
                    "missing column(s): %(missing)s; the header must name %(required)s",
                    missing=", ".join(missing),
                    required=", ".join(REQUIRED_COLUMNS),
                ),
            )
        ]
    duplicated = sorted({c for c in columns if c and columns.count(c) > 1})
    if duplicated:
        return [], [
            RowError(
                1, gettext("column(s) named twice: %(columns)s", columns=", ".join(duplicated))
            )
        ]
    index = {c: columns.index(c) for c in REQUIRED_COLUMNS}

    rows: list[OrgRow] = []
    unreadable: set[str] = set()  # emails on rows too broken to parse
    previous_end = reader.line_num
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(
                RowError(
                    reader.line_num, gettext("cannot be read as CSV (%(problem)s)", problem=exc)
                )
            )
            break
        line = previous_end + 1
        previous_end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            errors.append(
                RowError(
                    line,
                    ngettext(
                        "has %(num)d field where the header has %(columns)d",
                        "has %(num)d fields where the header has %(columns)d",
                        len(cells),
                        columns=len(columns),
                    ),
                )
            )
            if len(cells) > index["email"]:
                unreadable.add(cells[index["email"]].strip().lower())
            continue
        if len(rows) >= MAX_PEOPLE:
            errors.append(
                RowError(
                    line,
                    ngettext(
                        "the file has more than %(num)d person",
                        "the file has more than %(num)d people",
                        MAX_PEOPLE,
                    ),
                )
            )
            break
        row, row_errors = _parse_row(line, {c: cells[i].strip() for c, i in index.items()}, levels)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    if not rows and not errors:
        errors.append(RowError(1, gettext("the file lists no people")))
    errors.extend(_check_references(rows, unreadable))
    errors.sort(key=lambda e: e.line)
    return rows, errors


def _parse_row(
    line: int, cell: dict[str, str], levels: Mapping[str, str]
) -> tuple[OrgRow | None, list[RowError]]:
    errors: list[RowError] = []
    email = cell["email"].lower()
    if not email:
        errors.append(RowError(line, gettext("email is empty")))
    elif len(email) > MAX_EMAIL or not EMAIL_PATTERN.match(email):
        errors.append(
            RowError(line, gettext("%(email)s is not an email address", email=repr(cell["email"])))
        )
    name = cell["name"]
    if not name:
        errors.append(RowError(line, gettext("name is empty")))
    elif len(name) > MAX_NAME:
        errors.append(
            RowError(
                line,
                ngettext(
                    "name is longer than %(num)d character",
                    "name is longer than %(num)d characters",
                    MAX_NAME,
                ),
            )
        )
    manager = cell["manager_email"].lower() or None
    department = cell["department"] or None
    if department and len(department) > MAX_DEPARTMENT:
        errors.append(
            RowError(
                line,
                ngettext(
                    "department is longer than %(num)d character",
                    "department is longer than %(num)d characters",
                    MAX_DEPARTMENT,
                ),
            )
        )
    level_key = None
    if cell["level"]:
        level_key = levels.get(cell["level"].lower())
        if level_key is None:
            errors.append(
                RowError(line, gettext("unknown level %(level)s", level=repr(cell["level"])))
            )
    role = cell["role"].lower() or "employee"
    if role not in ROLES:
        errors.append(
            RowError(
                line,
                gettext(
                    "unknown role %(role)s; use one of %(roles)s",
                    role=repr(cell["role"]),
                    roles=", ".join(ROLES),
                ),
            )
        )
    if email and manager == email:
        errors.append(RowError(line, gettext("%(email)s cannot be their own manager", email=email)))
    if errors:
        # Keep the manager so that loops and unknown managers are still reported.
        kept_manager = None if manager == email else manager
        row = OrgRow(line, email, name, kept_manager, None, None, role) if email else None
        return row, errors
    return OrgRow(line, email, name, manager, department, level_key, role), []


def _check_references(rows: list[OrgRow], unreadable: set[str]) -> list[RowError]:
    errors: list[RowError] = []
    by_email: dict[str, OrgRow] = {}
    for row in rows:
        first = by_email.get(row.email)
        if first is not None:
            errors.append(
                RowError(
                    row.line,
                    gettext(
                        "duplicate email %(email)s (first on line %(line)d)",
                        email=row.email,
                        line=first.line,
                    ),
                )
            )
        else:
            by_email[row.email] = row
    for row in rows:
        if (
            row.manager_email
            and row.manager_email not in by_email
            and row.manager_email not in unreadable
        ):
            errors.append(
                RowError(
                    row.line,
                    gettext(
                        "unknown manager %(email)s (not in this file)", email=row.manager_email
                    ),
                )
            )
    errors.extend(_manager_loops(by_email))
    return errors


def _manager_loops(by_email: dict[str, OrgRow]) -> list[RowError]:
    errors: list[RowError] = []
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for start in by_email:
        path: list[str] = []
        email: str | None = start
        while email is not None and email in by_email and state.get(email) is None:
            state[email] = 1
            path.append(email)
            manager = by_email[email].manager_email
            email = manager if manager != email else None
        if email is not None and state.get(email) == 1:
            loop = path[path.index(email) :]
            rows = sorted((by_email[e] for e in loop), key=lambda r: r.line)
            chain = " -> ".join([*loop, loop[0]])
            lines = ", ".join(str(r.line) for r in rows)
            errors.append(
                RowError(
                    rows[0].line,
                    gettext("manager loop: %(chain)s (lines %(lines)s)", chain=chain, lines=lines),
                )
            )
        for e in path:
            state[e] = 2
    return errors


def _fold(name: str | None) -> str | None:
    return name.casefold() if name else None


def plan_import(rows: list[OrgRow], existing: Mapping[str, ExistingPerson]) -> ImportPlan:
    """What applying `rows` to the people in `existing` (by email) would change."""
    plan = ImportPlan()
    in_file = set()
    for row in rows:
        in_file.add(row.email)
        current = existing.get(row.email)
        if current is None:
            plan.create.append(row)
            continue
        changed = [
            name
            for name, old, new in (
                ("name", current.name, row.name),
                ("manager", current.manager_email, row.manager_email),
                ("department", _fold(current.department), _fold(row.department)),
                ("level", current.level_key, row.level_key),
                ("role", current.role, row.role),
            )
            if old != new
        ]
        if not current.active:
            changed.append("active")
            plan.reactivate.append(row.email)
        if changed:
            plan.update.append((row, changed))
        else:
            plan.unchanged += 1
    plan.deactivate = sorted(e for e, p in existing.items() if p.active and e not in in_file)
    return plan
