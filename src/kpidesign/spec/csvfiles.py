"""Reading CSV files that a model names (param tables, plan files): streamed with Python's
``csv`` module, so every error names the file's true line (blank lines and quoted line
breaks counted); at most ``max_rows`` rows; the first :data:`MAX_CSV_ERRORS` errors of a
file listed, then a count of the rest."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from ..errors import ErrorCollector, Location, SpecError
from .sources import check_regular_file

__all__ = ["MAX_CSV_ERRORS", "RowErrors", "TooManyRows", "csv_rows", "read_csv"]

#: error lines reported per CSV file; the rest are counted in one closing line
MAX_CSV_ERRORS = 20

T = TypeVar("T")


class TooManyRows(Exception):
    """A CSV file has more rows than allowed (reported already)."""


def read_csv(
    csv_path: Path,
    where: Location | None,
    errors: ErrorCollector,
    read: Callable[[Any], T],
    what: str = "CSV file",
) -> T | None:
    """``read(reader)`` over the rows of the CSV file ``csv_path``, or None where the file
    cannot be read (said at ``where``, the key that names the file) or has too many rows."""
    try:
        check_regular_file(csv_path, what)
        with csv_path.open(encoding="utf-8", newline="") as fh:
            return read(csv.reader(fh))
    except TooManyRows:
        return None
    except SpecError as exc:
        for line in exc.messages:  # "CSV file not found: data/x.csv", as the model names it
            errors.add(where, f"{line.removeprefix(f'{csv_path}: ')}: {csv_path}")
        return None
    except UnicodeDecodeError as exc:
        errors.add(where, f"{csv_path}: not UTF-8 text ({exc.reason}); is this a CSV file?")
        return None
    except (csv.Error, OSError) as exc:
        errors.add(where, f"cannot read CSV {csv_path}: {' '.join(str(exc).split())}")
        return None


def csv_rows(reader: Any, csv_path: Path, errors: ErrorCollector, max_rows: int) -> Iterator[list]:
    """The rows ``reader`` has left, blank lines skipped; past ``max_rows`` rows an error
    at that line, and :func:`read_csv` returns None."""
    rows = 0
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue  # a blank line
        rows += 1
        if rows > max_rows:
            errors.add(
                None,
                f"{csv_path}:{reader.line_num}: more than {max_rows:,} rows; the limit is "
                f"{max_rows:,} (raise it with --max-size)",
            )
            raise TooManyRows
        yield row


class RowErrors:
    """Reports the errors of one CSV's rows at their lines: the first
    :data:`MAX_CSV_ERRORS` of them, then one closing line that counts the rest.  Each line
    ends with ``suffix`` (`` (param 'cap')``)."""

    def __init__(
        self, csv_path: Path, reader: Any, errors: ErrorCollector, suffix: str = ""
    ) -> None:
        self.csv_path = csv_path
        self.reader = reader  # its line_num is the line of the row being read
        self.errors = errors
        self.suffix = suffix
        self.count = 0

    def __call__(self, message: str, key: str = "") -> None:
        """Report ``message`` at the current row's line (and at ``key``, a key path)."""
        self.count += 1
        if self.count <= MAX_CSV_ERRORS:
            where = Location(self.csv_path, self.reader.line_num, key)
            self.errors.add(where, f"{message}{self.suffix}")

    def close(self) -> None:
        """The closing line, if some errors were not reported."""
        if self.count > MAX_CSV_ERRORS:
            self.errors.add(
                None,
                f"{self.csv_path}:{self.reader.line_num}: "
                f"{self.count - MAX_CSV_ERRORS:,} more errors like these{self.suffix}",
            )
