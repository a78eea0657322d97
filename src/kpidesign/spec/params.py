"""Params: scalars, mappings by a set, tables with defaults, and CSV files (streamed, so
every error names its true line)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from ..errors import ErrorCollector, Location, SpecError
from .model import DEFAULT_MAX_SIZE, ParamSpec, SetSpec
from .shape import is_number
from .sources import KeyPath, check_regular_file, did_you_mean


def _member_lookup(s: SetSpec) -> dict[str, Any]:
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


_PARAM_KEYS = {"file", "over", "default", "values", "initial"}


def resolve_param(
    name: str,
    raw: Any,
    model_path: Path,
    sets: dict[str, SetSpec],
    loc,
    errors: ErrorCollector,
    max_size: int,
) -> ParamSpec | None:
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
    lookup = _member_lookup(s)
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
    loc,
    errors: ErrorCollector,
    max_size: int,
) -> ParamSpec | None:
    path: KeyPath = ("params", name)
    where = loc(path)
    over = raw.get("over")
    if over is not None and (
        not isinstance(over, list) or not all(isinstance(s, str) for s in over)
    ):
        errors.add(loc((*path, "over")), "over must be a list of set names")
        return None
    for i, s in enumerate(over or []):
        if s not in sets:
            suffix = did_you_mean(s, sets)
            errors.add(loc((*path, "over", i)), f"unknown set '{s}'{suffix}")
            return None
    default = initial = None
    if "default" in raw:
        default = _number(raw["default"], loc((*path, "default")), errors, "default")
    if "initial" in raw:
        initial = _number(raw["initial"], loc((*path, "initial")), errors, "initial")
    values: dict[tuple, float] = {}
    if "file" in raw:
        table = _read_param_csv(
            name, raw["file"], over, model_path, sets, loc((*path, "file")), errors, max_size
        )
        if table is None:
            return None
        over, values = table
    assert over is not None
    lookups = [_member_lookup(sets[s]) for s in over]
    for key, v in (raw.get("values") or {}).items():
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
    if "file" not in raw and default is None and not values:
        errors.add(where, "an indexed param needs `default`, `values` or `file`")
        return None
    csv_file = model_path.parent / raw["file"] if "file" in raw else None
    return ParamSpec(name, tuple(over), values, default, initial, where, csv_file)


#: error lines reported per CSV file; the rest are counted in one closing line
_MAX_CSV_ERRORS = 20


def _read_param_csv(
    name: str,
    file: Any,
    over: list[str] | None,
    model_path: Path,
    sets: dict[str, SetSpec],
    where: Location,
    errors: ErrorCollector,
    max_rows: int = DEFAULT_MAX_SIZE,
) -> tuple[list[str], dict[tuple, float]] | None:
    """Read a param's CSV (one column per index set, plus ``value``), streaming it so that
    every error names its true line (blank lines and quoted line breaks included)."""
    if not isinstance(file, str) or not file.strip():
        errors.add(where, "file must be a path to a CSV file")
        return None
    csv_path = model_path.parent / file
    try:
        check_regular_file(csv_path, "CSV file")
        with csv_path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            return _read_csv_rows(name, reader, csv_path, over, sets, where, errors, max_rows)
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
    header = next(reader, None)
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
    lookups = [_member_lookup(sets[s]) for s in over]
    positions = [columns.index(s) for s in over]
    value_at = columns.index("value")
    values: dict[tuple, float] = {}
    bad = 0

    def report(message: str) -> None:
        nonlocal bad
        bad += 1
        if bad <= _MAX_CSV_ERRORS:
            errors.add(None, f"{csv_path}:{reader.line_num}: {message} (param '{name}')")

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
            return None
        if len(row) != len(columns):
            report(f"{len(row)} cells, but the header has {len(columns)}")
            continue
        idx = []
        for s, lookup, pos in zip(over, lookups, positions, strict=True):
            cell = row[pos].strip()
            if cell not in lookup:
                report(f"{s} '{cell}' is not a member of set '{s}'")
                break
            idx.append(lookup[cell])
        else:
            raw_value = row[value_at].strip()
            try:
                value = float(raw_value)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                report(f"value {raw_value!r} is missing or not a finite number")
                continue
            key = tuple(idx)
            if key in values:
                report(f"duplicate row for {','.join(map(str, key))}")
                continue
            values[key] = value
    if bad > _MAX_CSV_ERRORS:
        errors.add(
            None,
            f"{csv_path}:{reader.line_num}: {bad - _MAX_CSV_ERRORS:,} more errors like these "
            f"(param '{name}')",
        )
    return None if bad else (list(over), values)
