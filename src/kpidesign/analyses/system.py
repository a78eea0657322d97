"""The system optimum: the model's objective over all variables, allocations optimized."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.problem import Problem
from ..model.program import LinearProgram
from ..options import Options
from ..results import SystemResult, clean
from ..solver import HighsSession, Solution, Statistics
from ..spec.model import split_kpi
from .common import (
    binding_rows,
    returning_failures,
    run_info,
    state_measures_long,
    state_totals,
)
from .local import undefined_ratio_notes

__all__ = ["kpi_table", "solve_system"]


def kpi_table(lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    """Every KPI (departments', then company-wide) at plan ``x``."""
    rows = []
    for k in lp.kpis.values():
        rows.append(
            {
                "department": k.owner or "",
                "kpi": split_kpi(k.name)[1],
                "sense": k.sense,
                "unit": k.unit or "",
                "ratio": k.is_ratio,
                "value": clean(k.value(x)),
            }
        )
    return pd.DataFrame(rows, columns=["department", "kpi", "sense", "unit", "ratio", "value"])


def _allocations_table(lp: LinearProgram, sol: Solution) -> pd.DataFrame:
    """Each allocation beside its baseline, with the value of one more unit of it."""
    return pd.DataFrame(
        [
            {
                "department": a.department,
                "resource": a.resource,
                "baseline": a.baseline,
                "allocation": clean(sol.x[a.column]),
                "shadow_price": clean(sol.row_dual[a.use_row]),
            }
            for a in lp.allocations
        ],
        columns=["department", "resource", "baseline", "allocation", "shadow_price"],
    )


def _resources_table(lp: LinearProgram, sol: Solution) -> pd.DataFrame:
    """Each resource: available, allocated, the value of one more unit of its total."""
    return pd.DataFrame(
        [
            {
                "resource": r,
                "available": clean(lp.row_upper[row]),
                "allocated": clean(sol.row_activity[row]),
                "shadow_price": clean(sol.row_dual[row]),
            }
            for r, row in lp.resource_rows.items()
        ],
        columns=["resource", "available", "allocated", "shadow_price"],
    )


def _constraints_table(lp: LinearProgram, sol: Solution) -> pd.DataFrame:
    """Every row of the model's own constraints: activity, bounds, dual, binding."""
    binding = binding_rows(lp, sol)
    own = lp.constraint_rows()
    rows = [
        {
            "constraint": lp.row_components[int(lp.row_component[i])],
            "index": key or "",
            "activity": clean(sol.row_activity[i]),
            "lower": float(lp.row_lower[i]),
            "upper": float(lp.row_upper[i]),
            "shadow_price": clean(sol.row_dual[i]),
            "binding": bool(binding[i]),
        }
        for i, key in zip(own, lp.row_keys(own), strict=True)
    ]
    return pd.DataFrame(
        rows,
        columns=["constraint", "index", "activity", "lower", "upper", "shadow_price", "binding"],
    )


def _solve_system(
    lp: LinearProgram, problem: Problem, options: Options, stats: Statistics
) -> SystemResult:
    """Solve the system problem once and report it."""
    session = HighsSession(lp, options, stats=stats)
    sol = session.solve()
    if not sol.optimal:
        raise session.explain(sol, f"the system problem of {problem.label}")
    state = state_totals(lp, problem, sol.x)
    return SystemResult(
        run=run_info(problem, lp.sense, options, stats),
        objective=sol.objective,
        allocations=_allocations_table(lp, sol),
        kpis=kpi_table(lp, sol.x),
        state=pd.DataFrame(list(state.items()), columns=["variable", "total"]),
        state_measures=state_measures_long(lp, problem, {"system": sol.x}).drop(columns="plan"),
        constraints=_constraints_table(lp, sol),
        resources=_resources_table(lp, sol),
        notes=undefined_ratio_notes(lp, {"the system optimum": sol.x}),
    )


#: The system optimum, allocations optimized: ``solve_system(lp, problem, options)``; a
#: problem without an optimum is returned with its status and diagnosis, not raised.
solve_system = returning_failures(_solve_system, SystemResult.failed)
