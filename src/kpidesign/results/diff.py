"""The result of ``diff``: two runs of one analysis side by side, every figure of their JSON
paired by its path, with the change."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["DiffResult", "changes_between", "pair_figures"]

#: what is not compared: which file and variant ran (said in ``a`` and ``b``), provenance
#: and notes
_SKIPPED = {"model", "scenario", "variant", "run", "notes"}
#: two numbers closer than this (relative to the larger, at least 1) are the same
TOLERANCE = 1e-9


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            _flatten(v, f"{path}[{i}]", out)
    else:
        out[path] = value


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def pair_figures(a: dict, b: dict) -> list[tuple[dict[str, Any], bool]]:
    """Every figure of two results' JSON paired by path (``section``: the top-level key,
    ``key``: the rest), in ``a``'s order then what only ``b`` has: ``{section, key, a, b,
    delta}`` (``delta`` ``b - a`` for two numbers, 0 within the tolerance, else None; a
    side that lacks the path is None), each with whether it differs."""
    flat_a: dict[str, Any] = {}
    flat_b: dict[str, Any] = {}
    for k in a:
        if k not in _SKIPPED:
            _flatten(a[k], k, flat_a)
    for k in b:
        if k not in _SKIPPED:
            _flatten(b[k], k, flat_b)
    out = []
    for path in [*flat_a, *(p for p in flat_b if p not in flat_a)]:
        va, vb = flat_a.get(path), flat_b.get(path)
        delta = None
        if _number(va) and _number(vb):
            delta = float(vb) - float(va)
            same = abs(delta) <= TOLERANCE * max(1.0, abs(float(va)), abs(float(vb)))
            if same:
                delta = 0.0
        else:
            same = va == vb
        section, _, key = path.partition(".")
        out.append(({"section": section, "key": key, "a": va, "b": vb, "delta": delta}, not same))
    return out


def changes_between(a: dict, b: dict, *, everything: bool = False) -> list[dict[str, Any]]:
    """The figures of :func:`pair_figures` that differ (all of them with ``everything``)."""
    return [row for row, changed in pair_figures(a, b) if changed or everything]


@dataclass(frozen=True)
class DiffResult:
    """Two runs of ``analysis`` (``a`` and ``b``: file, scenario, variant) and the
    ``changes`` between them (a DataFrame: section, key, a, b, delta); ``compared``: how
    many figures were paired."""

    analysis: str
    a: dict[str, Any]
    b: dict[str, Any]
    changes: pd.DataFrame
    compared: int
    everything: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The JSON contract: ``a``, ``b``, ``analysis``, ``changes`` (a list of
        ``{section, key, a, b, delta}``), ``compared``."""
        rows = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in self.changes.to_dict("records")
        ]
        return {
            "analysis": self.analysis,
            "a": self.a,
            "b": self.b,
            "changes": rows,
            "compared": self.compared,
            "notes": list(self.notes),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """The changes as one CSV table."""
        return {"changes": self.changes}
