"""CSV and XLSX writing that spreadsheet programs cannot reinterpret.

A text cell starting with = + - @ tab or carriage return is prefixed with a
quote, so Excel, LibreOffice and Sheets show it as text (numbers stay numbers).
In a CSV, where every cell is text until the program guesses, a text cell that
Excel or LibreOffice would read as a number or a date ("3/3", "Mar 3", "007",
"1e5") gets the same quote; numbers and dates are written as themselves. In a
workbook every cell is typed, so only the formula rule applies there.

Both writers take rows a batch at a time and work a column at a time: a column
whose `Kind` is known (numbers, dates, text, labels from a small set) costs one
C-level pass over the batch, not a Python call per cell. Columns of unknown kind
(plain headings) are looked at cell by cell, as any row may hold any type.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from tempfile import SpooledTemporaryFile
from typing import IO, Any

import xlsxwriter

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # tells Excel the CSV is UTF-8
BATCH = 1000  # rows a write when a caller hands rows one by one

_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# What a spreadsheet takes for a number, a fraction, a date, a time or a truth value when
# it opens a CSV: digits with separators ("3/3", "1.2.3", "10:30", "1 234", "(12)", "12%",
# "$5"), scientific notation, a month name beside a number ("Mar 3", "3-mar", "May 2026");
# each alternative holds a digit; truth values ("TRUE") are `_TRUTH`.
# A long cell of digits costs one pass; a long run of spaces after a digit, before
# another character, costs a search per space (quadratic).
_LOOKS_TYPED = re.compile(
    r"[(]?[$€£¥]?[.,/:\s-]*\d[\d.,/:\s-]*%?[)]?(?:\s*[ap]\.?m\.?)?"
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
    if _DIGIT.search(stripped) is None:
        return stripped.lower() in _TRUTH
    # no pattern holds an "@": an email, however many digits it has, is text (and the
    # patterns' alternatives are slow to rule out one by one)
    return "@" not in stripped and _LOOKS_TYPED.fullmatch(stripped) is not None


def safe(value: Any) -> Any:
    """A workbook's text cell: no formula can start it."""
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


# `value.startswith(DANGEROUS) or looks_typed(value)` as one match, for the export's
# text columns (one C call a cell): a formula's first character, or the whole cell,
# spaces aside, a truth value or what `_LOOKS_TYPED` matches (each of its alternatives
# holds a digit, none an "@").
# The leading spaces are taken possessively (`*+`): the typed patterns' own `\s` must
# not share them, which would cost a cubic search on a long run of spaces. The truth
# values are matched case by case in ASCII, as `str.lower()` compares them (under
# IGNORECASE, "s" would also match the long s, U+017F).
_QUOTED = re.compile(
    r"[=+@\t\r-]|\s*+(?:(?-i:[Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])|"
    + _LOOKS_TYPED.pattern
    + r")\s*\Z",
    re.IGNORECASE,
)


def csv_text(value: str | None) -> str:
    """A CSV text cell: no spreadsheet turns it into a formula, a number or a date."""
    if not value:
        return ""
    return "'" + value if _QUOTED.match(value) else value


def csv_cell(value: Any) -> Any:
    """A CSV cell: text that no spreadsheet turns into a formula, a number or a date;
    numbers as numbers, dates as ISO 8601 (which spreadsheets read as dates)."""
    if isinstance(value, str):  # the common case first: most cells are plain text
        return csv_text(value)
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


class Kind(enum.Enum):
    """What a column holds, so that its cells are written without looking at each."""

    ANY = "any"  # anything: each cell is looked at
    TEXT = "text"  # str or None, mostly different values (names, emails)
    LABEL = "label"  # str or None from a small set (states, levels): checked once a value
    NUMBER = "number"  # int, float or None
    DAY = "day"  # date or None
    MOMENT = "moment"  # naive datetime (UTC) or None


@dataclass(frozen=True)
class Column:
    """A column as people read it: its heading, its width in a workbook (characters)
    and the kind of its cells."""

    heading: str
    width: int = 14
    kind: Kind = Kind.ANY


def headings(columns: Sequence[Column | str]) -> list[str]:
    return [c.heading if isinstance(c, Column) else c for c in columns]


def kinds(columns: Sequence[Column | str]) -> list[Kind]:
    return [c.kind if isinstance(c, Column) else Kind.ANY for c in columns]


def batched(rows: Iterable[Sequence[Any]], size: int = BATCH) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


class _Once(dict[Any, Any]):
    """`convert` of each distinct value, computed once (a column of labels)."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        self[value] = converted = self.convert(value)
        return converted


ColumnConverter = Callable[[Sequence[Any]], Sequence[Any]]


def _each(convert: Callable[[Any], Any]) -> ColumnConverter:
    """A converter of a cell as a converter of a column (one C-level pass)."""
    return lambda cells: tuple(map(convert, cells))


def _converters(
    columns: Sequence[Column | str],
    by_kind: dict[Kind, Callable[[Any], Any] | None],
    whole: dict[Kind, ColumnConverter] | None = None,
) -> list[tuple[int, ColumnConverter]] | None:
    """(column index, converter of its cells) for the columns whose cells need one
    (`whole` a converter of a whole column, where a kind has one); None when no column
    says its kind (rows of any width, each cell looked at)."""
    kind_of = kinds(columns)
    if all(kind == Kind.ANY for kind in kind_of):
        return None
    found = []
    for i, kind in enumerate(kind_of):
        if kind == Kind.LABEL:
            found.append((i, _each(_Once(by_kind[Kind.TEXT]).__getitem__)))  # type: ignore[arg-type]
        elif whole and kind in whole:
            found.append((i, whole[kind]))
        elif (convert := by_kind[kind]) is not None:
            found.append((i, _each(convert)))
    return found


def _converted(
    batch: Sequence[Sequence[Any]],
    converters: list[tuple[int, ColumnConverter]] | None,
    each: Callable[[Any], Any],
) -> Iterable[Sequence[Any]]:
    """The batch with each converted column replaced, a column at a time (rows as wide
    as the header); without `converters`, `each` of every cell, row by row."""
    if converters is None:
        return [list(map(each, row)) for row in batch]
    if not converters or not batch:
        return batch
    columns = list(zip(*batch, strict=True))
    for i, convert in converters:
        columns[i] = convert(columns[i])
    return zip(*columns, strict=True)


# CSV: numbers and days are written by the csv module as they are (None as nothing,
# a date as its ISO 8601 text), text is neutralised.
_CSV = {
    Kind.ANY: csv_cell,
    Kind.TEXT: csv_text,
    Kind.NUMBER: None,
    Kind.DAY: None,
    Kind.MOMENT: csv_cell,
}


def _csv_texts(cells: Sequence[str | None]) -> list[str]:
    """`csv_text` of a column's cells, in one comprehension (a text column of free text
    is the export's widest work)."""
    quoted = _QUOTED.match
    return [("'" + v if quoted(v) else v) if v else "" for v in cells]


@contextmanager
def _closed_after(batches: Iterable[Any]) -> Iterator[None]:
    """Close a stream of batches (a generator) once written, or when writing fails: the
    database stream behind it then lets go of its cursor at once, not whenever the
    garbage collector finds it (reports.streaming.read_ahead)."""
    try:
        yield
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


class _Lines(list[str]):
    """What csv.writer writes to, line by line: joined once a batch, the text takes a
    byte a character (an io.StringIO that has been rewound keeps four)."""

    write = list.append


def csv_batches(
    header: Sequence[Column | str], batches: Iterable[Sequence[Sequence[Any]]]
) -> Iterator[str]:
    """Yield CSV text a batch of rows at a time (memory does not grow with the rows)."""
    lines = _Lines()
    writer = csv.writer(lines)
    writer.writerow([csv_cell(h) for h in headings(header)])
    converters = _converters(header, _CSV, {Kind.TEXT: _csv_texts})
    yield BOM + lines.pop()
    with _closed_after(batches):
        for batch in batches:
            writer.writerows(_converted(batch, converters, csv_cell))
            del batch  # written: only its text is held while it is sent
            text = "".join(lines)
            lines.clear()
            yield text


def csv_stream(header: Sequence[Column | str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield CSV text of rows given one by one, a batch at a time."""
    return csv_batches(header, batched(rows))


def xlsx_batches(
    sheet: str, header: Sequence[Column | str], batches: Iterable[Sequence[Sequence[Any]]]
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

    def one_cell(r: int, c: int, value: Any) -> None:
        """A cell of a column of unknown kind, or a date (which needs its format)."""
        if value is None or value == "":
            return  # an empty cell
        if isinstance(value, bool):
            ws.write_boolean(r, c, value)
        elif isinstance(value, int | float):
            ws.write_number(r, c, value)
        elif isinstance(value, datetime):
            ws.write_datetime(r, c, value.replace(tzinfo=None), moment)
        elif isinstance(value, date):
            ws.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
        else:
            ws.write_string(r, c, safe(str(value)))

    # Text and numbers go to XlsxWriter a row at a time (write_row types them as
    # write() does); dates, which need a format, and cells of unknown kind one by one.
    kind_of = kinds(header)
    converters = [
        (i, _Once(safe).__getitem__ if kind == Kind.LABEL else safe)
        for i, kind in enumerate(kind_of)
        if kind in (Kind.TEXT, Kind.LABEL)
    ]
    apart = [i for i, kind in enumerate(kind_of) if kind in (Kind.ANY, Kind.DAY, Kind.MOMENT)]
    write_row = ws.write_row
    last = 0
    with _closed_after(batches):
        for batch in batches:
            if not batch:
                continue
            first = last + 1
            if len(apart) == len(kind_of):  # no kinds: any cell in a row of any width
                for r, row in enumerate(batch, start=first):
                    for c, value in enumerate(row):
                        one_cell(r, c, value)
                last += len(batch)
                continue
            columns = list(zip(*batch, strict=True))
            for i, convert in converters:
                columns[i] = tuple(map(convert, columns[i]))
            if not apart:
                for r, values in enumerate(zip(*columns, strict=True), start=first):
                    write_row(r, 0, values)
            else:
                others = zip(*(columns[c] for c in apart), strict=True)
                for c in apart:
                    columns[c] = (None,) * len(batch)
                # constant-memory mode writes a row out once the next one starts: each
                # row's cells are written before the next row's
                for r, values, other in zip(
                    range(first, first + len(batch)),
                    zip(*columns, strict=True),
                    others,
                    strict=True,
                ):
                    write_row(r, 0, values)
                    for c, value in zip(apart, other, strict=True):
                        if value is not None:
                            one_cell(r, c, value)
            last += len(batch)
    if titles:
        ws.autofilter(0, 0, last, len(titles) - 1)
    book.close()
    out.seek(0)
    return out


def xlsx_file(
    sheet: str, header: Sequence[Column | str], rows: Iterable[Sequence[Any]]
) -> IO[bytes]:
    """`xlsx_batches` of rows given one by one."""
    return xlsx_batches(sheet, header, batched(rows))
