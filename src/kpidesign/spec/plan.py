"""Plan files: values of variables for a whole plan or part of one (today's plan, actuals).

A CSV in long format with the header ``variable,index,value``: ``variable`` a variable's
name (shared or owned by a department), ``index`` its members comma-joined as in the JSON
contract (``standard,3``, quoted in CSV; empty for a scalar variable), ``value`` a finite
number.  A file may cover any subset.  Every error names the CSV file, its line and the
column (``plan.csv:4: index: ...``); all of a file's errors are reported together.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import ErrorCollector, Location
from .csvfiles import RowErrors, csv_rows, read_csv
from .model import DEFAULT_MAX_SIZE, ModelSpec, PlanSpec, SetSpec, VariableSpec
from .params import member_lookup
from .sources import did_you_mean

__all__ = [
    "PLAN_COLUMNS",
    "START_PLAN",
    "PlanSpec",
    "entry_name",
    "plan_csv",
    "read_plan",
    "with_today",
]

#: the columns of a plan file, in the order the format gives them
PLAN_COLUMNS = ("variable", "index", "value")
#: where a plan file given on the command line is said to be named
START_PLAN = Location(None, None, "--start-plan")


def entry_name(variable: str, index: tuple) -> str:
    """``inventory[standard,3]``, or ``cash`` for a scalar variable."""
    return f"{variable}[{','.join(map(str, index))}]" if index else variable


def plan_csv(entries: Iterable[tuple[str, tuple, float]]) -> str:
    """A plan file's text (``variable,index,value``, the index quoted where it has several
    members) of ``(variable, members, value)`` entries, values as Python's shortest exact
    repr: what :func:`read_plan` reads back to the same floats."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(PLAN_COLUMNS)
    for name, index, value in entries:
        writer.writerow([name, ",".join(map(str, index)), repr(float(value))])
    return out.getvalue()


def read_plan(
    csv_path: Path,
    where: Location | None,
    variables: dict[str, VariableSpec],
    sets: dict[str, SetSpec],
    errors: ErrorCollector,
    max_rows: int = DEFAULT_MAX_SIZE,
) -> PlanSpec | None:
    """The plan file ``csv_path`` checked against the model's variables and sets; None
    (with every error of the file in ``errors``) where it has any.  ``where`` is the key
    that names the file (``today.file``), where a file that cannot be read is reported."""
    reader = _PlanReader(csv_path, variables, sets, errors, max_rows)
    read = read_csv(csv_path, where, errors, reader, "plan file")
    return None if read is None else PlanSpec(csv_path, *read)


def with_today(spec: ModelSpec, csv_path: Path) -> ModelSpec:
    """``spec`` with today's plan read from ``csv_path`` instead of its file's ``today:``
    (``--start-plan CSV`` on a loaded spec); a :class:`~kpidesign.errors.SpecError` with
    every error of the CSV file where it has any."""
    errors = ErrorCollector()
    plan = read_plan(csv_path, START_PLAN, spec.variables, spec.sets, errors, spec.max_size)
    errors.raise_if_any()
    return dataclasses.replace(spec, today=plan)


class _PlanReader:
    """Reads the rows of one plan file (called by :func:`read_csv` with its reader)."""

    def __init__(
        self,
        csv_path: Path,
        variables: dict[str, VariableSpec],
        sets: dict[str, SetSpec],
        errors: ErrorCollector,
        max_rows: int,
    ) -> None:
        self.csv_path = csv_path
        self.variables = variables
        self.sets = sets
        self.errors = errors
        self.max_rows = max_rows
        self.lookups: dict[str, list[dict[str, Any]]] = {}

    def __call__(
        self, reader: Any
    ) -> tuple[dict[tuple[str, tuple], float], dict[tuple[str, tuple], int]] | None:
        positions = self._header(next(reader, None), reader.line_num)
        if positions is None:
            return None
        values: dict[tuple[str, tuple], float] = {}
        first_line: dict[tuple[str, tuple], int] = {}
        report = RowErrors(self.csv_path, reader, self.errors)
        for row in csv_rows(reader, self.csv_path, self.errors, self.max_rows):
            if len(row) != len(positions):
                report(
                    f"{len(row)} cells, but the header has {len(positions)} (an index of "
                    'several members is quoted: "standard,3")',
                    "row",
                )
                continue
            name, raw_index, raw_value = (row[positions[c]].strip() for c in PLAN_COLUMNS)
            key = self._key(name, raw_index, report)
            value = _value(raw_value)
            if isinstance(value, str):
                what = entry_name(*key) if key is not None else name
                report(f"{what}: {value}", "value")
            if key is None or isinstance(value, str):
                continue
            if key in values:
                report(
                    f"{entry_name(*key)} is given twice (first at line {first_line[key]})", "index"
                )
                continue
            values[key] = value
            first_line[key] = reader.line_num
        report.close()
        return None if report.count else (values, first_line)

    def _header(self, header: list[str] | None, line: int) -> dict[str, int] | None:
        """Column -> position of the header ``variable,index,value`` (in any order)."""
        where = Location(self.csv_path, max(line, 1), "header")
        expected = ", ".join(PLAN_COLUMNS)
        if header is None:
            self.errors.add(where, f"the file is empty; a plan file's header is {expected}")
            return None
        columns = [c.strip() for c in header]
        ok = True
        for i, c in enumerate(columns):
            if c not in PLAN_COLUMNS:
                hint = did_you_mean(c, PLAN_COLUMNS, otherwise=f" (the columns are {expected})")
                self.errors.add(where, f"unknown column '{c}'{hint}")
                ok = False
            elif c in columns[:i]:
                self.errors.add(where, f"column '{c}' appears twice")
                ok = False
        for c in PLAN_COLUMNS:
            if c not in columns:
                self.errors.add(where, f"missing column '{c}' (the columns are {expected})")
                ok = False
        return {c: columns.index(c) for c in PLAN_COLUMNS} if ok else None

    def _key(self, name: str, raw_index: str, report: RowErrors) -> tuple[str, tuple] | None:
        """(variable, members) of a row; None, reported, where either is wrong."""
        v = self.variables.get(name)
        if v is None:
            what = f"unknown variable '{name}'" if name else "the variable is missing"
            report(what + did_you_mean(name, self.variables), "variable")
            return None
        parts = [p.strip() for p in raw_index.split(",")] if raw_index else []
        if len(parts) != len(v.over):
            if not v.over:
                report(
                    f"{name} is a scalar variable: its index is empty, not '{raw_index}'", "index"
                )
            else:
                report(
                    f"{name} is indexed by {', '.join(v.over)}: its index has {len(v.over)} "
                    f"member(s), got {len(parts)} ('{raw_index}')",
                    "index",
                )
            return None
        lookups = self.lookups.get(name)
        if lookups is None:
            lookups = self.lookups[name] = [member_lookup(self.sets[s]) for s in v.over]
        members = []
        for part, lookup, s in zip(parts, lookups, v.over, strict=True):
            if part not in lookup:
                report(f"{name}[{raw_index}]: '{part}' is not a member of set '{s}'", "index")
                return None
            members.append(lookup[part])
        return name, tuple(members)


def _value(raw: str) -> float | str:
    """The number a cell holds, or what is wrong with it."""
    if not raw:
        return "the value is missing"
    try:
        value = float(raw)
    except ValueError:
        return f"'{raw}' is not a number"
    return value if math.isfinite(value) else f"'{raw}' is not a finite number"
