"""What several analyses share: the system optimum on a live session, allocation columns,
shared-state totals and per-period measures, feasibility of a plan, relative measures, and the run's
:class:`~kpidesign.results.RunInfo`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from importlib.metadata import version
from typing import TypeVar

import numpy as np
import pandas as pd

from ..errors import SolveError
from ..model.problem import Problem
from ..model.program import LinearProgram, name_hash
from ..options import Options
from ..results import RunInfo, clean
from ..results.compare import STATE_PERIOD_COLUMNS
from ..solver import HighsSession, Solution, Statistics, highs_version
from ..solver.face import at_bounds
from ..types import Diagnosis, Sense, Status

__all__ = [
    "allocation_columns",
    "binding_rows",
    "feasible",
    "name_weights",
    "returning_failures",
    "run_info",
    "share_of_optimum",
    "state_measures",
    "state_measures_long",
    "state_periods",
    "state_periods_long",
    "state_totals",
    "system_optimum",
    "worse_by",
    "worse_by_sense",
]


def allocation_columns(lp: LinearProgram) -> tuple[np.ndarray, np.ndarray]:
    """Allocation columns and their baselines, in the order of ``lp.allocations``."""
    cols = np.array([a.column for a in lp.allocations], dtype=np.int64)
    base = np.array([a.baseline for a in lp.allocations], dtype=float)
    return cols, base


def system_optimum(
    session: HighsSession,
    *,
    allocations: np.ndarray | None = None,
    what: str = "the system problem",
) -> Solution:
    """The model's objective over everything; allocations fixed to ``allocations`` if given
    (a :class:`SolveError` carrying the diagnosis if there is no optimum)."""
    lp = session.lp
    assert lp is not None
    session.set_col_bounds(np.arange(lp.num_cols), lp.col_lower, lp.col_upper)
    if allocations is not None:
        cols, _ = allocation_columns(lp)
        session.fix_cols(cols, allocations)
    session.set_objective(lp.objective, lp.sense)
    sol = session.solve(warm=False)
    if not sol.optimal:
        raise session.explain(sol, what)
    return sol


def binding_rows(lp: LinearProgram, sol: Solution, tol: float = 1e-7) -> np.ndarray:
    """Rows at one of their bounds (within a relative tolerance)."""
    at_lower, at_upper = at_bounds(sol.row_activity, lp.row_lower, lp.row_upper, tol)
    return at_lower | at_upper


def state_totals(lp: LinearProgram, problem: Problem, x: np.ndarray) -> dict[str, float]:
    """Sum over indices of each shared-state variable."""
    return {v: clean(float(x[lp.columns_of(v)].sum())) for v in problem.state}


#: the per-period measures of a shared-state variable, in the order they are reported
STATE_MEASURES = ("average", "min", "max")


def state_periods(
    lp: LinearProgram, problem: Problem, variable: str, x: np.ndarray
) -> tuple[list[str], np.ndarray]:
    """The variable's value per member of its time-like set (``StateVariable.per``), summed
    over its other sets (both products' stock in month t), in the set's order, with the
    members' labels; one value, the total, labelled ``total``, for a variable without
    one."""
    cols = lp.columns_of(variable)
    axis = problem.state_variable(variable).axis
    if axis is None or not len(cols):
        return ["total"], np.array([float(x[cols].sum())])
    periods = [
        lp.col_indices[j][axis] if isinstance(lp.col_indices[j], tuple) else lp.col_indices[j]
        for j in cols
    ]
    order = {t: i for i, t in enumerate(dict.fromkeys(sorted(periods)))}
    series = np.zeros(len(order))
    np.add.at(series, [order[t] for t in periods], x[cols])
    return [str(t) for t in order], series


def state_series(lp: LinearProgram, problem: Problem, variable: str, x: np.ndarray) -> np.ndarray:
    """The values of :func:`state_periods` without their labels."""
    return state_periods(lp, problem, variable, x)[1]


def state_measures(
    lp: LinearProgram, problem: Problem, x: np.ndarray
) -> dict[str, dict[str, float]]:
    """Per shared-state variable, the ``average``, ``min`` and ``max`` over its time-like
    set of its per-period value (:func:`state_series`): the average is the sum over all
    indices divided by the number of periods; without a time-like set all three are the
    total."""
    out = {}
    for v in problem.state:
        series = state_series(lp, problem, v, x)
        out[v] = {
            "average": clean(float(series.mean())),
            "min": clean(float(series.min())),
            "max": clean(float(series.max())),
        }
    return out


def state_measures_long(
    lp: LinearProgram, problem: Problem, plans: Mapping[str, np.ndarray | None]
) -> pd.DataFrame:
    """Each shared-state variable's per-period measures (:func:`state_measures`)
    under each plan, with the set they run over (``per``, "" for none) and its unit."""
    rows = []
    for plan, x in plans.items():
        if x is None:
            continue
        for var, measures in state_measures(lp, problem, x).items():
            info = problem.state_variable(var)
            for measure, value in measures.items():
                rows.append(
                    {
                        "variable": var,
                        "per": info.per or "",
                        "unit": info.unit or "",
                        "measure": measure,
                        "plan": plan,
                        "value": value,
                    }
                )
    return pd.DataFrame(rows, columns=["variable", "per", "unit", "measure", "plan", "value"])


def state_periods_long(
    lp: LinearProgram, problem: Problem, plans: Mapping[str, np.ndarray | None]
) -> pd.DataFrame:
    """Each shared-state variable with a time-like set, per period (:func:`state_periods`)
    under each plan: variable, per, unit, period, plan, value."""
    rows = []
    for plan, x in plans.items():
        if x is None:
            continue
        for var in problem.state:
            info = problem.state_variable(var)
            if info.axis is None:
                continue
            labels, series = state_periods(lp, problem, var, x)
            for label, value in zip(labels, series, strict=True):
                rows.append(
                    {
                        "variable": var,
                        "per": info.per or "",
                        "unit": info.unit or "",
                        "period": label,
                        "plan": plan,
                        "value": clean(float(value)),
                    }
                )
    return pd.DataFrame(rows, columns=STATE_PERIOD_COLUMNS)


def feasible(lp: LinearProgram, x: np.ndarray, tol: float = 1e-6) -> bool:
    """Does plan ``x`` satisfy every row and bound (within ``tol``, relative)?"""
    act = lp.A @ x
    scale = tol * (1.0 + np.abs(act))
    rows_ok = np.all(act >= lp.row_lower - scale) and np.all(act <= lp.row_upper + scale)
    cscale = tol * (1.0 + np.abs(x))
    cols_ok = np.all(x >= lp.col_lower - cscale) and np.all(x <= lp.col_upper + cscale)
    return bool(rows_ok and cols_ok)


def name_weights(lp: LinearProgram, cols: np.ndarray) -> np.ndarray:
    """``1 + 1e-3·h(name)`` per column, ``h`` in [0, 1) a hash of the column's name: the
    weights of an L1 distance whose ties are broken by names only (not by the columns'
    order in the file or the vertex the solver returns)."""
    return _name_weight_of(lp.col_name_hash[np.asarray(cols, dtype=np.int64)])


def name_weight(name: str) -> float:
    """``1 + 1e-3·h(name)``, ``h`` in [0, 1) a hash of ``name`` (see :func:`name_weights`)."""
    return float(_name_weight_of(name_hash(name)))


def _name_weight_of(h: np.ndarray | float) -> np.ndarray | float:
    """The weight of a name whose hash is ``h``: one formula for both functions above."""
    return 1.0 + 1e-3 * h


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


@functools.cache
def _versions() -> tuple[str, str]:
    return version("kpidesign"), highs_version()


def run_info(
    problem: Problem,
    sense: Sense,
    options: Options | None,
    stats: Statistics,
    status: Status | None = Status.OPTIMAL,
) -> RunInfo:
    """The :class:`RunInfo` of an analysis of ``problem`` that ended with ``status`` (None
    for one that solves nothing, such as ``validate``)."""
    kpidesign_version, highs = _versions()
    return RunInfo(
        model=problem.model,
        scenario=problem.scenario,
        variant=problem.variant,
        sense=Sense(sense),
        status=status,
        options=options,
        solves=stats.solves,
        iterations=stats.iterations,
        seconds=stats.seconds,
        kpidesign_version=kpidesign_version,
        highs_version=highs,
        inputs=problem.inputs,
    )


R = TypeVar("R")


def returning_failures(
    analysis: Callable[..., R], failed: Callable[[RunInfo, Diagnosis], R]
) -> Callable[..., R]:
    """``analysis(lp, problem, options, stats, ...)`` with a solver outcome without an
    optimum (a :class:`SolveError` inside) returned as ``failed(run, diagnosis)``.

    Inside an analysis, stopping at the first problem without an optimum is simplest;
    its callers, a sweep of a thousand points above all, get the failure as data.
    """

    @functools.wraps(analysis)
    def wrapper(
        lp: LinearProgram, problem: Problem, options: Options | None = None, **kwargs: object
    ) -> R:
        options = options or Options()
        stats = Statistics()
        try:
            return analysis(lp, problem, options, stats, **kwargs)
        except SolveError as exc:
            run = run_info(problem, lp.sense, options, stats, exc.diagnosis.status)
            return failed(run, exc.diagnosis)

    return wrapper
