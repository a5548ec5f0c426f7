"""Unit tests of the pure org-chart CSV parser, validator and planner (SPEC 9)."""

from __future__ import annotations

import pytest

from reviews.people.orgimport import (
    ExistingPerson,
    OrgRow,
    RowError,
    parse_org_csv,
    plan_import,
)

HEADER = "email,name,manager_email,department,level,role\n"

# What operations.level_lookup() builds from the default framework: lower-cased key or name.
LEVELS = {
    **{
        key: key
        for key in (
            "junior-engineer",
            "engineer",
            "senior-engineer",
            "tech-lead",
            "engineering-manager",
            "senior-engineering-manager",
            "director-of-engineering",
        )
    },
    "junior engineer": "junior-engineer",
    "engineer": "engineer",
    "senior engineer": "senior-engineer",
    "tech lead": "tech-lead",
    "engineering manager": "engineering-manager",
    "senior engineering manager": "senior-engineering-manager",
    "director of engineering": "director-of-engineering",
}


def csv_bytes(*lines: str, header: str = HEADER) -> bytes:
    return (header + "".join(line + "\n" for line in lines)).encode("utf-8")


# Line 1 is the header, so the people below are on lines 2, 3 and 4.
GOOD_LINES = (
    "amara@example.com,Amara Okafor,,Engineering,Director of Engineering,manager",
    "devon@example.com,Devon Clarke,amara@example.com,Engineering,engineer,employee",
    "sofia@example.com,Sofía Álvarez,amara@example.com,Engineering,Senior Engineer,employee",
)

# kind -> (file content, [(line, message fragment), ...]).  Shared with the web and CLI tests.
BAD_FILES: dict[str, tuple[bytes, list[tuple[int, str]]]] = {
    "unknown-manager": (
        csv_bytes(GOOD_LINES[0], "devon@example.com,Devon Clarke,ghost@example.com,Eng,,employee"),
        [(3, "unknown manager ghost@example.com")],
    ),
    "manager-loop": (
        csv_bytes(
            "a@example.com,Ann,b@example.com,Eng,,employee",
            GOOD_LINES[0],
            "b@example.com,Ben,a@example.com,Eng,,employee",
        ),
        [(2, "manager loop")],
    ),
    "duplicate-email": (
        csv_bytes(*GOOD_LINES, "Devon@Example.com,Devon Again,,Eng,,employee"),
        [(5, "duplicate email devon@example.com (first on line 3)")],
    ),
    "unknown-level": (
        csv_bytes(GOOD_LINES[0], "devon@example.com,Devon Clarke,amara@example.com,Eng,Wizard,"),
        [(3, "unknown level 'Wizard'")],
    ),
    "missing-column": (
        csv_bytes(
            "amara@example.com,Amara Okafor,,Engineering,manager",
            header="email,name,manager_email,department,role\n",
        ),
        [(1, "missing column(s): level")],
    ),
    "non-utf8": (
        csv_bytes(*GOOD_LINES[:2]) + "sofia@example.com,Sofía,,Eng,,employee\n".encode("latin-1"),
        [(4, "not UTF-8")],
    ),
    "empty-file": (b"", [(1, "the file is empty")]),
}


@pytest.mark.parametrize(("data", "expected"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_each_kind_of_bad_file_is_reported_on_its_line(data, expected):
    _, errors = parse_org_csv(data, LEVELS)
    assert [e.line for e in errors] == [line for line, _ in expected]
    for error, (_, fragment) in zip(errors, expected, strict=True):
        assert fragment in error.message
        assert str(error).startswith(f"line {error.line}: ")


def test_good_file_parses_every_row():
    rows, errors = parse_org_csv(csv_bytes(*GOOD_LINES), LEVELS)
    assert errors == []
    assert rows == [
        OrgRow(
            2,
            "amara@example.com",
            "Amara Okafor",
            None,
            "Engineering",
            "director-of-engineering",
            "manager",
        ),
        OrgRow(
            3,
            "devon@example.com",
            "Devon Clarke",
            "amara@example.com",
            "Engineering",
            "engineer",
            "employee",
        ),
        OrgRow(
            4,
            "sofia@example.com",
            "Sofía Álvarez",
            "amara@example.com",
            "Engineering",
            "senior-engineer",
            "employee",
        ),
    ]


def single_error(*lines: str) -> RowError:
    _, errors = parse_org_csv(csv_bytes(*lines), LEVELS)
    assert len(errors) == 1, errors
    return errors[0]


def test_three_person_loop_is_reported_once_on_its_first_line():
    error = single_error(
        GOOD_LINES[0],
        "a@example.com,Ann,c@example.com,Eng,,employee",
        "b@example.com,Ben,a@example.com,Eng,,employee",
        "c@example.com,Cat,b@example.com,Eng,,employee",
        "d@example.com,Dan,c@example.com,Eng,,employee",  # hangs off the loop: no own error
    )
    assert error.line == 3
    assert error.message.startswith("manager loop: ")
    assert "(lines 3, 4, 5)" in error.message
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        assert email in error.message
    assert "d@example.com" not in error.message


def test_self_manager_is_its_own_error_not_a_loop():
    error = single_error(GOOD_LINES[0], "ann@example.com,Ann,ANN@example.com,Eng,,employee")
    assert (error.line, error.message) == (3, "ann@example.com cannot be their own manager")


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "ann@example", "ann@@example.com", "ann smith@example.com", "a@b.com;x@y.com"],
    ids=["no-at", "no-dot", "two-ats", "space", "two-addresses"],
)
def test_invalid_email_is_reported(email):
    error = single_error(GOOD_LINES[0], f"{email},Ann,,Eng,,employee")
    assert error.line == 3
    assert "is not an email address" in error.message


def test_empty_email_and_empty_name_are_reported():
    _, errors = parse_org_csv(
        csv_bytes(GOOD_LINES[0], ",Ann,,Eng,,", "ann@example.com,,,Eng,,"), LEVELS
    )
    assert [(e.line, e.message) for e in errors] == [(3, "email is empty"), (4, "name is empty")]


def test_unknown_role_is_reported():
    error = single_error(GOOD_LINES[0], "ann@example.com,Ann,,Eng,,boss")
    assert error.line == 3
    assert error.message.startswith("unknown role 'boss'")


@pytest.mark.parametrize(
    ("cell", "role"),
    [("", "employee"), ("HR", "hr"), (" Manager ", "manager")],
    ids=["blank-is-employee", "upper-case", "padded"],
)
def test_role_is_case_insensitive_and_defaults_to_employee(cell, role):
    rows, errors = parse_org_csv(csv_bytes(f"ann@example.com,Ann,,Eng,,{cell}"), LEVELS)
    assert errors == []
    assert rows[0].role == role


@pytest.mark.parametrize(
    ("cell", "key"),
    [
        ("", None),
        ("senior-engineer", "senior-engineer"),
        ("Senior Engineer", "senior-engineer"),
        ("SENIOR ENGINEER", "senior-engineer"),
        ("  tech lead ", "tech-lead"),
        ("Director-Of-Engineering", "director-of-engineering"),
    ],
    ids=["blank", "key", "name", "name-upper-case", "name-padded", "key-mixed-case"],
)
def test_level_matches_key_or_name_case_insensitively(cell, key):
    rows, errors = parse_org_csv(csv_bytes(f"ann@example.com,Ann,,Eng,{cell},employee"), LEVELS)
    assert errors == []
    assert rows[0].level_key == key


def test_blank_optional_cells_become_none():
    rows, errors = parse_org_csv(csv_bytes("ann@example.com,Ann,,,,"), LEVELS)
    assert errors == []
    assert rows == [OrgRow(2, "ann@example.com", "Ann", None, None, None, "employee")]


def test_utf8_bom_from_excel_is_accepted():
    rows, errors = parse_org_csv(b"\xef\xbb\xbf" + csv_bytes(*GOOD_LINES), LEVELS)
    assert errors == []
    assert [r.email for r in rows] == [
        "amara@example.com",
        "devon@example.com",
        "sofia@example.com",
    ]


def test_header_is_case_and_space_insensitive_in_any_order_with_extra_columns():
    data = csv_bytes(
        "Engineer,x,ann@example.com,,Ann,employee,Eng",
        header=" Level ,Notes,EMAIL,Manager_Email,Name,role,department\n",
    )
    rows, errors = parse_org_csv(data, LEVELS)
    assert errors == []
    assert rows == [OrgRow(2, "ann@example.com", "Ann", None, "Eng", "engineer", "employee")]


def test_crlf_line_endings_are_accepted():
    data = csv_bytes(*GOOD_LINES).replace(b"\n", b"\r\n")
    rows, errors = parse_org_csv(data, LEVELS)
    assert errors == []
    assert [r.line for r in rows] == [2, 3, 4]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (HEADER.encode(), "the file lists no people"),
        (HEADER.encode() + b"\n,,,,,\n\n", "the file lists no people"),
        (b"  \n\r\n\t", "the file is empty"),
    ],
    ids=["header-only", "header-and-blank-rows", "whitespace-only"],
)
def test_file_without_people_is_refused(data, message):
    rows, errors = parse_org_csv(data, LEVELS)
    assert rows == []
    assert [(e.line, e.message) for e in errors] == [(1, message)]


def test_missing_columns_are_all_named():
    _, errors = parse_org_csv(b"email,name\nann@example.com,Ann\n", LEVELS)
    assert len(errors) == 1
    assert errors[0].line == 1
    assert "missing column(s): manager_email, department, level, role" in errors[0].message


def test_column_named_twice_is_refused():
    _, errors = parse_org_csv(csv_bytes(header=HEADER.strip() + ",email\n"), LEVELS)
    assert [(e.line, e.message) for e in errors] == [(1, "column(s) named twice: email")]


@pytest.mark.parametrize(
    ("line", "fields"),
    [("ann@example.com,Ann,,Eng,", 5), ("ann@example.com,Ann,,Eng,,employee,extra", 7)],
    ids=["too-few", "too-many"],
)
def test_wrong_field_count_is_reported(line, fields):
    error = single_error(GOOD_LINES[0], line)
    assert (error.line, error.message) == (3, f"has {fields} fields where the header has 6")


def test_line_numbers_count_blank_lines_and_multi_line_quoted_cells():
    data = csv_bytes(
        GOOD_LINES[0],  # line 2
        "",  # line 3
        'ann@example.com,"Ann\nSmith",,"Eng",,employee',  # lines 4-5
        "bob@example.com,Bob,,Eng,Wizard,employee",  # line 6
    )
    rows, errors = parse_org_csv(data, LEVELS)
    assert [(e.line, e.message) for e in errors] == [(6, "unknown level 'Wizard'")]
    assert [r.line for r in rows] == [2, 4, 6]


def test_non_utf8_byte_is_reported_on_its_line_after_a_bom():
    data = b"\xef\xbb\xbf" + csv_bytes(*GOOD_LINES[:2]) + b"caf\xe9@example.com,Caf,,,,\n"
    rows, errors = parse_org_csv(data, LEVELS)
    assert rows == []
    assert len(errors) == 1
    assert errors[0].line == 4
    assert "not UTF-8" in errors[0].message


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ann@example.com," + "n" * 201 + ",,,,", "name is longer than 200 characters"),
        ("ann@example.com,Ann,," + "d" * 101 + ",,", "department is longer than 100 characters"),
        ("a" * 250 + "@example.com,Ann,,,,", "is not an email address"),
    ],
    ids=["name", "department", "email"],
)
def test_overlong_cells_are_reported(line, message):
    error = single_error(line)
    assert error.line == 2
    assert message in error.message


def test_every_error_in_the_file_is_reported_sorted_by_line():
    data = csv_bytes(
        "a@example.com,Ann,b@example.com,Eng,,employee",  # 2: loop with line 8
        "amara@example.com,Amara,,Eng,,manager",  # 3
        "bad-email,Bad,,Eng,,employee",  # 4
        "dan@example.com,Dan,nobody@example.com,Eng,,employee",  # 5
        "eve@example.com,Eve,,Eng,Wizard,employee",  # 6
        "AMARA@example.com,Amara Again,,Eng,,manager",  # 7
        "b@example.com,Ben,a@example.com,Eng,,employee",  # 8
        "fay@example.com,Fay,,Eng,,chief",  # 9
        "too,few,fields",  # 10
        "gus@example.com,Gus,gus@example.com,Eng,,",  # 11
    )
    _, errors = parse_org_csv(data, LEVELS)
    assert [e.line for e in errors] == [2, 4, 5, 6, 7, 9, 10, 11]
    messages = {e.line: e.message for e in errors}
    assert messages[2].startswith("manager loop")
    assert "not an email address" in messages[4]
    assert "unknown manager nobody@example.com" in messages[5]
    assert "unknown level" in messages[6]
    assert "duplicate email amara@example.com (first on line 3)" in messages[7]
    assert "unknown role" in messages[9]
    assert "has 3 fields" in messages[10]
    assert "own manager" in messages[11]


def test_a_row_with_several_problems_reports_each_of_them():
    """'Every error reported with its line': a bad level does not hide a bad manager."""
    _, errors = parse_org_csv(
        csv_bytes(
            "amara@example.com,Amara,,Eng,,manager",
            "dan@example.com,Dan,nobody@example.com,Eng,Wizard,employee",
        ),
        LEVELS,
    )
    assert [e.line for e in errors] == [3, 3]
    assert any("unknown level 'Wizard'" in e.message for e in errors)
    assert any("unknown manager nobody@example.com" in e.message for e in errors)


# --- plan_import ----------------------------------------------------------------------------


def existing(
    email, name, manager=None, department="Eng", level="engineer", role="employee", active=True
):
    return email, ExistingPerson(email, name, manager, department, level, role, active)


def row(line, email, name, manager=None, department="Eng", level="engineer", role="employee"):
    return OrgRow(line, email, name, manager, department, level, role)


def test_plan_against_an_empty_org_creates_everyone():
    rows = [
        row(2, "amara@example.com", "Amara"),
        row(3, "devon@example.com", "Devon", "amara@example.com"),
    ]
    plan = plan_import(rows, {})
    assert plan.create == rows
    assert (plan.update, plan.reactivate, plan.deactivate, plan.unchanged) == ([], [], [], 0)
    assert plan.changes == 2
    assert plan.summary() == "2 new, 0 updated (0 reactivated), 0 deactivated, 0 unchanged"


def test_plan_counts_every_kind_of_change():
    current = dict(
        [
            existing("same@example.com", "Same"),
            existing("renamed@example.com", "Old Name"),
            existing(
                "moved@example.com",
                "Moved",
                manager="same@example.com",
                department="Data",
                level="junior-engineer",
                role="manager",
            ),
            existing("back@example.com", "Back", active=False),
            existing("back-changed@example.com", "Back Changed", active=False),
            existing("leaver@example.com", "Leaver"),
            existing("left-long-ago@example.com", "Gone", active=False),
        ]
    )
    rows = [
        row(2, "same@example.com", "Same"),
        row(3, "renamed@example.com", "New Name"),
        row(
            4,
            "moved@example.com",
            "Moved",
            manager=None,
            department="Eng",
            level="engineer",
            role="employee",
        ),
        row(5, "back@example.com", "Back"),
        row(6, "back-changed@example.com", "Back Changed", role="hr"),
        row(7, "new@example.com", "New", manager="same@example.com"),
    ]
    plan = plan_import(rows, current)
    assert [r.email for r in plan.create] == ["new@example.com"]
    assert [(r.email, changed) for r, changed in plan.update] == [
        ("renamed@example.com", ["name"]),
        ("moved@example.com", ["manager", "department", "level", "role"]),
        ("back@example.com", ["active"]),
        ("back-changed@example.com", ["role", "active"]),
    ]
    assert plan.reactivate == ["back@example.com", "back-changed@example.com"]
    assert plan.deactivate == ["leaver@example.com"]  # the one already inactive stays as is
    assert plan.unchanged == 1
    assert plan.changes == 1 + 4 + 1
    assert plan.summary() == "1 new, 4 updated (2 reactivated), 1 deactivated, 1 unchanged"


def test_replanning_the_applied_org_changes_nothing():
    rows = [
        row(2, "amara@example.com", "Amara", level=None, role="manager"),
        row(3, "devon@example.com", "Devon", manager="amara@example.com", department=None),
    ]
    applied = {
        r.email: ExistingPerson(
            r.email, r.name, r.manager_email, r.department, r.level_key, r.role, True
        )
        for r in rows
    }
    plan = plan_import(rows, applied)
    assert (plan.create, plan.update, plan.deactivate, plan.unchanged) == ([], [], [], 2)
    assert plan.changes == 0


def test_deactivations_are_sorted_by_email():
    current = dict(
        [
            existing("zed@example.com", "Zed"),
            existing("amy@example.com", "Amy"),
            existing("kim@example.com", "Kim"),
        ]
    )
    plan = plan_import([row(2, "kim@example.com", "Kim")], current)
    assert plan.deactivate == ["amy@example.com", "zed@example.com"]
    assert plan.unchanged == 1
