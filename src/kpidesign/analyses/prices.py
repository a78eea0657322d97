"""Transfer prices at the target plan z*, and the prices lever: the system LP decomposed
by department (a Lagrangian decomposition), its linking rows priced instead of imposed.

**Linking rows.**  Shared-state columns (owner SHARED) that appear together in a row are
connected; a connected group's *stakeholders* are the departments owning a column in any
row that touches the group.  A row's *parties* are the departments owning a column in it
plus the stakeholders of the shared columns in it.  A row is **linking** when it has two or
more parties: it ties departments together directly (``x1 + x2 + 2 x3 + x4 <= 10``) or
through shared state (a stock balance that one department fills and another empties, a
warehouse limit on that stock).  Allocation columns are quantities, fixed at z*: they make
no party, and a department's use row stays its own.  This splits the columns into blocks:

- department d's block: its own columns and its *private state* (shared columns whose only
  stakeholder is d); every non-linking row lies inside one block;
- the *common state*: shared columns with two or more stakeholders; they appear in linking
  rows only;
- isolated state (no stakeholder), which no department's decision reaches.

**Transfer prices.**  The price of a linking row is its dual at z* (``duals`` of ``solve``:
the change of the company objective per unit increase of the row's right-hand side), with
allocations fixed at z*.  At a degenerate optimum the duals are not unique: the optimal ones
form the dual optimal face, {dual feasible, complementary slackness with z*}.  Per linking
row, the **interval of optimal prices** is the min and max of its dual over that face (two
LPs on a session built from arrays).  One price vector is chosen inside the face by a
**margin rule**: maximize the smallest distance ``t`` of a linking row's price from the
ends of its interval, as a share of the interval's width (``t = 1/2``: all at their
midpoints, if that is jointly optimal); then, holding that margin, each linking row in the
model's order is set to the midpoint of what remains of its interval.  The result depends
on the face alone, not on the vertex HiGHS returns, and lies in the relative interior of
the face's projection on the linking rows: where a department's optimal responses change
with the prices at all, they are fewest there (at an end of an interval some department
becomes indifferent: in the two-division example of DESIGN.md, division two at 0.4,
division one at 3).

**Profit centres.**  Department d's scorecard values every column it may move at its
company value less the prices of the linking rows it uses:
``sign · (c_j − Σ_i price_i · A_ij)`` for its own columns, its private state and the common
state, 0 elsewhere (``sign`` = +1 for a maximized objective, −1 for a minimized one, so
that the score is always maximized).  For a ``<=`` row of a maximized objective the price is
>= 0: using one more unit costs the department the price, leaving one unit free earns it.
The common state's objective terms and priced rows enter every department's scorecard at
the same value (its reduced cost at the prices): every local problem may move it, and at
optimal prices no department gains by moving it away from z*.  Another department's
private state is not on d's scorecard.

**Diagnosis.**  Each profit centre's own problem, the linking rows priced and not imposed
(its block free, everyone else at z*), is solved: it may be unbounded without the linking
rows (reported with the ray), or have several optima.  It is *indifferent* where some of
its optimal responses move a priced row or the company objective; the worst of them is the
one that overruns a priced row most (relative to its size) or, if none overruns, the one
worst for the company; what it does to each priced row is its *overrun*.  The quantity that
breaks the tie is searched among its parts of the priced rows that move, held at their
values at z*: one of them (a *target* where that part is one variable, an *allocation*
otherwise), else all of them.  The verification runs the best-response dynamics of
DESIGN.md under the profit-centre scorecards, where every row, linking or not, is imposed
(a department cannot take more of a shared capacity than the others leave).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import ErrorCollector, Location, SolveError
from ..model.problem import Problem
from ..model.program import ALLOCATION, SHARED, LinearProgram
from ..options import Options
from ..results import Path, ProfitCentre, Quantity, RowChange, TransferPrices, clean, clean_array
from ..solver import HighsSession, Solution, Statistics
from ..spec.sources import did_you_mean
from ..types import Mode, Sense, Status
from .common import share_of_optimum, worse_by
from .dynamics import best_response_dynamics
from .local import Scorecard, respond

__all__ = [
    "COMMON",
    "ISOLATED",
    "Decomposition",
    "PriceFace",
    "decompose",
    "price_face",
    "price_scorecards",
    "profit_centres",
    "resolve_prices",
    "transfer_prices",
    "verify_prices",
]

#: block code of common state (shared columns with two or more stakeholders)
COMMON = -3
#: block code of isolated state (shared columns no department's row reaches)
ISOLATED = -4

#: a row or column bound counts as active at z* within this (relative) distance
_ACTIVE_TOL = 1e-7
#: a tied response moves a row (or the company objective) when it does by more than this,
#: relative to the row's size at z*
_MOVE_TOL = 1e-6
#: single rows tried as a tie-breaker before all moving rows together
_SINGLE_CANDIDATES = 3


# -- the decomposition ------------------------------------------------------------------


@dataclass(frozen=True)
class Decomposition:
    """The linking rows and the block of every column (see the module docstring).

    ``linking``: per row, is it linking; ``parties``: per row, how many departments it
    ties; ``block``: per column, the department index of its block, :data:`COMMON`,
    :data:`ISOLATED` or ``ALLOCATION``.
    """

    linking: np.ndarray
    parties: np.ndarray
    block: np.ndarray

    @property
    def rows(self) -> np.ndarray:
        """The linking rows, in the model's order."""
        return np.flatnonzero(self.linking)

    def block_columns(self, lp: LinearProgram, department: str) -> np.ndarray:
        """Department ``department``'s block: its own columns and its private state."""
        return np.flatnonzero(self.block == lp.departments.index(department))

    def card_columns(self, lp: LinearProgram, department: str) -> np.ndarray:
        """The columns on its profit-centre scorecard: its block and the common state."""
        code = lp.departments.index(department)
        return np.flatnonzero((self.block == code) | (self.block == COMMON))


def decompose(lp: LinearProgram) -> Decomposition:
    """Linking rows and blocks of ``lp`` (sparse graph operations, no solve)."""
    m, n = lp.A.shape
    pattern = sp.csr_array((lp.A != 0).astype(float))
    owner = np.asarray(lp.col_owner)
    n_dept = len(lp.departments)
    own = np.flatnonzero(owner >= 0)
    onehot = sp.csr_array((np.ones(own.size), (own, owner[own])), shape=(n, n_dept))
    direct = np.asarray((pattern @ onehot).todense()) > 0  # rows x departments
    shared = np.flatnonzero(owner == SHARED)
    incidence = sp.csr_array(pattern[:, shared])
    graph = sp.bmat([[None, incidence], [incidence.T, None]], format="csr")
    _, labels = connected_components(graph, directed=False)
    row_group, col_group = labels[:m], labels[m:]
    groups = int(labels.max()) + 1 if labels.size else 0
    member = sp.csr_array((np.ones(m), (np.arange(m), row_group)), shape=(m, groups))
    stakeholders = np.asarray((member.T @ sp.csr_array(direct.astype(float))).todense()) > 0
    parties_of = direct | stakeholders[row_group]
    parties = parties_of.sum(axis=1)
    block = owner.copy()
    if shared.size:
        held = stakeholders[col_group]
        count = held.sum(axis=1)
        block[shared] = np.where(
            count == 1, np.argmax(held, axis=1), np.where(count >= 2, COMMON, ISOLATED)
        )
    return Decomposition(parties >= 2, parties, block)


# -- the dual optimal face ----------------------------------------------------------------


@dataclass(frozen=True)
class PriceFace:
    """The chosen prices and the intervals of optimal prices of the linking rows.

    ``rows``: the linking rows; ``price``, ``lower``, ``upper``: per linking row (±inf
    for an unbounded end); ``margin``: the common relative margin of the margin rule.
    """

    rows: np.ndarray
    price: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    margin: float
    notes: tuple[str, ...] = ()

    def dense(self, num_rows: int) -> np.ndarray:
        """The prices as a vector over all rows (0 off the linking rows)."""
        out = np.zeros(num_rows)
        out[self.rows] = self.price
        return out


def _near(value: np.ndarray, bound: np.ndarray, tol: float) -> np.ndarray:
    return np.isfinite(bound) & (np.abs(value - bound) <= tol * (1.0 + np.abs(bound)))


def _face_session(
    lp: LinearProgram, z: np.ndarray, tol: float, options: Options | None, stats: Statistics
) -> tuple[HighsSession, np.ndarray] | None:
    """A session over the dual optimal face at ``z`` (in the variables ``y'`` of the
    maximized objective ``sign · c``, one per row active at z*, and a margin column ``t``
    last), and the rows its variables stand for; None where the face is empty (at this
    tolerance for "active")."""
    sign = Sense(lp.sense).sign
    cost = sign * lp.objective.dense(lp.num_cols)
    col_lower, col_upper = lp.col_lower.copy(), lp.col_upper.copy()
    alloc = np.flatnonzero(lp.col_owner == ALLOCATION)
    col_lower[alloc] = col_upper[alloc] = z[alloc]  # allocations are quantities: fixed at z*
    act = lp.A @ z
    up, lo = _near(act, lp.row_upper, tol), _near(act, lp.row_lower, tol)
    rows = np.flatnonzero(up | lo)
    y_lower = np.where(lo[rows], -np.inf, 0.0)
    y_upper = np.where(up[rows], np.inf, 0.0)
    fixed = (col_upper - col_lower) <= tol * (1.0 + np.abs(col_lower))
    cols = np.flatnonzero(~fixed)
    at_up = _near(z, col_upper, tol)[cols]
    at_lo = _near(z, col_lower, tol)[cols]
    # reduced cost c' - A'y' >= 0 at an upper bound, <= 0 at a lower bound, 0 in between
    r_lower = np.where(at_up & ~at_lo, -np.inf, cost[cols])
    r_upper = np.where(at_lo & ~at_up, np.inf, cost[cols])
    matrix = sp.csc_array(lp.A)[rows][:, cols].T
    face = sp.hstack([matrix, sp.csr_array((cols.size, 1))], format="csc")
    session = HighsSession.from_arrays(
        cost=np.zeros(rows.size + 1),
        sense="max",
        A=face,
        col_lower=np.append(y_lower, 0.0),
        col_upper=np.append(y_upper, 0.0),
        row_lower=r_lower,
        row_upper=r_upper,
        options=options,
        stats=stats,
    )
    sol = session.solve(warm=False)
    return (session, rows) if sol.optimal else None


def _extreme(session: HighsSession, k: int, sense: str) -> float:
    """The smallest or largest value of variable ``k`` over the session (±inf if
    unbounded)."""
    cost = np.zeros(session.num_cols)
    cost[k] = 1.0
    session.set_objective(cost, sense, 0.0)
    sol = session.solve()
    if sol.optimal:
        return float(sol.x[k])
    if sol.status in (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return math.inf if sense == "max" else -math.inf
    msg = f"the dual optimal face: {sol.status.value}"
    raise SolveError(msg, sol.status)


def price_face(
    lp: LinearProgram,
    z: np.ndarray,
    decomposition: Decomposition | None = None,
    options: Options | None = None,
    stats: Statistics | None = None,
) -> PriceFace:
    """The intervals of optimal prices of the linking rows at the optimum ``z`` and the
    prices the margin rule chooses (module docstring).  A linking row slack at ``z`` has
    the price 0.  Where the face comes out empty numerically, the duals of the system LP
    re-solved at ``z``'s allocations are taken, each interval a point (with a note)."""
    dec = decomposition or decompose(lp)
    stats = stats if stats is not None else Statistics()
    sign = Sense(lp.sense).sign
    link = dec.rows
    built = None
    for tol in (_ACTIVE_TOL, 10 * _ACTIVE_TOL, 100 * _ACTIVE_TOL):
        built = _face_session(lp, z, tol, options, stats)
        if built is not None:
            break
    if built is None:
        return _solver_prices(lp, z, link, options, stats)
    session, active = built
    pos = {int(r): k for k, r in enumerate(active)}
    ks = np.array([pos.get(int(r), -1) for r in link], dtype=np.int64)
    lo = np.zeros(link.size)
    hi = np.zeros(link.size)
    for i, k in enumerate(ks):
        if k >= 0:
            lo[i], hi[i] = _extreme(session, int(k), "min"), _extreme(session, int(k), "max")
    margin, chosen = _centre(session, ks, lo, hi)
    # y = sign · y': the face was built for the maximized objective sign · c
    if sign > 0:
        return PriceFace(link, clean_array(chosen, 1e-12), lo, hi, margin)
    return PriceFace(link, clean_array(-chosen, 1e-12), -hi, -lo, margin)


def _centre(
    session: HighsSession, ks: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[float, np.ndarray]:
    """The margin rule: max ``t`` with every price at least ``t`` times its interval's
    width from both ends, then, holding ``t``, each price (in row order) at the midpoint of
    what remains of its interval.  Unbounded ends are capped for the rule at ten times the
    largest finite end (at least 1) away."""
    chosen = np.zeros(ks.size)
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)]])
    cap = 10.0 * max(1.0, float(np.max(np.abs(finite))) if finite.size else 1.0)
    c_lo = np.where(np.isfinite(lo), lo, np.where(np.isfinite(hi), hi - cap, -cap))
    c_hi = np.where(np.isfinite(hi), hi, np.where(np.isfinite(lo), lo + cap, cap))
    width = c_hi - c_lo
    wide = (ks >= 0) & (width > 1e-9 * (1.0 + np.abs(c_lo) + np.abs(c_hi)))
    chosen[:] = 0.5 * (c_lo + c_hi)  # a point interval: its only value
    chosen[ks < 0] = 0.0
    if not wide.any():
        return 0.0, chosen
    t = session.num_cols - 1
    margin = 0.0
    with session.temporary_rows():
        for i in np.flatnonzero(wide):
            k = int(ks[i])
            session.set_col_bounds(np.array([k]), c_lo[i], c_hi[i])
            session.add_row(np.array([k, t]), np.array([1.0, -width[i]]), c_lo[i], np.inf)
            session.add_row(np.array([k, t]), np.array([1.0, width[i]]), -np.inf, c_hi[i])
        session.set_col_bounds(np.array([t]), 0.0, 0.5)
        margin = max(0.0, _extreme(session, t, "max"))
        session.set_col_bounds(np.array([t]), max(0.0, margin - 1e-9), 0.5)
        for i in np.flatnonzero(wide):
            k = int(ks[i])
            low, high = _extreme(session, k, "min"), _extreme(session, k, "max")
            chosen[i] = 0.5 * (low + high)
            session.fix_cols(np.array([k]), np.array([chosen[i]]))
    return margin, chosen


def _solver_prices(
    lp: LinearProgram,
    z: np.ndarray,
    link: np.ndarray,
    options: Options | None,
    stats: Statistics,
) -> PriceFace:
    """HiGHS's duals at ``z``'s allocations, each interval a point: the fallback where the
    face cannot be built."""
    session = HighsSession(lp, options, stats=stats)
    alloc = np.flatnonzero(lp.col_owner == ALLOCATION)
    session.fix_cols(alloc, z[alloc])
    sol = session.solve(warm=False)
    if not sol.optimal:
        raise session.explain(sol, "the system problem at the target plan's allocations")
    y = sol.row_dual[link]
    note = (
        "the dual optimal face at the target plan could not be built numerically: the "
        "prices are HiGHS's duals, and their intervals are not known (shown as points)"
    )
    return PriceFace(link, clean_array(y, 1e-12), y.copy(), y.copy(), 0.0, (note,))


# -- profit-centre scorecards ---------------------------------------------------------------


def _dense_prices(lp: LinearProgram, prices: Mapping[int, float] | np.ndarray) -> np.ndarray:
    if isinstance(prices, np.ndarray):
        return prices.astype(float)
    y = np.zeros(lp.num_rows)
    for row, value in prices.items():
        y[int(row)] = float(value)
    return y


def price_scorecards(
    lp: LinearProgram,
    prices: Mapping[int, float] | np.ndarray,
    decomposition: Decomposition | None = None,
) -> dict[str, Scorecard]:
    """Every department's profit-centre scorecard at ``prices`` (row -> price, or a vector
    over the rows; rows not given are not priced): ``sign · (c − Aᵀ price)`` on its own
    columns, its private state and the common state (module docstring).  The scorecards
    carry no KPI weights."""
    dec = decomposition or decompose(lp)
    y = _dense_prices(lp, prices)
    sign = Sense(lp.sense).sign
    value = sign * (lp.objective.dense(lp.num_cols) - sp.csc_array(lp.A).T @ y)
    cards = {}
    for d in lp.departments:
        cost = np.zeros(lp.num_cols)
        cols = dec.card_columns(lp, d)
        cost[cols] = value[cols]
        cards[d] = Scorecard(d, {}, cost, None)
    return cards


def resolve_prices(
    lp: LinearProgram,
    prices: object,
    where: Mapping[tuple[str, ...], Location] | None = None,
) -> dict[int, float]:
    """A scheme file's ``prices:`` section as row -> price.

    ``prices`` maps a constraint to a number (a scalar constraint; for an indexed one, the
    price of every index) or to ``{index: number}`` (the index as in ``duals``:
    ``standard,3``).  Unknown constraints and indices, and prices that are not finite
    numbers, are errors located as ``FILE:LINE: prices.key: message``.
    """
    where = where or {}
    errors = ErrorCollector()
    top = where.get(("prices",))
    if not isinstance(prices, Mapping):
        errors.add(top, "expected a mapping of constraint to price")
        errors.raise_if_any()
    assert isinstance(prices, Mapping)
    own = list(lp.constraint_components)
    rows_of: dict[str, dict[str | None, int]] = {c: {} for c in own}
    for i in range(lp.num_rows):
        comp = lp.row_components[int(lp.row_component[i])]
        if comp in rows_of:
            rows_of[comp][lp.row_key(i)] = i
    out: dict[int, float] = {}
    for name, value in prices.items():
        loc = where.get(("prices", str(name)), top)
        if name not in rows_of:
            errors.add(loc, f"unknown constraint '{name}'{did_you_mean(str(name), own)}")
            continue
        rows = rows_of[name]
        scalar = list(rows) == [None]
        if isinstance(value, Mapping):
            if scalar:
                errors.add(loc, f"{name} is a scalar constraint: give one price, not indices")
                continue
            for index, price in value.items():
                iloc = where.get(("prices", str(name), str(index)), loc)
                key = str(index)
                if key not in rows:
                    known = [k for k in rows if k is not None]
                    errors.add(iloc, f"{name} has no index '{index}'{did_you_mean(key, known)}")
                elif _price_ok(price):
                    out[rows[key]] = float(price)
                else:
                    errors.add(iloc, f"a price must be a finite number, got {price!r}")
        elif _price_ok(value):
            for i in rows.values():
                out[i] = float(value)
        else:
            expected = "a finite number (or {index: number})"
            errors.add(loc, f"a price must be {expected}, got {value!r}")
    errors.raise_if_any()
    return out


def _price_ok(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


# -- the profit centres at the prices --------------------------------------------------------


@dataclass
class _Relaxed:
    """A department's problem with the linking rows priced, set up on the live session."""

    session: HighsSession
    lp: LinearProgram
    department: str
    block: np.ndarray
    touched: np.ndarray  # linking rows with a coefficient on the block
    coefs: np.ndarray  # touched rows x all columns (block part only), dense
    z: np.ndarray
    size: np.ndarray  # per touched row: 1 + sum |a_ij z_j|

    def extent(self) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], float, float, np.ndarray]:
        """Over the tied responses (the held score row must be in place): per touched row
        the smallest and largest change of its activity, the responses attaining them, the
        company objective's smallest and largest value, and the response at its smallest."""
        s, lp = self.session, self.lp
        lows, highs, plans = [], [], []
        at_z = self.coefs @ self.z
        for r in range(self.touched.size):
            for sense in ("min", "max"):
                s.set_objective(self.coefs[r], sense, 0.0)
                x = _solve(s, f"the profit centre {self.department}").x
                (lows if sense == "min" else highs).append(float(self.coefs[r] @ x) - at_z[r])
                plans.append(x)
        values = []
        worst = self.z
        sign = Sense(lp.sense).sign
        for sense in ("min", "max"):
            s.set_objective(sign * lp.objective.dense(lp.num_cols), sense, 0.0)
            x = _solve(s, f"the profit centre {self.department}").x
            values.append(sign * lp.objective.at(x))
            if sense == "min":
                worst = x
        return np.array(lows), np.array(highs), plans, values[0], values[1], worst

    def moving(self, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        """Touched rows some tied response moves."""
        return (high - low) > _MOVE_TOL * self.size

    def violation(self, x: np.ndarray) -> np.ndarray:
        """How far each touched row lies outside its bounds at ``x`` (others at z*)."""
        lp = self.lp
        act = lp.A @ x
        rows = self.touched
        over = np.maximum(act[rows] - lp.row_upper[rows], lp.row_lower[rows] - act[rows])
        return np.maximum(over, 0.0)


def _solve(session: HighsSession, what: str) -> Solution:
    sol = session.solve_retrying()
    if not sol.optimal:
        raise session.explain(sol, what, conflict=False)
    return sol


def _hold(session: HighsSession, cols: np.ndarray, coefs: np.ndarray, lower: float) -> None:
    """Add ``coefs · x[cols] >= lower`` scaled to a largest coefficient of 1."""
    keep = np.flatnonzero(coefs)
    if keep.size == 0:
        return
    scale = float(np.max(np.abs(coefs[keep])))
    session.add_row(cols[keep], coefs[keep] / scale, lower / scale)


def _pin(session: HighsSession, relaxed: _Relaxed, r: int) -> None:
    """Hold the department's part of touched row ``r`` at its value at z*."""
    cols = relaxed.block
    coefs = relaxed.coefs[r][cols]
    keep = np.flatnonzero(coefs)
    scale = float(np.max(np.abs(coefs[keep])))
    value = float(coefs[keep] @ relaxed.z[cols[keep]]) / scale
    session.add_row(cols[keep], coefs[keep] / scale, value, value)


def _quantity(lp: LinearProgram, relaxed: _Relaxed, r: int) -> Quantity:
    """The quantity that holds the department's part of touched row ``r``."""
    row = int(relaxed.touched[r])
    d = relaxed.department
    cols = relaxed.block[np.flatnonzero(relaxed.coefs[r][relaxed.block])]
    constraint = lp.row_components[int(lp.row_component[row])]
    index = lp.row_key(row) or ""
    if cols.size == 1:
        j = int(cols[0])
        amount = clean(float(relaxed.z[j]))  # no "-0" in the text
        name = lp.col_name(j)
        text = f"a target for {d}: {name} = {amount:.6g} (its part of {lp.row_name(row)})"
        return Quantity(d, "target", constraint, index, amount, name, text)
    amount = clean(float(relaxed.coefs[r] @ relaxed.z))
    text = f"an allocation to {d}: its part of {lp.row_name(row)} held at {amount:.6g}"
    return Quantity(d, "allocation", constraint, index, amount, None, text)


def _still_tied(relaxed: _Relaxed, value_tol: float) -> bool:
    low, high, _, vmin, vmax, _ = relaxed.extent()
    return bool(relaxed.moving(low, high).any() or vmax - vmin > value_tol)


def _tie_breakers(
    relaxed: _Relaxed, order: np.ndarray, value_tol: float
) -> tuple[tuple[Quantity, ...], str | None]:
    """The quantities that end the tie: one of the moving rows (tried in ``order``), else
    all of them; a note where even that does not."""
    s, lp = relaxed.session, relaxed.lp
    for r in order[:_SINGLE_CANDIDATES]:
        with s.temporary_rows():
            _pin(s, relaxed, int(r))
            if not _still_tied(relaxed, value_tol):
                return (_quantity(lp, relaxed, int(r)),), None
    with s.temporary_rows():
        for r in order:
            _pin(s, relaxed, int(r))
        if not _still_tied(relaxed, value_tol):
            return tuple(_quantity(lp, relaxed, int(r)) for r in order), None
    return (), (
        f"{relaxed.department}: holding its parts of the priced rows at their values at "
        "the target plan does not end its tie; a target on its own variables is needed"
    )


def _profit_centre(
    session: HighsSession,
    dec: Decomposition,
    card: Scorecard,
    z: np.ndarray,
    options: Options,
) -> ProfitCentre:
    """One department's diagnosis at the prices (module docstring)."""
    lp = session.lp
    assert lp is not None and card.cost is not None
    d = card.department
    block = dec.block_columns(lp, d)
    link = dec.rows
    A = sp.csr_array(lp.A)
    on_block = np.asarray(np.abs(A[link][:, block]).sum(axis=1)).ravel() > 0
    touched = link[on_block]
    coefs = np.zeros((touched.size, lp.num_cols))
    if touched.size:
        sub = A[touched][:, block].toarray()
        coefs[:, block] = sub
    size = 1.0 + np.abs(A[touched]) @ np.abs(z) if touched.size else np.zeros(0)
    relaxed = _Relaxed(session, lp, d, block, touched, coefs, z, np.asarray(size).ravel())
    pessimistic_loss = _imposed_loss(session, card, z, options)
    lower = z.copy()
    upper = z.copy()
    lower[block], upper[block] = lp.col_lower[block], lp.col_upper[block]
    saved = session.row_lower[link].copy(), session.row_upper[link].copy()
    session.set_col_bounds(np.arange(lp.num_cols), lower, upper)
    session.set_row_bounds(link, -np.inf, np.inf)
    try:
        with session.temporary_rows():
            return _diagnose(relaxed, card, pessimistic_loss, options)
    finally:
        session.set_row_bounds(link, *saved)


def _diagnose(
    relaxed: _Relaxed, card: Scorecard, pessimistic_loss: float, options: Options
) -> ProfitCentre:
    s, lp, d, z = relaxed.session, relaxed.lp, relaxed.department, relaxed.z
    assert card.cost is not None
    s.set_objective(card.cost, "max", 0.0)
    sol = s.solve_retrying(warm=False)
    if sol.status in (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED):
        return _unbounded(relaxed, pessimistic_loss)
    if not sol.optimal:
        raise s.explain(sol, f"the profit centre {d} at the transfer prices", conflict=False)
    notes = []
    best = float(card.cost @ sol.x)
    at_z = float(card.cost @ z)
    if at_z < best - 1e-7 * (1.0 + abs(best)):
        notes.append(
            f"{d}: the target plan is not its best at these prices (it could score "
            f"{best - at_z:.6g} more): the prices are not optimal duals"
        )
    level = min(best, at_z) - options.tie_slack * (1.0 + abs(best))
    # everything off the block is fixed at z*: its part of the score moves into the bound
    fixed_part = at_z - float(card.cost[relaxed.block] @ z[relaxed.block])
    _hold(s, relaxed.block, card.cost[relaxed.block], level - fixed_part)
    low, high, plans, vmin, vmax, worst_for_company = relaxed.extent()
    sign = Sense(lp.sense).sign
    value_z = sign * lp.objective.at(z)
    value_tol = _MOVE_TOL * (1.0 + abs(value_z))
    moving = relaxed.moving(low, high)
    indifferent = bool(moving.any() or vmax - vmin > value_tol)
    if not indifferent:
        return ProfitCentre(d, False, False, pessimistic_loss, notes=tuple(notes))
    worst = _worst(relaxed, plans, worst_for_company, value_z - vmin > value_tol)
    change = relaxed.coefs @ (worst - z)
    violation = relaxed.violation(worst)
    overrun = tuple(
        RowChange(*_row_label(lp, int(relaxed.touched[r])), float(change[r]), float(violation[r]))
        for r in range(relaxed.touched.size)
        if abs(change[r]) > _MOVE_TOL * relaxed.size[r] or violation[r] > 0
    )
    rel = np.abs(change) / relaxed.size
    order = [r for r in np.argsort(-rel, kind="stable") if moving[r]]
    breakers, note = _tie_breakers(relaxed, np.array(order, dtype=np.int64), value_tol)
    if note:
        notes.append(note)
    value_change = sign * (lp.objective.at(worst) - lp.objective.at(z))
    block = relaxed.block
    moved = np.abs(worst[block] - z[block]) > _MOVE_TOL * (1.0 + np.abs(z[block]))
    response = tuple((lp.col_name(int(j)), float(worst[j])) for j in block[moved])
    return ProfitCentre(
        d,
        True,
        False,
        pessimistic_loss,
        value_change=float(value_change),
        overrun=overrun,
        tie_breakers=breakers,
        response=response,
        notes=tuple(notes),
    )


def _worst(
    relaxed: _Relaxed, plans: list[np.ndarray], worst_for_company: np.ndarray, loses: bool
) -> np.ndarray:
    """The tied response that overruns a priced row most (relative to its size), else the
    worst for the company where that loses value, else the one moving a row most."""
    best_over, pick = 0.0, None
    for x in plans:
        over = float(np.max(relaxed.violation(x) / relaxed.size)) if relaxed.size.size else 0.0
        if over > best_over + 1e-12:
            best_over, pick = over, x
    if pick is not None and best_over > _MOVE_TOL:
        return pick
    if loses:
        return worst_for_company
    moves = [float(np.max(np.abs(relaxed.coefs @ (x - relaxed.z)) / relaxed.size)) for x in plans]
    return plans[int(np.argmax(moves))]


def _unbounded(relaxed: _Relaxed, pessimistic_loss: float) -> ProfitCentre:
    """A profit centre unbounded without its linking rows: the ray, the rows it moves, and
    the quantities (its parts of those rows held) under which it is bounded."""
    s, lp, d = relaxed.session, relaxed.lp, relaxed.department
    ray = s.ray_values()
    names = tuple(s.names_along(ray, 10)) if ray is not None else ()
    along = relaxed.coefs @ ray if ray is not None else np.zeros(relaxed.touched.size)
    rows = np.flatnonzero(np.abs(along) > 1e-9 * (1.0 + np.abs(along).max(initial=0.0)))
    overrun = tuple(
        RowChange(*_row_label(lp, int(relaxed.touched[r])), math.copysign(math.inf, along[r]), 0.0)
        for r in rows
    )
    notes = [
        f"{d} is unbounded at the prices without its linking rows (along {', '.join(names)}): "
        "prices alone cannot steer it"
    ]
    breakers: tuple[Quantity, ...] = ()
    with s.temporary_rows():
        for r in rows:
            _pin(s, relaxed, int(r))
        sol = s.solve(warm=False)
        if sol.optimal:
            breakers = tuple(_quantity(lp, relaxed, int(r)) for r in rows)
        else:
            notes.append(f"{d}: holding its parts of the rows along the ray does not bound it")
    return ProfitCentre(
        d,
        True,
        True,
        pessimistic_loss,
        value_change=math.inf,
        overrun=overrun,
        tie_breakers=breakers,
        ray=names,
        notes=tuple(notes),
    )


def _row_label(lp: LinearProgram, row: int) -> tuple[str, str]:
    return lp.row_components[int(lp.row_component[row])], lp.row_key(row) or ""


def _imposed_loss(session: HighsSession, card: Scorecard, z: np.ndarray, options: Options) -> float:
    """The company's loss (objective units) when the department alone plays its worst tied
    best response at z*, every row imposed (as design's tie checks)."""
    lp = session.lp
    assert lp is not None
    resp = respond(session, card, z, tie_slack=options.tie_slack)
    if resp.pessimistic is None:
        return math.inf
    opt = lp.objective.at(z)
    loss = worse_by(lp, lp.objective.at(resp.pessimistic), opt) * abs(opt)
    return 0.0 if abs(loss) <= 1e-7 * (1.0 + abs(opt)) else float(loss)


# -- verification and the whole analysis -----------------------------------------------------


def verify_prices(
    session: HighsSession,
    cards: dict[str, Scorecard],
    start: np.ndarray,
    optimum: float,
    options: Options | None = None,
) -> dict[str, Path]:
    """Best-response dynamics under ``cards`` from ``start`` (whose allocation columns are
    the allocations under test), optimistic and pessimistic tie-break; each as a share of
    ``optimum``."""
    lp = session.lp
    assert lp is not None
    out = {}
    for mode in Mode:
        outcome = best_response_dynamics(session, cards, start, mode=mode, options=options)
        share = (
            share_of_optimum(lp.sense, outcome.objective, optimum)
            if outcome.x is not None
            else -math.inf
        )
        out[str(mode)] = Path(
            float(outcome.objective), float(share), outcome.rounds, outcome.converged, outcome.cycle
        )
    return out


def profit_centres(
    session: HighsSession,
    prices: Mapping[int, float] | np.ndarray,
    z: np.ndarray,
    options: Options | None = None,
    departments: Collection[str] | None = None,
    decomposition: Decomposition | None = None,
) -> tuple[ProfitCentre, ...]:
    """The profit-centre diagnosis of every department (or of ``departments``) at
    ``prices`` (row -> price, or a vector over the rows) and the target plan ``z``: is it
    indifferent, what its worst tied response does to the priced rows, which quantity
    breaks the tie, is it unbounded without its linking rows (module docstring)."""
    lp = session.lp
    assert lp is not None
    options = options or Options()
    dec = decomposition or decompose(lp)
    cards = price_scorecards(lp, prices, dec)
    names = lp.departments if departments is None else tuple(departments)
    return tuple(_profit_centre(session, dec, cards[d], z, options) for d in names)


def transfer_prices(
    source: HighsSession | LinearProgram,
    problem: Problem | None,
    z: np.ndarray,
    options: Options | None = None,
    *,
    start: np.ndarray | None = None,
    start_label: str = "",
    departments: Collection[str] | None = None,
    stats: Statistics | None = None,
) -> TransferPrices:
    """Transfer prices at the optimum ``z`` (the target plan z*), each linking row's
    interval of optimal prices, the profit-centre diagnosis of every department (or of
    ``departments``), and, given a ``start`` plan, the verification of the prices lever.

    ``source`` is the live session of the analysis (its column bounds, objective and
    temporary rows are changed, its row bounds restored) or the program to open one on.
    Raises :class:`~kpidesign.errors.SolveError` where a solve has no optimum (an analysis
    wrapped in ``returning_failures`` returns it as its diagnosis).
    """
    options = options or Options()
    if isinstance(source, HighsSession):
        session = source
    else:
        session = HighsSession(source, options, stats=stats)
    lp = session.lp
    assert lp is not None
    stats = session.stats
    dec = decompose(lp)
    face = price_face(lp, z, dec, options, stats)
    cards = price_scorecards(lp, face.dense(lp.num_rows), dec)
    centres = profit_centres(session, face.dense(lp.num_rows), z, options, departments, dec)
    verification: dict[str, Path] = {}
    if start is not None:
        verification = verify_prices(session, cards, start, lp.objective.at(z), options)
    table = pd.DataFrame(
        [
            {
                "constraint": _row_label(lp, int(r))[0],
                "index": _row_label(lp, int(r))[1],
                "price": float(face.price[k]),
                "min": float(face.lower[k]),
                "max": float(face.upper[k]),
            }
            for k, r in enumerate(face.rows)
        ],
        columns=["constraint", "index", "price", "min", "max"],
    )
    notes = list(face.notes)
    label = f" of {problem.label}" if problem is not None else ""
    if not face.rows.size:
        notes.append(f"no row{label} links two departments: there is nothing to price")
    for c in centres:
        notes.extend(c.notes)
    return TransferPrices(
        prices=table,
        margin=face.margin,
        departments=centres,
        verification=verification,
        start=start_label,
        notes=tuple(notes),
    )
