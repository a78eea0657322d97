"""Reading a param table from a sheet of an ``.xlsx`` workbook (``{file: budget.xlsx, sheet:
Q1}``), in the columns of a CSV param: the sheet's rows are handed to the same row reader as
a CSV's, as text, with each row's sheet row number as its line, so every error is located
by file, sheet, row and cell (``data/budget.xlsx[Q1]:3: B3: ...``). Needs openpyxl
(``pip install 'kpidesign[excel]'``); the workbook is streamed (read-only mode)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ErrorCollector, Location, SpecError
from .csvfiles import TooManyRows
from .sources import check_regular_file

__all__ = ["SheetReader", "read_xlsx", "sheet_label"]

T = TypeVar("T")


def sheet_label(path: Path, sheet: str | None) -> Path:
    """How errors name a sheet: ``data/budget.xlsx[Q1]`` (the file alone for its first)."""
    return path if sheet is None else Path(f"{path}[{sheet}]")


def _text(value: Any) -> str:
    """A cell as the text a CSV would hold: whole floats without '.0' (a set member 1 read
    as 1.0), empty cells empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class SheetReader:
    """The rows of one sheet as lists of text, like a ``csv.reader``: ``line_num`` is the
    sheet row of the row last read, and ``cell(column)`` its reference (``B3``)."""

    def __init__(self, rows: Iterator[tuple]) -> None:
        self._rows = rows
        self.line_num = 0

    def __iter__(self) -> SheetReader:
        return self

    def __next__(self) -> list[str]:
        row = next(self._rows)
        self.line_num += 1
        return [_text(v) for v in row]

    def cell(self, column: int) -> str:
        """The reference of ``column`` (0-based) in the row last read."""
        from openpyxl.utils import get_column_letter

        return f"{get_column_letter(column + 1)}{self.line_num}"


def read_xlsx(
    path: Path,
    sheet: str | None,
    where: Location | None,
    errors: ErrorCollector,
    read: Callable[[SheetReader], T],
) -> T | None:
    """``read(reader)`` over the rows of sheet ``sheet`` (the first if None) of the
    workbook ``path``, or None where it cannot be read (said at ``where``)."""
    try:
        check_regular_file(path, "workbook")
    except SpecError as exc:
        for line in exc.messages:
            errors.add(where, f"{line.removeprefix(f'{path}: ')}: {path}")
        return None
    try:
        import openpyxl
    except ImportError:
        errors.add(where, f"{path}: reading .xlsx needs openpyxl: pip install 'kpidesign[excel]'")
        return None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        errors.add(where, f"{path}: not an .xlsx workbook ({' '.join(str(exc).split())})")
        return None
    except Exception as exc:  # openpyxl's own errors (InvalidFileException, ...)
        errors.add(where, f"{path}: cannot read the workbook ({type(exc).__name__}: {exc})")
        return None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            errors.add(where, f"{path}: no sheet '{sheet}' (has: {', '.join(book.sheetnames)})")
            return None
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        return read(SheetReader(ws.iter_rows(values_only=True)))
    except TooManyRows:
        return None
    finally:
        book.close()
