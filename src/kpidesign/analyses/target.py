"""The design's target, chosen on purpose: a canonical optimal plan and tight allocations.

The system optimum is often not unique, in the plan and in the allocations (a budget whose
dual is 0 can be split many ways).  Whatever vertex HiGHS happens to return would then
decide the design.  Two stated rules remove that freedom:

- **plan**: among the optimal plans, the one closest in L1 to the reference plan B, over
  every column but the allocations: the target asks the organization to change as little
  as an optimal plan allows.  Given the system solve, the plan is sought on the optimal
  face its duals define (:func:`optimal_face`: no objective row at all, and exactly
  optimal).  Where that fails, or without the solve, the objective is held by a row at the
  optimum itself (HiGHS's feasibility tolerance absorbs rounding), not ``tie_slack`` below
  it: with any slack the L1 objective spends all of it moving towards B, and the target
  sat just off the rows
  binding at the optimal vertex (1.1e-8 off on tests/models/compare/degenerate_target.yaml:
  the margin no longer counted them binding, allocations came out as 2.9999999945 for 3);
  only where no plan is found at the optimum itself (an approximate optimum, e.g. from
  ``solver='pdlp'``) is ``tie_slack`` allowed.  L1 ties are common
  (a department indifferent between two products at the same distance), so they are broken
  by a weighted L1 distance whose weights, 1 + 1e-3·h(name) with h a hash of the column's
  name in [0, 1), depend on the columns' names only (not their order in the file or the
  vertex HiGHS returns) and leave no ties but by coincidence.  Two solves of one LP, built
  from the compiled arrays, with a distance column per plan column whose reference lies
  strictly inside its bounds (elsewhere the distance is linear: :class:`DistanceLP`).
- **allocations** (:func:`tight_allocations`): each department's allocation as close to its
  use at the target plan as its bounds allow, ``a = max(use(z*), lower bound)``.  A
  department then has no room it does not use at z*, which can only shrink its incentive
  gap; the rule is unique component by component and feasible whenever z* is (it lowers
  allocations only, and resource totals are upper bounds).

"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import SolveError
from ..model.program import LinearProgram
from ..options import Options
from ..solver import HighsSession, Solution, Statistics
from ..solver.distance import L1Distance
from ..solver.face import optimal_face
from ..types import Sense, Status
from .common import allocation_columns, feasible, name_weights, system_optimum

__all__ = [
    "DistanceLP",
    "Target",
    "canonical_optimum",
    "chosen_target",
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


@dataclass(frozen=True)
class DistanceLP:
    """An LP over a program's columns ``x`` (n) whose distance from ``reference`` over
    ``cols`` counts, ``sum_i |x[cols[i]] - reference[i]|``, linear where a column's bounds
    lie on one side of its reference and with a distance column elsewhere
    (:class:`~kpidesign.solver.distance.L1Distance`): the program's rows, then any
    ``extra`` rows, then two rows per distance column.  Built from arrays (the program's,
    or a session's current bounds), solved on a session of its own."""

    A: sp.csc_array
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    n: int
    distance: L1Distance

    @classmethod
    def build(
        cls,
        A: sp.sparray,
        cols: np.ndarray,
        reference: np.ndarray,
        *,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        extra: tuple[sp.sparray, np.ndarray, np.ndarray] | None = None,
    ) -> DistanceLP:
        """The distance LP of the rows ``A`` (bounds ``row_lower``/``row_upper``), columns
        bounded by ``col_lower``/``col_upper``, distances of ``cols`` from ``reference``;
        ``extra`` = (rows over x, their lower bounds, their upper bounds)."""
        rows, n = A.shape
        distance = L1Distance.of(cols, reference, col_lower[cols], col_upper[cols])
        k = distance.columns
        blocks = [sp.hstack([A, sp.csr_array((rows, k))])]
        lower, upper = [row_lower], [row_upper]
        if extra is not None:
            blocks.append(sp.hstack([extra[0], sp.csr_array((extra[0].shape[0], k))]))
            lower.append(extra[1])
            upper.append(extra[2])
        block, block_lower, block_upper = distance.rows(n)
        blocks.append(block)
        lower.append(block_lower)
        upper.append(block_upper)
        return cls(
            A=sp.vstack(blocks, format="csc"),
            col_lower=np.concatenate([col_lower, np.zeros(k)]),
            col_upper=np.concatenate([col_upper, np.full(k, np.inf)]),
            row_lower=np.concatenate(lower),
            row_upper=np.concatenate(upper),
            n=n,
            distance=distance,
        )

    def closest_then(
        self,
        cost: np.ndarray,
        sense: str,
        options: Options | None = None,
        stats: Statistics | None = None,
        *,
        distance_weights: np.ndarray | None = None,
    ) -> Solution:
        """Two steps on a session of this LP: the plan closest in L1 (the sum of the
        distances), then, holding that distance (within 1e-9 relative), ``sense`` ``cost``
        (over x) plus, where given, the distances weighted by ``distance_weights`` (one per
        entry of ``cols``; ``sense`` must then be ``min``).  The first non-optimal step's
        solution if any; ``x`` holds this LP's columns (x first)."""
        n, distance = self.n, self.distance
        first, constant = distance.cost(np.ones(distance.cols.size), n)
        session = HighsSession.from_arrays(
            cost=first,
            sense="min",
            A=self.A,
            col_lower=self.col_lower,
            col_upper=self.col_upper,
            row_lower=self.row_lower,
            row_upper=self.row_upper,
            options=options,
            stats=stats,
        )
        sol = session.solve(warm=False)
        if not sol.optimal:
            return sol
        reached = float(first @ sol.x)  # the distance less its constant
        held = np.flatnonzero(first)
        if held.size:
            total = max(reached + constant, 0.0)
            session.add_row(held, first[held], -np.inf, reached + total * 1e-9 + 1e-9)
        then = np.concatenate([cost, np.zeros(distance.columns)])
        if distance_weights is not None:
            assert sense == "min", "distances are weighed in a minimization"
            then = then + distance.cost(distance_weights, n)[0]
        session.set_objective(then, sense, 0.0)
        return session.solve(warm=True)


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
    solution: Solution | None = None,
) -> Target:
    """Among the plans at ``optimum`` (within ``options.tie_slack``, relative, only where
    none is found at it), the one closest in L1 to ``reference`` over the non-allocation
    columns (ties broken by name-keyed weights); allocations fixed to ``allocations`` if
    given, else free (and returned as the LP left them).

    With ``solution`` (an optimal solution of the system LP with allocations free or at
    ``allocations``: every plan optimal at ``allocations`` is optimal there too), the plan
    is sought on the optimal face its duals define (:func:`optimal_face`), an LP of the
    program's own rows and bounds: at 156k variables 0.3 s, where holding the objective
    at the optimum by a row took 84 s and ended in numerical trouble at the optimum
    itself (benchmarks/README.md).  That plan is kept where its objective is within
    ``tie_slack`` of ``optimum``; otherwise, and without ``solution``, the objective is
    held by a row."""
    options = options or Options()
    n = lp.num_cols
    alloc_cols, _ = allocation_columns(lp)
    plan_cols = np.setdiff1d(np.arange(n), alloc_cols)
    sign = Sense(lp.sense).sign
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    weights = name_weights(lp, plan_cols)
    slack = options.tie_slack * (1.0 + abs(optimum))

    def closest(
        bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        extra: tuple[sp.sparray, np.ndarray, np.ndarray] | None = None,
    ) -> Solution:
        """The plan closest to ``reference`` within ``bounds`` (columns', then rows')."""
        distance = DistanceLP.build(
            lp.A,
            plan_cols,
            reference[plan_cols],
            col_lower=bounds[0],
            col_upper=bounds[1],
            row_lower=bounds[2],
            row_upper=bounds[3],
            extra=extra,
        )
        return distance.closest_then(np.zeros(n), "min", options, stats, distance_weights=weights)

    if solution is not None:
        face = optimal_face(solution, col_lower, col_upper, lp.row_lower, lp.row_upper)
        if allocations is not None:
            face[0][alloc_cols] = face[1][alloc_cols] = allocations
        sol = closest(face)
        if sol.optimal and sign * (lp.objective.at(sol.x[:n]) - optimum) >= -slack:
            x = sol.x[:n]
            return Target(x, lp.objective.at(x), x[alloc_cols].copy())
    if allocations is not None:
        col_lower[alloc_cols] = allocations
        col_upper[alloc_cols] = allocations
    objective_row = sp.csr_array(sign * lp.objective.dense(n)[None, :])
    for held in (0.0, slack):
        target_lower = sign * (optimum - lp.objective.constant) - held
        sol = closest(
            (col_lower, col_upper, lp.row_lower, lp.row_upper),
            extra=(objective_row, np.array([target_lower]), np.array([np.inf])),
        )
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
        solution=sol,
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


def system_and_reference(
    lp: LinearProgram, label: str, options: Options, stats: Statistics
) -> tuple[HighsSession, Solution, Target]:
    """A session of its own with, solved on it in this order, the system optimum (plan C,
    allocations free) and plan B (:func:`reference_plan`): how ``compare`` and ``design``
    start (``label``: the problem's, for the messages)."""
    session = HighsSession(lp, options, stats=stats)
    _, baseline = allocation_columns(lp)
    system = system_optimum(session, what=f"the system problem of {label}")
    what = f"the system problem of {label} at baseline allocations"
    return session, system, reference_plan(session, baseline, options, stats, what)


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


def chosen_target(
    lp: LinearProgram,
    solution: Solution,
    reference: np.ndarray,
    *,
    options: Options,
    stats: Statistics,
    what: str,
) -> tuple[Target, list[str]]:
    """The target z* ``design`` (and ``contract``) aim at: of the optimal plans, the one
    closest to ``reference`` (plan B); then the allocations tight at it (each at its
    department's use) and, with them fixed, the optimal plan closest to ``reference``
    again (``solution``: the system optimum with allocations free, whose duals give the
    optimal face and whose plan is the fallback where a rule cannot apply); and the notes
    of the rules that could not be applied."""
    optimum = solution.objective
    first = canonical_optimum(
        lp, optimum, reference, options=options, stats=stats, what=what, fallback=solution.x,
        solution=solution,
    )  # fmt: skip
    allocations = tight_allocations(lp, first.x)
    target = canonical_optimum(
        lp, optimum, reference, allocations=allocations, options=options, stats=stats,
        what=what, fallback=with_allocations(lp, first.x, allocations), solution=solution,
    )  # fmt: skip
    notes = [t.note for t in (first, target) if t.note]
    return dataclasses.replace(target, allocations=allocations), notes
