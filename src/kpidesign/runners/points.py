"""One chunk of a sweep, run where a worker runs it: each point's spec (resolved in the
driver) to its compiled program, reused where the point changes only what the program
holds as bounds, then the analysis, then one row of figures (and the point's KPIs).

Every point starts from the same state (a compiled program and fresh HiGHS sessions), so a
point's figures do not depend on the chunk it is in, on the worker, or on the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..model.build import build
from ..model.compile import compile_model
from ..model.program import LinearProgram
from ..spec import ModelSpec
from ..types import Plan
from .plan import Point

__all__ = ["ANALYSES", "SweepTask", "program_reuse", "run_chunk"]

#: the analyses a sweep runs at each point
ANALYSES = ("solve", "compare", "design", "evaluate")

#: columns of a point's row after its values, per analysis (NaN where the point has no
#: optimum); ``objective`` is the system optimum in every analysis
HEADLINES = {
    "solve": ["objective"],
    "compare": [
        "objective", "aligned", "status_quo", "status_quo_min", "status_quo_max",
        "misalignment_cost", "misalignment_cost_min", "misalignment_cost_max",
    ],
    "design": ["objective", "status_quo", "designed", "designed_share"],
    "evaluate": [
        "objective", "aligned", "status_quo", "status_quo_min", "status_quo_max",
        "misalignment_cost", "misalignment_cost_min", "misalignment_cost_max",
    ],
}  # fmt: skip


def program_reuse(point: Point) -> str | None:
    """Whether the point can reuse its variant's compiled program: ``"same"`` (it changes
    only incentives, which are not in the program), ``"totals"`` (also resources' totals
    and reserves: the total rows' bounds), or None (it changes rows or coefficients: built
    from its spec)."""
    kinds = set()
    for axis, _ in point.values:
        parts = axis.path.split(".")
        if axis.kind == "set" and len(parts) == 4 and parts[0] == "departments":
            if parts[2] != "incentive":
                return None
            kinds.add("same")
        elif axis.kind == "set" and len(parts) == 3 and parts[0] == "resources":
            if parts[2] not in ("total", "reserve"):
                return None
            kinds.add("totals")
        else:
            return None
    return "totals" if "totals" in kinds else "same"


def _with_totals(lp: LinearProgram, spec: ModelSpec) -> LinearProgram:
    """``lp`` with every resource's total row at what ``spec`` makes available."""
    upper = lp.row_upper.copy()
    for name, row in lp.resource_rows.items():
        upper[row] = spec.resources[name].available
    return replace(lp, row_upper=upper)


@dataclass(frozen=True)
class SweepTask:
    """What every chunk needs: the analysis by name, ``analyse(spec, lp)`` that runs it
    (a picklable function: it travels to worker processes and Dask workers) and each
    variant's spec (the program reused by points that may)."""

    analysis: str
    analyse: Callable[[ModelSpec, LinearProgram], Any]
    base: dict[str | None, ModelSpec]


def _figures(analysis: str, result: Any) -> dict[str, float]:
    """A result's headline figures (``HEADLINES[analysis]``)."""
    nan = math.nan
    if analysis == "solve":
        return {"objective": result.objective}
    if analysis == "design":
        return {
            "objective": result.optimum,
            "status_quo": result.status_quo,
            "designed": result.chosen.objective,
            "designed_share": result.chosen.share_of_optimum,
        }
    ranged = result.status_quo_range
    low, high = (ranged.low, ranged.high) if ranged is not None else (nan, nan)
    m_low, m_high = ranged.misalignment_cost if ranged is not None else (nan, nan)
    return {
        "objective": result.objectives[Plan.SYSTEM],
        "aligned": result.objectives[Plan.ALIGNED],
        "status_quo": result.objectives[Plan.STATUS_QUO],
        "status_quo_min": low,
        "status_quo_max": high,
        "misalignment_cost": result.misalignment_cost,
        "misalignment_cost_min": m_low,
        "misalignment_cost_max": m_high,
    }


def _kpis(analysis: str, result: Any) -> list[dict[str, Any]]:
    """The point's KPIs, long: department ('' for a company KPI), kpi, plan, value."""
    if analysis == "solve":
        frame = result.kpis.assign(plan=str(Plan.SYSTEM))
    elif analysis == "design":
        return []
    else:
        frame = result.kpis
    return [
        {"department": r.department, "kpi": r.kpi, "plan": str(r.plan), "value": float(r.value)}
        for r in frame.itertuples(index=False)
    ]


def run_chunk(task: SweepTask, chunk: list[tuple[Point, ModelSpec]]) -> list[dict[str, Any]]:
    """Each point of ``chunk`` (with its resolved spec) analysed: one row per point with
    ``point``, ``status``, ``built`` (``reused`` or ``built``), the headline figures,
    ``diagnosis`` (a point without an optimum: why, the conflict or ray by name) and
    ``kpis``."""
    programs: dict[str | None, LinearProgram] = {}
    rows = []
    for point, spec in chunk:
        reuse = program_reuse(point)
        if reuse is None:
            lp = compile_model(build(spec))
        else:
            if point.variant not in programs:
                programs[point.variant] = compile_model(build(task.base[point.variant]))
            lp = programs[point.variant]
            if reuse == "totals":
                lp = _with_totals(lp, spec)
        result = task.analyse(spec, lp)
        figures = dict.fromkeys(HEADLINES[task.analysis], math.nan)
        diagnosis = None
        if result.ok:
            figures |= _figures(task.analysis, result)
        else:
            d = result.diagnosis
            diagnosis = {
                "message": d.message,
                "conflict": list(d.conflict),
                "ray": list(d.ray),
            }
        rows.append(
            {
                "point": point.index,
                "status": str(result.status),
                "built": "reused" if reuse is not None else "built",
                **{k: float(v) for k, v in figures.items()},
                "diagnosis": diagnosis,
                "kpis": _kpis(task.analysis, result) if result.ok else [],
            }
        )
    return rows
