"""Result objects of the analyses: pandas DataFrames plus the JSON contract of DESIGN.md.

Renderers (terminal, JSON, CSV) only read these objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["CompareResult", "DesignResult", "SystemResult", "clean"]


def clean(x: float, tol: float = 1e-9) -> float:
    """A plain float for output: no -0.0, no solver dust below ``tol`` (relative to 1)."""
    x = float(x)
    if math.isnan(x):
        return x
    if abs(x) < tol:
        return 0.0
    return x


@dataclass(frozen=True)
class SystemResult:
    """The system optimum (allocations optimized): what `kpidesign solve` reports.

    DataFrames (long format):

    ``allocations``  department, resource, baseline, allocation, shadow_price
    ``kpis``         department (empty for company KPIs), kpi, sense, unit, value
    ``state``        variable, total
    ``constraints``  constraint, index, activity, lower, upper, shadow_price, binding
    ``resources``    resource, available, allocated, shadow_price
    """

    model: str
    scenario: str
    variant: str | None
    status: str
    sense: str
    objective: float
    allocations: pd.DataFrame
    kpis: pd.DataFrame
    state: pd.DataFrame
    constraints: pd.DataFrame
    resources: pd.DataFrame
    solve_seconds: float
    notes: list[str] = field(default_factory=list)

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
        return {
            "model": self.model,
            "scenario": self.scenario,
            "variant": self.variant,
            "status": self.status,
            "sense": self.sense,
            "objective": clean(self.objective),
            "allocation": allocation,
            "kpis": kpis,
            "company_kpis": company,
            "state": {r.variable: clean(r.total) for r in self.state.itertuples(index=False)},
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

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        summary = pd.DataFrame(
            [
                {
                    "model": self.model,
                    "scenario": self.scenario,
                    "variant": self.variant or "",
                    "status": self.status,
                    "sense": self.sense,
                    "objective": clean(self.objective),
                }
            ]
        )
        return {
            "summary": summary,
            "allocations": self.allocations,
            "kpis": self.kpis,
            "state": self.state,
            "constraints": self.constraints,
            "resources": self.resources,
        }


@dataclass(frozen=True)
class CompareResult:
    """Status quo (A), aligned (B) and system optimum (C), side by side.

    ``kpis``: department, kpi, sense, plan, value (long format, plan in status_quo/aligned/
    system); ``unilateral``: department, loss, loss_pessimistic, score; ``state``:
    variable, plan, total; ``allocations``: department, resource, plan, allocation.
    """

    model: str
    scenario: str
    variant: str | None
    sense: str
    objectives: dict[str, float]
    status_quo_pessimistic: float
    misalignment_cost: float
    misalignment_cost_pessimistic: float
    reallocation_gain: float
    kpis: pd.DataFrame
    incentives: dict[str, dict[str, float]]
    unilateral: pd.DataFrame
    state: pd.DataFrame
    allocations: pd.DataFrame
    decentralized: dict
    solves: int
    solve_seconds: float
    notes: list[str] = field(default_factory=list)

    def kpi(self, department: str, kpi: str, plan: str) -> float:
        t = self.kpis
        hit = t[(t.department == department) & (t.kpi == kpi) & (t.plan == plan)]
        return float(hit.value.iloc[0])

    def state_total(self, variable: str, plan: str) -> float:
        t = self.state
        return float(t[(t.variable == variable) & (t.plan == plan)].total.iloc[0])

    def own_kpis_hold(self) -> dict[str, bool]:
        """Per department: is every KPI it is paid on at least as good under the status quo
        as under the aligned plan?"""
        out = {}
        for dept, weights in self.incentives.items():
            ok = True
            for qualified in weights:
                owner, _, name = qualified.rpartition(".")
                row = self.kpis[(self.kpis.department == owner) & (self.kpis.kpi == name)]
                sense = row.sense.iloc[0]
                a = float(row[row.plan == "status_quo"].value.iloc[0])
                b = float(row[row.plan == "aligned"].value.iloc[0])
                tol = 1e-6 * (1 + abs(b))
                ok &= a >= b - tol if sense == "max" else a <= b + tol
            out[dept] = ok
        return out

    def headline(self) -> str:
        """One sentence a manager reads in five seconds."""
        cost = self.misalignment_cost
        if not math.isfinite(cost) or abs(cost) < 1e-4:
            return (
                "Incentives are aligned: the departments' own optima add up to the aligned optimum."
            )
        holds = self.own_kpis_hold()
        paid = [d for d in holds if self.incentives.get(d)]
        if paid and all(holds[d] for d in paid):
            lead = "Each department meets its own KPI at least as well as under the aligned plan"
        else:
            n_ok = sum(holds[d] for d in paid)
            lead = f"{n_ok} of {len(paid)} departments do at least as well on their own KPI"
        pct = f"{abs(cost) * 100:.0f}%"
        if cost > 0:
            verdict = (
                f"the company earns {pct} less than it could"
                if self.sense == "max"
                else f"the company's costs are {pct} higher than they need be"
            )
        else:
            verdict = f"the company does {pct} better than the aligned plan (check the model)"
        changes = []
        for var in dict.fromkeys(self.state.variable):
            a, b = self.state_total(var, "status_quo"), self.state_total(var, "aligned")
            if abs(b) > 1e-9:
                rel = (a - b) / abs(b)
                if abs(rel) >= 0.01:
                    changes.append((abs(rel), f"{var} {rel * 100:+.0f}%"))
            elif abs(a) > 1e-6:
                changes.append((math.inf, f"{var} {b:,.0f} -> {a:,.0f}"))
        changes.sort(key=lambda c: -c[0])
        tail = (": " + ", ".join(c[1] for c in changes[:4])) if changes else ""
        return f"{lead}; {verdict}{tail}."

    def to_dict(self) -> dict:
        departments: dict[str, dict] = {}
        for row in self.kpis.itertuples(index=False):
            if not row.department:
                continue
            dept = departments.setdefault(row.department, {"kpis": {}, "incentive": {}})
            dept["kpis"].setdefault(row.kpi, {})[row.plan] = clean(row.value)
        for row in self.unilateral.itertuples(index=False):
            dept = departments.setdefault(row.department, {"kpis": {}, "incentive": {}})
            dept["unilateral_loss"] = clean(row.loss)
            dept["unilateral_loss_pessimistic"] = clean(row.loss_pessimistic)
            dept["incentive"] = dict(self.incentives.get(row.department, {}))
        company: dict[str, dict] = {}
        for row in self.kpis.itertuples(index=False):
            if not row.department:
                company.setdefault(row.kpi, {})[row.plan] = clean(row.value)
        state: dict[str, dict] = {}
        for row in self.state.itertuples(index=False):
            state.setdefault(row.variable, {})[row.plan] = clean(row.total)
        allocation: dict[str, dict] = {}
        for row in self.allocations.itertuples(index=False):
            allocation.setdefault(row.department, {}).setdefault(row.resource, {})[row.plan] = (
                clean(row.allocation)
            )
        return {
            "model": self.model,
            "scenario": self.scenario,
            "variant": self.variant,
            "sense": self.sense,
            "headline": self.headline(),
            "plans": {p: {"objective": clean(v)} for p, v in self.objectives.items()},
            "status_quo_pessimistic": {"objective": clean(self.status_quo_pessimistic)},
            "misalignment_cost": clean(self.misalignment_cost),
            "misalignment_cost_pessimistic": clean(self.misalignment_cost_pessimistic),
            "reallocation_gain": clean(self.reallocation_gain),
            "departments": departments,
            "company_kpis": company,
            "state": state,
            "allocation": allocation,
            "decentralized": self.decentralized,
            "solves": self.solves,
            "notes": list(self.notes),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        plans = pd.DataFrame(
            [{"plan": p, "objective": clean(v)} for p, v in self.objectives.items()]
            + [{"plan": "status_quo_pessimistic", "objective": clean(self.status_quo_pessimistic)}]
        )
        measures = pd.DataFrame(
            [
                {"measure": "misalignment_cost", "value": clean(self.misalignment_cost)},
                {
                    "measure": "misalignment_cost_pessimistic",
                    "value": clean(self.misalignment_cost_pessimistic),
                },
                {"measure": "reallocation_gain", "value": clean(self.reallocation_gain)},
                {"measure": "rounds", "value": float(self.decentralized["rounds"])},
                {"measure": "converged", "value": float(self.decentralized["converged"])},
            ]
        )
        return {
            "plans": plans,
            "measures": measures,
            "kpis": self.kpis,
            "unilateral": self.unilateral,
            "state": self.state,
            "allocations": self.allocations,
        }


@dataclass(frozen=True)
class DesignResult:
    """Designed scorecards, their incentive gaps, and the verification by simulation.

    ``weights``: department, kpi, designed, current (long format; current weights are
    normalized to sum 1).  ``departments``: department, gap, gap_share, current_gap, exact,
    indifferent, pessimistic_loss, alignment_current, alignment_designed.
    """

    model: str
    scenario: str
    variant: str | None
    sense: str
    optimum: float
    status_quo: float
    weights: pd.DataFrame
    departments: pd.DataFrame
    verification: dict
    notes: list[str] = field(default_factory=list)

    def flagged(self) -> dict[str, list[str]]:
        """Departments with a positive incentive gap, and those indifferent at the target."""
        t = self.departments
        return {
            "positive_gap": [r.department for r in t.itertuples() if not r.exact],
            "indifferent": [r.department for r in t.itertuples() if r.indifferent],
        }

    def to_dict(self) -> dict:
        departments: dict[str, dict] = {}
        for r in self.departments.itertuples(index=False):
            w = self.weights[self.weights.department == r.department]
            departments[r.department] = {
                "weights": {k: clean(v) for k, v in zip(w.kpi, w.designed, strict=True) if v > 0},
                "current_weights": {
                    k: clean(v) for k, v in zip(w.kpi, w.current, strict=True) if v > 0
                },
                "incentive_gap": clean(r.gap),
                "incentive_gap_share": clean(r.gap_share),
                "current_incentive_gap": clean(r.current_gap),
                "exact": bool(r.exact),
                "indifferent": bool(r.indifferent),
                "pessimistic_loss": clean(r.pessimistic_loss),
                "alignment": {
                    "current": clean(r.alignment_current),
                    "designed": clean(r.alignment_designed),
                },
            }
        return {
            "model": self.model,
            "scenario": self.scenario,
            "variant": self.variant,
            "sense": self.sense,
            "optimum": clean(self.optimum),
            "status_quo": clean(self.status_quo),
            "departments": departments,
            "flags": self.flagged(),
            "verification": dict(self.verification),
            "notes": list(self.notes),
        }

    def tables(self) -> dict[str, pd.DataFrame]:
        verification = pd.DataFrame([{k: v for k, v in self.verification.items()}])
        return {
            "weights": self.weights,
            "departments": self.departments,
            "verification": verification,
        }
