"""Params: scalars, mappings by a set, tables with defaults, and CSV files (streamed, so
every error names its true line)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import ErrorCollector, Location
from .csvfiles import RowErrors, csv_rows, read_csv
from .model import DEFAULT_MAX_SIZE, ParamSpec, SetSpec
from .shape import is_number
from .sources import KeyPath, Locate, did_you_mean
from .workbooks import read_xlsx, sheet_label


def member_lookup(s: SetSpec) -> dict[str, Any]:
    """A set's members by their text (``"3"`` -> 3), as CSV cells and keys name them."""
    return {str(m): m for m in s.members}


def _number(
    value: Any, where: Location, errors: ErrorCollector, what: str = "value"
) -> float | None:
    if not is_number(value):
        errors.add(where, f"{what} must be a number, got {_short_repr(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:
        errors.add(where, f"{what} is too large for a floating-point number")
        return None
    if not math.isfinite(number):
        errors.add(where, f"{what} must be a finite number, got {value}")
        return None
    return number


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]} …"


_PARAM_KEYS = {"file", "sheet", "over", "default", "values", "initial"}


def resolve_param(
    name: str,
    raw: Any,
    model_path: Path,
    sets: dict[str, SetSpec],
    loc: Locate,
    errors: ErrorCollector,
    max_size: int,
) -> ParamSpec | None:
    """One param: a scalar, a mapping by one set, or a table (``over``/``file``/``values``/
    ``default``); located errors into ``errors``, None where it is unusable."""
    path: KeyPath = ("params", name)
    where = loc(path)
    if is_number(raw):
        value = _number(raw, where, errors)
        return None if value is None else ParamSpec(name, (), {(): value}, None, None, where)
    if not isinstance(raw, dict) or not raw:
        errors.add(
            where,
            "a param is a number, a mapping by one set, or {file: ...}/{over: ...}; "
            f"got {raw!r}",
        )
        return None
    if set(raw) <= _PARAM_KEYS and ("file" in raw or "over" in raw):
        return _resolve_table_param(name, raw, model_path, sets, loc, errors, max_size)
    # a mapping indexed by one set, inferred from its keys
    keys = [str(k) for k in raw]
    candidates = [s for s in sets.values() if set(keys) <= {str(m) for m in s.members}]
    exact = [s for s in candidates if len(s.members) == len(keys)]
    chosen = exact if len(exact) == 1 else candidates
    if len(chosen) != 1:
        what = "no set contains" if not chosen else "several sets contain"
        errors.add(
            where, f"{what} all of its keys ({', '.join(keys)}); write {{over: [SET], values: ...}}"
        )
        return None
    s = chosen[0]
    lookup = member_lookup(s)
    values = {}
    for k, v in raw.items():
        value = _number(v, loc((*path, k)), errors)
        if value is not None:
            values[(lookup[str(k)],)] = value
    return ParamSpec(name, (s.name,), values, None, None, where)


def _resolve_table_param(
    name: str,
    raw: dict,
    model_path: Path,
    sets: dict[str, SetSpec],
    loc: Locate,
    errors: ErrorCollector,
    max_size: int,
) -> ParamSpec | None:
    """A param given as ``{over, default, values, initial}`` and/or ``{file}`` (a CSV)."""
    path: KeyPath = ("params", name)
    where = loc(path)
    over = raw.get("over")
    if not _valid_over(over, path, sets, loc, errors):
        return None
    default = initial = None
    if "default" in raw:
        default = _number(raw["default"], loc((*path, "default")), errors, "default")
    if "initial" in raw:
        initial = _number(raw["initial"], loc((*path, "initial")), errors, "initial")
    values: dict[tuple, float] = {}
    sheet = raw.get("sheet")
    if sheet is not None and (
        not isinstance(sheet, str) or not str(raw.get("file", "")).lower().endswith(".xlsx")
    ):
        errors.add(loc((*path, "sheet")), "sheet names a sheet (text) of an .xlsx file")
        return None
    if "file" in raw:
        table = _read_param_csv(
            name, raw["file"], over, model_path, sets, loc((*path, "file")), errors, max_size,
            sheet,
        )  # fmt: skip
        if table is None:
            return None
        over, values = table
    assert over is not None
    _add_table_values(raw.get("values") or {}, over, sets, path, loc, errors, values)
    if "file" not in raw and default is None and not values:
        errors.add(where, "an indexed param needs `default`, `values` or `file`")
        return None
    csv_file = model_path.parent / raw["file"] if "file" in raw else None
    return ParamSpec(name, tuple(over), values, default, initial, where, csv_file)


def _valid_over(
    over: Any, path: KeyPath, sets: dict[str, SetSpec], loc: Locate, errors: ErrorCollector
) -> bool:
    """``over`` is absent or a list of known set names (the first problem reported)."""
    if over is not None and (
        not isinstance(over, list) or not all(isinstance(s, str) for s in over)
    ):
        errors.add(loc((*path, "over")), "over must be a list of set names")
        return False
    for i, s in enumerate(over or []):
        if s not in sets:
            suffix = did_you_mean(s, sets)
            errors.add(loc((*path, "over", i)), f"unknown set '{s}'{suffix}")
            return False
    return True


def _add_table_values(
    raw_values: dict,
    over: list[str],
    sets: dict[str, SetSpec],
    path: KeyPath,
    loc: Locate,
    errors: ErrorCollector,
    values: dict[tuple, float],
) -> None:
    """Add the ``values: {"a,1": 2.0}`` entries to ``values`` (over a CSV's, if any)."""
    lookups = [member_lookup(sets[s]) for s in over]
    for key, v in raw_values.items():
        kwhere = loc((*path, "values", str(key)))
        parts = [p.strip() for p in str(key).split(",")]
        if len(parts) != len(over):
            errors.add(
                kwhere,
                f"key '{key}' needs {len(over)} comma-separated index(es) ({', '.join(over)})",
            )
            continue
        idx = []
        for part, lookup, s in zip(parts, lookups, over, strict=True):
            if part not in lookup:
                errors.add(kwhere, f"'{part}' is not a member of set '{s}'")
                break
            idx.append(lookup[part])
        else:
            value = _number(v, kwhere, errors)
            if value is not None:
                values[tuple(idx)] = value


def _read_param_csv(
    name: str,
    file: Any,
    over: list[str] | None,
    model_path: Path,
    sets: dict[str, SetSpec],
    where: Location,
    errors: ErrorCollector,
    max_rows: int = DEFAULT_MAX_SIZE,
    sheet: str | None = None,
) -> tuple[list[str], dict[tuple, float]] | None:
    """Read a param's CSV (one column per index set, plus ``value``), streaming it so that
    every error names its true line (blank lines and quoted line breaks included); or the
    same columns from a sheet of an ``.xlsx`` workbook (the first sheet if none is named),
    errors located by sheet row and cell."""
    if not isinstance(file, str) or not file.strip():
        errors.add(where, "file must be a path to a CSV file or an .xlsx workbook")
        return None
    csv_path = model_path.parent / file
    if file.lower().endswith(".xlsx"):
        label = sheet_label(csv_path, sheet)
        return read_xlsx(
            csv_path,
            sheet,
            where,
            errors,
            lambda reader: _read_csv_rows(name, reader, label, over, sets, where, errors, max_rows),
        )
    return read_csv(
        csv_path,
        where,
        errors,
        lambda reader: _read_csv_rows(name, reader, csv_path, over, sets, where, errors, max_rows),
    )


def _read_csv_rows(
    name: str,
    reader: Any,
    csv_path: Path,
    over: list[str] | None,
    sets: dict[str, SetSpec],
    where: Location,
    errors: ErrorCollector,
    max_rows: int,
) -> tuple[list[str], dict[tuple, float]] | None:
    """The header checked against ``over``, then the rows read."""
    layout = _csv_layout(next(reader, None), csv_path, over, sets, where, errors)
    if layout is None:
        return None
    over, columns = layout
    return _read_csv_values(name, reader, csv_path, over, columns, sets, errors, max_rows)


def _csv_layout(
    header: list[str] | None,
    csv_path: Path,
    over: list[str] | None,
    sets: dict[str, SetSpec],
    where: Location,
    errors: ErrorCollector,
) -> tuple[list[str], list[str]] | None:
    """(index sets, column names) of a CSV header: a ``value`` column, plus one column per
    set of ``over`` in its order (``over`` defaults to the header's own index columns)."""
    if header is None:
        errors.add(where, f"{csv_path}: the CSV file is empty (it needs a header row)")
        return None
    columns = [c.strip() for c in header]
    if "value" not in columns:
        errors.add(where, f"{csv_path}: needs a 'value' column (has: {', '.join(columns)})")
        return None
    index_cols = [c for c in columns if c != "value"]
    if over is None:
        over = index_cols
    if index_cols != list(over):
        errors.add(where, f"{csv_path}: index columns {index_cols} do not match over {list(over)}")
        return None
    unknown = [c for c in over if c not in sets]
    if unknown:
        errors.add(where, f"{csv_path}: column '{unknown[0]}' is not a set")
        return None
    return over, columns


def _read_csv_values(
    name: str,
    reader: Any,
    csv_path: Path,
    over: list[str],
    columns: list[str],
    sets: dict[str, SetSpec],
    errors: ErrorCollector,
    max_rows: int,
) -> tuple[list[str], dict[tuple, float]] | None:
    """The rows after the header, each error located at its line (at most
    ``MAX_CSV_ERRORS`` of them reported, then a count); blank lines are skipped."""
    lookups = [member_lookup(sets[s]) for s in over]
    positions = [columns.index(s) for s in over]
    value_at = columns.index("value")
    values: dict[tuple, float] = {}
    report = RowErrors(csv_path, reader, errors, f" (param '{name}')")
    cell = getattr(reader, "cell", lambda _column: "")  # a sheet's rows say their cells
    for row in csv_rows(reader, csv_path, errors, max_rows):
        if len(row) != len(columns):
            report(f"{len(row)} cells, but the header has {len(columns)}")
            continue
        idx = []
        for s, lookup, pos in zip(over, lookups, positions, strict=True):
            cell_text = row[pos].strip()
            if cell_text not in lookup:
                report(f"{s} '{cell_text}' is not a member of set '{s}'", cell(pos))
                break
            idx.append(lookup[cell_text])
        else:
            raw_value = row[value_at].strip()
            try:
                value = float(raw_value)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                report(f"value {raw_value!r} is missing or not a finite number", cell(value_at))
                continue
            key = tuple(idx)
            if key in values:
                report(f"duplicate row for {','.join(map(str, key))}")
                continue
            values[key] = value
    report.close()
    return None if report.count else (list(over), values)
