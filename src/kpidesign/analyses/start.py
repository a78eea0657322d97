"""Today's plan as a start: a full feasible plan made from the plan file a model names.

A plan file (``today: {file: plan.csv}`` or ``--start-plan``) may give any subset of the
variables, and its values need not fit together.  :func:`today_start` turns it into a
plan the analyses can start from, at the session's current column bounds (the caller
fixes the allocations first, e.g. at their baselines):

- **completion**: where the given values are feasible together (and within their bounds),
  they are fixed and the system problem (the company objective) chooses every value not
  given;
- **projection**: otherwise, the feasible plan closest in L1 to the given values over the
  given columns (:class:`~kpidesign.analyses.target.DistanceLP`, the distance LP the
  design's target is chosen with), and with that distance held at its minimum the company
  objective decides the rest.

The session is left as it was found (bounds and objective, see
:meth:`~kpidesign.solver.HighsSession.restored`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import SolveError
from ..model.problem import Problem, TodayPlan
from ..model.program import LinearProgram
from ..options import Options
from ..results import figure
from ..solver import HighsSession, Statistics
from ..types import Status
from .common import allocation_columns
from .target import DistanceLP

__all__ = ["StartPlan", "today_start"]

#: a given value this close to a bound (relative) counts as within it, and is moved onto it
_BOUND_TOL = 1e-9


@dataclass(frozen=True)
class StartPlan:
    """A full feasible plan made from today's plan.

    ``x``: every column's value (allocations as the session held them); ``description``:
    what was done, in words for the output; ``given``: values the plan file gave;
    ``completed``: values filled in by the system problem (the plan's columns, allocations
    excluded, that the file does not give); ``distance``: L1 distance of the projection
    over the given columns (0.0 where the plan was feasible as given); ``projected``:
    whether it was projected.
    """

    x: np.ndarray
    description: str
    given: int
    completed: int
    distance: float
    projected: bool


def today_start(
    session: HighsSession,
    problem: Problem,
    options: Options | None = None,
    stats: Statistics | None = None,
) -> StartPlan | None:
    """Today's plan (``problem.today``) completed, or projected onto the feasible set, at
    the session's current column and row bounds (the program's rows; temporary rows are
    not seen by the projection); None where the problem names no plan.  A
    :class:`SolveError` where no such plan exists (the system problem is infeasible at
    those bounds, or unbounded with the plan's values fixed)."""
    today = problem.today
    if today is None:
        return None
    lp = session.lp
    assert lp is not None
    options = options or Options()
    stats = stats if stats is not None else session.stats
    alloc_cols, _ = allocation_columns(lp)
    total = lp.num_cols - alloc_cols.size
    cols, values = today.columns, today.values
    what = f"today's plan ({Path(today.source).name}) of {problem.label}"
    x = _completed(session, cols, values, what)
    projected = x is None
    if x is None:
        x = _projected(session, today, options, stats, what)
    distance = float(np.abs(x[cols] - values).sum()) if projected else 0.0
    given = int(cols.size)
    completed = total - given
    return StartPlan(
        x=x,
        description=_describe(lp, today, x, given, total, distance, projected),
        given=given,
        completed=completed,
        distance=distance,
        projected=projected,
    )


def _completed(
    session: HighsSession, cols: np.ndarray, values: np.ndarray, what: str
) -> np.ndarray | None:
    """The system optimum with the given values fixed; None where they are infeasible
    together or outside their bounds."""
    lp = session.lp
    assert lp is not None
    lower, upper = session.col_lower[cols], session.col_upper[cols]
    slack = _BOUND_TOL * (1.0 + np.abs(values))
    if np.any(values < lower - slack) or np.any(values > upper + slack):
        return None
    fixed = np.clip(values, lower, upper)
    with session.restored():
        session.fix_cols(cols, fixed)
        session.set_objective(lp.objective, lp.sense)
        sol = session.solve(warm=False)
        if sol.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
            return None
        if not sol.optimal:
            raise session.explain(sol, f"{what}, completed by the system problem")
    x = sol.x.copy()
    x[cols] = fixed
    return x


def _projected(
    session: HighsSession,
    today: TodayPlan,
    options: Options,
    stats: Statistics,
    what: str,
) -> np.ndarray:
    """The feasible plan closest in L1 to the given values over the given columns, the
    rest (and ties) decided by the company objective with that distance held."""
    lp = session.lp
    assert lp is not None
    n = lp.num_cols
    distance = DistanceLP.build(
        lp.A,
        today.columns,
        today.values,
        col_lower=session.col_lower,
        col_upper=session.col_upper,
        row_lower=session.row_lower,
        row_upper=session.row_upper,
    )
    sol = distance.closest_then(lp.objective.dense(n), lp.sense, options, stats)
    if sol.optimal:
        return sol.x[:n]
    if sol.status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        # no plan at all at these bounds: the session's own diagnosis names the conflict
        with session.restored():
            session.set_objective(lp.objective, lp.sense)
            plain = session.solve(warm=False)
            if not plain.optimal:
                raise session.explain(plain, f"{what}: the system problem")
    msg = f"{what}, projected onto the feasible set: {sol.status.value}"
    raise SolveError(msg, sol.status)


def _describe(
    lp: LinearProgram,
    today: TodayPlan,
    x: np.ndarray,
    given: int,
    total: int,
    distance: float,
    projected: bool,
) -> str:
    """What was made of today's plan, in words."""
    head = f"today's plan ({Path(today.source).name}): "
    head += f"all {total} values given" if given == total else f"{given} of {total} values given"
    rest = "" if given == total else "the rest completed by the system problem"
    if not projected:
        return head + (", feasible as given" if not rest else f", {rest}")
    changes = np.abs(x[today.columns] - today.values)
    moved = int(np.count_nonzero(changes > 1e-9 * (1.0 + np.abs(today.values))))
    # the first in the file's order among the largest (within solver dust)
    i = int(np.flatnonzero(changes >= changes.max() * (1 - 1e-6) - 1e-9)[0])
    j = int(today.columns[i])
    largest = f"{lp.col_name(j)} {figure(today.values[i])} → {figure(x[j])}"
    text = (
        f"{head}, projected onto the feasible set, L1 distance {figure(distance)} "
        f"({moved} value{'s' if moved != 1 else ''} changed; largest change: {largest})"
    )
    return text + (f"; {rest}" if rest else "")
