"""CSV and XLSX writing that spreadsheet programs cannot reinterpret.

A text cell starting with = + - @ tab or carriage return is prefixed with a
quote, so Excel, LibreOffice and Sheets show it as text (numbers stay numbers).
In a CSV, where every cell is text until the program guesses, a text cell that
Excel or LibreOffice would read as a number or a date ("3/3", "Mar 3", "007",
"1e5") gets the same quote; numbers and dates are written as themselves. In a
workbook every cell is typed, so only the formula rule applies there.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any

import xlsxwriter

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # tells Excel the CSV is UTF-8

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# What a spreadsheet takes for a number, a fraction, a date, a time or a truth value when
# it opens a CSV: digits with separators ("3/3", "1.2.3", "10:30", "1 234", "(12)", "12%",
# "$5"), scientific notation, a month name beside a number ("Mar 3", "3-mar", "May 2026");
# truth values ("TRUE") are `_TRUTH`.
# Every pattern is linear: a long cell of digits costs one pass.
_LOOKS_TYPED = re.compile(
    r"[(]?[$€£¥]?[\d.,/:\s-]+%?[)]?(?:\s*[ap]\.?m\.?)?"
    r"|[\d.]+e[+-]?\d+"
    rf"|\d{{1,4}}[\s/.-]*{_MONTH}(?:[\s/.,-]*\d{{1,4}})?"
    rf"|{_MONTH}[\s/.,-]*\d{{1,4}}(?:[\s/.,-]+\d{{1,4}})?",
    re.IGNORECASE,
)


_DIGIT = re.compile(r"\d")
_TRUTH = frozenset(("true", "false"))


def looks_typed(text: str) -> bool:
    """Would Excel or LibreOffice read this text as something other than text?"""
    stripped = text.strip()
    if stripped.lower() in _TRUTH:
        return True
    return _DIGIT.search(stripped) is not None and _LOOKS_TYPED.fullmatch(stripped) is not None


def safe(value: Any) -> Any:
    """A workbook's text cell: no formula can start it."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def csv_cell(value: Any) -> Any:
    """A CSV cell: text that no spreadsheet turns into a formula, a number or a date;
    numbers as numbers, dates as ISO 8601 (which spreadsheets read as dates)."""
    if isinstance(value, str):  # the common case first: most cells are plain text
        if value.startswith(DANGEROUS) or looks_typed(value):
            return "'" + value
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return value  # the csv module writes it as it is
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return csv_cell(str(value))


@dataclass(frozen=True)
class Column:
    """A column as people read it: its heading, and its width in a workbook (characters)."""

    heading: str
    width: int = 14


def headings(columns: Sequence[Column | str]) -> list[str]:
    return [c.heading if isinstance(c, Column) else c for c in columns]


def csv_stream(header: Sequence[Column | str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield CSV text a row at a time (memory does not grow with the rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([csv_cell(h) for h in headings(header)])
    yield BOM + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([csv_cell(v) for v in row])
        yield buffer.getvalue()


def xlsx_file(
    sheet: str, header: Sequence[Column | str], rows: Iterable[Sequence[Any]]
) -> IO[bytes]:
    """A workbook in a temporary file (spooled to disk past 8 MB), written a row at a
    time (XlsxWriter's constant-memory mode: each row goes to disk once written).

    The header is bold and frozen, with a filter on every column; columns are as wide
    as their `Column.width`; dates are dates, shown as 2026-11-30.
    """
    out: IO[bytes] = SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    book = xlsxwriter.Workbook(
        out,
        {
            "constant_memory": True,
            # text stays text: no formula, number or link made of it
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    titles = headings(header)
    for c, column in enumerate(header):
        width = column.width if isinstance(column, Column) else max(10, len(column) + 2)
        ws.set_column(c, c, width)
    ws.freeze_panes(1, 0)
    for c, title in enumerate(titles):
        ws.write_string(0, c, safe(title), bold)
    write_string, write_number, write_boolean = ws.write_string, ws.write_number, ws.write_boolean
    last = 0
    for r, row in enumerate(rows, start=1):
        last = r
        for c, value in enumerate(row):
            if value is None or value == "":
                continue  # an empty cell
            if isinstance(value, bool):
                write_boolean(r, c, value)
            elif isinstance(value, int | float):
                write_number(r, c, value)
            elif isinstance(value, datetime):
                ws.write_datetime(r, c, value.replace(tzinfo=None), moment)
            elif isinstance(value, date):
                ws.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
            else:
                write_string(r, c, safe(str(value)))
    if titles:
        ws.autofilter(0, 0, last, len(titles) - 1)
    book.close()
    out.seek(0)
    return out
