"""The inverse LP of KPI design, built from the compiled matrices.

For department d at the target plan z* (everything but d's own variables and the shared
state fixed there), its local problem is

    max  c(w) · z_F   s.t.  L <= A_RF z_F <= U,  l <= z_F <= u,   c(w) = sum_k w_k c_k,

over its free columns F and the rows R that touch them (the fixed columns' contribution
moved into L and U).  Its dual, with a multiplier for every finite bound, is

    min  U·yU - L·yL + u·vU - l·vL   s.t.  A_RFᵀ (yU - yL) + (vU - vL) = c(w),  y, v >= 0.

Because z* is fixed, ``c(w)·z*`` is linear in w, so "y is dual feasible for c(w) and the
duality gap is at most ε" is linear in (w, y, v, ε).  Minimizing ε gives the incentive gap
(ε = 0: z* is optimal for d, exact alignment).  Then, with ε held at its minimum, the L1
distance to the current weights is minimized.  Both phases run on one
:class:`~kpidesign.solver.HighsSession` built from the arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import SolveError
from ..model.program import LinearProgram
from ..options import Options
from ..solver import HighsSession, Statistics

__all__ = ["InverseLP", "LocalDualData", "local_dual_data"]


@dataclass(frozen=True)
class LocalDualData:
    """Department d's local problem at a fixed plan, restricted to what d can move."""

    free: np.ndarray  # columns d may move (own and shared)
    rows: np.ndarray  # rows touching them
    A: sp.csr_array  # rows x free
    row_lower: np.ndarray  # net of the fixed columns' contribution
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    z: np.ndarray  # the plan on the free columns


def local_dual_data(lp: LinearProgram, free: np.ndarray, x: np.ndarray) -> LocalDualData:
    """Department d's local problem at plan ``x``, over the columns it may move (``free``)."""
    A = lp.A.tocsr()
    fixed_mask = np.ones(lp.num_cols, dtype=bool)
    fixed_mask[free] = False
    fixed_x = np.where(fixed_mask, x, 0.0)
    offset = A @ fixed_x
    A_free = A[:, free]
    rows = np.flatnonzero(np.diff(A_free.tocsr().indptr) > 0)
    return LocalDualData(
        free=free,
        rows=rows,
        A=sp.csr_array(A_free[rows]),
        row_lower=lp.row_lower[rows] - offset[rows],
        row_upper=lp.row_upper[rows] - offset[rows],
        col_lower=lp.col_lower[free],
        col_upper=lp.col_upper[free],
        z=x[free],
    )


def _dual_feasibility(
    data: LocalDualData, costs: np.ndarray
) -> tuple[sp.csr_array, np.ndarray, int]:
    """The rows ``A_RFᵀ (yU - yL) + (vU - vL) - c(w) = 0`` over the columns
    ``w (K) | yU | yL | vU | vL | ε | t (K)`` (a multiplier for every finite bound only),
    the duality-gap row's coefficients (``dual objective - c(w)·z* - ε``), and the number
    of multipliers."""
    K, nf = costs.shape
    ru = np.flatnonzero(np.isfinite(data.row_upper))
    rl = np.flatnonzero(np.isfinite(data.row_lower))
    cu = np.flatnonzero(np.isfinite(data.col_upper))
    cl = np.flatnonzero(np.isfinite(data.col_lower))
    AT = sp.csr_array(data.A.T)
    eye = sp.identity(nf, format="csr")
    blocks = [
        -sp.csr_array(costs.T),
        AT[:, ru],
        -AT[:, rl],
        eye[:, cu],
        -eye[:, cl],
        sp.csr_array((nf, 1)),
        sp.csr_array((nf, K)),
    ]
    gap = np.concatenate(
        [
            -(costs @ data.z),
            data.row_upper[ru],
            -data.row_lower[rl],
            data.col_upper[cu],
            -data.col_lower[cl],
            [-1.0],
            np.zeros(K),
        ]
    )
    return sp.hstack(blocks, format="csr"), gap, ru.size + rl.size + cu.size + cl.size


class InverseLP:
    """``min ε`` over weights ``w`` (on a simplex, with caps) and dual multipliers.

    ``costs`` holds one row per candidate KPI (restricted to the free columns), each the
    KPI's normalized linear form; weights are capped by ``caps``.
    """

    def __init__(
        self,
        data: LocalDualData,
        costs: np.ndarray,
        caps: np.ndarray,
        options: Options | None = None,
        stats: Statistics | None = None,
    ):
        K, nf = costs.shape
        dual, gap, finite = _dual_feasibility(data, costs)
        n = gap.size
        self.K = K
        self.eps = K + finite  # the column of ε, after w and the finite bounds' multipliers
        self.t0 = self.eps + 1
        simplex = np.zeros(n)
        simplex[:K] = 1.0
        l1_plus = sp.hstack([-sp.identity(K), sp.csr_array((K, n - 2 * K)), sp.identity(K)])
        l1_minus = sp.hstack([sp.identity(K), sp.csr_array((K, n - 2 * K)), sp.identity(K)])
        M = sp.vstack(
            [dual, sp.csr_array(gap[None, :]), sp.csr_array(simplex[None, :]), l1_plus, l1_minus],
            format="csc",
        )
        self.n_feas = nf
        self.gap_row = nf
        self.l1_rows = np.arange(nf + 2, nf + 2 + 2 * K)
        row_lower = np.concatenate([np.zeros(nf), [-np.inf], [1.0], np.full(2 * K, -np.inf)])
        row_upper = np.concatenate([np.zeros(nf), [0.0], [1.0], np.full(2 * K, np.inf)])
        col_lower = np.zeros(n)
        col_upper = np.full(n, np.inf)
        col_upper[:K] = caps
        cost = np.zeros(n)
        cost[self.eps] = 1.0
        self.session = HighsSession.from_arrays(
            cost=cost,
            sense="min",
            A=M,
            col_lower=col_lower,
            col_upper=col_upper,
            row_lower=row_lower,
            row_upper=row_upper,
            options=options,
            stats=stats,
        )
        self.caps = caps
        self.n = n

    def _run(self, what: str) -> np.ndarray:
        sol = self.session.solve()
        if not sol.optimal:
            msg = f"{what}: {sol.status.value}"
            raise SolveError(msg, sol.status)
        return sol.x

    def _set_cost(self, column: int | np.ndarray) -> None:
        """Minimize the sum of ``column`` (one index or several)."""
        cost = np.zeros(self.n)
        cost[column] = 1.0
        self.session.set_objective(cost, "min", 0.0)

    def min_gap(self, what: str) -> tuple[float, np.ndarray]:
        """The smallest incentive gap and weights attaining it (over the cuts added so far;
        ε's bounds and the objective are reset, so it may follow :meth:`closest`)."""
        self.session.set_col_bounds(np.array([self.eps]), 0.0, np.inf)
        self._set_cost(self.eps)
        x = self._run(what)
        return max(0.0, float(x[self.eps])), x[: self.K]

    def closest(self, eps: float, current: np.ndarray, what: str) -> np.ndarray:
        """Weights with gap <= eps closest (L1) to ``current``."""
        s = self.session
        K = self.K
        s.set_col_bounds(np.array([self.eps]), 0.0, float(eps))
        # t_k >= w_k - current_k  and  t_k >= current_k - w_k
        s.set_row_bounds(self.l1_rows, np.concatenate([-current, current]), np.inf)
        self._set_cost(np.arange(self.t0, self.t0 + K))
        return self._run(what)[:K]

    def gap_of(self, weights: np.ndarray, what: str) -> float:
        """The incentive gap of fixed weights (the current scheme)."""
        s = self.session
        weights_cols = np.arange(self.K)
        s.fix_cols(weights_cols, weights)
        s.set_col_bounds(np.array([self.eps]), 0.0, np.inf)
        self._set_cost(self.eps)
        x = self._run(what)
        s.set_col_bounds(weights_cols, 0.0, self.caps)
        return max(0.0, float(x[self.eps]))

    def add_cut(self, coefficients: np.ndarray) -> int:
        """Add the row ``sum_k coefficients_k·w_k - ε <= 0`` over the weight columns; its
        index.

        With ``coefficients = f(z') - f(z*)`` (:func:`~kpidesign.analyses.local.kpi_values`:
        signed normalized KPIs, a ratio as the true ratio) it says that the response ``z'``
        beats the target ``z*`` by at most ε under weights ``w``: constraint generation for
        scorecards the dual rows describe only to first order (a ratio mixed with other
        KPIs).  The row stays for every later :meth:`min_gap`, :meth:`closest` and
        :meth:`gap_of` (they change bounds and the objective, never rows).
        """
        a = np.asarray(coefficients, dtype=float)
        if a.shape != (self.K,) or not np.all(np.isfinite(a)):
            msg = f"a cut needs {self.K} finite coefficients, one per candidate KPI, not {a}"
            raise ValueError(msg)
        cols = np.append(np.flatnonzero(a), self.eps)
        coefs = np.append(a[a != 0], -1.0)
        return self.session.add_row(cols, coefs, -np.inf, 0.0)
