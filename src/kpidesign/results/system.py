"""The result of ``solve``: the system optimum with allocations optimized."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..types import Diagnosis
from .common import Outcome, RunInfo, clean

__all__ = ["SystemResult"]

_COLUMNS = (
    ["department", "resource", "baseline", "allocation", "shadow_price"],
    ["department", "kpi", "sense", "unit", "ratio", "value"],
    ["variable", "total"],
    ["constraint", "index", "activity", "lower", "upper", "shadow_price", "binding"],
    ["resource", "available", "allocated", "shadow_price"],
)


@dataclass(frozen=True)
class SystemResult(Outcome):
    """The system optimum (allocations optimized): what `kpidesign solve` reports.

    DataFrames (long format):

    ``allocations``  department, resource, baseline, allocation, shadow_price
    ``kpis``         department (empty for company KPIs), kpi, sense, unit, value
    ``state``        variable, total (the sum over indices)
    ``state_measures`` variable, per, unit, measure (average, min, max per period), value
    ``constraints``  constraint, index, activity, lower, upper, shadow_price, binding
    ``resources``    resource, available, allocated, shadow_price
    """

    run: RunInfo
    objective: float
    allocations: pd.DataFrame
    kpis: pd.DataFrame
    state: pd.DataFrame
    constraints: pd.DataFrame
    resources: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    state_measures: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            columns=["variable", "per", "unit", "measure", "value"]
        )
    )

    @classmethod
    def failed(cls, run: RunInfo, diagnosis: Diagnosis) -> SystemResult:
        """The result of a system problem without an optimum: its diagnosis, no numbers."""
        return cls(run, float("nan"), *(pd.DataFrame(columns=c) for c in _COLUMNS), [], diagnosis)

    def priced_constraints(self) -> pd.DataFrame:
        """The binding constraints with a nonzero shadow price, the largest (in absolute
        value) first; ties keep the model's order."""
        c = self.constraints
        priced = c[c.binding & (c.shadow_price != 0)]
        order = priced.shadow_price.abs().sort_values(ascending=False, kind="stable").index
        return priced.loc[order]

    def to_dict(self) -> dict:
        """The JSON contract: status, objective, allocation, kpis, state, duals."""
        allocation: dict[str, dict[str, float]] = {}
        alloc_duals: dict[str, dict[str, float]] = {}
        for row in self.allocations.itertuples(index=False):
            allocation.setdefault(row.department, {})[row.resource] = clean(row.allocation)
            alloc_duals.setdefault(row.department, {})[row.resource] = clean(row.shadow_price)
        kpis: dict[str, dict[str, float]] = {}
        company: dict[str, float] = {}
        for row in self.kpis.itertuples(index=False):
            if row.department:
                kpis.setdefault(row.department, {})[row.kpi] = clean(row.value)
            else:
                company[row.kpi] = clean(row.value)
        cons: dict[str, float | dict[str, float]] = {}
        for row in self.constraints.itertuples(index=False):
            if row.index is None or row.index == "":
                cons[row.constraint] = clean(row.shadow_price)
            else:
                entry = cons.setdefault(row.constraint, {})
                assert isinstance(entry, dict)
                entry[row.index] = clean(row.shadow_price)
        return self.finish(
            {
                **self.header(),
                "objective": clean(self.objective),
                "allocation": allocation,
                "kpis": kpis,
                "company_kpis": company,
                "state": {r.variable: clean(r.total) for r in self.state.itertuples(index=False)},
                "state_measures": self._measures(),
                "duals": {
                    "constraints": cons,
                    "allocations": alloc_duals,
                    "resources": {
                        r.resource: clean(r.shadow_price)
                        for r in self.resources.itertuples(index=False)
                    },
                },
                "notes": list(self.notes),
            }
        )

    def _measures(self) -> dict[str, dict]:
        """JSON ``state_measures``: per variable its ``per`` set, ``unit`` and measures."""
        out: dict[str, dict] = {}
        for r in self.state_measures.itertuples(index=False):
            entry = out.setdefault(r.variable, {"per": r.per or None, "unit": r.unit or None})
            entry[r.measure] = clean(r.value)
        return out

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        summary = pd.DataFrame(
            [
                {
                    **self.summary_row(),
                    "objective": clean(self.objective),
                }
            ]
        )
        return {
            "summary": summary,
            "allocations": self.allocations,
            "kpis": self.kpis,
            "state": self.state,
            "state_measures": self.state_measures,
            "constraints": self.constraints,
            "resources": self.resources,
        }
