"""One live HiGHS instance: the only module that imports highspy.

A :class:`HighsSession` holds a :class:`LinearProgram` (or bare arrays, for LPs that
analyses build themselves, such as the inverse LP of KPI design), passed to HiGHS once.
Analyses then change costs, column bounds and row bounds, add temporary rows, and
re-solve; the model is never rebuilt.  Every HiGHS model status maps to one
:class:`Status`; the session counts its solves, iterations and time (:class:`Statistics`).
Duals are reported as the change of the objective per unit increase of a row's bound
(HiGHS's own convention, checked in the tests for max and min problems).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import highspy
import numpy as np
import scipy.sparse as sp

from ..errors import SolveError
from ..model.program import LinearProgram, SparseRow
from ..types import Diagnosis, Status
from .diagnose import diagnose
from .distance import L1Distance
from .face import optimal_face
from .quiet import silenced_fds
from .status import Solution, Statistics

if TYPE_CHECKING:
    from ..options import Options

__all__ = ["HighsSession", "Ranging", "highs_version", "quiet_highs"]

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

#: statuses a retry would not change, or must not: an optimum, a limit the user set, an
#: interrupt (see :meth:`HighsSession.solve_retrying`)
_FINAL = frozenset({Status.OPTIMAL, Status.TIME_LIMIT, Status.ITERATION_LIMIT, Status.INTERRUPTED})


def quiet_highs() -> highspy.Highs:
    """A ``highspy.Highs`` with its output off, constructed so that nothing it prints while
    starting up (the banner) reaches this process's stdout or stderr."""
    with silenced_fds():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
    return h


def highs_version() -> str:
    """The version of the HiGHS library highspy drives, e.g. ``1.12.0``."""
    h = quiet_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"


def _new_highs(options: Options | None) -> highspy.Highs:
    """A quiet HiGHS instance with ``options`` (algorithm, threads, time limit) applied."""
    h = quiet_highs()
    if options is not None:
        h.setOptionValue("solver", options.solver)
        if options.threads:
            h.setOptionValue("threads", int(options.threads))
        if options.time_limit is not None:
            h.setOptionValue("time_limit", float(options.time_limit))
    return h


def _objective_sense(sense: str) -> highspy.ObjSense:
    return highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize


def _pass_arrays(
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


def _index_and_bounds(
    index: np.ndarray, lower: np.ndarray | float, upper: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """HiGHS's types: int32 indices, float bounds broadcast to the indices' shape."""
    index = np.asarray(index, dtype=np.int32)
    lower = np.broadcast_to(np.asarray(lower, dtype=float), index.shape).copy()
    upper = np.broadcast_to(np.asarray(upper, dtype=float), index.shape).copy()
    return index, lower, upper


def _ray(out: tuple) -> tuple[bool, list[float]]:
    """``getPrimalRay``'s answer across highspy releases (with or without a status)."""
    return (out[1], out[2]) if len(out) == 3 else (out[0], out[1])


@dataclass(frozen=True)
class Ranging:
    """HiGHS's sensitivity ranging after an optimal solve.

    ``cost_down``/``cost_up``: the interval over which a column's cost may move with the
    basis (the solution) unchanged; ``row_bound_down``/``row_bound_up``: the interval over
    which a row's active bound may move with the basis unchanged (the dual stays valid).
    """

    cost_down: np.ndarray
    cost_up: np.ndarray
    row_bound_down: np.ndarray
    row_bound_up: np.ndarray


_FREE = int(highspy.IisBoundStatus.kIisBoundStatusFree)
_BOUND_SIDE = {
    int(highspy.IisBoundStatus.kIisBoundStatusLower): " (lower bound)",
    int(highspy.IisBoundStatus.kIisBoundStatusUpper): " (upper bound)",
}


class HighsSession:
    """A HiGHS instance holding ``lp``; change vectors and re-solve.

    ``col_lower``/``col_upper`` and ``row_lower``/``row_upper`` mirror the bounds HiGHS
    holds for the program's own columns and rows; ``stats`` counts every solve (pass one
    :class:`Statistics` to several sessions to count a whole run).
    """

    def __init__(
        self,
        lp: LinearProgram,
        options: Options | None = None,
        *,
        stats: Statistics | None = None,
    ):
        self.lp: LinearProgram | None = lp
        self._load(
            options,
            stats,
            cost=lp.objective.dense(lp.num_cols),
            offset=lp.objective.constant,
            sense=lp.sense,
            A=lp.A,
            col_lower=lp.col_lower,
            col_upper=lp.col_upper,
            row_lower=lp.row_lower,
            row_upper=lp.row_upper,
        )

    @classmethod
    def from_arrays(
        cls,
        *,
        cost: np.ndarray,
        offset: float = 0.0,
        sense: str,
        A: sp.sparray,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
        options: Options | None = None,
        stats: Statistics | None = None,
    ) -> HighsSession:
        """A session over ``max/min cost x + offset, row_lower <= A x <= row_upper,
        col_lower <= x <= col_upper`` (columns and rows named by number)."""
        session = cls.__new__(cls)
        session.lp = None
        session._load(
            options,
            stats,
            cost=cost,
            offset=offset,
            sense=sense,
            A=A,
            col_lower=col_lower,
            col_upper=col_upper,
            row_lower=row_lower,
            row_upper=row_upper,
        )
        return session

    def _load(self, options: Options | None, stats: Statistics | None, **arrays: object) -> None:
        h = _new_highs(options)
        _pass_arrays(h, **arrays)  # type: ignore[arg-type]
        self.highs = h
        self._options = options
        self.sense = str(arrays["sense"])
        self.col_lower = np.asarray(arrays["col_lower"], dtype=float).copy()
        self.col_upper = np.asarray(arrays["col_upper"], dtype=float).copy()
        self.row_lower = np.asarray(arrays["row_lower"], dtype=float).copy()
        self.row_upper = np.asarray(arrays["row_upper"], dtype=float).copy()
        #: the objective HiGHS holds: dense costs and constant (its sense is ``sense``)
        self.cost = np.asarray(arrays["cost"], dtype=float).copy()
        self.offset = float(arrays.get("offset", 0.0))  # type: ignore[arg-type]
        #: every solve of this session is counted here (shared by the sessions of a run)
        self.stats = stats if stats is not None else Statistics()

    # -- sizes and names ----------------------------------------------------------------

    @property
    def num_cols(self) -> int:
        """Columns of the program HiGHS holds."""
        return self.col_lower.size

    @property
    def num_rows(self) -> int:
        """Rows HiGHS holds now: the program's and any temporary ones."""
        return int(self.highs.getNumRow())

    def row_name(self, i: int) -> str:
        """Row ``i`` by the model's name (``row i`` for a temporary or bare-array row)."""
        return self.lp.row_name(i) if self.lp is not None and i < self.lp.num_rows else f"row {i}"

    def col_name(self, j: int) -> str:
        """Column ``j`` by the model's name (``column j`` in a bare-array session)."""
        return self.lp.col_name(j) if self.lp is not None else f"column {j}"

    # -- changes ------------------------------------------------------------------------

    def set_objective(
        self, row: SparseRow | np.ndarray, sense: str, constant: float | None = None
    ) -> None:
        """Replace the objective (a sparse row or a dense cost vector) and its sense."""
        n = self.num_cols
        cost = row.dense(n) if isinstance(row, SparseRow) else np.asarray(row, dtype=float)
        offset = (
            row.constant if isinstance(row, SparseRow) and constant is None else (constant or 0.0)
        )
        h = self.highs
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        h.changeObjectiveOffset(float(offset))
        h.changeObjectiveSense(_objective_sense(sense))
        self.sense = sense
        self.cost = cost.copy()
        self.offset = float(offset)

    def set_col_bounds(self, cols: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds of the columns ``cols``."""
        cols, lower, upper = _index_and_bounds(cols, lower, upper)
        if cols.size == 0:
            return
        self.highs.changeColsBounds(cols.size, cols, lower, upper)
        self.col_lower[cols] = lower
        self.col_upper[cols] = upper

    def fix_cols(self, cols: np.ndarray, values: np.ndarray) -> None:
        """Fix the columns ``cols`` at ``values``."""
        self.set_col_bounds(cols, values, values)

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """New bounds of rows, the program's or temporary ones."""
        rows, lower, upper = _index_and_bounds(rows, lower, upper)
        if rows.size == 0:
            return
        self.highs.changeRowsBounds(rows.size, rows, lower, upper)
        own = rows < self.row_lower.size
        self.row_lower[rows[own]] = lower[own]
        self.row_upper[rows[own]] = upper[own]

    def add_row(
        self, cols: np.ndarray, coefs: np.ndarray, lower: float, upper: float = np.inf
    ) -> int:
        """Add ``lower <= coefs · x[cols] <= upper``; its row index.  Use it inside
        :meth:`temporary_rows`, which removes it again."""
        cols = np.asarray(cols, dtype=np.int32)
        coefs = np.asarray(coefs, dtype=float)
        self.highs.addRow(float(lower), float(upper), cols.size, cols, coefs)
        return self.num_rows - 1

    @contextlib.contextmanager
    def temporary_rows(self) -> Iterator[None]:
        """Rows added inside the block are deleted when it ends, however it ends."""
        before = self.num_rows
        try:
            yield
        finally:
            added = self.num_rows - before
            if added:
                self.highs.deleteRows(added, np.arange(before, before + added, dtype=np.int32))

    def _change_bounds(
        self,
        col_lower: np.ndarray,
        col_upper: np.ndarray,
        row_lower: np.ndarray,
        row_upper: np.ndarray,
    ) -> None:
        """Give every column and program row these bounds, passing HiGHS only those that
        differ from the bounds it holds."""
        cols = np.flatnonzero((self.col_lower != col_lower) | (self.col_upper != col_upper))
        self.set_col_bounds(cols, col_lower[cols], col_upper[cols])
        rows = np.flatnonzero((self.row_lower != row_lower) | (self.row_upper != row_upper))
        self.set_row_bounds(rows, row_lower[rows], row_upper[rows])

    @contextlib.contextmanager
    def restored(self) -> Iterator[None]:
        """Column bounds, the program's row bounds and the objective are put back as they
        were when the block ends, however it ends; rows added inside it are deleted."""
        col_lower, col_upper = self.col_lower.copy(), self.col_upper.copy()
        row_lower, row_upper = self.row_lower.copy(), self.row_upper.copy()
        cost, offset, sense = self.cost.copy(), self.offset, self.sense
        try:
            with self.temporary_rows():
                yield
        finally:
            self._change_bounds(col_lower, col_upper, row_lower, row_upper)
            if sense != self.sense or offset != self.offset or not np.array_equal(cost, self.cost):
                self.set_objective(cost, sense, offset)

    @contextlib.contextmanager
    def on_face(self, solution: Solution) -> Iterator[None]:
        """Confine the session, for the block, to the optimal face of the LP it holds now
        (temporary rows included) read from ``solution``, an optimal solution of that LP
        with its objective as it is (:func:`~kpidesign.solver.face.optimal_face`); every
        bound is put back when the block ends, however it ends."""
        own = self.row_lower.size
        extra = np.arange(own, self.num_rows, dtype=np.int32)
        extra_lower = extra_upper = np.zeros(0)
        if extra.size:
            _, _, extra_lower, extra_upper, _ = self.highs.getRows(extra.size, extra)
            extra_lower, extra_upper = np.asarray(extra_lower), np.asarray(extra_upper)
        col_lower, col_upper, row_lower, row_upper = optimal_face(
            solution,
            self.col_lower,
            self.col_upper,
            np.concatenate([self.row_lower, extra_lower]),
            np.concatenate([self.row_upper, extra_upper]),
        )
        with self.restored():
            try:
                self._change_bounds(col_lower, col_upper, row_lower[:own], row_upper[:own])
                self.set_row_bounds(extra, row_lower[own:], row_upper[own:])
                yield
            finally:
                self.set_row_bounds(extra, extra_lower, extra_upper)

    # -- solving ------------------------------------------------------------------------

    def closest(self, reference: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> Solution:
        """Of the points feasible now (bounds and rows as they are, temporary rows
        included), the one closest to ``reference`` over ``cols`` in the weighted L1
        distance ``sum_j weights_j |x_j - reference_j|`` (the solution's objective).  Solved
        on a scratch copy, with a distance column ``t_j >= |x_j - reference_j|`` only where
        ``reference_j`` lies strictly inside the column's bounds (:class:`L1Distance`); the
        session itself is unchanged (its statistics count the solve).  The solution's ``x``
        holds the session's columns only."""
        n = self.num_cols
        cols = np.asarray(cols, dtype=np.int64)
        distance = L1Distance.of(
            cols, np.asarray(reference, dtype=float)[cols], self.col_lower[cols],
            self.col_upper[cols],
        )  # fmt: skip
        cost, constant = distance.cost(weights, n)
        m = distance.columns
        scratch = _new_highs(self._options)
        scratch.passModel(self.highs.getLp())
        scratch.changeColsCost(n, np.arange(n, dtype=np.int32), cost[:n])
        scratch.changeObjectiveOffset(constant)
        scratch.changeObjectiveSense(_objective_sense("min"))
        scratch.addCols(
            m, cost[n:], np.zeros(m), np.full(m, np.inf), 0,
            np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0),
        )  # fmt: skip
        block, lower, upper = distance.rows(n)
        scratch.addRows(
            block.shape[0], lower, upper, block.nnz, block.indptr[:-1].astype(np.int32),
            block.indices.astype(np.int32), block.data.astype(float),
        )  # fmt: skip
        start = time.perf_counter()
        scratch.run()
        if _STATUS.get(scratch.getModelStatus(), Status.ERROR) not in _FINAL:
            # presolve may call a marginally feasible copy infeasible: once more without it
            scratch.clearSolver()
            scratch.setOptionValue("presolve", "off")
            scratch.run()
        seconds = time.perf_counter() - start
        info = scratch.getInfo()
        iterations = max(0, int(info.simplex_iteration_count)) + max(
            0, int(info.ipm_iteration_count)
        )
        self.stats.add(Statistics(1, iterations, seconds))
        status = _STATUS.get(scratch.getModelStatus(), Status.ERROR)
        rows, cols_nan = np.full(self.num_rows, np.nan), np.full(n, np.nan)
        x = (
            np.asarray(scratch.getSolution().col_value, dtype=float)[:n]
            if status is Status.OPTIMAL
            else cols_nan
        )
        objective = float(info.objective_function_value) if status is Status.OPTIMAL else np.nan
        return Solution(status, objective, x, rows, rows, cols_nan, seconds)

    def solve_retrying(self, *, warm: bool = True) -> Solution:
        """Solve, and where HiGHS ends without an optimum, retry: cold (if the first
        attempt was warm), then cold without presolve.  A warm start can end in numerical
        trouble, and presolve can call a problem infeasible whose columns are fixed at
        values feasible only within tolerance; neither says anything about the problem.
        No retry follows a time or iteration limit or an interrupt: those are the user's
        (``--time-limit`` bounds each solve, and a retry would double it).  The last
        attempt's solution is returned, optimal or not."""
        sol = self.solve(warm=warm)
        ladder = ((False, True), (False, False)) if warm else ((False, False),)
        for retry_warm, presolve in ladder:
            if sol.status in _FINAL:
                break
            sol = self.solve(warm=retry_warm, presolve=presolve)
        return sol

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
        info = h.getInfo()
        self.stats.add(
            Statistics(
                1,
                max(0, int(info.simplex_iteration_count)) + max(0, int(info.ipm_iteration_count)),
                seconds,
            )
        )
        status = _STATUS.get(h.getModelStatus(), Status.ERROR)
        n, m = self.num_cols, self.num_rows
        if status is Status.OPTIMAL:
            sol = h.getSolution()
            return Solution(
                status,
                float(info.objective_function_value),
                np.asarray(sol.col_value, dtype=float),
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

    def ranging(self) -> Ranging:
        """HiGHS's sensitivity ranging after an optimal solve (an error otherwise)."""
        status, r = self.highs.getRanging()
        if status == highspy.HighsStatus.kError or not r.valid:
            msg = (
                "ranging is not available for this solve: it needs an optimal basis, which "
                "the first-order solver (pdlp) does not give; use --solver choose or simplex"
            )
            raise SolveError(msg)
        n = self.num_cols
        return Ranging(
            cost_down=np.asarray(r.col_cost_dn.value_, dtype=float)[:n],
            cost_up=np.asarray(r.col_cost_up.value_, dtype=float)[:n],
            row_bound_down=np.asarray(r.row_bound_dn.value_, dtype=float),
            row_bound_up=np.asarray(r.row_bound_up.value_, dtype=float),
        )

    def basic_rows(self) -> np.ndarray:
        """Which of the program's rows are basic in the last solve's basis (a basic row's
        dual is 0 and its ranging is that of its activity, not of its bound)."""
        lp = self.lp
        assert lp is not None
        status = self.highs.getBasis().row_status
        basic = highspy.HighsBasisStatus.kBasic
        return np.array([s == basic for s in status[: lp.num_rows]], dtype=bool)

    # -- evidence for a diagnosis ---------------------------------------------------------

    def conflict(self) -> tuple[list[str], list[str]]:
        """Names of the rows and columns in an irreducible infeasible subset (IIS)."""
        h = self.highs
        h.setOptionValue("iis_strategy", highspy.IisStrategy.kIisStrategyIrreducible)
        out = h.getIis()
        iis = out[1] if isinstance(out, tuple) else out
        rows = [
            self.row_name(int(i)) + _BOUND_SIDE.get(int(b), "")
            for i, b in zip(iis.row_index_, iis.row_bound_, strict=True)
            if int(b) != _FREE
        ]
        # a column listed with a free bound status is in the subset without its bounds
        cols = [
            self.col_name(int(j)) + _BOUND_SIDE.get(int(b), "")
            for j, b in zip(iis.col_index_, iis.col_bound_, strict=True)
            if int(b) != _FREE
        ]
        return rows, cols

    def ray_values(self) -> np.ndarray | None:
        """A primal ray of an unbounded problem (column values), or None if HiGHS has none
        (it is then asked once more, without presolve, which hides rays)."""
        h = self.highs
        has_ray, values = _ray(h.getPrimalRay())
        if not has_ray:
            h.setOptionValue("presolve", "off")
            h.clearSolver()
            h.run()
            h.setOptionValue("presolve", "choose")
            has_ray, values = _ray(h.getPrimalRay())
            if not has_ray:
                return None
        return np.asarray(values, dtype=float)[: self.num_cols]

    def ray(self, limit: int = 10) -> list[str]:
        """Names of the variables along an unbounded ray (largest components first)."""
        values = self.ray_values()
        return [] if values is None else self.names_along(values, limit)

    def names_along(self, values: np.ndarray, limit: int = 10) -> list[str]:
        """Names of the columns of a ray ``values``, largest components first."""
        order = np.argsort(-np.abs(values), kind="stable")
        return [self.col_name(int(j)) for j in order[:limit] if abs(values[j]) > 1e-9]

    def diagnose(self, solution: Solution, what: str, *, conflict: bool = True) -> Diagnosis:
        """Why ``what`` has no optimal solution, by the model's names (see
        :func:`~kpidesign.solver.diagnose.diagnose`)."""
        return diagnose(self, solution, what, conflict=conflict)

    def explain(self, solution: Solution, what: str, *, conflict: bool = True) -> SolveError:
        """:meth:`diagnose` as the error an analysis raises to stop."""
        return SolveError.of(self.diagnose(solution, what, conflict=conflict))
