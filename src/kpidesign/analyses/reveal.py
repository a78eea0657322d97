"""``reveal``: which incentives a department really acts on, read from what it did.

Inverse optimization (Ahuja & Orlin 2001; Chan, Lee & Terekhov 2019).  For department d
the observed plan x̂ plays the part design's target plays: with everything else as
observed, the inverse LP of design (:class:`~.inverse.InverseLP`) finds the weights w over
d's KPIs (its design menu and its official KPIs, each divided by its scale as every
scheme is) under which x̂ is d's best choice, or closest to it: the smallest **gap**
``max over d's choices of score_w(x) − score_w(x̂)``, the absolute duality gap.

- **The observed plan.** The actuals (a plan file) fixed and the rest completed by the
  system problem, at the allocations in force (the file's baselines): the re-plan of
  ``monitor``.  Actuals that no plan can hold together (measurement noise) are first
  projected onto the feasible plans (L1, :func:`~.start.today_start`); each department's
  share of that distance is reported.  d moves the columns of its own that the actuals
  give, and the shared state; the rest stays as observed (or completed).
- **Fit** is Chan et al.'s coefficient of complementarity ρ for the absolute duality gap,
  with the trivial models those the weights can reach: ``ρ = 1 − ε*/ḡ``, ε* the smallest
  gap and ḡ the mean gap of the single-KPI scorecards (the vertices of the weight
  simplex).  Since the gap is convex in w, ε* ≤ min ḡ_k ≤ ḡ: ρ lies in [0, 1], 1 exactly
  when x̂ is a best choice under some weights.  The official scheme's fit is
  ``1 − gap(official)/ḡ``, below 0 where it explains the plan worse than the average
  single KPI.
- **Which weights.** One plan rarely identifies one weight vector: every KPI gets the
  interval of weights that fit as well (gap at most ε*, within 1e-9 relative), and the
  point reported is the one of them closest (L1) to the official scheme, so a department
  that acts on its official scheme is reported with it.
- KPIs the department cannot move (constant over its choices) and ratios undefined at x̂
  are left out (a weight on a constant KPI fits any plan), and so is the official scheme's
  weight on them.  A ratio is linearized at x̂ (Dinkelbach): whether x̂ is a best choice
  under a ratio alone is exact, but the sizes of gaps with a ratio weighed, and so the
  fits, are first-order.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..errors import SolveError
from ..model.problem import Problem, TodayPlan
from ..model.program import SHARED, LinearProgram
from ..options import Options
from ..results import clean
from ..results.reveal import DepartmentFit, RevealResult
from ..solver import HighsSession, Statistics
from .common import allocation_columns, run_info
from .inverse import InverseLP, local_dual_data
from .local import can_move, normalized_kpi_row
from .scales import Scales, measure_scales
from .start import today_start
from .target import reference_plan

__all__ = ["reveal_weights"]

#: the gap within which weights fit "as well" as the best (relative, plus an absolute floor)
_AS_WELL = 1e-9


def _rounded(weight: float) -> float:
    """A weight to 6 decimals: the solver's tolerances (1e-7) leave dust beyond them."""
    return clean(round(float(weight), 6))


def _kpis(problem: Problem, d: str) -> list[str]:
    """The KPIs revealed for ``d``: its design menu, then its official KPIs not on it."""
    menu = list(problem.menus[d])
    return menu + [k for k in problem.incentives[d] if k not in menu]


def _department(
    session: HighsSession,
    problem: Problem,
    d: str,
    x: np.ndarray,
    given: np.ndarray,
    scales: Scales,
    options: Options,
    stats: Statistics,
) -> tuple[DepartmentFit, list[str]]:
    """The revealed weights of ``d`` at the observed plan ``x`` (``given``: the columns
    the actuals give), and notes."""
    lp = session.lp
    assert lp is not None
    code = lp.departments.index(d)
    own = given[lp.col_owner[given] == code]
    free = np.union1d(own, np.flatnonzero(lp.col_owner == SHARED))
    names = _kpis(problem, d)
    notes: list[str] = []
    undefined = [k for k in names if not lp.kpis[k].defined_at(x)]
    constant = [
        k for k in names if k not in undefined and not can_move(session, d, lp.kpis[k], x, free)
    ]
    if undefined:
        notes.append(f"{d}: {', '.join(undefined)} undefined at the observed plan, left out")
    if constant:
        notes.append(
            f"{d}: {', '.join(constant)} cannot be moved by {d} at the observed plan, left "
            "out (a weight on a KPI that does not move fits any plan)"
        )
    usable = [k for k in names if k not in undefined and k not in constant]
    official = {k: w for k, w in problem.incentives[d].items() if w > 0}
    total = sum(official.values())
    w0 = np.array([official.get(k, 0.0) / total if total else 0.0 for k in names])
    if not usable:  # every scheme's gap is 0: each fits, none is revealed
        notes.append(
            f"{d} cannot move any KPI of its menu given what the others did: its plan is "
            "its best choice under every scheme (fit 1), so its actuals reveal nothing"
        )
        return DepartmentFit.moving_nothing(d, names, w0, official, int(own.size)), notes
    # the official scheme as the fit sees it: its weight on KPIs left out dropped (a
    # constant KPI adds nothing to any gap, an undefined ratio has none)
    counted = np.array([w if k in usable else 0.0 for k, w in zip(names, w0, strict=True)])
    if total and counted.sum() < 1.0 - 1e-12:
        dropped = [k for k in official if k not in usable]
        notes.append(
            f"{d}: its official scheme's weight on {', '.join(dropped)} (left out) is not "
            "counted in its fit"
            + ("" if counted.sum() > 0 else ": no KPI it is paid on is left, so no official fit")
        )
    official_usable = counted / counted.sum() if counted.sum() > 0 else None
    n = lp.num_cols
    rows = [
        normalized_kpi_row(lp.kpis[k], n, scales, x)
        if k not in undefined
        else (np.zeros(n), 0, None)
        for k in names
    ]
    ratios = [k for k in usable if lp.kpis[k].is_ratio]
    if ratios and len(usable) > 1:
        notes.append(
            f"{d}: ratio KPI(s) {', '.join(ratios)} linearized at the observed plan: its fit "
            "with other KPIs weighted is first-order"
        )
    data = local_dual_data(lp, free, x)
    costs = np.array([row[free] for row, _, _ in rows])
    caps = np.array([1.0 if k in usable else 0.0 for k in names])
    what = f"the inverse LP of {d} at the observed plan"
    inverse = InverseLP(data, costs, caps, options, stats)
    eps, _ = inverse.min_gap(what)
    allow = eps * (1.0 + _AS_WELL) + 1e-10
    weights = inverse.closest(allow, w0 if official_usable is None else official_usable, what)
    ranges = {k: inverse.weight_range(i, allow, what) for i, k in enumerate(names) if k in usable}
    # the trivial models: each single KPI it can move, alone
    singles = [
        inverse.gap_of(np.eye(len(names))[i], what) for i, k in enumerate(names) if k in usable
    ]
    baseline = float(np.mean(singles))
    fit = 1.0 - eps / baseline if baseline > 1e-12 else 1.0
    official_gap = official_fit = float("nan")
    if official_usable is not None:
        official_gap = inverse.gap_of(official_usable, what)
        official_fit = 1.0 - official_gap / baseline if baseline > 1e-12 else 1.0
    return (
        DepartmentFit(
            department=d,
            kpis=names,
            weights={k: _rounded(w) for k, w in zip(names, weights, strict=True)},
            ranges={k: (_rounded(lo), _rounded(hi)) for k, (lo, hi) in ranges.items()},
            gap=clean(eps),
            baseline_gap=clean(baseline),
            fit=clean(min(1.0, max(0.0, fit))),
            official={k: clean(w / total) for k, w in official.items()},
            official_gap=clean(official_gap),
            official_fit=clean(official_fit),
            left_out=undefined + constant,
            given=int(own.size),
        ),
        notes,
    )


def reveal_weights(
    lp: LinearProgram,
    problem: Problem,
    actuals: TodayPlan,
    options: Options | None = None,
    *,
    departments: list[str] | None = None,
) -> RevealResult:
    """Each department's revealed weights at the observed plan (``actuals`` completed by
    the re-plan), their fit and intervals, beside its official scheme's fit (see the
    module's definitions)."""
    options = options or Options()
    stats = Statistics()
    session = HighsSession(lp, options, stats=stats)
    alloc_cols, baseline = allocation_columns(lp)
    b = reference_plan(session, baseline, options, stats)
    names = [k for d in lp.departments for k in _kpis(problem, d)]
    scales = measure_scales(session, b.x, names)
    session.set_col_bounds(np.arange(lp.num_cols), lp.col_lower, lp.col_upper)
    session.fix_cols(alloc_cols, baseline)
    start = today_start(session, dataclasses.replace(problem, today=actuals), options, stats)
    if start is None:  # pragma: no cover - the problem names the actuals
        msg = "no actuals"
        raise SolveError(msg)
    x = start.x
    fits, notes = {}, [start.description.replace("today's plan", "the actuals", 1)]
    for d in departments or list(lp.departments):
        if not np.any(lp.col_owner[actuals.columns] == lp.departments.index(d)):
            notes.append(f"{d}: the actuals give none of its variables; nothing to reveal")
            continue
        fit, more = _department(session, problem, d, x, actuals.columns, scales, options, stats)
        mine = actuals.columns[lp.col_owner[actuals.columns] == lp.departments.index(d)]
        distance = float(np.abs(x[mine] - actuals.values[np.isin(actuals.columns, mine)]).sum())
        fits[d] = dataclasses.replace(fit, distance=clean(distance))
        notes.extend(more)
    return RevealResult(
        run=run_info(problem, lp.sense, options, stats),
        departments=fits,
        projected=start.projected,
        completed=start.completed,
        notes=notes,
    )
