"""One live HiGHS instance over a :class:`LinearProgram`.

The program is passed to HiGHS once.  Analyses then change costs, column bounds and row
bounds and re-solve; the model is never rebuilt.  Every HiGHS model status maps to one
:class:`Status`.  Duals are reported as the change of the objective per unit increase of
a row's bound (HiGHS's own convention, checked in the tests for max and min problems).
"""

from __future__ import annotations

import contextlib
import enum
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from .compile import LinearProgram, SparseRow
from .errors import SolveError

__all__ = [
    "SOLVERS",
    "HighsSession",
    "Solution",
    "SolverOptions",
    "Status",
    "new_highs",
    "pass_arrays",
    "quiet_highs",
    "status_of",
]


class Status(enum.Enum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible or unbounded"
    TIME_LIMIT = "time limit"
    ITERATION_LIMIT = "iteration limit"
    INTERRUPTED = "interrupted"
    NUMERICAL = "numerical trouble"
    ERROR = "solver error"


_MS = highspy.HighsModelStatus
_STATUS = {
    _MS.kOptimal: Status.OPTIMAL,
    _MS.kModelEmpty: Status.OPTIMAL,
    _MS.kInfeasible: Status.INFEASIBLE,
    _MS.kUnbounded: Status.UNBOUNDED,
    _MS.kUnboundedOrInfeasible: Status.INFEASIBLE_OR_UNBOUNDED,
    _MS.kTimeLimit: Status.TIME_LIMIT,
    _MS.kIterationLimit: Status.ITERATION_LIMIT,
    _MS.kSolutionLimit: Status.ITERATION_LIMIT,
    _MS.kObjectiveBound: Status.ITERATION_LIMIT,
    _MS.kObjectiveTarget: Status.ITERATION_LIMIT,
    _MS.kInterrupt: Status.INTERRUPTED,
    _MS.kHighsInterrupt: Status.INTERRUPTED,
    _MS.kMemoryLimit: Status.ERROR,
    _MS.kNotset: Status.ERROR,
    _MS.kLoadError: Status.ERROR,
    _MS.kModelError: Status.ERROR,
    _MS.kPresolveError: Status.NUMERICAL,
    _MS.kSolveError: Status.NUMERICAL,
    _MS.kPostsolveError: Status.NUMERICAL,
    _MS.kUnknown: Status.NUMERICAL,
}


_FREE = int(highspy.IisBoundStatus.kIisBoundStatusFree)
_BOUND_SIDE = {
    int(highspy.IisBoundStatus.kIisBoundStatusLower): " (lower bound)",
    int(highspy.IisBoundStatus.kIisBoundStatusUpper): " (upper bound)",
}


@dataclass(frozen=True)
class Solution:
    status: Status
    objective: float
    x: np.ndarray  # column values
    row_activity: np.ndarray
    row_dual: np.ndarray  # d objective / d row bound
    col_dual: np.ndarray  # reduced costs
    seconds: float  # wall time of this solve
    message: str = ""

    @property
    def optimal(self) -> bool:
        return self.status is Status.OPTIMAL


@dataclass(frozen=True)
class SolverOptions:
    """How HiGHS solves: a time limit per solve, the algorithm, the number of threads."""

    time_limit: float | None = None
    #: HiGHS's ``solver`` option: ``choose`` (its default), ``simplex``, ``ipm`` or ``pdlp``
    solver: str = "choose"
    threads: int | None = None


SOLVERS = ("choose", "simplex", "ipm", "pdlp")


_FD_LOCK = threading.Lock()


@contextlib.contextmanager
def _silenced_fds() -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``/dev/null`` for the duration of the block.

    HiGHS (1.16 and likely later) writes its banner with C's stdio when a ``Highs`` object
    is constructed, before ``output_flag`` can be switched off; Python's ``sys.stdout``
    never sees it, so only the descriptors can be redirected.  The descriptors are
    process-wide, hence the lock; Python's own buffers are flushed first so nothing of
    ours is swallowed.
    """
    with _FD_LOCK:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        saved: list[tuple[int, int]] = []
        try:
            null = os.open(os.devnull, os.O_WRONLY)
        except OSError:  # pragma: no cover - no /dev/null: nothing we can do
            yield
            return
        try:
            for fd in (1, 2):
                with contextlib.suppress(OSError):  # a closed descriptor stays closed
                    saved.append((fd, os.dup(fd)))
                    os.dup2(null, fd)
            yield
        finally:
            _flush_c_stdio()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)
            os.close(null)


def _flush_c_stdio() -> None:
    """Flush C's stdio buffers, so text HiGHS buffered goes to ``/dev/null``, not later to
    the restored descriptor (stdout is block-buffered when it is a pipe)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).fflush(None)


def quiet_highs() -> highspy.Highs:
    """A ``highspy.Highs`` with its output off, constructed so that nothing it prints while
    starting up (the banner) reaches this process's stdout or stderr."""
    with _silenced_fds():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    return h


def new_highs(options: SolverOptions | None = None) -> highspy.Highs:
    """A quiet HiGHS instance with ``options`` applied."""
    options = options or SolverOptions()
    if options.solver not in SOLVERS:
        msg = f"unknown solver '{options.solver}' (one of {', '.join(SOLVERS)})"
        raise SolveError(msg)
    h = quiet_highs()
    h.setOptionValue("solver", options.solver)
    if options.threads:
        h.setOptionValue("threads", int(options.threads))
    if options.time_limit is not None:
        h.setOptionValue("time_limit", float(options.time_limit))
    return h


def pass_arrays(
    h: highspy.Highs,
    *,
    cost: np.ndarray,
    offset: float,
    sense: str,
    A: sp.csc_array,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
) -> None:
    """Pass ``max/min cost x + offset, row_lower <= A x <= row_upper, bounds`` to HiGHS."""
    A = sp.csc_array(A)
    m, n = A.shape
    model = highspy.HighsLp()
    model.num_col_ = n
    model.num_row_ = m
    model.col_cost_ = np.asarray(cost, dtype=float)
    model.col_lower_ = np.asarray(col_lower, dtype=float)
    model.col_upper_ = np.asarray(col_upper, dtype=float)
    model.row_lower_ = np.asarray(row_lower, dtype=float)
    model.row_upper_ = np.asarray(row_upper, dtype=float)
    model.offset_ = float(offset)
    model.sense_ = highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = A.data.astype(float)
    model.a_matrix_.num_col_ = n
    model.a_matrix_.num_row_ = m
    if h.passModel(model) == highspy.HighsStatus.kError:
        msg = "HiGHS rejected the model"
        raise SolveError(msg)


def status_of(h: highspy.Highs) -> Status:
    return _STATUS.get(h.getModelStatus(), Status.ERROR)


def _index_and_bounds(
    index: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HiGHS's types: int32 indices, float bounds broadcast to the indices' shape."""
    index = np.asarray(index, dtype=np.int32)
    lower = np.broadcast_to(np.asarray(lower, dtype=float), index.shape).copy()
    upper = np.broadcast_to(np.asarray(upper, dtype=float), index.shape).copy()
    return index, lower, upper


class HighsSession:
    """A HiGHS instance holding ``lp``; change vectors and re-solve."""

    def __init__(self, lp: LinearProgram, options: SolverOptions | None = None):
        self.lp = lp
        h = new_highs(options)
        pass_arrays(
            h,
            cost=lp.objective.dense(lp.num_cols),
            offset=lp.objective.constant,
            sense=lp.sense,
            A=lp.A,
            col_lower=lp.col_lower,
            col_upper=lp.col_upper,
            row_lower=lp.row_lower,
            row_upper=lp.row_upper,
        )
        self.highs = h
        self.sense = lp.sense
        self.col_lower = lp.col_lower.copy()
        self.col_upper = lp.col_upper.copy()
        self.row_lower = lp.row_lower.copy()
        self.row_upper = lp.row_upper.copy()

    # -- changes ------------------------------------------------------------------------

    def set_objective(
        self, row: SparseRow | np.ndarray, sense: str, constant: float | None = None
    ) -> None:
        """Replace the objective (a sparse row or a dense cost vector) and its sense."""
        n = self.lp.num_cols
        cost = row.dense(n) if isinstance(row, SparseRow) else np.asarray(row, dtype=float)
        offset = (
            row.constant if isinstance(row, SparseRow) and constant is None else (constant or 0.0)
        )
        h = self.highs
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        h.changeObjectiveOffset(float(offset))
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
        )
        self.sense = sense

    def set_col_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        cols, lower, upper = _index_and_bounds(cols, lower, upper)
        if cols.size == 0:
            return
        self.highs.changeColsBounds(cols.size, cols, lower, upper)
        self.col_lower[cols] = lower
        self.col_upper[cols] = upper

    def fix_cols(self, cols: np.ndarray, values: np.ndarray) -> None:
        self.set_col_bounds(cols, values, values)

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        rows, lower, upper = _index_and_bounds(rows, lower, upper)
        if rows.size == 0:
            return
        self.highs.changeRowsBounds(rows.size, rows, lower, upper)
        self.row_lower[rows] = lower
        self.row_upper[rows] = upper

    # -- solving ------------------------------------------------------------------------

    def solve(self, *, warm: bool = True, presolve: bool = True) -> Solution:
        """Solve; ``warm=False`` clears the basis first (a cold start with presolve)."""
        h = self.highs
        if not warm:
            h.clearSolver()
        if not presolve:
            h.setOptionValue("presolve", "off")
        start = time.perf_counter()
        try:
            h.run()
        finally:
            if not presolve:
                h.setOptionValue("presolve", "choose")
        seconds = time.perf_counter() - start
        status = status_of(h)
        n, m = self.lp.num_cols, self.lp.num_rows
        if status is Status.OPTIMAL:
            sol = h.getSolution()
            x = np.asarray(sol.col_value, dtype=float)
            return Solution(
                status,
                float(h.getInfo().objective_function_value),
                x,
                np.asarray(sol.row_value, dtype=float),
                np.asarray(sol.row_dual, dtype=float),
                np.asarray(sol.col_dual, dtype=float),
                seconds,
            )
        nan = np.full(n, np.nan)
        return Solution(
            status,
            float("nan"),
            nan,
            np.full(m, np.nan),
            np.full(m, np.nan),
            nan,
            seconds,
            h.modelStatusToString(h.getModelStatus()),
        )

    def ranging(self) -> dict[str, np.ndarray]:
        """HiGHS sensitivity ranging after an optimal solve (cost and row-bound intervals)."""
        status, r = self.highs.getRanging()
        if status == highspy.HighsStatus.kError or not r.valid:
            msg = "ranging is not available for this solve"
            raise SolveError(msg)
        n = self.lp.num_cols
        return {
            "cost_down": np.asarray(r.col_cost_dn.value_, dtype=float)[:n],
            "cost_up": np.asarray(r.col_cost_up.value_, dtype=float)[:n],
            "row_bound_down": np.asarray(r.row_bound_dn.value_, dtype=float),
            "row_bound_up": np.asarray(r.row_bound_up.value_, dtype=float),
        }

    def conflict(self) -> tuple[list[str], list[str]]:
        """Names of the rows and columns in an irreducible infeasible subset (IIS)."""
        h = self.highs
        h.setOptionValue("iis_strategy", highspy.IisStrategy.kIisStrategyIrreducible)
        out = h.getIis()
        iis = out[1] if isinstance(out, tuple) else out
        rows = [
            self.lp.row_name(int(i)) + _BOUND_SIDE.get(int(b), "")
            for i, b in zip(iis.row_index_, iis.row_bound_, strict=True)
            if int(b) != _FREE
        ]
        # a column listed with a free bound status is in the subset without its bounds
        cols = [
            self.lp.col_name(int(j)) + _BOUND_SIDE.get(int(b), "")
            for j, b in zip(iis.col_index_, iis.col_bound_, strict=True)
            if int(b) != _FREE
        ]
        return rows, cols

    def ray_values(self) -> np.ndarray | None:
        """A primal ray of an unbounded problem (column values), or None if HiGHS has none
        (it is then asked once more, without presolve, which hides rays)."""
        h = self.highs
        out = h.getPrimalRay()
        has_ray, values = (out[1], out[2]) if len(out) == 3 else (out[0], out[1])
        if not has_ray:
            h.setOptionValue("presolve", "off")
            h.clearSolver()
            h.run()
            h.setOptionValue("presolve", "choose")
            out = h.getPrimalRay()
            has_ray, values = (out[1], out[2]) if len(out) == 3 else (out[0], out[1])
            if not has_ray:
                return None
        return np.asarray(values, dtype=float)[: self.lp.num_cols]

    def ray(self, limit: int = 10) -> list[str]:
        """Names of the variables along an unbounded ray (largest components first)."""
        values = self.ray_values()
        return [] if values is None else self.names_along(values, limit)

    def names_along(self, values: np.ndarray, limit: int = 10) -> list[str]:
        """Names of the columns of a ray ``values``, largest components first."""
        order = np.argsort(-np.abs(values), kind="stable")
        return [self.lp.col_name(int(j)) for j in order[:limit] if abs(values[j]) > 1e-9]

    def explain(self, solution: Solution, what: str, *, conflict: bool = True) -> SolveError:
        """A SolveError that says why ``what`` has no optimal solution, by the model's names.

        ``conflict=False`` skips the search for an infeasible subset (slow on large models),
        for problems whose infeasibility can only be numerical.
        """
        if not conflict and solution.status not in (Status.TIME_LIMIT, Status.UNBOUNDED):
            return SolveError(
                f"{what}: {solution.status.value} although it starts from a feasible plan "
                "(numerical trouble; try a tighter --tol or another --solver)"
            )
        if (
            solution.status is Status.INFEASIBLE
            or solution.status is Status.INFEASIBLE_OR_UNBOUNDED
        ):
            rows, cols = self.conflict()
            if solution.status is Status.INFEASIBLE_OR_UNBOUNDED and not rows and not cols:
                names = self.ray()
                if names:
                    return SolveError(
                        f"{what} is unbounded: the objective improves without limit along "
                        f"{', '.join(names)}"
                    )
            parts = []
            if rows:
                parts.append(f"constraints {', '.join(rows)}")
            if cols:
                parts.append(f"bounds of {', '.join(cols)}")
            detail = " and ".join(parts) if parts else "no conflicting subset could be isolated"
            return SolveError(f"{what} is infeasible: conflicting {detail}")
        if solution.status is Status.UNBOUNDED:
            names = self.ray()
            along = f" along {', '.join(names)}" if names else ""
            return SolveError(f"{what} is unbounded: the objective improves without limit{along}")
        if solution.status is Status.TIME_LIMIT:
            return SolveError(
                f"{what}: the time limit was reached before an optimal solution was found"
            )
        return SolveError(f"{what}: {solution.status.value} ({solution.message})")
