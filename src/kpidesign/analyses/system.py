"""The system optimum: the model's objective over all variables, allocations optimized."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compile import LinearProgram
from ..highs import HighsSession, Solution, SolverOptions
from ..results import SystemResult, clean
from ..spec import ModelSpec
from .local import undefined_ratio_notes

__all__ = ["binding_rows", "kpi_table", "solve_system", "state_totals"]


def binding_rows(lp: LinearProgram, sol: Solution, tol: float = 1e-7) -> np.ndarray:
    """Rows at one of their bounds (within a relative tolerance)."""
    act = sol.row_activity
    scale = 1.0 + np.abs(act)
    at_lower = np.isfinite(lp.row_lower) & (np.abs(act - lp.row_lower) <= tol * scale)
    at_upper = np.isfinite(lp.row_upper) & (np.abs(act - lp.row_upper) <= tol * scale)
    return at_lower | at_upper


def state_totals(lp: LinearProgram, spec: ModelSpec, x: np.ndarray) -> dict[str, float]:
    """Sum over indices of each shared-state variable."""
    return {
        v.name: clean(float(x[lp.columns_of(v.name)].sum()))
        for v in spec.variables.values()
        if v.owner is None
    }


def kpi_table(lp: LinearProgram, x: np.ndarray) -> pd.DataFrame:
    rows = []
    for k in lp.kpis.values():
        rows.append(
            {
                "department": k.owner or "",
                "kpi": k.name.split(".", 1)[1] if k.owner else k.name,
                "sense": k.sense,
                "unit": k.unit or "",
                "ratio": k.is_ratio,
                "value": clean(k.value(x)),
            }
        )
    return pd.DataFrame(rows, columns=["department", "kpi", "sense", "unit", "ratio", "value"])


def solve_system(
    lp: LinearProgram, spec: ModelSpec, options: SolverOptions | None = None
) -> SystemResult:
    """Solve the system problem once and report it (raises SolveError if not optimal)."""
    session = HighsSession(lp, options)
    sol = session.solve()
    if not sol.optimal:
        raise session.explain(sol, f"the system problem of {spec.label}")
    x = sol.x
    allocations = pd.DataFrame(
        [
            {
                "department": a.department,
                "resource": a.resource,
                "baseline": a.baseline,
                "allocation": clean(x[a.column]),
                "shadow_price": clean(sol.row_dual[a.use_row]),
            }
            for a in lp.allocations
        ],
        columns=["department", "resource", "baseline", "allocation", "shadow_price"],
    )
    resources = pd.DataFrame(
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
    binding = binding_rows(lp, sol)
    own = {lp.row_components.index(c) for c in lp.constraint_components}
    cons = []
    for i in range(lp.num_rows):
        comp = int(lp.row_component[i])
        if comp not in own:
            continue
        cons.append(
            {
                "constraint": lp.row_components[comp],
                "index": lp.row_key(i) or "",
                "activity": clean(sol.row_activity[i]),
                "lower": float(lp.row_lower[i]),
                "upper": float(lp.row_upper[i]),
                "shadow_price": clean(sol.row_dual[i]),
                "binding": bool(binding[i]),
            }
        )
    constraints = pd.DataFrame(
        cons,
        columns=["constraint", "index", "activity", "lower", "upper", "shadow_price", "binding"],
    )
    state = pd.DataFrame(list(state_totals(lp, spec, x).items()), columns=["variable", "total"])
    return SystemResult(
        model=spec.name,
        scenario=spec.scenario,
        variant=spec.variant,
        status=sol.status.value,
        sense=lp.sense,
        objective=sol.objective,
        allocations=allocations,
        kpis=kpi_table(lp, x),
        state=state,
        constraints=constraints,
        resources=resources,
        solve_seconds=sol.seconds,
        notes=undefined_ratio_notes(lp, {"the system optimum": x}),
    )
