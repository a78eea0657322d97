"""The result of ``sweep``: one row per point (its values, status, headline figures and
diagnosis) and the points' KPIs, long."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .common import clean

__all__ = ["SweepResult", "column_name"]


def _figure(v: Any) -> Any:
    """A number for JSON (None for NaN, no solver dust); anything else as it is."""
    if isinstance(v, float):
        return None if math.isnan(v) else clean(v)
    return v


def column_name(path: str, kind: str) -> str:
    """A swept path as the points' column (and JSON ``values`` key) names it: a set's path
    as it is, a scale's with ``*`` (a factor, not a value)."""
    return path if kind == "set" else f"{path}*"


def _columns(axes: list[dict[str, Any]]) -> list[str]:
    return [column_name(a["path"], a["kind"]) for a in axes]


@dataclass(frozen=True)
class SweepResult:
    """A sweep of ``model`` (``scenario``) with ``analysis`` at every point.

    ``axes``: each swept path (``path``, ``kind`` set or scale, ``values``). DataFrames:
    ``points`` (``point``, ``variant``, one column per swept path, ``status``, ``built``
    (``reused``, ``re-evaluated`` or ``built``), ``built_why``, the analysis' figures,
    ``diagnosis``), ``kpis`` (``point``, ``department``, ``kpi``,
    ``plan``, ``value``).
    """

    model: str
    scenario: str
    analysis: str
    axes: list[dict[str, Any]]
    points: pd.DataFrame
    kpis: pd.DataFrame
    figures: list[str]
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of_rows(
        cls,
        *,
        model: str,
        scenario: str,
        analysis: str,
        axes: list[dict[str, Any]],
        points: list[tuple[int, str | None, dict[str, Any]]],
        rows: list[dict[str, Any]],
        figures: list[str],
    ) -> SweepResult:
        """The result of ``rows`` (one per point, as a chunk returns them, in point order)
        for ``points`` (number, variant, ``{path: value}``), with notes that say how the
        points' programs were made."""
        table, kpis = [], []
        for (index, variant, values), row in zip(points, rows, strict=True):
            assert row["point"] == index
            table.append(
                {"point": index, "variant": variant, **values, "status": row["status"],
                 "built": row["built"], "built_why": row["built_why"],
                 **{k: row[k] for k in figures}, "diagnosis": row["diagnosis"]}
            )  # fmt: skip
            kpis.extend({"point": index, **k} for k in row["kpis"])
        notes = []
        made = {how: sum(r["built"] == how for r in rows) for how in ("reused", "re-evaluated")}
        if any(made.values()):
            notes.append(
                f"{made['reused']} point(s) reused their variant's compiled program and "
                f"{made['re-evaluated']} had the rows their params feed evaluated anew, "
                "without Pyomo"
            )
        why: dict[str, int] = {}
        for r in rows:
            if r["built"] == "built":
                why[r["built_why"]] = why.get(r["built_why"], 0) + 1
        notes += [f"{n} point(s) built from their spec: {reason}" for reason, n in why.items()]
        columns = ["point", "variant", *_columns(axes), "status", "built", "built_why"]
        return cls(
            model,
            scenario,
            analysis,
            axes,
            pd.DataFrame(table, columns=[*columns, *figures, "diagnosis"]),
            pd.DataFrame(kpis, columns=["point", "department", "kpi", "plan", "value"]),
            figures,
            notes,
        )

    @property
    def ok(self) -> bool:
        """True when every point has an optimum."""
        return bool((self.points.status == "optimal").all())

    def paths(self) -> list[str]:
        """The swept paths as the points' columns name them (a scale's with ``*``)."""
        return _columns(self.axes)

    def to_dict(self) -> dict:
        """The JSON contract: ``points`` (``{point, variant, values, status, built,
        <figures>, diagnosis}``), ``kpis`` (long), ``axes`` and ``notes``."""
        points = []
        for row in self.points.to_dict("records"):
            points.append(
                {
                    "point": int(row["point"]),
                    "variant": row["variant"],
                    "values": {p: _figure(row[p]) for p in self.paths()},
                    "status": row["status"],
                    "built": row["built"],
                    "built_why": row["built_why"],
                    **{k: _figure(row[k]) for k in self.figures},
                    "diagnosis": row["diagnosis"],
                }
            )
        return {
            "model": self.model,
            "scenario": self.scenario,
            "analysis": self.analysis,
            "axes": self.axes,
            "points": points,
            "kpis": [
                {**r, "point": int(r["point"]), "value": _figure(r["value"])}
                for r in self.kpis.to_dict("records")
            ],
            "notes": list(self.notes),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files (the diagnosis as its message and
        the conflicting names joined by ``;``)."""
        points = self.points.copy()
        points["diagnosis"] = [
            "" if d is None else "; ".join([d["message"], *d["conflict"], *d["ray"]])
            for d in points["diagnosis"]
        ]
        return {"points": points, "kpis": self.kpis}
