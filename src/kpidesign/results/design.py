"""The result of ``design``: designed scorecards, gaps, and the verification."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pandas as pd

from ..types import Diagnosis
from .common import Outcome, RunInfo, clean

__all__ = ["DesignResult", "Verification"]

_COLUMNS = (
    ["department", "kpi", "designed", "current"],
    [
        "department", "gap", "gap_share", "current_gap", "exact", "indifferent",
        "pessimistic_loss", "alignment_current", "alignment_designed",
    ],
)  # fmt: skip


@dataclass(frozen=True)
class Verification:
    """The decentralized outcome under the designed scheme and the optimal allocations:
    its objective, as a share of the optimum, how the dynamics ended, where they started."""

    objective: float
    share_of_optimum: float
    rounds: int
    converged: bool
    cycle: bool
    start: str

    def to_dict(self) -> dict:
        """The JSON form."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class DesignResult(Outcome):
    """Designed scorecards, their incentive gaps, and the verification by simulation.

    ``weights``: department, kpi, designed, current (long format; current weights are
    normalized to sum 1).  ``departments``: department, gap, gap_share, current_gap, exact,
    indifferent, pessimistic_loss, alignment_current, alignment_designed.
    """

    run: RunInfo
    optimum: float
    status_quo: float
    weights: pd.DataFrame
    departments: pd.DataFrame
    verification: Verification
    notes: list[str] = field(default_factory=list)
    diagnosis: Diagnosis | None = None
    #: per department, the KPIs of its menu it cannot move at the target plan (unweighted)
    constant_kpis: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: departments whose designed scorecard mixes a ratio with other KPIs: designed (and
    #: called exact) on the ratio's linearization at z*, not on the ratio itself
    approximate_ratio: tuple[str, ...] = ()

    @classmethod
    def failed(cls, run: RunInfo, diagnosis: Diagnosis) -> DesignResult:
        """The result of a design without an optimum: its diagnosis, no numbers."""
        nan = float("nan")
        weights, departments = (pd.DataFrame(columns=c) for c in _COLUMNS)
        never = Verification(nan, nan, 0, False, False, "")
        return cls(run, nan, nan, weights, departments, never, [], diagnosis)

    @property
    def positive_gap(self) -> list[str]:
        """Departments for which no menu weights make the optimum their own best (not those
        left without a design, whose gap is undefined: their notes say why)."""
        return [
            r.department
            for r in self.departments.itertuples()
            if not r.exact and r.gap == r.gap  # NaN: no design
        ]

    @property
    def indifferent(self) -> list[str]:
        """Departments for which the optimum is one of several best choices."""
        return [r.department for r in self.departments.itertuples() if r.indifferent]

    @property
    def immovable(self) -> list[str]:
        """Departments that cannot move any KPI of their menu at the target plan: no
        weights, and a gap of 0 whatever they are paid on."""
        w = self.weights
        return [d for d in self.constant_kpis if not (w[w.department == d].designed > 0).any()]

    def flags(self, department: str) -> list[str]:
        """What a consultant must know about a department's design: ``positive_gap`` (no
        menu weights make the optimum its own best), ``indifferent`` (the optimum is one of
        several best responses, and the worst of them loses value), ``constant_kpi`` (a KPI
        of its menu it cannot move was left unweighted), ``approximate_ratio`` (its
        scorecard mixes a ratio with other KPIs: exact only for the ratio's linearization at
        the target plan)."""
        row = self.departments[self.departments.department == department].iloc[0]
        out = []
        if department in self.positive_gap:
            out.append("positive_gap")
        if row.indifferent:
            out.append("indifferent")
        if self.constant_kpis.get(department):
            out.append("constant_kpi")
        if department in self.approximate_ratio:
            out.append("approximate_ratio")
        return out

    def flagged(self) -> dict[str, list[str]]:
        """Departments with a positive incentive gap, and those indifferent at the target."""
        return {"positive_gap": self.positive_gap, "indifferent": self.indifferent}

    def to_dict(self) -> dict:
        """The JSON contract of ``design`` (DESIGN.md)."""
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
                "flags": self.flags(r.department),
                "constant_kpis": list(self.constant_kpis.get(r.department, ())),
            }
        return self.finish(
            {
                "model": self.model,
                "scenario": self.scenario,
                "variant": self.variant,
                "sense": str(self.sense),
                "optimum": clean(self.optimum),
                "status_quo": clean(self.status_quo),
                "departments": departments,
                "flags": self.flagged(),
                "verification": self.verification.to_dict(),
                "notes": list(self.notes),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        verification = pd.DataFrame([self.verification.to_dict()])
        return {
            "weights": self.weights,
            "departments": self.departments,
            "verification": verification,
        }
