"""The points of a sweep: axes (``PATH=VALUES`` for ``set`` or ``scale``) crossed as a grid
or paired (``zip``), optionally with a scenario's variants as one more axis, and the chunks
they are run in."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..results.sweep import column_name

__all__ = ["CHUNK", "MAX_POINTS", "Axis", "Point", "chunks", "parse_axis", "sweep_points"]

#: points of one sweep at most: a grid grows as a product, and a typo (0:1:1000000) must not
#: start a day of solving
MAX_POINTS = 100_000
#: points per chunk (a task of the process pool or of Dask) by analysis: fixed numbers, so
#: that chunk boundaries never depend on the number of workers, chosen so that a task takes
#: seconds, not milliseconds, on the seed (a solve about 35 ms, a compare or evaluate a
#: second or more, a design several)
CHUNK = {"solve": 32, "compare": 2, "evaluate": 2, "design": 1}


@dataclass(frozen=True)
class Axis:
    """One swept path: ``kind`` ``set`` (the value replaces the file's) or ``scale`` (the
    file's value is multiplied), and its values in order."""

    path: str
    values: tuple[Any, ...]
    kind: str = "set"


def _number(text: str) -> float | str:
    """A value as a scenario's ``set`` would read it: a number where it is one."""
    try:
        value = float(text)
    except ValueError:
        return text
    return value if math.isfinite(value) else text


def parse_axis(text: str, kind: str = "set") -> Axis:
    """``PATH=a:b:n`` (n evenly spaced values from a to b) or ``PATH=v1,v2,...``; a
    ``ValueError`` that says what is wrong."""
    path, sep, values = text.partition("=")
    path, values = path.strip(), values.strip()
    if not sep or not path or not values:
        msg = f"--{kind} {text!r}: expected PATH=VALUES (a:b:n or a comma list)"
        raise ValueError(msg)
    if ":" in values:
        parts = values.split(":")
        try:
            a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
        except (ValueError, IndexError):
            a, b, n = math.nan, math.nan, 0
        if len(parts) != 3 or not (math.isfinite(a) and math.isfinite(b)) or n < 1:
            msg = f"--{kind} {text!r}: a range is a:b:n with numbers a, b and a count n >= 1"
            raise ValueError(msg)
        if n > MAX_POINTS:
            msg = f"--{kind} {text!r}: {n} values is more than a sweep may have ({MAX_POINTS})"
            raise ValueError(msg)
        grid = [a] if n == 1 else [float(v) for v in np.linspace(a, b, n)]
        return Axis(path, tuple(grid), kind)
    items = [v.strip() for v in values.split(",")]
    if any(not v for v in items):
        msg = f"--{kind} {text!r}: an empty value in the list"
        raise ValueError(msg)
    parsed = tuple(_number(v) for v in items)
    if kind == "scale" and any(isinstance(v, str) for v in parsed):
        msg = f"--scale {text!r}: factors are numbers"
        raise ValueError(msg)
    return Axis(path, parsed, kind)


@dataclass(frozen=True)
class Point:
    """One point: its number, the variant (None: the file's own) and each axis' value."""

    index: int
    variant: str | None
    values: tuple[tuple[Axis, Any], ...]

    def sets(self) -> dict[str, Any]:
        """The point's ``set`` overrides."""
        return {a.path: v for a, v in self.values if a.kind == "set"}

    def scales(self) -> dict[str, float]:
        """The point's ``scale`` factors."""
        return {a.path: float(v) for a, v in self.values if a.kind == "scale"}

    def labels(self) -> dict[str, Any]:
        """``{path: value}`` as the output names them (a scale's path with ``*``)."""
        return {column_name(a.path, a.kind): v for a, v in self.values}


def sweep_points(
    axes: list[Axis], *, paired: bool = False, variants: list[str | None] | None = None
) -> list[Point]:
    """The points: every combination of the axes' values (the first axis slowest), or with
    ``paired`` the i-th value of each; each of ``variants`` (outermost) in turn."""
    paths = [a.path for a in axes]
    if len(set(paths)) != len(paths):
        msg = "a path is swept twice: " + ", ".join(
            sorted({p for p in paths if paths.count(p) > 1})
        )
        raise ValueError(msg)
    if paired and len({len(a.values) for a in axes}) > 1:
        sizes = ", ".join(f"{a.path}: {len(a.values)}" for a in axes)
        msg = f"--zip pairs the i-th values of each path, so they need as many values ({sizes})"
        raise ValueError(msg)
    paired = paired and bool(axes)  # pairing nothing is the one empty combination
    per_variant = len(axes[0].values) if paired else math.prod(len(a.values) for a in axes)
    size = per_variant * len(variants or [None])
    if size > MAX_POINTS:
        msg = f"the grid has {size:,} points, more than a sweep may have ({MAX_POINTS:,})"
        raise ValueError(msg)
    if paired:
        combos: list[tuple[Any, ...]] = list(zip(*(a.values for a in axes), strict=True))
    else:
        combos = list(itertools.product(*(a.values for a in axes)))
    out = []
    for variant in variants or [None]:
        for combo in combos:
            out.append(Point(len(out), variant, tuple(zip(axes, combo, strict=True))))
    return out


def chunks(points: list, size: int) -> list[list]:
    """Consecutive chunks of ``size`` points (the last may be shorter)."""
    return [points[i : i + size] for i in range(0, len(points), size)]


def fingerprint(*parts: Any) -> str:
    """A digest of what determines a sweep's output (its inputs and settings), so that a
    resumed sweep only reuses chunks of the same sweep."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
