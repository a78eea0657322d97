"""The exact best response of a scorecard that mixes one ratio KPI with linear KPIs.

The score ``U(z) = L(z) + c·N(z)/D(z)`` (``L`` the normalized linear KPIs, ``c`` the ratio's
weight·sign/scale) is neither concave nor attained at a vertex in general.  On a slice
``D(z) = t`` it is linear, so ``V(t) = max {U(z) : D(z) = t}`` is one LP, and the best
response is ``max V(t)`` over the denominator's range ``[t_min, t_max]`` in the local
problem (``t_min`` at least :data:`DENOMINATOR_FLOOR`).  This module searches that range by
branch and bound, every LP on the caller's live session (a temporary row holds ``D``).

**Bound on an interval** ``[t1, t2]`` between two solved slices.  With ``s = 1/t`` the
slice LP is ``max (l + c·s·n)·z  s.t.  z in P, d·z = t``: its cost is affine in ``s`` and
only its right-hand side moves with ``t``.  A convex combination of the two slices' optimal
duals, weighted ``λ = (s - s2)/(s1 - s2)``, is dual feasible at ``s``; its objective at
``t`` is ``B(t) = λ·(V1 + π1·(t - t1)) + (1 - λ)·(V2 + π2·(t - t2))`` (``π`` the dual of the
``D`` row; the dual objective is convex in the duals), so ``V(t) <= B(t)`` on the interval
(weak duality).  ``B`` is exact at both ends, and exact throughout where one basis is
optimal at both ends (its optimality region is a box in ``(t, s)``, crossed by the
monotone curve ``s = 1/t``), so the search converges fast; it splits the interval with the
largest bound at that bound's maximizer.  It stops when the largest bound is within
``tol·(1 + |U|)`` of the best score found (the **certificate**: a proven upper bound, up
to HiGHS's own feasibility and optimality tolerances), or after :data:`MAX_SLICES` slice
LPs (then uncertified: the bound is reported).

**Tie-break** (lexicographic): the department's optimal responses are the plans scoring
at least ``R = U - δ``.  Candidate ``t`` are where some interval's bound reaches ``R``; the
company objective ``F`` is then maximized (optimistic) or minimized (pessimistic) by a
second branch and bound over those ``t``: a slice's tie LP (``D = t``, score row
``U >= R``, exact since the score is linear on a slice) gives a feasible value, and an
interval between two feasible slices is bounded by the same dual combination, the score
row's multiplier entering through ``λ`` (``μ·s`` is a dual variable of its own, so the
combination must keep their ratio ``s``).  Where an end is infeasible, the interval is
bounded by two LPs relaxing the score to ``L + c·N/t_i >= R`` (``c·N/t`` is monotone in
``t``, so one of the two holds for any tied plan with ``t1 <= D <= t2``).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..errors import SolveError
from ..model.program import DENOMINATOR_FLOOR, KpiRows
from ..solver import HighsSession, Solution
from ..types import Sense, Status

__all__ = ["MAX_SLICES", "MixedOutcome", "RatioTerm", "best_mixed_response"]

#: the node limit: slice LPs per search (the score's, and each tie-break's)
MAX_SLICES = 200

#: an interval narrower than this (relative to its end) is not split further
_THIN = 1e-12

#: cap on an unbounded denominator's range, relative to the largest value seen
_UNBOUNDED_CAP = 1e3

_UNBOUNDED = (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED)
_INFEASIBLE = (Status.INFEASIBLE,)


@dataclass(frozen=True)
class RatioTerm:
    """A score ``linear·x + constant + coef·N(x)/D(x)``: the normalized linear KPIs of a
    scorecard (dense over all columns) plus its one ratio KPI, ``coef`` = weight·sign/scale."""

    kpi: KpiRows
    coef: float
    linear: np.ndarray
    constant: float = 0.0

    def value(self, x: np.ndarray) -> float:
        """The true score at ``x`` (NaN where the ratio is undefined)."""
        return float(self.linear @ x) + self.constant + self.coef * self.kpi.value(x)


@dataclass
class MixedOutcome:
    """What the search found: the best score, the proven bound, the plans."""

    score: float
    bound: float
    certified: bool
    best: np.ndarray
    t_best: float
    optimistic: np.ndarray | None = None
    pessimistic: np.ndarray | None = None
    slices: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Point:
    """A solved slice ``D = t``: LP value, dual of the ``D`` row (per unit of ``t``), plan."""

    t: float
    value: float
    pi: float
    z: np.ndarray
    mu: float = 0.0  # the score row's multiplier (tie LPs only), >= 0


@dataclass(order=True)
class _Leaf:
    key: float  # -bound, for the heap
    t1: float = field(compare=False)
    t2: float = field(compare=False)
    bound: float = field(compare=False)
    arg: float = field(compare=False)
    p1: _Point | None = field(compare=False, default=None)
    p2: _Point | None = field(compare=False, default=None)


def _maximize(f: Callable[[float], float], a: float, b: float, extra: float | None) -> tuple:
    """The largest value of ``f`` on ``[a, b]`` and where: ends, ``extra``, 33 samples, then
    a golden-section refinement around the best sample."""
    ts = list(np.linspace(a, b, 33))
    if extra is not None and a < extra < b:
        ts.append(extra)
    vals = [f(t) for t in ts]
    i = int(np.nanargmax(vals))
    best_t, best_v = ts[i], vals[i]
    order = sorted(ts)
    j = order.index(best_t)
    lo, hi = order[max(j - 1, 0)], order[min(j + 1, len(order) - 1)]
    g = (math.sqrt(5) - 1) / 2
    c, d = hi - g * (hi - lo), lo + g * (hi - lo)
    fc, fd = f(c), f(d)
    for _ in range(40):
        if fc >= fd:
            hi, d, fd = d, c, fc
            c = hi - g * (hi - lo)
            fc = f(c)
        else:
            lo, c, fc = c, d, fd
            d = lo + g * (hi - lo)
            fd = f(d)
    for t, v in ((c, fc), (d, fd)):
        if v > best_v:
            best_t, best_v = t, v
    return best_v, best_t


def _combined(p1: _Point, p2: _Point) -> Callable[[float], float]:
    """The dual-combination bound between two solved slices (see the module docstring).

    Without a score row (``mu = 0`` at both ends) the weight is ``λ = (s - s2)/(s1 - s2)``;
    with one it keeps the combined ``μ·s`` dual equal to ``s`` times the combined ``μ``.
    A dual whose score multiplier is 0 is valid at every ``s``: the bound is then also at
    most its own affine bound."""
    s1, s2 = 1.0 / p1.t, 1.0 / p2.t
    tie = p1.mu > 0.0 or p2.mu > 0.0

    def bound(t: float) -> float:
        s = 1.0 / t
        a1 = p1.value + p1.pi * (t - p1.t)
        a2 = p2.value + p2.pi * (t - p2.t)
        if not tie:
            if s1 == s2:  # two slices a rounding apart: one point, both bounds hold there
                return min(a1, a2)
            lam = (s - s2) / (s1 - s2)
            return lam * a1 + (1.0 - lam) * a2
        options = []
        if p1.mu <= 0.0:
            options.append(a1)
        if p2.mu <= 0.0:
            options.append(a2)
        if p1.mu > 0.0 and p2.mu > 0.0:
            den = p1.mu * (s1 - s) + p2.mu * (s - s2)
            lam = p2.mu * (s - s2) / den if den > 0 else 1.0
            options.append(lam * a1 + (1.0 - lam) * a2)
        return min(options)

    return bound


def _critical(p1: _Point, p2: _Point) -> float | None:
    """Where the no-score-row bound ``α + β·t + γ/t`` has its stationary point, if any."""
    t1, t2 = p1.t, p2.t
    k = t1 / (t2 - t1)
    a1, a2 = p1.value - p1.pi * t1, p2.value - p2.pi * t2
    beta = p2.pi - k * (p1.pi - p2.pi)
    gamma = k * t2 * (a1 - a2)
    if beta * gamma > 0:
        return math.sqrt(gamma / beta)
    return None


class _Slices:
    """The local problem sliced by the denominator: a temporary row ``D`` on the session."""

    def __init__(
        self, session: HighsSession, term: RatioTerm, free: np.ndarray, x: np.ndarray, what: str
    ):
        lp = session.lp
        assert lp is not None and term.kpi.denominator is not None
        n = lp.num_cols
        self.session, self.term, self.free, self.x, self.what = session, term, free, x, what
        self.num = term.kpi.numerator.dense(n)
        self.n0 = term.kpi.numerator.constant
        self.den = term.kpi.denominator.dense(n)
        self.d0 = term.kpi.denominator.constant
        cols = free[np.flatnonzero(self.den[free])]
        self.cols = cols
        # D(z) = den[cols]·z[cols] + offset, every other column fixed at x
        self.offset = float(self.den @ x - self.den[cols] @ x[cols]) + self.d0
        self.sigma = float(np.max(np.abs(self.den[cols]))) if cols.size else 1.0
        self.row = (
            session.add_row(cols, self.den[cols] / self.sigma, -np.inf, np.inf)
            if cols.size
            else None
        )
        self.slices = 0

    # -- the denominator row ------------------------------------------------------------

    def hold(self, t1: float, t2: float) -> None:
        """Keep ``t1 <= D <= t2``."""
        if self.row is not None:
            lo = (t1 - self.offset) / self.sigma if np.isfinite(t1) else -np.inf
            hi = (t2 - self.offset) / self.sigma if np.isfinite(t2) else np.inf
            self.session.set_row_bounds(np.array([self.row]), lo, hi)

    def solve(self, allow_unbounded: bool = False) -> Solution:
        """Solve cold (each slice is a new objective, and warm starts from the previous
        slice left plans a little less feasible, 2e-9 on an equality of the seed, which made
        the next department's local problem look infeasible to HiGHS); retried without
        presolve where that fails (:meth:`HighsSession.solve_retrying`: fixed columns at
        values feasible only within tolerance can make presolve misjudge)."""
        s = self.session
        self.slices += 1
        sol = s.solve_retrying(warm=False)
        if sol.optimal or (allow_unbounded and sol.status in _UNBOUNDED + _INFEASIBLE):
            return sol
        raise s.explain(sol, self.what, conflict=False)

    def denominator_range(self) -> tuple[float, float]:
        """The smallest and largest denominator over the local problem (±inf if unbounded)."""
        if self.row is None:
            return self.offset, self.offset
        self.hold(-np.inf, np.inf)
        ends = []
        for sense in ("min", "max"):
            self.session.set_objective(self.den, sense, self.d0)
            sol = self.solve(allow_unbounded=True)
            if sol.status in _UNBOUNDED:
                ends.append(-np.inf if sense == "min" else np.inf)
            elif not sol.optimal:
                raise self.session.explain(sol, self.what, conflict=False)
            else:
                ends.append(float(self.den @ sol.x) + self.d0)
        return ends[0], ends[1]

    # -- slices ---------------------------------------------------------------------------

    def score_cost(self, t: float) -> tuple[np.ndarray, float]:
        """The score on the slice ``D = t`` as a linear function: costs and constant."""
        c = self.term.coef / t
        return self.term.linear + c * self.num, self.term.constant + c * self.n0

    def score_point(self, t: float) -> _Point:
        """``V(t)``: the best score on the slice ``D = t`` (an error if unbounded)."""
        cost, const = self.score_cost(t)
        self.session.set_objective(cost, "max", const)
        self.hold(t, t)
        sol = self.solve()
        pi = float(sol.row_dual[self.row]) / self.sigma if self.row is not None else 0.0
        return _Point(t, float(sol.objective), pi, sol.x)

    def score_row(self, t: float, lower: float) -> tuple[np.ndarray, np.ndarray, float, float]:
        """The row ``score on the slice D = t >= lower`` over the free columns, scaled to a
        largest coefficient of 1: (columns, coefficients, lower bound, scale)."""
        cost, const = self.score_cost(t)
        cols = self.free[np.flatnonzero(cost[self.free])]
        fixed = float(cost @ self.x - cost[cols] @ self.x[cols]) + const
        scale = float(np.max(np.abs(cost[cols]))) if cols.size else 1.0
        return cols, cost[cols] / scale, (lower - fixed) / scale, scale

    def tie_solve(self, t1: float, t2: float, t_row: float, lower: float) -> Solution | None:
        """The company objective (already set) over ``t1 <= D <= t2`` and the score on the
        slice ``D = t_row`` at least ``lower``; None where that is infeasible."""
        self.hold(t1, t2)
        s = self.session
        cols, coefs, lo, _ = self.score_row(t_row, lower)
        with s.temporary_rows():
            if cols.size:
                s.add_row(cols, coefs, lo)
            elif lo > 1e-9:
                return None  # a constant score below the bar
            sol = self.solve(allow_unbounded=True)
        return None if sol.status in _INFEASIBLE else sol

    def tie_point(self, t: float, lower: float) -> _Point | None:
        """The best company value among plans on the slice ``D = t`` scoring at least
        ``lower`` (its duals for the bound); None where there is none; value +inf where it
        is unbounded."""
        self.hold(t, t)
        s = self.session
        cols, coefs, lo, scale = self.score_row(t, lower)
        with s.temporary_rows():
            row = s.add_row(cols, coefs, lo) if cols.size else None
            if row is None and lo > 1e-9:
                return None
            sol = self.solve(allow_unbounded=True)
        if sol.status in _INFEASIBLE:
            return None
        if not sol.optimal:
            return _Point(t, np.inf, 0.0, self.x)
        pi = float(sol.row_dual[self.row]) / self.sigma if self.row is not None else 0.0
        mu = max(0.0, -float(sol.row_dual[row]) / scale) if row is not None else 0.0
        return _Point(t, float(sol.objective), pi, sol.x, mu)


def _score_search(
    sl: _Slices, t_lo: float, t_hi: float, t_start: float | None, tol: float, max_slices: int
) -> tuple[list[_Leaf], list[_Point], float]:
    """Branch and bound of ``max V(t)`` on ``[t_lo, t_hi]``: the leaves, the solved slices
    and the largest bound left (the certificate)."""
    points = [sl.score_point(t_lo)]
    if t_hi - t_lo <= _THIN * (1.0 + abs(t_hi)):
        p = points[0]
        return [_Leaf(-p.value, t_lo, t_lo, p.value, t_lo, p, p)], points, p.value
    if t_start is not None and t_lo + 1e-6 * (t_hi - t_lo) < t_start < t_hi - 1e-6 * (t_hi - t_lo):
        points.append(sl.score_point(t_start))
    points.append(sl.score_point(t_hi))
    heap = [_score_leaf(a, b) for a, b in itertools.pairwise(points)]
    heapq.heapify(heap)
    done: list[_Leaf] = []
    best = max(sl.term.value(p.z) for p in points)
    while heap:
        leaf = heap[0]
        if leaf.bound - best <= tol * (1.0 + abs(best)) or sl.slices >= max_slices:
            break
        heapq.heappop(heap)
        w = leaf.t2 - leaf.t1
        if w <= _THIN * (1.0 + abs(leaf.t2)):
            done.append(leaf)  # too thin to split: its bound stays
            continue
        ts = min(max(leaf.arg, leaf.t1 + 0.02 * w), leaf.t2 - 0.02 * w)
        p = sl.score_point(ts)
        points.append(p)
        best = max(best, sl.term.value(p.z))
        assert leaf.p1 is not None and leaf.p2 is not None
        heapq.heappush(heap, _score_leaf(leaf.p1, p))
        heapq.heappush(heap, _score_leaf(p, leaf.p2))
    leaves = heap + done
    return leaves, points, max(leaf.bound for leaf in leaves)


def _leaves(points: list[_Point]) -> list[_Leaf]:
    """The intervals between consecutive solved slices, with their bounds."""
    by_t = sorted({p.t: p for p in points}.values(), key=lambda p: p.t)
    if len(by_t) == 1:
        p = by_t[0]
        return [_Leaf(-p.value, p.t, p.t, p.value, p.t, p, p)]
    return [_score_leaf(a, b) for a, b in itertools.pairwise(by_t)]


def _tied_slices(
    sl: _Slices, points: list[_Point], level: float, max_slices: int, rounds: int = 12
) -> list[tuple[float, float]]:
    """The ``t`` that may hold plans scoring at least ``level``, narrowed by solving the
    score slice at each end of every candidate interval (``points`` grows): a bound exact
    within one basis puts the next end at the true edge, so this converges in a few rounds,
    and leaves intervals whose ends hold tied plans."""
    candidates = _tied_intervals(_leaves(points), level)
    for _ in range(rounds):
        known = {p.t for p in points}
        new = sorted({t for interval in candidates for t in interval} - known)
        if not new or sl.slices + len(new) > max_slices:
            break
        points.extend(sl.score_point(t) for t in new)
        candidates = _tied_intervals(_leaves(points), level)
    return candidates


def _score_leaf(p1: _Point, p2: _Point) -> _Leaf:
    bound, arg = _maximize(_combined(p1, p2), p1.t, p2.t, _critical(p1, p2))
    bound = max(bound, p1.value, p2.value)
    return _Leaf(-bound, p1.t, p2.t, bound, arg, p1, p2)


def _tied_intervals(leaves: list[_Leaf], level: float) -> list[tuple[float, float]]:
    """Where some leaf's bound reaches ``level``: the ``t`` that may hold tied plans (each
    leaf's bound has at most one stationary point, so sampling at it and 33 points finds
    every piece; each piece's ends are bisected outwards)."""
    out = []
    for leaf in leaves:
        if leaf.bound < level:
            continue
        assert leaf.p1 is not None and leaf.p2 is not None
        if leaf.t2 - leaf.t1 <= _THIN * (1.0 + abs(leaf.t2)):
            out.append((leaf.t1, leaf.t2))
            continue
        f = _combined(leaf.p1, leaf.p2)
        ts = sorted({*np.linspace(leaf.t1, leaf.t2, 33), leaf.arg})
        up = [
            f(t) >= level or (i in (0, len(ts) - 1) and _end_value(leaf, t) >= level)
            for i, t in enumerate(ts)
        ]
        i = 0
        while i < len(ts):
            if not up[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(ts) and up[j + 1]:
                j += 1
            a = ts[i] if i == 0 else _edge(f, level, ts[i - 1], ts[i])
            b = ts[j] if j == len(ts) - 1 else _edge(f, level, ts[j + 1], ts[j])
            out.append((a, b))
            i = j + 1
    out.sort()
    merged: list[tuple[float, float]] = []
    for a, b in out:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _end_value(leaf: _Leaf, t: float) -> float:
    assert leaf.p1 is not None and leaf.p2 is not None
    return leaf.p1.value if t == leaf.t1 else leaf.p2.value


def _edge(f: Callable[[float], float], level: float, out: float, inside: float) -> float:
    """Between ``out`` (below ``level``) and ``inside`` (at or above), the point where ``f``
    crosses ``level``, on the outer side (so the tied set stays covered)."""
    for _ in range(60):
        mid = 0.5 * (out + inside)
        if f(mid) >= level:
            inside = mid
        else:
            out = mid
    return out


def _tie_break(
    sl: _Slices,
    candidates: list[tuple[float, float]],
    level: float,
    start: np.ndarray,
    direction: float,
    tol: float,
    max_slices: int,
) -> tuple[np.ndarray | None, bool, float]:
    """Maximize ``direction·F`` (F the company objective) over plans scoring at least
    ``level`` with ``D`` in ``candidates``: the plan, certified?, and the gap left
    (``inf`` where the tie-break is unbounded)."""
    lp = sl.session.lp
    assert lp is not None
    f_row = lp.objective.dense(lp.num_cols) * direction
    f0 = lp.objective.constant * direction
    sl.session.set_objective(f_row, "max", f0)
    best_z, best = start, float(f_row @ start) + f0
    budget = sl.slices + max_slices
    points: dict[float, _Point | None] = {}
    trouble = False  # a slice HiGHS could not solve: the tie-break is not certified

    def point(t: float) -> _Point | None:
        nonlocal best_z, best, trouble
        if t not in points:
            try:
                p = sl.tie_point(t, level)
            except SolveError as exc:
                if exc.diagnosis.status is not Status.NUMERICAL:
                    raise
                p, trouble = None, True
            points[t] = p
            if p is not None and np.isfinite(p.value) and p.value > best:
                best_z, best = p.z, p.value
        return points[t]

    heap: list[_Leaf] = []
    for a, b in candidates:
        heapq.heappush(heap, _tie_leaf(sl, a, b, point, level))
    while heap:
        leaf = heap[0]
        if leaf.bound - best <= tol * (1.0 + abs(best)):
            return best_z, not trouble, max(0.0, leaf.bound - best)
        if sl.slices >= budget:
            break
        heapq.heappop(heap)
        w = leaf.t2 - leaf.t1
        if w <= _THIN * (1.0 + abs(leaf.t2)):
            if leaf.bound == np.inf:
                return None, False, np.inf
            continue  # a point: exact
        ts = min(max(leaf.arg, leaf.t1 + 0.02 * w), leaf.t2 - 0.02 * w)
        heapq.heappush(heap, _tie_leaf(sl, leaf.t1, ts, point, level))
        heapq.heappush(heap, _tie_leaf(sl, ts, leaf.t2, point, level))
    gap = max((leaf.bound for leaf in heap), default=best) - best
    return best_z, gap <= tol * (1.0 + abs(best)) and not trouble, max(0.0, gap)


def _tie_leaf(
    sl: _Slices,
    a: float,
    b: float,
    point: Callable[[float], _Point | None],
    level: float,
) -> _Leaf:
    """A tie-break interval with its bound on the company value (see the module docstring)."""
    pa = point(a)
    if b - a <= _THIN * (1.0 + abs(b)):
        bound = -np.inf if pa is None else pa.value
        return _Leaf(-bound, a, b, bound, a, pa, pa)
    pb = point(b)
    if pa is not None and pb is not None and np.isfinite(pa.value) and np.isfinite(pb.value):
        bound, arg = _maximize(_combined(pa, pb), a, b, None)
        return _Leaf(
            -max(bound, pa.value, pb.value), a, b, max(bound, pa.value, pb.value), arg, pa, pb
        )
    # an end without a tied plan (or unbounded): relax the score to L + c·N/t_i >= level
    bound = -np.inf
    for t_row in (a, b):
        sol = sl.tie_solve(a, b, t_row, level)
        if sol is None:
            continue
        bound = max(bound, float(sol.objective) if sol.optimal else np.inf)
    return _Leaf(-bound, a, b, bound, 0.5 * (a + b), pa, pb)


def best_mixed_response(
    session: HighsSession,
    term: RatioTerm,
    free: np.ndarray,
    x: np.ndarray,
    *,
    what: str,
    tol: float = 1e-7,
    tie_slack: float = 1e-9,
    floor: float = DENOMINATOR_FLOOR,
    optimistic: bool = True,
    pessimistic: bool = True,
    max_slices: int = MAX_SLICES,
) -> MixedOutcome:
    """The best response to plan ``x`` of a department whose score is ``term``.

    The session holds the local problem (every column but ``free`` fixed at ``x``) and is
    inside :meth:`~kpidesign.solver.HighsSession.temporary_rows`; one row holding the
    denominator is added.  Denominators below ``floor`` are outside the search.  The score
    is maximized to ``tol·(1 + |score|)`` with a certificate, then the company objective
    is maximized (``optimistic``) and minimized (``pessimistic``) over plans scoring at
    least ``score - tie_slack·(1 + |score|)``; see the module docstring.
    """
    lp = session.lp
    assert lp is not None and term.kpi.denominator is not None
    name = term.kpi.name
    sl = _Slices(session, term, free, x, what)
    t_min, t_max = sl.denominator_range()
    if t_max < floor:
        msg = (
            f"KPI {name}: its denominator is at most {t_max:.6g} in {what} (below the floor "
            f"{floor:g}), so the ratio it is paid on is undefined there"
        )
        raise SolveError(msg, Status.UNDEFINED)
    notes = []
    capped = not np.isfinite(t_max)
    t_x = term.kpi.denominator.at(x)
    if capped:
        t_max = _UNBOUNDED_CAP * max(1.0, abs(t_x), max(t_min, floor))
        notes.append(
            f"{what}: the denominator of {name} is unbounded; the exact search covered it up "
            f"to {t_max:.6g} only, so the response is not certified"
        )
    t_lo = max(t_min, floor)
    _, points, bound = _score_search(sl, t_lo, t_max, t_x, tol, max_slices)
    best_p = max(points, key=lambda p: term.value(p.z))
    score = term.value(best_p.z)
    certified = bound - score <= tol * (1.0 + abs(score)) and not capped
    if not certified and not capped:
        notes.append(
            f"{what}: the exact search for the best score with ratio {name} stopped after "
            f"{sl.slices} LPs (the node limit) without a certificate: best score {score:.9g}, "
            f"proven bound {bound:.9g} (gap {bound - score:.3g})"
        )
    out = MixedOutcome(
        score, max(bound, score), certified, best_p.z, best_p.t, best_p.z, None, notes=notes
    )
    level = score - tie_slack * (1.0 + abs(score))
    candidates = _tied_slices(sl, points, level, sl.slices + max_slices)
    sense = Sense(lp.sense).sign
    for wanted, direction, label in (
        (optimistic, sense, "optimistic"),
        (pessimistic, -sense, "pessimistic"),
    ):
        if not wanted:
            continue
        z, ok, gap = _tie_break(sl, candidates, level, best_p.z, direction, tol, max_slices)
        if z is None:
            notes.append(f"{what}: the {label} tie-break is unbounded")
        elif not ok:
            notes.append(
                f"{what}: the {label} tie-break among responses scoring within "
                f"{tie_slack:g} of the best was not certified within the node limit "
                f"({max_slices} LPs): the company objective may be {gap:.3g} "
                f"{'better' if label == 'optimistic' else 'worse'} than reported"
            )
        if label == "optimistic":
            out.optimistic = best_p.z if z is None else z
        else:
            out.pessimistic = z
    out.slices = sl.slices
    return out
