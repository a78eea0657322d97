"""The result of ``frontier``: the objective as a function of a resource's total."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..types import Diagnosis
from .common import Outcome, RunInfo, clean

__all__ = ["FrontierResult"]


def _json_row(row: dict) -> dict:
    """A status-quo row for JSON: text as is, numbers cleaned, NaN as ``None``."""
    return {
        k: v if isinstance(v, str) else (None if math.isnan(v) else clean(v))
        for k, v in row.items()
    }


@dataclass(frozen=True)
class FrontierResult(Outcome):
    """The company objective (allocations optimized) at every breakpoint of its value as a
    function of ``resource``'s total (or of ``constraint``'s right-hand side), and at both
    ends.

    DataFrames: ``points`` (total or rhs, objective), ``slopes`` (from, to, slope: the
    objective per unit between two breakpoints, the shadow price there).
    """

    run: RunInfo
    resource: str
    points: pd.DataFrame
    slopes: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    constraint: str = ""
    #: a margin (a constraint's ``slack`` or ``resources.R.reserve``) whose value varies
    margin: str = ""
    #: with ``analysis="compare"``: total, status, system, aligned, status_quo (file order),
    #: status_quo_min/max, misalignment_cost (file order), misalignment_cost_min/max
    status_quo: pd.DataFrame | None = None
    #: with ``analysis="design"``: total, status, system, status_quo (file order),
    #: designed (the designed scheme's worst computed path), designed_share
    designs: pd.DataFrame | None = None

    @property
    def parameter(self) -> str:
        """What varies, as the points' first column names it: ``total``, ``rhs`` or
        ``margin``."""
        return "rhs" if self.constraint else ("margin" if self.margin else "total")

    @classmethod
    def failed(cls, run: RunInfo, diagnosis: Diagnosis) -> FrontierResult:
        """A frontier that met a total without an optimum: its diagnosis, no numbers."""
        return cls(
            run,
            "",
            pd.DataFrame(columns=["total", "objective"]),
            pd.DataFrame(columns=["from", "to", "slope"]),
            [],
            diagnosis,
        )

    def to_dict(self) -> dict:
        """The JSON contract: ``points`` and ``slopes``."""
        return self.finish(
            {
                **self.header(),
                "resource": self.resource or None,
                "constraint": self.constraint or None,
                "margin": self.margin or None,
                "points": [
                    {self.parameter: clean(p[self.parameter]), "objective": clean(p["objective"])}
                    for p in self.points.to_dict("records")
                ],
                "slopes": [
                    {"from": clean(r["from"]), "to": clean(r["to"]), "slope": clean(r["slope"])}
                    for r in self.slopes.to_dict("records")
                ],
                **(
                    {"status_quo": [_json_row(r) for r in self.status_quo.to_dict("records")]}
                    if self.status_quo is not None
                    else {}
                ),
                **(
                    {"designs": [_json_row(r) for r in self.designs.to_dict("records")]}
                    if self.designs is not None
                    else {}
                ),
                "notes": list(self.notes),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        out = {"points": self.points, "slopes": self.slopes}
        if self.status_quo is not None:
            out["status_quo"] = self.status_quo
        if self.designs is not None:
            out["designs"] = self.designs
        return out
