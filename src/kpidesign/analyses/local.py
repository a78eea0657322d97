"""A department's local problem: its best response to everyone else's plan.

Department d maximizes its score ``U_d = sum_k w_k * sign_k * KPI_k / scale_k`` over its
own variables and the shared state; every other department's variables and every
allocation stay at the current plan.  LP optima are often not unique, so the response is
lexicographic: among d's optimal responses, the best for the system (optimistic) and the
worst (pessimistic).

Everything runs on one live :class:`~kpidesign.solver.HighsSession`: a local problem is a
change of column bounds and costs; the tie-break adds a temporary row (``score >= score*``)
for two solves, removed again when the response is done.  A scorecard holding a single
ratio KPI is solved exactly by Dinkelbach's method (each iteration a cost change); one
ratio mixed with linear KPIs exactly, with a certificate, by :mod:`.mixed_ratio`; two or
more ratios mixed enter through their Dinkelbach linearizations at the reference plan,
``(A - r_ref B) / |B(z_ref)|`` (approximate, and said so).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..errors import SolveError
from ..model.program import DENOMINATOR_FLOOR, SHARED, KpiRows, LinearProgram
from ..solver import HighsSession, Solution
from ..types import Sense, Status
from .common import name_weights
from .mixed_ratio import RatioTerm, best_mixed_response
from .scales import Scales, as_scales

__all__ = [
    "Response",
    "Scorecard",
    "can_move",
    "kpi_values",
    "respond",
    "scorecard",
    "scorecards",
    "undefined_ratio_notes",
]


@dataclass(frozen=True)
class Scorecard:
    """A department's score in LP terms.

    ``ratio`` is set when the score is one ratio KPI (solved exactly by Dinkelbach).
    ``mixed`` is set when one ratio is mixed with linear KPIs: the true score, solved
    exactly by :mod:`~kpidesign.analyses.mixed_ratio`.  ``cost`` is the dense linear score
    (KPIs divided by their scales, :mod:`.scales`); for a scorecard with a ratio mixed in, its
    first-order model at the linearization plan (each ratio by its Dinkelbach
    linearization there, i.e. its gradient), which is what the LP of a scorecard mixing two
    or more ratios solves (``exact`` False, said in ``notes``) and what the alignment
    score reads.  ``terms`` are the (KPI, weight·sign/scale) pairs of the true score.
    """

    department: str
    weights: dict[str, float]
    cost: np.ndarray | None
    ratio: KpiRows | None
    ratio_sign: float = 1.0
    notes: tuple[str, ...] = ()
    terms: tuple[tuple[KpiRows, float], ...] = ()
    mixed: RatioTerm | None = None
    exact: bool = True

    def value(self, x: np.ndarray) -> float:
        """The true score at plan ``x``: for a single ratio the signed ratio, else
        ``sum_k w_k·sign_k·KPI_k(x)/scale_k`` with every ratio as a ratio (NaN where one
        is undefined)."""
        if self.ratio is not None:
            return self.ratio_sign * self.ratio.value(x)
        return float(sum(factor * kpi.value(x) for kpi, factor in self.terms))


def normalized_kpi_row(
    kpi: KpiRows, n: int, scales: Scales, x_lin: np.ndarray
) -> tuple[np.ndarray, float, str | None]:
    """``sign * KPI / scale`` as a dense linear row, its constant, and a note for a ratio.

    ``scale`` is the KPI's scale in ``scales`` (:mod:`.scales`: ``|KPI(B)|`` away from 0,
    continuously a share of its range near 0); a ratio ``A/B`` becomes its Dinkelbach
    linearization at ``x_lin``, ``(A - r·B)/|B(x_lin)|`` with ``r = A(x_lin)/B(x_lin)``.
    """
    sign = Sense(kpi.sense).sign
    factor = sign / scales.of(kpi)
    if not kpi.is_ratio:
        return factor * kpi.numerator.dense(n), factor * kpi.numerator.constant, None
    assert kpi.denominator is not None
    den = kpi.denominator.at(x_lin)
    if den < DENOMINATOR_FLOOR:
        msg = (
            f"KPI {kpi.name}: its denominator is {den:.6g} at the plan where a scorecard mixing "
            "it with other KPIs is linearized, so the ratio is undefined there; pay on it alone "
            "or on KPIs that stay defined"
        )
        raise SolveError(msg, Status.UNDEFINED)
    r = kpi.numerator.at(x_lin) / den
    row = (kpi.numerator.dense(n) - r * kpi.denominator.dense(n)) / abs(den)
    const = (kpi.numerator.constant - r * kpi.denominator.constant) / abs(den)
    note = f"(A - {r:.6g}·B)/|B|, the Dinkelbach linearization of ratio KPI {kpi.name}"
    return factor * row, factor * const, note


def kpi_values(
    lp: LinearProgram, names: list[str], x: np.ndarray, scales: Scales | np.ndarray
) -> np.ndarray:
    """The signed normalized KPIs ``f_k(x) = sign_k·KPI_k(x)/scale_k`` (a ratio as the true
    ratio, NaN where it is undefined), ``scale_k`` from ``scales`` (:mod:`.scales`).

    A scorecard's true score is ``sum_k w_k f_k(x)``, so ``kpi_values(z') - kpi_values(z*)``
    are the coefficients of the cut ``w·(f(z') - f(z*)) <= ε`` (see
    :meth:`~kpidesign.analyses.inverse.InverseLP.add_cut`).
    """
    scales = as_scales(lp, scales, names)
    out = np.empty(len(names))
    for i, name in enumerate(names):
        kpi = lp.kpis[name]
        out[i] = Sense(kpi.sense).sign * kpi.value(x) / scales.of(kpi)
    return out


def scorecard(
    lp: LinearProgram,
    department: str,
    weights: dict[str, float],
    scales: Scales | np.ndarray,
    linearize_at: np.ndarray | None = None,
) -> Scorecard:
    """The scorecard of ``department`` under ``weights`` (qualified KPI name -> weight).

    KPIs are divided by their scales (:mod:`.scales`; a bare reference plan instead of
    :class:`Scales` has them measured there).  One ratio alone, or one ratio mixed with
    linear KPIs, is kept exact.  ``cost`` (see :class:`Scorecard`) takes each ratio's
    linearization at ``linearize_at`` (default the reference plan); a scorecard mixing two
    or more ratios is solved on it, approximately, and says so.
    """
    active = {k: w for k, w in weights.items() if w > 0}
    n = lp.num_cols
    ratios = [k for k in active if lp.kpis[k].is_ratio]
    if len(active) == 1 and ratios:
        kpi = lp.kpis[ratios[0]]
        sign = Sense(kpi.sense).sign
        return Scorecard(department, active, None, kpi, sign)
    scales = as_scales(lp, scales, active)
    x_lin = scales.reference if linearize_at is None else linearize_at
    where = "the reference plan" if linearize_at is None else "the target plan"
    cost = np.zeros(n)
    linear = np.zeros(n)
    constant = 0.0
    notes = []
    terms = []
    for name, w in active.items():
        kpi = lp.kpis[name]
        factor = w * Sense(kpi.sense).sign / scales.of(kpi)
        terms.append((kpi, factor))
        if not kpi.is_ratio:
            row, const, _ = normalized_kpi_row(kpi, n, scales, x_lin)
            cost += w * row
            linear += w * row
            constant += w * const
            continue
        try:
            row, _, note = normalized_kpi_row(kpi, n, scales, x_lin)
        except SolveError:
            if len(ratios) > 1:
                raise
            notes.append(
                f"{department}: {name} is undefined at {where}, so the first-order model of "
                "its scorecard (read by the alignment score) leaves it out; the score itself "
                "keeps the ratio exact"
            )
            continue
        cost += w * row
        if len(ratios) > 1:
            notes.append(f"{department}: a ratio mixed with other KPIs enters as {note} at {where}")
    if len(ratios) > 1:
        notes.append(
            f"{department}: its scorecard mixes {len(ratios)} ratios; only one ratio mixed with "
            "linear KPIs is solved exactly, so its responses are those of the linearization "
            "(approximate)"
        )
        return Scorecard(
            department, active, cost, None, notes=tuple(notes), terms=tuple(terms), exact=False
        )
    mixed = None
    if ratios:
        kpi = lp.kpis[ratios[0]]
        factor = next(f for k, f in terms if k is kpi)
        mixed = RatioTerm(kpi, factor, linear, constant)
    return Scorecard(
        department, active, cost, None, notes=tuple(notes), terms=tuple(terms), mixed=mixed
    )


def scorecards(
    lp: LinearProgram, scheme: dict[str, dict[str, float]], scales: Scales
) -> tuple[dict[str, Scorecard], list[str]]:
    """Each department's scorecard under ``scheme`` (KPIs divided by their ``scales``,
    measured at plan B), and notes on linearized ratios and departments without an
    incentive."""
    cards = {d: scorecard(lp, d, scheme.get(d, {}), scales) for d in lp.departments}
    notes: list[str] = []
    for d, card in cards.items():
        notes.extend(card.notes)
        if not card.weights:
            notes.append(f"{d} has no incentive: its responses are decided by the tie-break alone")
    return cards, notes


@dataclass
class Response:
    """A department's best response: its score and the optimistic/pessimistic plans."""

    department: str
    score: float
    optimistic: np.ndarray
    pessimistic: np.ndarray | None  # None where the worst response is unbounded
    dinkelbach_iterations: int = 0
    notes: list[str] = field(default_factory=list)
    #: the proven upper bound on the score (a mixed ratio scorecard: the certificate of
    #: :mod:`~kpidesign.analyses.mixed_ratio`; otherwise the LP optimum itself)
    bound: float = float("nan")
    #: False where the best score or a tie-break could not be certified within the node
    #: limit, or the scorecard was solved on a linearization (two or more ratios mixed)
    certified: bool = True
    #: slice LPs the exact search of a mixed ratio scorecard solved
    slices: int = 0


def free_columns(lp: LinearProgram, department: str) -> np.ndarray:
    """Columns a department's local problem may move: its own and the shared state."""
    code = lp.departments.index(department)
    return np.flatnonzero((lp.col_owner == code) | (lp.col_owner == SHARED))


def fix_others(session: HighsSession, lp: LinearProgram, free: np.ndarray, x: np.ndarray) -> None:
    """Fix every column but ``free`` at ``x``; give ``free`` its own bounds back."""
    lower = x.copy()
    upper = x.copy()
    lower[free] = lp.col_lower[free]
    upper[free] = lp.col_upper[free]
    session.set_col_bounds(np.arange(lp.num_cols), lower, upper)


def can_move(
    session: HighsSession,
    department: str,
    kpi: KpiRows,
    x: np.ndarray,
    free: np.ndarray | None = None,
) -> bool:
    """Can ``department`` change ``kpi`` from plan ``x`` (everyone else fixed there;
    ``free``: the columns it may move, by default its own and the shared state)?

    False only when proven: each linear part of the KPI (a ratio's numerator and
    denominator) has the same largest and smallest value over the department's local
    problem (within 1e-7, relative), e.g. because an equality ties it to what others do.
    A ratio whose parts both move is taken as movable.  A part without a free column is
    constant without a solve; one whose bound cannot be computed counts as movable.
    """
    lp = session.lp
    assert lp is not None
    free = free_columns(lp, department) if free is None else free
    fix_others(session, lp, free, x)
    parts = [kpi.numerator] if kpi.denominator is None else [kpi.numerator, kpi.denominator]
    for part in parts:
        coef = part.dense(lp.num_cols)
        if not np.any(coef[free]):
            continue
        ends = []
        for sense in (Sense.MAX, Sense.MIN):
            session.set_objective(coef, sense, 0.0)
            sol = session.solve(warm=False)
            if not sol.optimal:
                return True
            ends.append(float(coef @ sol.x))
        if ends[0] - ends[1] > 1e-7 * (1.0 + abs(ends[0]) + abs(ends[1])):
            return True
    return False


_UNBOUNDED = (Status.UNBOUNDED, Status.INFEASIBLE_OR_UNBOUNDED)


def _run(session: HighsSession, what: str, warm: bool, allow_unbounded: bool = False) -> Solution:
    """Solve a local problem.  It contains the current plan, so it cannot be infeasible or
    unbounded in exact arithmetic; columns fixed at values feasible only within tolerance can
    still make presolve say so (or a warm start end in numerical trouble), hence
    :meth:`HighsSession.solve_retrying`."""
    sol = session.solve_retrying(warm=warm)
    if sol.optimal or (allow_unbounded and sol.status in _UNBOUNDED):
        return sol
    raise session.explain(sol, what, conflict=False)


def respond(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    *,
    pessimistic: bool = True,
    optimistic: bool = True,
    tol: float = 1e-7,
    tie_slack: float = 1e-9,
    max_dinkelbach: int = 100,
) -> Response:
    """Department ``card.department``'s lexicographic best response to plan ``x``.

    Its score is maximized, then held at its optimum (``tie_slack`` relative) by a
    temporary row while the company objective is maximized (optimistic) or minimized
    (pessimistic).  A ratio scorecard is defined only where its denominator is positive:
    the local problem keeps it at or above :data:`DENOMINATOR_FLOOR` (another temporary
    row), and a department whose every best response sits at that floor, i.e. would drive
    its denominator to 0, is an error naming it, the KPI and what it would do.
    """
    lp = session.lp
    assert lp is not None
    # solver hygiene, not a finding: no note (the widening is at most 1e-6, relative).  A
    # plan within the solver's tolerance of a column bound (inventory at -2.8e-9) is put
    # on it first: fixed there for the other departments it made their problems infeasible
    x = np.clip(x, lp.col_lower, lp.col_upper)
    with _containing(session, lp, x):
        return _respond(session, card, x, pessimistic, optimistic, tol, tie_slack, max_dinkelbach)


#: a plan handed from one local problem to the next may be off a row by the solver's
#: tolerance; up to this much (relative) its local problem is widened to contain it
_PLAN_TOLERANCE = 1e-6


@contextlib.contextmanager
def _containing(session: HighsSession, lp: LinearProgram, x: np.ndarray) -> Iterator[bool]:
    """Widen the rows plan ``x`` is off by more than 1e-10 (absolute, as HiGHS's
    feasibility tolerance is) and at most :data:`_PLAN_TOLERANCE` relative to the row's
    size at ``x`` (``1 + sum_j |a_ij x_j|``) just enough to contain it, for the duration;
    yields whether any was.  A local problem must contain the plan it starts from: a plan
    off a row by 6e-8 (seen on the seed under --max-kpis 2) made the next department's
    problem infeasible, and so did one off a cash balance of ~1e5 by 1e-5 (1e-10
    relative, seen with the seed's cash covenant binding).  The size is the terms', not
    the activity's: a balance row sums large terms to 0, and its rounding is theirs (at 1M
    variables an inventory balance was off by 1.05e-6, beyond 1e-6 of its activity, and
    the pessimistic path of ``compare`` failed on it)."""
    act = lp.A @ x
    scale = 1.0 + abs(lp.A) @ np.abs(x)
    off = np.maximum(lp.row_lower - act, act - lp.row_upper)
    rows = np.flatnonzero((off > 1e-10) & (off <= _PLAN_TOLERANCE * scale))
    if rows.size:
        session.set_row_bounds(
            rows,
            np.minimum(lp.row_lower[rows], act[rows]),
            np.maximum(lp.row_upper[rows], act[rows]),
        )
    try:
        yield bool(rows.size)
    finally:
        if rows.size:
            session.set_row_bounds(rows, lp.row_lower[rows], lp.row_upper[rows])


def _respond(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    pessimistic: bool,
    optimistic: bool,
    tol: float,
    tie_slack: float,
    max_dinkelbach: int,
) -> Response:
    """:func:`respond` on a session whose rows contain ``x``."""
    lp = session.lp
    assert lp is not None
    d = card.department
    free = free_columns(lp, d)
    fix_others(session, lp, free, x)
    response = Response(d, float("nan"), x, None)
    what = f"the local problem of {d}"
    if card.mixed is not None:
        _mixed_response(
            session, card, x, free, response, what, optimistic, pessimistic, tol, tie_slack
        )
        return response
    with session.temporary_rows():
        if card.ratio is not None:
            row, lo = _best_ratio(
                session, card, x, free, response, what, max_dinkelbach, tol, tie_slack
            )
            response.bound = response.score
        else:
            assert card.cost is not None
            session.set_objective(card.cost, "max", 0.0)
            sol = _run(session, what, warm=False)
            best = float(card.cost @ sol.x)
            response.score = card.value(sol.x)
            response.bound = response.score
            response.optimistic = sol.x
            if not card.exact:
                response.certified = False
                response.notes.extend(card.notes)
            # a slack of tie_slack only: a pessimistic tie-break exploits any slack every round
            row, lo = card.cost, best - tie_slack * (1.0 + abs(best))
            # but the current plan, if it scores within the solver's tolerance of the best,
            # stays among the best responses: a department does not move for noise
            now = float(card.cost @ x)
            if now >= best - SOLVER_NOISE * (1.0 + abs(best)):
                lo = min(lo, now)
        # lexicographic tie-break: hold the score at its optimum, then best/worst for the system
        tie = _add_local_row(session, free, x, row, lo)
        if optimistic:
            session.set_objective(lp.objective, lp.sense)
            sol = _tie_break(session, f"{what} (optimistic tie-break)", response, tie)
            response.optimistic = _canonical(
                session, card, free, x, sol, lp.sense, response, tie_slack
            )
        if pessimistic:
            _worst_response(session, card, response, tie, what, free, x, tie_slack)
    return response


def _canonical(
    session: HighsSession,
    card: Scorecard,
    free: np.ndarray,
    x: np.ndarray,
    response_solution: Solution,
    sense: str,
    response: Response,
    tie_slack: float,
) -> np.ndarray:
    """The third rule of a best response (``response_solution``: the company tie-break's
    optimal solution, of the session as it is now; ``sense``: that tie-break's): the
    current plan ``x`` itself where it is as good as the response within
    :data:`SOLVER_NOISE`, for the department and for the company (a department does not
    move for noise); otherwise, among the plans as good as the response for both, the one
    closest in L1 to ``x`` over the columns the department moves (ties broken by
    name-keyed weights, as the design's target).  So a response depends on neither column
    order nor the solver's warm start.

    The plans as good as the response are the optimal face of the tie-break LP, read from
    ``response_solution``'s duals (:meth:`HighsSession.on_face`): exactly at the
    tie-break's value, and an LP of the local problem's own rows (at 156k variables 0.5 s
    where holding the company's value by a row took 200 s, benchmarks/README.md).  Where
    the plan found there is more than ``tie_slack`` below that value (duals within the
    solver's tolerance of 0 widen the face) or none is found, the company's value is held
    by a row within ``tie_slack`` instead.  Where that fails too, the solver's response
    stays, with a note."""
    lp = session.lp
    assert lp is not None
    z = response_solution.x
    sign = Sense(sense).sign
    held = sign * lp.objective.dense(lp.num_cols)
    value = float(held @ z)
    # the score as the LP held it (a profit centre's card has a cost and no KPI terms)
    linear = card.ratio is None and card.cost is not None
    score_x, score_z = (float(card.cost @ p) if linear else card.value(p) for p in (x, z))
    stays = score_x >= score_z - SOLVER_NOISE * (1.0 + abs(score_z))
    if stays and float(held @ x) >= value - SOLVER_NOISE * (1.0 + abs(value)):
        return x
    weights = name_weights(lp, free)
    lowest = value - tie_slack * (1.0 + abs(value))
    with session.on_face(response_solution):
        sol = _closest(session, free, x, weights)
    if not (sol.optimal and float(held @ sol.x) >= lowest):
        with session.temporary_rows():
            _add_local_row(session, free, x, held, lowest)
            sol = _closest(session, free, x, weights)
    if sol.optimal:
        return np.clip(sol.x, lp.col_lower, lp.col_upper)
    response.notes.append(
        f"{response.department}: its response closest to its current plan could not be "
        f"found ({sol.status.value}); the solver's response among the tied ones is used"
    )
    return z


def _closest(session: HighsSession, free: np.ndarray, x: np.ndarray, w: np.ndarray) -> Solution:
    """Of the plans feasible on the session now, the one closest to ``x`` over ``free``
    (weights ``w``): found on a scratch copy (:meth:`HighsSession.closest`), then
    :func:`_polished` on the live session.  Where the live session cannot reproduce it on
    the sides the scratch copy chose (a column that moved by less than 1e-9 is held at
    ``x`` there), the scratch copy's plan is the answer, within HiGHS's feasibility
    tolerance."""
    sol = session.closest(x, free, w)
    if sol.optimal:
        polished = _polished(session, free, x, sol.x, w)
        if polished.optimal:
            return polished
    return sol


def _polished(
    session: HighsSession, free: np.ndarray, x: np.ndarray, closest: np.ndarray, w: np.ndarray
) -> Solution:
    """The closest plan found on a scratch copy, solved again on the live session (whose
    solutions are as exact as HiGHS gives them; a scratch solution taken as the next plan
    drifted off the rows by up to 7e-8 within a few hundred steps): on the side of ``x``
    each column of ``closest`` lies on, the L1 distance is linear, so the same plan is the
    optimum of that linear objective there, within the session's bounds as they are (an
    optimal face's, say), which are put back afterwards."""
    lp = session.lp
    assert lp is not None
    before = session.col_lower[free].copy(), session.col_upper[free].copy()
    lower, upper = before[0].copy(), before[1].copy()
    step = closest[free] - x[free]
    eps = 1e-9 * (1.0 + np.abs(x[free]))
    up, down = step > eps, step < -eps
    stay = ~(up | down)
    here = np.clip(x[free], lower, upper)
    lower[up | stay] = np.maximum(lower, here)[up | stay]
    upper[down | stay] = np.minimum(upper, here)[down | stay]
    cost = np.zeros(lp.num_cols)
    cost[free] = np.where(up, w, np.where(down, -w, 0.0))
    session.set_col_bounds(free, lower, upper)
    session.set_objective(cost, "min", 0.0)
    try:
        return session.solve(warm=True)
    finally:
        session.set_col_bounds(free, *before)


#: differences below this (relative) are the solver's noise, not a preference: HiGHS's
#: primal and dual feasibility tolerances are 1e-7.  A worst response 2e-11 (relative) worse
#: for the company than the current plan, moving 6,912 EUR of quality spending to get
#: there, decided the seed's status quo in one file order and not in another
SOLVER_NOISE = 1e-7


def _mixed_response(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    free: np.ndarray,
    response: Response,
    what: str,
    optimistic: bool,
    pessimistic: bool,
    tol: float,
    tie_slack: float,
) -> None:
    """One ratio mixed with linear KPIs: the exact search of
    :func:`~kpidesign.analyses.mixed_ratio.best_mixed_response` (into ``response``).  A best
    response at the denominator floor whose score depends on the floor (ten times higher,
    the department does strictly worse) drives the denominator to 0: an error."""
    term = card.mixed
    assert term is not None
    with session.temporary_rows():
        out = best_mixed_response(
            session,
            term,
            free,
            x,
            what=what,
            tol=tol,
            tie_slack=tie_slack,
            optimistic=optimistic,
            pessimistic=pessimistic,
        )
    if _at_floor(term.kpi, out.best):
        higher = 10.0 * DENOMINATOR_FLOOR
        fix_others(session, session.lp, free, x)
        try:
            with session.temporary_rows():
                probe = best_mixed_response(
                    session,
                    term,
                    free,
                    x,
                    what=what,
                    tol=tol,
                    floor=higher,
                    optimistic=False,
                    pessimistic=False,
                )
            worse = probe.score < out.score - 1e-9 * (1.0 + abs(out.score))
        except SolveError:
            worse = True
        if worse:
            raise _zero_drive_error(session, card.department, term.kpi, x, out.best)
    response.score = out.score
    response.bound = out.bound
    response.certified = out.certified and not out.notes
    response.slices = out.slices
    response.notes.extend(out.notes)
    response.optimistic = out.optimistic if out.optimistic is not None else out.best
    response.pessimistic = out.pessimistic
    if pessimistic and out.pessimistic is None:
        response.notes.append(
            f"{card.department}: the worst optimal response for the system is unbounded"
        )


def _best_ratio(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    free: np.ndarray,
    response: Response,
    what: str,
    max_iter: int,
    tol: float,
    tie_slack: float,
) -> tuple[np.ndarray, float]:
    """The best ratio (into ``response``) with the denominator floor held by a temporary
    row; the tie-break row and its lower bound."""
    den = card.ratio.denominator if card.ratio is not None else None
    assert den is not None and session.lp is not None
    start = _positive_start(session, card, x, free, what)
    floor_lower = DENOMINATOR_FLOOR - den.constant
    floor = _add_local_row(session, free, x, den.dense(session.lp.num_cols), floor_lower)
    row, lo = _dinkelbach(session, card, start, response, what, max_iter, tol, tie_slack)
    if floor is not None and _at_floor(card.ratio, response.optimistic):
        _refuse_zero_drive(session, card, x, free, floor[0], response, what, max_iter, tol)
        # back to the best response at the floor for the tie-break
        start = response.optimistic
        row, lo = _dinkelbach(session, card, start, response, what, max_iter, tol, tie_slack)
    return row, lo


def _worst_response(
    session: HighsSession,
    card: Scorecard,
    response: Response,
    tie: tuple[int, float] | None,
    what: str,
    free: np.ndarray,
    x: np.ndarray,
    tie_slack: float,
) -> None:
    """The pessimistic tie-break: the worst plan for the company among the department's
    best responses to ``x`` (None, with a note, where that is unbounded), made canonical
    by :func:`_canonical`."""
    lp = session.lp
    assert lp is not None
    session.set_objective(lp.objective, Sense(lp.sense).opposite)
    sol = _tie_break(session, f"{what} (pessimistic tie-break)", response, tie, unbounded=True)
    d = card.department
    if not sol.optimal:
        response.notes.append(f"{d}: the worst optimal response for the system is unbounded")
        return
    response.pessimistic = _canonical(
        session, card, free, x, sol, Sense(lp.sense).opposite, response, tie_slack
    )
    if card.ratio is not None and _at_floor(card.ratio, sol.x):
        response.notes.append(
            f"{d}: its worst response for the company keeps the denominator of "
            f"{card.ratio.name} at the floor ({DENOMINATOR_FLOOR:g}): it scores "
            "the same however close to 0 the denominator goes"
        )


#: HiGHS's primal feasibility tolerance: a score held at its optimum may be infeasible by
#: this much when the optimum itself used the tolerance (data near 1e-7)
_FEASIBILITY_TOL = 1e-7


def _tie_break(
    session: HighsSession,
    what: str,
    response: Response,
    tie: tuple[int, float] | None,
    unbounded: bool = False,
) -> Solution:
    """Solve with the score held by the row and lower bound ``tie``.  Where the held score
    is infeasible only numerically, hold it once more with HiGHS's feasibility tolerance to
    spare (and say so)."""
    try:
        return _run(session, what, warm=True, allow_unbounded=unbounded)
    except SolveError:
        if tie is None:
            raise
        tie_row, lower = tie
        relaxed = lower - _FEASIBILITY_TOL * (1.0 + abs(lower))
        session.set_row_bounds(np.array([tie_row]), relaxed, np.inf)
        response.notes.append(
            f"{response.department}: its best score could be held only within the solver's "
            f"feasibility tolerance ({_FEASIBILITY_TOL:g}) in {what}"
        )
        return _run(session, what, warm=False, allow_unbounded=unbounded)


def _local_row(
    free: np.ndarray, x: np.ndarray, row: np.ndarray, lower: float
) -> tuple[np.ndarray, np.ndarray, float] | None:
    """``row @ z >= lower`` over the free columns as (columns, coefficients, lower bound):
    the fixed columns' part (at ``x``) moves into the bound, and the row is scaled to a
    largest coefficient of 1, since a scorecard of tiny coefficients (a KPI worth 1e-7 per
    unit) would otherwise meet HiGHS's tolerances (it drops matrix entries below 1e-9) and
    make the held score look infeasible.  None for a row with no free column (a constant).
    """
    cols = free[np.flatnonzero(row[free])]
    if cols.size == 0:
        return None
    fixed_part = float(row @ x - row[free] @ x[free])
    scale = float(np.max(np.abs(row[cols])))
    return cols, row[cols] / scale, (float(lower) - fixed_part) / scale


def _add_local_row(
    session: HighsSession, free: np.ndarray, x: np.ndarray, row: np.ndarray, lower: float
) -> tuple[int, float] | None:
    """Add :func:`_local_row` to the session (inside its temporary rows); its index and
    (scaled) lower bound, or None if there was nothing to add."""
    local = _local_row(free, x, row, lower)
    if local is None:
        return None
    cols, coefs, bound = local
    return session.add_row(cols, coefs, bound), bound


def _at_floor(kpi: KpiRows, z: np.ndarray) -> bool:
    assert kpi.denominator is not None
    return kpi.denominator.at(z) <= 2.0 * DENOMINATOR_FLOOR


def _positive_start(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    free: np.ndarray,
    what: str,
    floor: float = DENOMINATOR_FLOOR,
) -> np.ndarray:
    """A plan of the local problem where the denominator is at least ``floor``: ``x`` if it
    is, else the one that maximizes the denominator (an error if even that stays below)."""
    kpi = card.ratio
    assert kpi is not None and kpi.denominator is not None
    if kpi.denominator.at(x) >= floor:
        return x
    session.set_objective(kpi.denominator, "max")
    sol = _run(session, what, warm=False, allow_unbounded=True)
    if sol.optimal and kpi.denominator.at(sol.x) < floor:
        msg = (
            f"KPI {kpi.name}: its denominator is 0 whatever {card.department} does, given the "
            "others' plan, so the ratio it is paid on is undefined"
        )
        raise SolveError(msg, Status.UNDEFINED)
    if sol.optimal:
        return sol.x
    # unbounded: any plan with a large enough denominator will do; take the largest in a box
    lp = session.lp
    cols = free[np.flatnonzero(kpi.denominator.dense(lp.num_cols)[free])]
    lower, upper = session.col_lower[cols].copy(), session.col_upper[cols].copy()
    session.set_col_bounds(cols, np.maximum(lower, -1e6), np.minimum(upper, 1e6))
    try:
        sol = _run(session, what, warm=False)
    finally:
        session.set_col_bounds(cols, lower, upper)
    return sol.x


def _refuse_zero_drive(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    free: np.ndarray,
    floor_row: int,
    response: Response,
    what: str,
    max_iter: int,
    tol: float,
) -> None:
    """The best response sits at the denominator floor.  If the best ratio depends on
    the floor (with the floor ten times higher the department does strictly worse), the
    department drives its denominator to 0: an error.  If not (a ratio with no fixed part,
    the same wherever the denominator is positive), it is only indifferent.

    Comparing ratio values is well conditioned; testing whether another response keeps the
    denominator up under the held score is not, when the multiplier is huge.
    """
    kpi = card.ratio
    assert kpi is not None and kpi.denominator is not None
    lp = session.lp
    den = kpi.denominator
    at_floor_score, z = response.score, response.optimistic
    higher = 10.0 * DENOMINATOR_FLOOR

    def floor_at(level: float) -> None:
        local = _local_row(free, x, den.dense(lp.num_cols), level - den.constant)
        assert local is not None  # the floor row exists
        session.set_row_bounds(np.array([floor_row]), local[2], np.inf)

    floor_at(higher)
    try:
        probe = Response(card.department, float("nan"), x, None)
        try:
            start = _positive_start(session, card, x, free, what, higher)
            _dinkelbach(session, card, start, probe, what, max_iter, tol, 0.0)
            worse = probe.score < at_floor_score - 1e-9 * (1.0 + abs(at_floor_score))
        except SolveError:
            worse = True  # the denominator cannot even reach ten times the floor
    finally:
        floor_at(DENOMINATOR_FLOOR)
    if not worse:
        return
    raise _zero_drive_error(session, card.department, kpi, x, z)


def _zero_drive_error(
    session: HighsSession, department: str, kpi: KpiRows, x: np.ndarray, z: np.ndarray
) -> SolveError:
    """The error of a department that would drive the denominator of ``kpi`` to 0: its
    best response ``z`` sits at the floor, from plan ``x``."""
    lp = session.lp
    assert lp is not None and kpi.denominator is not None
    den = kpi.denominator
    moves = []
    for comp in dict.fromkeys(lp.col_components[lp.col_component[j]] for j in den.indices):
        cols = lp.columns_of(comp)
        before, after = float(x[cols].sum()), float(z[cols].sum())
        if abs(after - before) > 1e-9 * (1.0 + abs(before)):
            moves.append(f"{comp} from {before:.6g} to {after:.6g}")
    doing = f" (moving {', '.join(moves[:3])})" if moves else ""
    now = kpi.value(x)
    at_now = f"{now:.6g} at the current plan" if np.isfinite(now) else "undefined now"
    msg = (
        f"{department} would drive the denominator of KPI {kpi.name} to 0{doing}: the "
        f"ratio it is paid on only improves as the denominator falls ({kpi.value(z):.6g} at a "
        f"denominator of {DENOMINATOR_FLOOR:g}, {at_now}), and it is undefined at 0; pay "
        f"{department} on a KPI that stays defined, or keep the denominator positive with "
        "a constraint"
    )
    return SolveError(msg, Status.UNDEFINED)


def _dinkelbach(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    response: Response,
    what: str,
    max_iter: int,
    tol: float,
    tie_slack: float,
) -> tuple[np.ndarray, float]:
    """Maximize ``sign * N/D`` exactly: iterate ``max sign*(N - lam*D)`` until its optimum is 0.

    ``x`` is a plan of the local problem with a positive denominator (the start); the
    session holds the floor row ``D >= DENOMINATOR_FLOOR``, so every iterate has one too.
    Returns the tie-break row ``sign*(N - lam*D)`` and its lower bound (``-tol``, net of
    the constants).
    """
    kpi = card.ratio
    assert kpi is not None and kpi.denominator is not None
    lp = session.lp
    n = lp.num_cols
    num, den = kpi.numerator.dense(n), kpi.denominator.dense(n)
    n0, d0 = kpi.numerator.constant, kpi.denominator.constant
    sign = card.ratio_sign
    lam = float(num @ x + n0) / float(den @ x + d0)
    z = x
    ray_lam: float | None = None  # the best ratio seen along an unbounded ray
    ray_names = ""
    for it in range(1, max_iter + 1):
        session.set_objective(sign * (num - lam * den), "max", sign * (n0 - lam * d0))
        sol = _run(session, what, warm=it > 1, allow_unbounded=True)
        response.dinkelbach_iterations = it
        if not sol.optimal:
            # a step below the best ratio may be unbounded although the best ratio is reached
            # at a finite plan: step to the ratio the ray tends to, N·r / D·r
            lam, ray_names = _ray_ratio(session, num, den, sign, lam, what)
            ray_lam = lam
            continue
        z = sol.x
        dz = max(float(den @ z + d0), 0.5 * DENOMINATOR_FLOOR)  # held by the floor row
        f_val = sign * (float(num @ z + n0) - lam * dz)
        lam_new = float(num @ z + n0) / dz
        if f_val <= tol * (1.0 + abs(lam) * dz) or abs(lam_new - lam) <= 1e-12 * (1 + abs(lam)):
            lam = lam_new
            break
        lam = lam_new
    else:
        msg = f"{what}: Dinkelbach iterations for {kpi.name} did not converge in {max_iter} steps"
        raise SolveError(msg, Status.ITERATION_LIMIT)
    if ray_lam is not None and sign * (ray_lam - lam) > 1e-9 * (1.0 + abs(ray_lam)):
        msg = (
            f"{what} is unbounded: the ratio {kpi.name} keeps improving towards "
            f"{ray_lam:.6g} along a ray ({ray_names}) and never reaches it"
        )
        raise SolveError(msg, Status.UNBOUNDED)
    response.score = sign * lam
    response.optimistic = z
    cost = sign * (num - lam * den)
    const = sign * (n0 - lam * d0)
    return cost, -const - tie_slack * (1.0 + abs(const))


def _ray_ratio(
    session: HighsSession, num: np.ndarray, den: np.ndarray, sign: float, lam: float, what: str
) -> tuple[float, str]:
    """The ratio ``N·r / D·r`` that the plans along the unbounded ray r tend to (better for
    the department than ``lam``); an error where the ratio itself grows without limit."""
    ray = session.ray_values()
    d_r = float(den @ ray) if ray is not None else 0.0
    if ray is None or d_r <= 1e-12 * (1.0 + float(np.abs(den) @ np.abs(ray))):
        names = ", ".join(session.names_along(ray, 5)) if ray is not None else "a ray"
        msg = f"{what} is unbounded: its ratio improves without limit along {names}"
        raise SolveError(msg, Status.UNBOUNDED)
    rho = float(num @ ray) / d_r
    if sign * (rho - lam) <= 0:  # no progress: only numerical noise can say so
        msg = f"{what}: a Dinkelbach step was unbounded without improving the ratio"
        raise SolveError(msg, Status.NUMERICAL)
    return rho, ", ".join(session.names_along(ray, 5))


def undefined_ratio_notes(lp: LinearProgram, plans: dict[str, np.ndarray | None]) -> list[str]:
    """One note per ratio KPI that is undefined (denominator 0) at a reported plan: such a
    value is shown as null, and the note says why."""
    notes = []
    for kpi in lp.kpis.values():
        if kpi.denominator is None:
            continue
        where = [label for label, x in plans.items() if x is not None and not kpi.defined_at(x)]
        if where:
            notes.append(
                f"{kpi.name} is undefined at {' and '.join(where)}: its denominator is 0 "
                "there (shown as null)"
            )
    return notes
