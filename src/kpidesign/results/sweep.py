"""The result of ``sweep``: one row per point (its values, status, headline figures and
diagnosis) and the points' KPIs, long."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .common import clean

__all__ = ["SweepResult"]


def _figure(v: Any) -> Any:
    """A number for JSON (None for NaN, no solver dust); anything else as it is."""
    if isinstance(v, float):
        return None if math.isnan(v) else clean(v)
    return v


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

    @property
    def ok(self) -> bool:
        """True when every point has an optimum."""
        return bool((self.points.status == "optimal").all())

    def paths(self) -> list[str]:
        """The swept paths as the points' columns name them (a scale's with ``*``)."""
        return [a["path"] if a["kind"] == "set" else f"{a['path']}*" for a in self.axes]

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
