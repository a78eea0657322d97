"""The design's target, chosen on purpose: a canonical optimal plan and tight allocations.

The system optimum is often not unique, in the plan and in the allocations (a budget whose
dual is 0 can be split many ways).  Whatever vertex HiGHS happens to return would then
decide the design.  Two stated rules remove that freedom:

- **plan**: among the optimal plans, the one closest in L1 to the reference plan B, over
  every column but the allocations: the target asks the organization to change as little
  as an optimal plan allows.  The objective is held at the optimum itself (HiGHS's
  feasibility tolerance absorbs rounding), not ``tie_slack`` below it: with any slack the
  L1 objective spends all of it moving towards B, and the target sat just off the rows
  binding at the optimal vertex (1.1e-8 off on tests/models/compare/degenerate_target.yaml:
  the margin no longer counted them binding, allocations came out as 2.9999999945 for 3);
  only where no plan is found at the optimum itself (an approximate optimum, e.g. from
  ``solver='pdlp'``) is ``tie_slack`` allowed.  L1 ties are common
  (a department indifferent between two products at the same distance), so they are broken
  by a weighted L1 distance whose weights, 1 + 1e-3·h(name) with h a hash of the column's
  name in [0, 1), depend on the columns' names only (not their order in the file or the
  vertex HiGHS returns) and leave no ties but by coincidence.  Two solves of one LP, built
  from the compiled arrays
  with a distance column per plan column.
- **allocations** (:func:`tight_allocations`): each department's allocation as close to its
  use at the target plan as its bounds allow, ``a = max(use(z*), lower bound)``.  A
  department then has no room it does not use at z*, which can only shrink its incentive
  gap; the rule is unique component by component and feasible whenever z* is (it lowers
  allocations only, and resource totals are upper bounds).

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import SolveError
from ..model.program import LinearProgram
from ..options import Options
from ..solver import HighsSession, Solution, Statistics
from ..types import Sense, Status
from .common import allocation_columns, feasible, name_weights, system_optimum

__all__ = [
    "Target",
    "canonical_optimum",
    "optimum_at",
    "reference_plan",
    "tight_allocations",
    "with_allocations",
]


@dataclass(frozen=True)
class Target:
    """A plan chosen by a stated rule: the plan, its objective and its allocations."""

    x: np.ndarray
    objective: float
    allocations: np.ndarray  # in the order of ``lp.allocations``
    #: why the stated rule could not be applied ("" where it was)
    note: str = ""


def canonical_optimum(
    lp: LinearProgram,
    optimum: float,
    reference: np.ndarray,
    *,
    allocations: np.ndarray | None = None,
    options: Options | None = None,
    stats: Statistics | None = None,
    what: str = "the system problem",
    fallback: np.ndarray | None = None,
) -> Target:
    """Among the plans at ``optimum`` (within ``options.tie_slack``, relative, only where
    none is found at it), the one closest in L1 to ``reference`` over the non-allocation
    columns (ties broken by name-keyed weights); allocations fixed to ``allocations`` if
    given, else free (and returned as the LP left them)."""
    options = options or Options()
    n = lp.num_cols
    alloc_cols, _ = allocation_columns(lp)
    plan_cols = np.setdiff1d(np.arange(n), alloc_cols)
    m = plan_cols.size
    sign = Sense(lp.sense).sign
    # columns: x (n) | t (m) with t_j >= |x_j - ref_j| for the plan columns
    pick = sp.csr_array((np.ones(m), (np.arange(m), plan_cols)), shape=(m, n))
    eye = sp.identity(m, format="csr")
    objective_row = sp.csr_array(sign * lp.objective.dense(n)[None, :])
    A = sp.vstack(
        [
            sp.hstack([lp.A, sp.csr_array((lp.num_rows, m))]),
            sp.hstack([objective_row, sp.csr_array((1, m))]),
            sp.hstack([-pick, eye]),
            sp.hstack([pick, eye]),
        ],
        format="csc",
    )
    ref = reference[plan_cols]
    row_upper = np.concatenate([lp.row_upper, [np.inf], np.full(2 * m, np.inf)])
    col_lower = np.concatenate([lp.col_lower, np.zeros(m)])
    col_upper = np.concatenate([lp.col_upper, np.full(m, np.inf)])
    if allocations is not None:
        col_lower[alloc_cols] = allocations
        col_upper[alloc_cols] = allocations
    cost = np.concatenate([np.zeros(n), np.ones(m)])
    weights = name_weights(lp, plan_cols)
    for slack in (0.0, options.tie_slack * (1.0 + abs(optimum))):
        target_lower = sign * (optimum - lp.objective.constant) - slack
        session = HighsSession.from_arrays(
            cost=cost,
            sense="min",
            A=A,
            col_lower=col_lower,
            col_upper=col_upper,
            row_lower=np.concatenate([lp.row_lower, [target_lower], -ref, ref]),
            row_upper=row_upper,
            options=options,
            stats=stats,
        )
        sol = _closest(session, n, m, cost, weights)
        if sol.optimal:
            break
    if not sol.optimal:
        msg = f"{what}: the optimal plan closest to the reference plan: {sol.status.value}"
        if fallback is None:
            raise SolveError(msg, sol.status)
        # data at the solver's tolerances (1e-7) can defeat the distance LP where the plain
        # LP has an optimum: keep the solver's plan, and say so
        note = f"{msg}, so the plan the solver returned is used (it may be one of several)"
        return Target(fallback, lp.objective.at(fallback), fallback[alloc_cols].copy(), note)
    x = sol.x[:n]
    return Target(x, lp.objective.at(x), x[alloc_cols].copy())


def optimum_at(
    session: HighsSession,
    allocations: np.ndarray,
    reference: np.ndarray,
    options: Options,
    stats: Statistics | None = None,
    what: str = "the system problem",
) -> Target:
    """The system optimum at fixed ``allocations``, and among its optimal plans the one
    closest to ``reference`` (:func:`canonical_optimum`; the solver's plan, with a note,
    where the distance LP fails numerically)."""
    lp = session.lp
    assert lp is not None
    sol = system_optimum(session, allocations=allocations, what=what)
    return canonical_optimum(
        lp,
        sol.objective,
        reference,
        allocations=allocations,
        options=options,
        stats=stats,
        what=what,
        fallback=sol.x,
    )


def reference_plan(
    session: HighsSession,
    allocations: np.ndarray,
    options: Options,
    stats: Statistics | None = None,
    what: str = "the system problem at baseline allocations",
) -> Target:
    """Plan B chosen on purpose: the system optimum at ``allocations`` (the baselines),
    and among its optimal plans the one closest in L1 to 0 (ties by the name-keyed
    weights): the leanest optimal plan, whatever vertex HiGHS returns and however the file
    is ordered.  ``compare`` and ``design`` start from it and normalize KPIs at it."""
    assert session.lp is not None
    zeros = np.zeros(session.lp.num_cols)
    return optimum_at(session, allocations, zeros, options, stats, what)


def _closest(
    session: HighsSession,
    n: int,
    m: int,
    cost: np.ndarray,
    weights: np.ndarray,
) -> Solution:
    """The two steps on the distance LP: the L1 distance to B, then the name-weighted
    distance among the closest (holding the first step's distance, within 1e-9
    relative)."""
    distances = np.arange(n, n + m)
    steps = ((cost, "min", None), (np.concatenate([np.zeros(n), weights]), "min", np.ones(m)))
    sol = None
    for step_cost, sense, hold in steps:
        if hold is not None and sol is not None:
            reached = float(hold @ sol.x[distances])
            session.add_row(distances, hold, -np.inf, reached * (1 + 1e-9) + 1e-9)
        session.set_objective(step_cost, sense, 0.0)
        sol = session.solve(warm=hold is not None)
        if not sol.optimal:
            return sol
    assert sol is not None
    return sol


def tight_allocations(lp: LinearProgram, x: np.ndarray) -> np.ndarray:
    """Each allocation at its department's use at plan ``x``, or at its lower bound where
    the use is below it (in the order of ``lp.allocations``)."""
    cols, _ = allocation_columns(lp)
    out = np.empty(cols.size)
    for i, a in enumerate(lp.allocations):
        row = lp.A[[a.use_row], :].toarray().ravel()
        # the use row reads  rest(x) + coef * allocation <= upper,  coef < 0
        coef = row[a.column]
        rest = float(row @ x - coef * x[a.column])
        use = (rest - lp.row_upper[a.use_row]) / -coef
        out[i] = max(use, lp.col_lower[a.column])
    return out


def with_allocations(lp: LinearProgram, x: np.ndarray, allocations: np.ndarray) -> np.ndarray:
    """Plan ``x`` with its allocation columns replaced; an error where that is infeasible
    (it cannot be for :func:`tight_allocations` of a feasible ``x``, except numerically)."""
    cols, _ = allocation_columns(lp)
    out = x.copy()
    out[cols] = allocations
    if not feasible(lp, out):
        msg = "the target plan is infeasible with its tight allocations (numerically)"
        raise SolveError(msg, Status.NUMERICAL)
    return out
