"""CSV and XLSX writing that spreadsheet programs cannot turn into formulas.

A text cell starting with = + - @ tab or carriage return is prefixed with a
quote, so Excel, LibreOffice and Sheets show it as text (numbers stay numbers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain
from tempfile import SpooledTemporaryFile
from typing import IO, Any

import xlsxwriter

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # tells Excel the CSV is UTF-8


def safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DANGEROUS):
        return "'" + value
    return value


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """Yield CSV text a row at a time (memory does not grow with the rows)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe(h) for h in header])
    yield BOM + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(["" if v is None else safe(v) for v in row])
        yield buffer.getvalue()


def xlsx_file(sheet: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    """A workbook in a temporary file (spooled to disk past 8 MB), written a row at a
    time (XlsxWriter's constant-memory mode: each row goes to disk once written)."""
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
    write_string, write_number, write_boolean = ws.write_string, ws.write_number, ws.write_boolean
    for r, row in enumerate(chain([header], rows)):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue  # an empty cell
            if isinstance(value, bool):
                write_boolean(r, c, value)
            elif isinstance(value, int | float):
                write_number(r, c, value)
            else:
                write_string(r, c, safe(str(value)))
    book.close()
    out.seek(0)
    return out
