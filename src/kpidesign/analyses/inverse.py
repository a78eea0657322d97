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

__all__ = [
    "MAX_TOLERANCE",
    "InverseLP",
    "LocalDualData",
    "ToleranceLP",
    "local_dual_data",
    "margin_of",
    "multipliers",
    "optimal_x",
]


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

    def finite_bounds(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The rows with a finite upper and lower bound, the columns with a finite upper
        and lower bound: one dual multiplier each, in this order."""
        return (
            np.flatnonzero(np.isfinite(self.row_upper)),
            np.flatnonzero(np.isfinite(self.row_lower)),
            np.flatnonzero(np.isfinite(self.col_upper)),
            np.flatnonzero(np.isfinite(self.col_lower)),
        )


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


def multipliers(data: LocalDualData) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """The dual's multiplier block ``D`` (free columns x multipliers, one per finite bound:
    ``yU | yL | vU | vL``) so that dual feasibility reads ``D m = c(w)``, the dual
    objective's coefficients ``b`` (``b·m`` is the dual objective), and for each multiplier
    the norm of its constraint over the free columns (1 for a bound)."""
    nf = data.z.size
    ru, rl, cu, cl = data.finite_bounds()
    AT = sp.csr_array(data.A.T)
    eye = sp.identity(nf, format="csr")
    D = sp.hstack([AT[:, ru], -AT[:, rl], eye[:, cu], -eye[:, cl]], format="csr")
    b = np.concatenate(
        [data.row_upper[ru], -data.row_lower[rl], data.col_upper[cu], -data.col_lower[cl]]
    )
    row_norm = np.sqrt(np.asarray(data.A.multiply(data.A).sum(axis=1))).ravel()
    norms = np.concatenate([row_norm[ru], row_norm[rl], np.ones(cu.size + cl.size)])
    return D, b, norms


def _active(data: LocalDualData, tol: float = 1e-7) -> np.ndarray:
    """For each multiplier of :func:`multipliers`: is its inequality binding at the plan
    (equality rows and fixed columns excluded: their multipliers' signs are free)?"""
    act = data.A @ data.z
    ru, rl, cu, cl = data.finite_bounds()
    row_eq = data.row_lower == data.row_upper
    col_eq = data.col_lower == data.col_upper

    def at(value: np.ndarray, bound: np.ndarray) -> np.ndarray:
        return np.abs(value - bound) <= tol * (1.0 + np.abs(bound))

    return np.concatenate(
        [
            at(act[ru], data.row_upper[ru]) & ~row_eq[ru],
            at(act[rl], data.row_lower[rl]) & ~row_eq[rl],
            at(data.z[cu], data.col_upper[cu]) & ~col_eq[cu],
            at(data.z[cl], data.col_lower[cl]) & ~col_eq[cl],
        ]
    )


def _dual_feasibility(
    data: LocalDualData, costs: np.ndarray
) -> tuple[sp.csr_array, np.ndarray, int]:
    """The rows ``A_RFᵀ (yU - yL) + (vU - vL) - c(w) = 0`` over the columns
    ``w (K) | yU | yL | vU | vL | ε | t (K)`` (a multiplier for every finite bound only),
    the duality-gap row's coefficients (``dual objective - c(w)·z* - ε``), and the number
    of multipliers."""
    K, nf = costs.shape
    D, b, _ = multipliers(data)
    blocks = [
        -sp.csr_array(costs.T),
        D,
        sp.csr_array((nf, 1)),
        sp.csr_array((nf, K)),
    ]
    gap = np.concatenate([-(costs @ data.z), b, [-1.0], np.zeros(K)])
    return sp.hstack(blocks, format="csr"), gap, b.size


def _l1_rows(K: int, n: int) -> sp.csr_array:
    """The rows ``t_k - w_k`` then ``t_k + w_k`` over columns ``w (first K) | ... | t (last
    K)`` of ``n``: with lower bounds ``-current`` and ``current`` (set when the distance is
    minimized) they make ``t_k >= |w_k - current_k|``."""
    pad = sp.csr_array((K, n - 2 * K))
    return sp.vstack(
        [
            sp.hstack([-sp.identity(K), pad, sp.identity(K)]),
            sp.hstack([sp.identity(K), pad, sp.identity(K)]),
        ],
        format="csr",
    )


def optimal_x(session: HighsSession, what: str, *, warm: bool = True) -> np.ndarray:
    """The optimal solution of ``session``, or a :class:`SolveError` naming ``what``.

    These LPs are re-solved after small changes of bounds and costs; a warm start that
    ends in numerical trouble (seen with highspy 1.13 on a strategy variant's inverse LP) is
    retried (:meth:`HighsSession.solve_retrying`) before it counts as a failure
    (``warm=False``: cold from the start)."""
    sol = session.solve_retrying(warm=warm)
    if not sol.optimal:
        msg = f"{what}: {sol.status.value}"
        raise SolveError(msg, sol.status)
    return sol.x


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
        M = sp.vstack(
            [dual, sp.csr_array(gap[None, :]), sp.csr_array(simplex[None, :]), _l1_rows(K, n)],
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
        return optimal_x(self.session, what)

    def set_caps(self, caps: np.ndarray) -> None:
        """Cap the weights by ``caps`` from now on (0: the KPI is off the menu)."""
        self.caps = caps
        self.session.set_col_bounds(np.arange(self.K), 0.0, caps)

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

    def weight_range(self, k: int, eps: float, what: str) -> tuple[float, float]:
        """The smallest and largest weight of candidate ``k`` over the weights whose gap
        is at most ``eps`` (within the caps and cuts)."""
        self.session.set_col_bounds(np.array([self.eps]), 0.0, float(eps))
        ends = []
        for sense in ("min", "max"):
            cost = np.zeros(self.n)
            cost[k] = 1.0
            self.session.set_objective(cost, sense, 0.0)
            ends.append(float(self._run(what)[k]))
        return ends[0], ends[1]

    def gap_of(self, weights: np.ndarray, what: str) -> float:
        """The incentive gap of fixed weights (the current scheme)."""
        s = self.session
        s.fix_cols(np.arange(self.K), weights)
        s.set_col_bounds(np.array([self.eps]), 0.0, np.inf)
        self._set_cost(self.eps)
        x = self._run(what)
        self.set_caps(self.caps)
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


#: the largest weight tolerance computed: one weight changed by half the scorecard is as
#: robust as a scheme needs to be (and by 1, a sole weight would reach the zero scorecard,
#: under which everything is trivially optimal)
MAX_TOLERANCE = 0.5


class ToleranceLP:
    """Weights inside the exact set, with a margin: the weight tolerance LP.

    The incentive gap ``ε(w) = max over d's responses z of c(w)·(z - z*)`` is convex and
    positively homogeneous in w, so the weights that make z* optimal form a convex cone.
    ``w`` has **tolerance** τ when z* stays optimal at every ``w ± τ e_k`` (one weight
    changed by τ, up or down, the others as they are: scaled back to a sum of 1 this is the
    same scorecard, since scaling does not change the optimum); by convexity it then stays
    optimal at every weight vector within L1 distance τ of w.  Each of the 2K perturbed
    weight vectors gets its own copy of the dual multipliers, so "optimal at all of them" is
    linear in (w, τ, multipliers).

    Columns: ``w (K) | τ | one multiplier block per perturbation | t (K)``; rows: per
    perturbation its dual feasibility and its duality gap (at most ``eps``), the simplex,
    and the L1 distance rows.  A weight with cap 0 is not perturbed (it stays 0).
    """

    def __init__(
        self,
        data: LocalDualData,
        costs: np.ndarray,
        caps: np.ndarray,
        eps: float,
        options: Options | None = None,
        stats: Statistics | None = None,
    ):
        K, nf = costs.shape
        D, b, _ = multipliers(data)
        F = b.size
        usable = np.flatnonzero(caps > 0)
        perturbations = [(k, s) for k in usable for s in (1.0, -1.0)]
        self.perturbations = perturbations
        self.eps_allowed = eps
        P = len(perturbations)
        self.K, self.tau = K, K
        self.t0 = K + 1 + P * F
        n = self.t0 + K
        cz = costs @ data.z
        blocks, lower, upper = [], [], []
        for p, (k, s) in enumerate(perturbations):
            # D m_p - C^T w - s C_k τ = 0;  b·m_p - (Cz)·w - s (Cz)_k τ <= eps
            left = sp.hstack(
                [-sp.csr_array(costs.T), sp.csr_array(-s * costs[k][:, None])], format="csr"
            )
            gap_left = np.concatenate([-cz, [-s * cz[k]]])
            block = sp.vstack(
                [
                    sp.hstack(
                        [
                            left,
                            sp.csr_array((nf, p * F)),
                            D,
                            sp.csr_array((nf, n - K - 1 - (p + 1) * F)),
                        ]
                    ),
                    sp.hstack(
                        [
                            sp.csr_array(gap_left[None, :]),
                            sp.csr_array((1, p * F)),
                            sp.csr_array(b[None, :]),
                            sp.csr_array((1, n - K - 1 - (p + 1) * F)),
                        ]
                    ),
                ]
            )
            blocks.append(block)
            lower.append(np.concatenate([np.zeros(nf), [-np.inf]]))
            upper.append(np.concatenate([np.zeros(nf), [eps]]))
        simplex = np.zeros(n)
        simplex[:K] = 1.0
        M = sp.vstack([*blocks, sp.csr_array(simplex[None, :]), _l1_rows(K, n)], format="csc")
        self.l1_rows = np.arange(M.shape[0] - 2 * K, M.shape[0])
        row_lower = np.concatenate([*lower, [1.0], np.full(2 * K, -np.inf)])
        row_upper = np.concatenate([*upper, [1.0], np.full(2 * K, np.inf)])
        col_lower = np.zeros(n)  # weights, τ, multipliers and distances alike
        col_upper = np.full(n, np.inf)
        col_upper[:K] = caps
        col_upper[self.tau] = MAX_TOLERANCE
        cost = np.zeros(n)
        cost[self.tau] = 1.0
        self.session = HighsSession.from_arrays(
            cost=cost,
            sense="max",
            A=M,
            col_lower=col_lower,
            col_upper=col_upper,
            row_lower=row_lower,
            row_upper=row_upper,
            options=options,
            stats=stats,
        )
        self.caps, self.n = caps, n

    def _run(self, what: str) -> np.ndarray:
        return optimal_x(self.session, f"{what} (weight tolerance)")

    def add_cut(self, coefficients: np.ndarray) -> None:
        """The cut of :meth:`InverseLP.add_cut` at every perturbed weight vector:
        ``a·w + s·a_k·τ <= eps`` for each perturbation ``(k, s)`` (and at w itself)."""
        a = np.asarray(coefficients, dtype=float)
        cols = np.flatnonzero(a)
        self.session.add_row(cols, a[cols], -np.inf, self.eps_allowed)
        for k, s in self.perturbations:
            tau_coef = s * a[k]
            row_cols = np.append(cols, self.tau) if tau_coef else cols
            row_coefs = np.append(a[cols], tau_coef) if tau_coef else a[cols]
            self.session.add_row(row_cols, row_coefs, -np.inf, self.eps_allowed)

    def widest(self, what: str) -> tuple[float, np.ndarray]:
        """The largest tolerance of any exact weights, and weights that have it."""
        x = self._run(what)
        return max(0.0, float(x[self.tau])), x[: self.K]

    def closest(self, tau: float, current: np.ndarray, what: str) -> np.ndarray:
        """Weights with tolerance at least ``tau`` closest (L1) to ``current``."""
        s = self.session
        K = self.K
        s.set_col_bounds(np.array([self.tau]), float(tau), MAX_TOLERANCE)
        s.set_row_bounds(self.l1_rows, np.concatenate([-current, current]), np.inf)
        cost = np.zeros(self.n)
        cost[self.t0 : self.t0 + K] = 1.0
        s.set_objective(cost, "min", 0.0)
        x = self._run(what)
        s.set_col_bounds(np.array([self.tau]), 0.0, MAX_TOLERANCE)
        return x[:K]

    def tolerance_of(self, weights: np.ndarray, what: str) -> float:
        """The tolerance of fixed weights (0 where they are not exact)."""
        s = self.session
        cols = np.arange(self.K)
        s.fix_cols(cols, weights)
        cost = np.zeros(self.n)
        cost[self.tau] = 1.0
        s.set_objective(cost, "max", 0.0)
        sol = s.solve()
        s.set_col_bounds(cols, 0.0, self.caps)
        return max(0.0, float(sol.x[self.tau])) if sol.optimal else 0.0


def margin_of(
    data: LocalDualData,
    costs: np.ndarray,
    weights: np.ndarray,
    eps: float,
    options: Options | None = None,
    stats: Statistics | None = None,
) -> float:
    """The strictness of z* under fixed exact ``weights``: the largest δ such that some
    optimal dual puts at least δ·‖a_i‖ on every inequality binding at z* (a bound counts
    with norm 1).  Then ``U(z*) - U(z) >= δ · Σ_i dist_i(z)`` for every response z, the sum
    over the binding constraints of z's distance from each (complementary slackness, up to
    the gap ``eps``).  Where the binding constraints and the equalities pin z* down (z* a
    vertex of the local problem), δ > 0 exactly when z* is the department's unique best
    response (Goldman–Tucker); where they do not, the department can move along a face at
    no cost and the margin is 0.  In scorecard units per unit of distance; 0 = knife edge;
    inf where nothing binds and the equalities alone fix z* (the department cannot move)."""
    D, b, norms = multipliers(data)
    active = np.flatnonzero(_active(data))
    pinned = _pinned_rank(data, active)
    if pinned < data.z.size:
        return 0.0
    if active.size == 0:
        return float("inf")
    F = b.size
    c = weights @ costs
    nf = c.size
    # columns: m (F) | δ
    pick = sp.csr_array(
        (np.ones(active.size), (np.arange(active.size), active)), shape=(active.size, F)
    )
    A = sp.vstack(
        [
            sp.hstack([D, sp.csr_array((nf, 1))]),
            sp.hstack([sp.csr_array(b[None, :]), sp.csr_array((1, 1))]),
            sp.hstack([pick, sp.csr_array(-norms[active][:, None])]),
        ],
        format="csc",
    )
    cost = np.zeros(F + 1)
    cost[F] = 1.0
    session = HighsSession.from_arrays(
        cost=cost,
        sense="max",
        A=A,
        col_lower=np.zeros(F + 1),
        col_upper=np.concatenate([np.full(F, np.inf), [1e9]]),
        row_lower=np.concatenate([c, [-np.inf], np.zeros(active.size)]),
        row_upper=np.concatenate([c, [float(c @ data.z) + eps], np.full(active.size, np.inf)]),
        options=options,
        stats=stats,
    )
    sol = session.solve(warm=False)
    return max(0.0, float(sol.x[F])) if sol.optimal else 0.0


def _pinned_rank(data: LocalDualData, active: np.ndarray) -> int:
    """The rank of the constraints that hold z* in place: the equality rows, the fixed
    columns and the binding inequalities (``active``, indices into :func:`multipliers`'
    order), over the free columns.  Below their number, z* is not a vertex."""
    nf = data.z.size
    ru, rl, cu, cl = data.finite_bounds()
    A = data.A.toarray()
    eye = np.eye(nf)
    rows = np.vstack([A[ru], A[rl], eye[cu], eye[cl]])[active]
    equalities = A[data.row_lower == data.row_upper]
    fixed = eye[data.col_lower == data.col_upper]
    pinned = np.vstack([rows, equalities, fixed])
    return int(np.linalg.matrix_rank(pinned)) if pinned.size else 0
