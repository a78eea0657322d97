"""One chunk of a sweep, run where a worker runs it: each point's spec (resolved in the
driver) to its program, made from its variant's compiled program where it can be (totals
and reserves as bounds, params and margins by evaluating anew the rows they feed, without
Pyomo; incentives are not in the program) and built otherwise, then the analysis, then
one row of figures (and the point's KPIs).

Every point starts from the same state (a compiled program and fresh HiGHS sessions), so a
point's figures do not depend on the chunk it is in, on the worker, or on the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from ..errors import KpiDesignError
from ..model.assemble import assemble, program
from ..model.program import LinearProgram
from ..model.update import ProgramUpdater, RebuildRequired
from ..results import CompareResult, DesignResult
from ..spec import ModelSpec
from ..types import Plan
from .plan import Point

__all__ = ["ANALYSES", "Reuse", "SweepTask", "program_reuse", "run_chunk"]

#: the analyses a sweep runs at each point
ANALYSES = ("solve", "compare", "design", "evaluate")

#: columns of a point's row after its values, per analysis (NaN where the point has no
#: optimum); ``objective`` is the system optimum in every analysis
HEADLINES = {
    "solve": ["objective"],
    "compare": ["objective", *CompareResult.FIGURES[1:]],
    "design": ["objective", *DesignResult.FIGURES[1:]],
    "evaluate": ["objective", *CompareResult.FIGURES[1:]],
}


@dataclass(frozen=True)
class Reuse:
    """How a point's program comes from its variant's: the params whose values changed and
    the constraints whose margins did (their rows evaluated anew), and whether resources'
    totals or reserves changed (the total rows' bounds). Incentives are not in the
    program."""

    params: frozenset[str] = frozenset()
    slacks: frozenset[str] = frozenset()
    totals: bool = False

    @property
    def how(self) -> str:
        """``re-evaluated`` where rows are evaluated anew, else ``reused``."""
        return "re-evaluated" if self.params or self.slacks else "reused"


def program_reuse(point: Point) -> Reuse | None:
    """How the point can reuse its variant's compiled program, or None where it changes
    something else (a variable's bound, an allocation, a set): built from its spec."""
    params: set[str] = set()
    slacks: set[str] = set()
    totals = False
    for axis, _ in point.values:
        parts = axis.path.split(".")
        if parts[0] == "params" and len(parts) >= 2:
            params.add(parts[1])
        elif axis.kind == "set" and parts[0] == "departments" and len(parts) == 4:
            if parts[2] != "incentive":
                return None
        elif axis.kind == "set" and parts[0] == "resources" and len(parts) == 3:
            if parts[2] not in ("total", "reserve"):
                return None
            totals = True
        elif axis.kind == "set" and parts[0] == "constraints" and parts[2:] == ["slack"]:
            slacks.add(parts[1])
        else:
            return None
    return Reuse(frozenset(params), frozenset(slacks), totals)


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
    """A result's headline figures (``HEADLINES[analysis]``), the optimum as ``objective``."""
    if analysis == "solve":
        return {"objective": result.objective}
    figures = result.figures()
    return {"objective": figures.pop("system"), **figures}


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


def _program(
    updaters: dict[str | None, ProgramUpdater],
    task: SweepTask,
    point: Point,
    spec: ModelSpec,
    reuse: Reuse | None,
) -> tuple[LinearProgram, str, str | None]:
    """The point's program (``reuse``: :func:`program_reuse` of the point), how it was made
    (``reused``, ``re-evaluated`` or ``built``) and, for a built one, why."""
    if reuse is None:
        paths = ", ".join(a.path for a, _ in point.values)
        return program(spec), "built", f"{paths}: not a param, margin or total"
    if point.variant not in updaters:
        updaters[point.variant] = ProgramUpdater(assemble(task.base[point.variant]))
    updater = updaters[point.variant]
    lp = updater.lp
    if reuse.params or reuse.slacks:
        try:
            lp = updater.with_params(spec, set(reuse.params), reuse.slacks)
        except RebuildRequired as exc:
            return program(spec), "built", exc.reason
    if reuse.totals:
        lp = _with_totals(lp, spec)
    return lp, reuse.how, None


def run_chunk(task: SweepTask, chunk: list[tuple[Point, ModelSpec]]) -> list[dict[str, Any]]:
    """Each point of ``chunk`` (with its resolved spec) analysed: one row per point with
    ``point``, ``status``, ``built`` (``reused``, ``re-evaluated`` or ``built``) and
    ``built_why``, the headline figures, ``diagnosis`` (a point without an optimum: why,
    the conflict or ray by name) and ``kpis``."""
    updaters: dict[str | None, ProgramUpdater] = {}
    rows = []
    for point, spec in chunk:
        figures = dict.fromkeys(HEADLINES[task.analysis], math.nan)
        kpis: list[dict[str, Any]] = []
        reuse = program_reuse(point)
        # what was meant, for a point the build refuses
        how, why, diagnosis = ("built" if reuse is None else reuse.how), None, None
        try:
            lp, how, why = _program(updaters, task, point, spec, reuse)
            result = task.analyse(spec, lp)
        except KpiDesignError as exc:  # data the build refuses (a divisor at 0, an overflow)
            status = "invalid"
            diagnosis = {"message": " / ".join(exc.messages), "conflict": [], "ray": []}
        else:
            status = str(result.status)
            if result.ok:
                figures |= _figures(task.analysis, result)
                kpis = _kpis(task.analysis, result)
            else:
                d = result.diagnosis
                diagnosis = {"message": d.message, "conflict": list(d.conflict), "ray": list(d.ray)}
        rows.append(
            {
                "point": point.index,
                "status": status,
                "built": how,
                "built_why": why,
                **{k: float(v) for k, v in figures.items()},
                "diagnosis": diagnosis,
                "kpis": kpis,
            }
        )
    return rows
