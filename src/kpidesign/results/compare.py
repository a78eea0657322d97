"""The result of ``compare`` and ``evaluate``: plans A, B and C side by side."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from ..spec.model import split_kpi
from ..types import Diagnosis, Plan, Sense
from .common import Outcome, RunInfo, clean, figure
from .verification import Verification

__all__ = ["STATE_PERIOD_COLUMNS", "CompareResult", "Dynamics", "PathEnd", "StatusQuoRange"]

_COLUMNS = (
    ["department", "kpi", "sense", "unit", "plan", "value"],
    ["department", "loss", "loss_pessimistic", "score"],
    ["variable", "plan", "total"],
    ["department", "resource", "plan", "allocation"],
)
_MEASURE_COLUMNS = ["variable", "per", "unit", "measure", "plan", "value"]
#: the columns of :attr:`CompareResult.state_periods`
STATE_PERIOD_COLUMNS = ["variable", "per", "unit", "period", "plan", "value"]


@dataclass(frozen=True)
class Dynamics:
    """Where best-response dynamics ended: rounds, whether they converged or cycled, the
    system objective after each round (optimistic run) and at the end."""

    rounds: int
    converged: bool
    cycle: bool
    history: tuple[float, ...] = ()
    objective: float = float("nan")

    @property
    def ending(self) -> str:
        """``converged``, ``cycled`` or ``did not converge``."""
        return "converged" if self.converged else ("cycled" if self.cycle else "did not converge")

    def to_dict(self, *, history: bool = True) -> dict:
        """The JSON form: with the history (optimistic) or the final objective."""
        out: dict = {"rounds": self.rounds, "converged": self.converged, "cycle": self.cycle}
        if history:
            out["history"] = [clean(v) for v in self.history]
        else:
            out["objective"] = clean(self.objective)
        return out


@dataclass(frozen=True)
class PathEnd:
    """Where one computed path of the status quo ended, and which path it was."""

    objective: float
    order: tuple[str, ...]
    start: str
    tie_break: str

    def to_dict(self) -> dict:
        """The JSON form (the objective is given beside it)."""
        return {"order": list(self.order), "start": self.start, "tie_break": self.tie_break}

    def describe(self) -> str:
        """In words: "order a, b, c from the aligned start, pessimistic tie-break"."""
        return (
            f"order {', '.join(self.order)} from the {self.start} start, {self.tie_break} tie-break"
        )


@dataclass(frozen=True)
class StatusQuoRange:
    """The status quo over every computed path (department orders, starts, tie-breaks):
    the worst and the best end for the company, how many paths and distinct end plans
    (equilibria) there were, and each KPI's range (``kpis``: department, kpi, min, max;
    department "" for a company KPI)."""

    worst: PathEnd
    best: PathEnd
    misalignment_cost: tuple[float, float]  # (lowest, highest)
    paths: int
    orders: int
    starts: dict[str, str]  # label -> where it is, in words
    equilibria: int
    kpis: pd.DataFrame
    #: paths that ended without a plan (an unbounded pessimistic response): not in the range
    unbounded: int = 0
    #: paths that could not be computed (the solver's numerical trouble): not in the range
    failed: int = 0

    @property
    def low(self) -> float:
        """The smallest objective reached."""
        return min(self.worst.objective, self.best.objective)

    @property
    def high(self) -> float:
        """The largest objective reached."""
        return max(self.worst.objective, self.best.objective)

    @property
    def same_equilibrium(self) -> bool:
        """Did every computed path end at the same plan?"""
        return self.equilibria == 1 and not self.unbounded and not self.failed

    def kpi_range(self, department: str, kpi: str) -> tuple[float, float]:
        """The (min, max) of a KPI over the computed paths' end plans."""
        t = self.kpis
        hit = t[(t.department == department) & (t.kpi == kpi)]
        return float(hit["min"].iloc[0]), float(hit["max"].iloc[0])

    def to_dict(self) -> dict:
        """``status_quo_range`` of the JSON contract."""
        return {
            "min": clean(self.low),
            "max": clean(self.high),
            "worst": {"objective": clean(self.worst.objective), **self.worst.to_dict()},
            "best": {"objective": clean(self.best.objective), **self.best.to_dict()},
            "paths": self.paths,
            "orders": self.orders,
            "starts": dict(self.starts),
            "tie_breaks": ["optimistic", "pessimistic"],
            "equilibria": self.equilibria,
            "same_equilibrium": self.same_equilibrium,
            "unbounded_paths": self.unbounded,
            "failed_paths": self.failed,
        }


@dataclass(frozen=True)
class CompareResult(Outcome):
    """Status quo (A), aligned (B) and system optimum (C), side by side.

    ``kpis``: department, kpi, sense, unit, plan, value (long format, plan in
    status_quo/aligned/system); ``unilateral``: department, loss, loss_pessimistic, score;
    ``state``: variable, plan, total (the sum over indices); ``state_measures``: variable,
    per (the time-like set the measures run over, "" for none), unit, measure
    (``average``, ``min``, ``max`` of the per-period value), plan, value; ``state_periods``:
    variable, per, unit, period, plan, value (each variable with a time-like set, per
    period); ``allocations``:
    department, resource, plan, allocation.
    """

    run: RunInfo
    objectives: dict[Plan, float]
    status_quo_pessimistic: float
    misalignment_cost: float
    misalignment_cost_pessimistic: float
    reallocation_gain: float
    kpis: pd.DataFrame
    incentives: dict[str, dict[str, float]]
    unilateral: pd.DataFrame
    state: pd.DataFrame
    allocations: pd.DataFrame
    decentralized: Dynamics
    pessimistic: Dynamics
    notes: list[str] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    #: the scheme's verification at the allocations a scheme file gave (``evaluate``)
    verification: Verification | None = None
    #: the status quo over every computed path (orders, starts, tie-breaks); the plan and
    #: figures above are the file-order path's, from the aligned plan
    status_quo_range: StatusQuoRange | None = None
    state_measures: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=_MEASURE_COLUMNS)
    )
    state_periods: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=STATE_PERIOD_COLUMNS)
    )

    @classmethod
    def failed(cls, run: RunInfo, diagnosis: Diagnosis) -> CompareResult:
        """The result of a comparison without an optimum: its diagnosis, no numbers."""
        nan = float("nan")
        frames = (pd.DataFrame(columns=c) for c in _COLUMNS)
        kpis, unilateral, state, allocations = frames
        never = Dynamics(0, False, False)
        return cls(
            run, dict.fromkeys(Plan, nan), nan, nan, nan, nan, kpis, {}, unilateral, state,
            allocations, never, never, [], diagnosis,
        )  # fmt: skip

    @property
    def solves(self) -> int:
        """HiGHS solves of the run."""
        return self.run.solves

    def vs_aligned(self, plan: Plan) -> float:
        """``(objective - aligned) / |aligned|``: positive is a higher objective."""
        return self.relative_to_aligned(self.objectives[plan])

    def relative_to_aligned(self, objective: float) -> float:
        """``(objective - aligned) / |aligned|`` of any objective value."""
        ref = self.objectives[Plan.ALIGNED]
        return (objective - ref) / abs(ref) if abs(ref) > 1e-12 else float("nan")

    @property
    def pessimistic_vs_aligned(self) -> float:
        """:meth:`vs_aligned` of the status quo under the pessimistic tie-break."""
        cost = self.misalignment_cost_pessimistic
        return -cost if self.sense is Sense.MAX else cost

    def unilateral_losses(self) -> dict[str, tuple[float, float | None]]:
        """Per department, its unilateral loss, optimistic and (where it differs by more
        than 1e-4 relative) pessimistic."""
        out: dict[str, tuple[float, float | None]] = {}
        for u in self.unilateral.itertuples(index=False):
            same = abs(u.loss_pessimistic - u.loss) <= 1e-4 * (1 + abs(u.loss))
            out[u.department] = (u.loss, None if same else u.loss_pessimistic)
        return out

    def kpi(self, department: str, kpi: str, plan: str) -> float:
        """The value of a department's KPI under ``plan``."""
        t = self.kpis
        hit = t[(t.department == department) & (t.kpi == kpi) & (t.plan == plan)]
        return float(hit.value.iloc[0])

    def state_total(self, variable: str, plan: str) -> float:
        """The total of a shared-state variable under ``plan``."""
        t = self.state
        return float(t[(t.variable == variable) & (t.plan == plan)].total.iloc[0])

    def state_measure(self, variable: str, measure: str, plan: str) -> float:
        """A per-period measure (``average``, ``min``, ``max``) of a shared-state variable
        under ``plan``."""
        t = self.state_measures
        hit = t[(t.variable == variable) & (t.measure == measure) & (t.plan == plan)]
        return float(hit.value.iloc[0])

    def state_changes(self, top: int = 4) -> str:
        """The ``top`` largest changes of shared state from the aligned plan to the status
        quo, as the headline quotes them: each variable's average per period, aligned ->
        status quo, in the variable's unit, with the change in % only where it is the
        natural reading (both averages clearly away from 0 and a change under 100%); ""
        when nothing moves by 1% or more.  A variable without a time-like set is quoted by
        its total."""
        t = self.state_measures
        changes: list[tuple[float, str, str, str]] = []  # (size, variable, per, text)
        for var, per, unit in (
            t[["variable", "per", "unit"]].drop_duplicates().itertuples(index=False)
        ):
            a = self.state_measure(var, "average", "status_quo")
            b = self.state_measure(var, "average", "aligned")
            levels = f"{figure(b)} -> {figure(a)}" + (f" {unit}" if unit else "")
            if abs(b) > 1e-9:
                rel = (a - b) / abs(b)
                if abs(rel) >= 0.01:
                    pct = f" ({rel * 100:+.0f}%)" if abs(rel) < 1 else ""
                    changes.append((abs(rel), var, per, levels + pct))
            elif abs(a) > 1e-6:  # from ~0: never a %
                changes.append((math.inf, var, per, levels))
        changes.sort(key=lambda c: -c[0])
        quoted = changes[:top]
        pers = {per for _, _, per, _ in quoted}
        if len(pers) == 1 and "" not in pers:
            items = ", ".join(f"{var} {text}" for _, var, _, text in quoted)
            return f"average per {pers.pop()}, {items}"
        return ", ".join(
            f"average {var} per {per} {text}" if per else f"{var} {text}"
            for _, var, per, text in quoted
        )

    def own_kpis_hold(self) -> dict[str, bool]:
        """Per department: is every KPI it is paid on at least as good under the status quo
        as under the aligned plan?"""
        out = {}
        for dept, weights in self.incentives.items():
            ok = True
            for qualified in weights:
                owner, name = split_kpi(qualified)
                owner = owner or ""
                row = self.kpis[(self.kpis.department == owner) & (self.kpis.kpi == name)]
                sense = row.sense.iloc[0]
                a = float(row[row.plan == "status_quo"].value.iloc[0])
                b = float(row[row.plan == "aligned"].value.iloc[0])
                tol = 1e-6 * (1 + abs(b))
                ok &= a >= b - tol if sense == "max" else a <= b + tol
            out[dept] = ok
        return out

    #: the names of :meth:`figures`, in order
    FIGURES = (
        "system", "aligned", "status_quo", "status_quo_min", "status_quo_max",
        "misalignment_cost", "misalignment_cost_min", "misalignment_cost_max",
    )  # fmt: skip

    def figures(self) -> dict[str, float]:
        """The headline figures a grid of comparisons (a sweep, a frontier) lists: the
        three objectives, the status quo's range and the misalignment cost with its range
        (NaN without an optimum, or without a range)."""
        nan = math.nan
        if self.diagnosis is not None:
            return dict.fromkeys(self.FIGURES, nan)
        ranged = self.status_quo_range
        low, high = (ranged.low, ranged.high) if ranged is not None else (nan, nan)
        m_low, m_high = ranged.misalignment_cost if ranged is not None else (nan, nan)
        return {
            "system": self.objectives[Plan.SYSTEM],
            "aligned": self.objectives[Plan.ALIGNED],
            "status_quo": self.objectives[Plan.STATUS_QUO],
            "status_quo_min": low,
            "status_quo_max": high,
            "misalignment_cost": self.misalignment_cost,
            "misalignment_cost_min": m_low,
            "misalignment_cost_max": m_high,
        }

    def headline(self) -> str:
        """One sentence a manager reads in five seconds."""
        if self.diagnosis is not None:  # no plans, so no misalignment to speak of
            return self.diagnosis.message
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
        ranged = self.status_quo_range
        same = ""
        if ranged is not None and cost > 0:
            low, high = (round(c * 100) for c in ranged.misalignment_cost)
            if ranged.same_equilibrium:
                same = f" (all {ranged.paths} computed paths end at the same plan)"
            elif low != high and low > 0:
                pct = f"{low}–{high}% (file order {pct})"
            elif low != high:
                pct += f" (from {low}% to {high}% over {ranged.paths} computed paths)"
        if cost > 0:
            verdict = (
                f"the company earns {pct} less than it could"
                if self.sense == "max"
                else f"the company's costs are {pct} higher than they need be"
            )
        else:
            verdict = f"the company does {pct} better than the aligned plan (check the model)"
        changes = self.state_changes()
        tail = f": {changes}" if changes else ""
        return f"{lead}; {verdict}{same}{tail}."

    def to_dict(self) -> dict:
        """The JSON contract of ``compare``/``evaluate`` (DESIGN.md)."""
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
        ranged = self.status_quo_range
        if ranged is not None:
            for row in ranged.kpis.itertuples(index=False):
                where = departments[row.department]["kpis"] if row.department else company
                where.setdefault(row.kpi, {})["status_quo_range"] = {
                    "min": clean(row.min),
                    "max": clean(row.max),
                }
        state: dict[str, dict] = {}
        for row in self.state.itertuples(index=False):
            state.setdefault(row.variable, {})[row.plan] = clean(row.total)
        measures: dict[str, dict] = {}
        for row in self.state_measures.itertuples(index=False):
            entry = measures.setdefault(
                row.variable, {"per": row.per or None, "unit": row.unit or None}
            )
            entry.setdefault(row.measure, {})[row.plan] = clean(row.value)
        by_period: dict[str, dict] = {}
        for row in self.state_periods.itertuples(index=False):
            entry = by_period.setdefault(
                row.variable, {"per": row.per or None, "unit": row.unit or None, "periods": {}}
            )
            entry["periods"].setdefault(row.period, {})[row.plan] = clean(row.value)
        allocation: dict[str, dict] = {}
        for row in self.allocations.itertuples(index=False):
            allocation.setdefault(row.department, {}).setdefault(row.resource, {})[row.plan] = (
                clean(row.allocation)
            )
        return self.finish(
            {
                "model": self.model,
                "scenario": self.scenario,
                "variant": self.variant,
                "sense": str(self.sense),
                "headline": self.headline(),
                "plans": {p: {"objective": clean(v)} for p, v in self.objectives.items()},
                "status_quo_pessimistic": {"objective": clean(self.status_quo_pessimistic)},
                "misalignment_cost": clean(self.misalignment_cost),
                "misalignment_cost_pessimistic": clean(self.misalignment_cost_pessimistic),
                **(
                    {
                        "status_quo_range": ranged.to_dict(),
                        "misalignment_cost_range": {
                            "min": clean(ranged.misalignment_cost[0]),
                            "max": clean(ranged.misalignment_cost[1]),
                        },
                    }
                    if ranged is not None
                    else {}
                ),
                "reallocation_gain": clean(self.reallocation_gain),
                "departments": departments,
                "company_kpis": company,
                "state": state,
                "state_measures": measures,
                "state_by_period": by_period,
                "allocation": allocation,
                "decentralized": {
                    **self.decentralized.to_dict(),
                    "pessimistic": self.pessimistic.to_dict(history=False),
                },
                "solves": self.solves,
                **(
                    {"verification": self.verification.to_dict()}
                    if self.verification is not None
                    else {}
                ),
                "notes": list(self.notes),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
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
                {"measure": "rounds", "value": float(self.decentralized.rounds)},
                {"measure": "converged", "value": float(self.decentralized.converged)},
            ]
            + (
                [
                    {"measure": "status_quo_min", "value": clean(ranged.low)},
                    {"measure": "status_quo_max", "value": clean(ranged.high)},
                    {
                        "measure": "misalignment_cost_min",
                        "value": clean(ranged.misalignment_cost[0]),
                    },
                    {
                        "measure": "misalignment_cost_max",
                        "value": clean(ranged.misalignment_cost[1]),
                    },
                    {"measure": "paths", "value": float(ranged.paths)},
                    {"measure": "equilibria", "value": float(ranged.equilibria)},
                ]
                if (ranged := self.status_quo_range) is not None
                else []
            )
        )
        return {
            "plans": plans,
            "measures": measures,
            "kpis": self.kpis,
            "unilateral": self.unilateral,
            "state": self.state,
            "state_measures": self.state_measures,
            "state_by_period": self.state_periods,
            "allocations": self.allocations,
            **(
                {"kpi_ranges": self.status_quo_range.kpis}
                if self.status_quo_range is not None
                else {}
            ),
        }
