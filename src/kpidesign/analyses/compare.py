"""The comparison: status quo (decentralized), aligned (system optimum at baseline
allocations) and system optimum (allocations optimized), side by side."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compile import LinearProgram
from ..highs import HighsSession, SolverOptions
from ..results import CompareResult, clean
from ..spec import ModelSpec
from .decentralized import allocation_columns, best_response_dynamics, system_optimum
from .local import Scorecard, respond, scorecard, undefined_ratio_notes
from .system import state_totals

__all__ = [
    "PLANS",
    "compare_plans",
    "current_scheme",
    "kpi_long_table",
    "share_of_optimum",
    "worse_by",
    "worse_by_sense",
]

PLANS = ("status_quo", "aligned", "system")


def current_scheme(spec: ModelSpec) -> dict[str, dict[str, float]]:
    """Each department's status-quo weights (qualified KPI name -> weight)."""
    return {d.name: dict(d.weights) for d in spec.departments.values()}


def worse_by(lp: LinearProgram, value: float, reference: float) -> float:
    """How much worse ``value`` is than ``reference``, relative to ``|reference|``.

    Positive means worse whatever the objective's sense."""
    return worse_by_sense(lp.sense, value, reference)


def worse_by_sense(sense: str, value: float, reference: float) -> float:
    """:func:`worse_by` for an objective of ``sense`` (``max``/``min``); 0 where the two are
    equal (within 1e-9 relative), NaN where ``reference`` is 0 and they differ."""
    if abs(value - reference) <= 1e-9 * (1.0 + abs(reference)):
        return 0.0
    gap = reference - value if sense == "max" else value - reference
    return gap / abs(reference) if abs(reference) > 1e-12 else float("nan")


def share_of_optimum(sense: str, value: float, optimum: float) -> float:
    """``1 - worse_by``: 100% at the optimum and below 100% for anything worse, for
    maximized and minimized, positive and negative objectives alike (a maximized -400
    against an optimum of -300 is 66.7%, not 133%)."""
    return 1.0 - worse_by_sense(sense, value, optimum)


def kpi_long_table(lp: LinearProgram, plans: dict[str, np.ndarray | None]) -> pd.DataFrame:
    rows = []
    for k in lp.kpis.values():
        for plan, x in plans.items():
            rows.append(
                {
                    "department": k.owner or "",
                    "kpi": k.name.split(".", 1)[1] if k.owner else k.name,
                    "sense": k.sense,
                    "plan": plan,
                    "value": float("nan") if x is None else clean(k.value(x)),
                }
            )
    return pd.DataFrame(rows, columns=["department", "kpi", "sense", "plan", "value"])


def _state_long(
    lp: LinearProgram, spec: ModelSpec, plans: dict[str, np.ndarray | None]
) -> pd.DataFrame:
    rows = []
    for plan, x in plans.items():
        if x is None:
            continue
        for var, total in state_totals(lp, spec, x).items():
            rows.append({"variable": var, "plan": plan, "total": total})
    return pd.DataFrame(rows, columns=["variable", "plan", "total"])


def compare_plans(
    lp: LinearProgram,
    spec: ModelSpec,
    *,
    scheme: dict[str, dict[str, float]] | None = None,
    tol: float = 1e-6,
    max_rounds: int = 50,
    options: SolverOptions | None = None,
) -> CompareResult:
    """Plans A (status quo), B (aligned) and C (system) with the measures of DESIGN.md."""
    scheme = current_scheme(spec) if scheme is None else scheme
    session = HighsSession(lp, options)
    _, baseline = allocation_columns(lp)
    c_sol = system_optimum(session, what=f"the system problem of {spec.label}")
    b_sol = system_optimum(
        session,
        allocations=baseline,
        what=f"the system problem of {spec.label} at baseline allocations",
    )
    x_b = b_sol.x
    seconds = c_sol.seconds + b_sol.seconds
    solves = 2
    cards: dict[str, Scorecard] = {
        d: scorecard(lp, d, scheme.get(d, {}), x_b) for d in lp.departments
    }
    notes: list[str] = []
    for d, card in cards.items():
        notes.extend(card.notes)
        if not card.weights:
            notes.append(f"{d} has no incentive: its responses are decided by the tie-break alone")

    unilateral = []
    for d in lp.departments:
        resp = respond(session, cards[d], x_b)
        solves += resp.solves
        seconds += resp.seconds
        notes.extend(resp.notes)
        opt = worse_by(lp, lp.objective.at(resp.optimistic), b_sol.objective) * abs(b_sol.objective)
        pes = (
            worse_by(lp, lp.objective.at(resp.pessimistic), b_sol.objective) * abs(b_sol.objective)
            if resp.pessimistic is not None
            else float("inf")
        )
        unilateral.append(
            {
                "department": d,
                "loss": clean(opt),
                "loss_pessimistic": clean(pes),
                "score": clean(resp.score),
            }
        )

    optimistic = best_response_dynamics(
        session, cards, x_b, mode="optimistic", tol=tol, max_rounds=max_rounds
    )
    pessimistic = best_response_dynamics(
        session, cards, x_b, mode="pessimistic", tol=tol, max_rounds=max_rounds
    )
    solves += optimistic.solves + pessimistic.solves
    seconds += optimistic.seconds + pessimistic.seconds
    for outcome in (optimistic, pessimistic):
        for note in outcome.notes:
            if note not in notes:
                notes.append(note)

    assert optimistic.x is not None
    plans = {"status_quo": optimistic.x, "aligned": x_b, "system": c_sol.x}
    notes.extend(undefined_ratio_notes(lp, plans))
    objectives = {
        "status_quo": optimistic.objective,
        "aligned": b_sol.objective,
        "system": c_sol.objective,
    }
    allocations = pd.DataFrame(
        [
            {
                "department": a.department,
                "resource": a.resource,
                "plan": plan,
                "allocation": clean(x[a.column]),
            }
            for plan, x in plans.items()
            for a in lp.allocations
        ],
        columns=["department", "resource", "plan", "allocation"],
    )
    return CompareResult(
        model=spec.name,
        scenario=spec.scenario,
        variant=spec.variant,
        sense=lp.sense,
        objectives=objectives,
        status_quo_pessimistic=pessimistic.objective,
        misalignment_cost=worse_by(lp, optimistic.objective, b_sol.objective),
        misalignment_cost_pessimistic=worse_by(lp, pessimistic.objective, b_sol.objective),
        reallocation_gain=worse_by(lp, b_sol.objective, c_sol.objective),
        kpis=kpi_long_table(lp, plans),
        incentives={d: dict(card.weights) for d, card in cards.items()},
        unilateral=pd.DataFrame(
            unilateral, columns=["department", "loss", "loss_pessimistic", "score"]
        ),
        state=_state_long(lp, spec, plans),
        allocations=allocations,
        decentralized={
            "rounds": optimistic.rounds,
            "converged": optimistic.converged,
            "cycle": optimistic.cycle,
            "history": [clean(v) for v in optimistic.history],
            "pessimistic": {
                "rounds": pessimistic.rounds,
                "converged": pessimistic.converged,
                "cycle": pessimistic.cycle,
                "objective": clean(pessimistic.objective),
            },
        },
        solves=solves,
        solve_seconds=seconds,
        notes=notes,
    )
