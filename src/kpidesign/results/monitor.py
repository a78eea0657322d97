"""The result of ``monitor``: the year so far against the plan, the value lost, who lost
it, and the best plan from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .common import Outcome, RunInfo, clean
from .design import DesignResult

__all__ = ["DRIFT_COLUMNS", "MonitorResult"]

#: the columns of :attr:`MonitorResult.drift`
DRIFT_COLUMNS = ["department", "kind", "name", "period", "plan", "actual", "drift"]


@dataclass(frozen=True)
class MonitorResult(Outcome):
    """The plan and the re-plan from the actuals through ``through`` (a member of
    ``time_set``; ``periods`` are the observed ones).

    ``lost``: how much worse the re-plan is than the plan (positive when the company is
    worse off); ``attribution``: each department's part of it (Shapley values, ``method``
    says how computed); ``unexplained``: what the departments' actuals do not account for
    (observed shared state), so that the parts add up to ``lost``; ``allocation``: the
    re-plan's allocations, department -> resource -> amount; ``drift``: department, kind
    (``decision`` of a department, ``state`` for shared state, either with `` (re-planned)``
    for an observed value the file does not give; ``kpi`` for a linear KPI's part in a
    period), name, period, plan, actual, drift
    (actual − plan), in the model's units; ``redesign``: with ``--redesign``, the KPI
    design for the periods from here (the re-plan as its target).
    """

    run: RunInfo
    time_set: str
    through: Any
    periods: tuple
    actuals_given: int
    missing: list[str]
    ignored: int
    plan_objective: float
    replan_objective: float
    lost: float
    attribution: dict[str, float]
    unexplained: float
    method: str
    keep_allocations: bool
    allocation: dict[str, dict[str, float]]
    drift: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    diagnosis: None = None
    #: with a scheme's predicted plan as the plan: how far it falls short of the optimum
    #: (the attribution is against the optimum: parts + unexplained − this = lost)
    scheme_shortfall: float = 0.0
    #: what the plan is: ``system optimum`` or the scheme (file) whose prediction it is
    plan_source: str = "system optimum"
    #: with ``redesign``: the KPI design for the periods from here (the re-plan as target)
    redesign: DesignResult | None = None

    def to_dict(self) -> dict:
        """The JSON contract: ``plan.objective``, ``replan.objective``, ``lost``,
        ``attribution.{dept}``, ``unexplained``, ``drift`` (long rows) and
        ``allocation.{dept}.{resource}``."""
        return self.finish(
            {
                **self.header(),
                "time_set": self.time_set,
                "through": self.through,
                "observed_periods": list(self.periods),
                "actuals": {
                    "given": self.actuals_given,
                    "re_planned": list(self.missing),
                    "ignored_after_through": self.ignored,
                },
                "plan": {"objective": clean(self.plan_objective), "source": self.plan_source},
                "replan": {
                    "objective": clean(self.replan_objective),
                    "keep_allocations": self.keep_allocations,
                },
                "lost": clean(self.lost),
                "attribution": {d: clean(v) for d, v in self.attribution.items()},
                "unexplained": clean(self.unexplained),
                "scheme_shortfall": clean(self.scheme_shortfall),
                "attribution_method": self.method,
                "allocation": self.allocation,
                "drift": [
                    {k: (clean(v) if isinstance(v, float) else v) for k, v in row.items()}
                    for row in self.drift.to_dict("records")
                ],
                "notes": list(self.notes),
                **({"redesign": self.redesign.to_dict()} if self.redesign is not None else {}),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """The long-format tables written as CSV files."""
        attribution = pd.DataFrame(
            [
                *({"part": d, "lost": v} for d, v in self.attribution.items()),
                {"part": "(unexplained)", "lost": self.unexplained},
                *(
                    [{"part": "(scheme's shortfall)", "lost": -self.scheme_shortfall}]
                    if self.scheme_shortfall
                    else []
                ),
            ],
            columns=["part", "lost"],
        )
        out = {"drift": self.drift, "attribution": attribution}
        if self.redesign is not None:
            out |= {f"redesign_{k}": v for k, v in self.redesign.tables().items()}
        return out
