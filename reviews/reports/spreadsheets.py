"""CSV and XLSX writing that spreadsheet programs cannot turn into formulas.

A text cell starting with = + - @ tab or carriage return is prefixed with a
quote, so Excel, LibreOffice and Sheets show it as text (numbers stay numbers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

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
    """A write-only workbook in a temporary file (spooled to disk past 8 MB)."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])

    def cell(value: Any) -> Any:
        if isinstance(value, str):
            c = WriteOnlyCell(ws, value=safe(value))
            c.data_type = "s"  # a string, never a formula
            return c
        return value

    ws.append([cell(h) for h in header])
    for row in rows:
        ws.append([cell(v) for v in row])
    out: IO[bytes] = SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    book.save(out)
    out.seek(0)
    return out
