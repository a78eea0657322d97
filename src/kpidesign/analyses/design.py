"""KPI design: the scorecards under which the system optimum is each department's own best.

Target z* = C, the system optimum with allocations optimized.  For each department an
inverse LP (:mod:`inverse`) finds the weights over its menu of KPIs with the smallest
incentive gap, then the closest (L1) to its current weights.  The design is verified by
running the decentralized outcome under the designed scheme and the optimal allocations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.problem import Problem
from ..model.program import LinearProgram
from ..options import Options
from ..results import DesignResult, Verification, clean
from ..solver import HighsSession, Statistics
from ..spec.model import own_name
from ..types import Sense
from .alignment import alignment_score
from .common import (
    allocation_columns,
    feasible,
    returning_failures,
    run_info,
    share_of_optimum,
    system_optimum,
    worse_by,
)
from .dynamics import DynamicsOutcome, best_response_dynamics
from .inverse import InverseLP, local_dual_data
from .local import (
    Scorecard,
    can_move,
    free_columns,
    normalized_kpi_row,
    reference_scale,
    respond,
    scorecard,
)

__all__ = ["design_schemes"]

_GAP_TOL = 1e-7


def _tidy(weights: np.ndarray) -> np.ndarray:
    """Weights without solver dust, summing to 1."""
    weights = np.where(weights < 1e-9, 0.0, weights)
    return weights / weights.sum()


def _undesigned_row(
    department: str,
    names: list[str],
    current: dict[str, float],
    constant: list[str],
    gap: float = float("nan"),
) -> dict:
    """The design row of a department without designed weights: none could be designed
    (gap NaN), or none is needed because it cannot move any KPI of its menu (gap 0)."""
    total = sum(current.values())
    return {
        "department": department,
        "gap": gap,
        "gap_share": gap,
        "current_gap": gap,
        "exact": gap == 0.0,
        "weights": dict.fromkeys(names, 0.0),
        "current": {k: clean(w / total) for k, w in current.items() if w > 0} if total else {},
        "constant": constant,
    }


def _menu(problem: Problem, department: str) -> tuple[list[str], np.ndarray, list[str]]:
    """The KPIs design may weigh for ``department`` (its menu, then any current KPI off
    the menu, capped at 0), their caps, and the menu itself."""
    menu = list(problem.menus[department])
    extra = [k for k in problem.incentives[department] if k not in menu]
    caps = [problem.cap(department, k) for k in menu] + [0.0] * len(extra)
    return menu + extra, np.array(caps, dtype=float), menu


def _usable(
    session: HighsSession,
    d: str,
    names: list[str],
    caps: np.ndarray,
    offered: list[str],
    z: np.ndarray,
    notes: list[str],
) -> tuple[np.ndarray, list[str], list[str]]:
    """The caps with the KPIs design must not weigh set to 0: ratios undefined at z*
    (denominator 0 there: they cannot make z* a best choice) and KPIs of ``offered`` (those
    with a positive cap) the department cannot move at z* (a weight on them buys nothing and
    hides the real choice); those lists."""
    lp = session.lp
    assert lp is not None
    undefined = [k for k in names if not lp.kpis[k].defined_at(z)]
    if undefined:
        notes.append(
            f"{d}: {', '.join(undefined)} undefined at the target plan (denominator 0 "
            "there), so left out of its design menu"
        )
    constant = [
        k for k in offered if k not in undefined and not can_move(session, d, lp.kpis[k], z)
    ]
    if constant:
        notes.append(
            f"{d}: {', '.join(constant)} cannot be moved by {d} at the target plan (the "
            "same over all its feasible responses there), so left out of its design menu"
        )
    dropped = set(undefined) | set(constant)
    return np.where([k in dropped for k in names], 0.0, caps), undefined, constant


def _design_department(
    session: HighsSession,
    problem: Problem,
    d: str,
    z: np.ndarray,
    x_ref: np.ndarray,
    options: Options,
    stats: Statistics,
    notes: list[str],
) -> tuple[dict, dict[str, float]]:
    """The design row of department ``d`` and its designed weights (empty where none can
    be designed); notes are added to ``notes``."""
    current = problem.incentives[d]
    names, all_caps, menu = _menu(problem, d)
    offered = [k for k, cap in zip(names, all_caps, strict=True) if cap > 0]
    all_caps, undefined, constant = _usable(session, d, names, all_caps, offered, z, notes)
    if offered and set(offered) <= set(constant):
        notes.append(
            f"{d} cannot move any KPI of its menu at the target plan: every response is as "
            "good for it, so no scorecard steers it (its incentive gap is 0 whatever it is "
            "paid on); what it does is decided by the tie-break (see its pessimistic loss)"
        )
        return _undesigned_row(d, names, current, constant, gap=0.0), {}
    if all_caps.sum() < 1.0 - 1e-12:
        notes.append(
            f"{d}: no KPI of its menu is defined at the target plan, can be moved by {d} "
            "and can carry the remaining weight; give it one that does (e.g. a company KPI)"
        )
        return _undesigned_row(d, names, current, constant), {}
    lp = session.lp
    assert lp is not None
    n = lp.num_cols
    free = free_columns(lp, d)
    full_rows = [
        normalized_kpi_row(lp.kpis[k], n, x_ref, z)
        if k not in undefined
        else (np.zeros(n), 0.0, None)
        for k in names
    ]
    costs = np.array([row[free] for row, _, _ in full_rows])
    inverse = InverseLP(local_dual_data(lp, free, z), costs, all_caps, options, stats)
    w0 = np.array([current.get(k, 0.0) for k in names], dtype=float)
    w0 = w0 / w0.sum() if w0.sum() > 0 else w0
    what = f"the KPI design LP of {d}"
    weights, eps = _closest_weights(inverse, w0, what, d, notes)
    current_gap = inverse.gap_of(w0, what) if w0.sum() > 0 else float("nan")
    # the scorecard's value at z*, with ratios as ratios (their linearization is 0 there)
    score = sum(
        w * Sense(lp.kpis[k].sense).sign * lp.kpis[k].value(z) / reference_scale(lp.kpis[k], x_ref)
        for k, w in zip(names, weights, strict=True)
    )
    for _, _, note in full_rows:
        line = f"KPI design uses {note} at the target plan"
        if note and line not in notes:
            notes.append(line)
    row = {
        "department": d,
        "gap": clean(eps),
        "gap_share": clean(eps / abs(score)) if abs(score) > 1e-9 else float("nan"),
        "current_gap": clean(current_gap),
        "exact": eps <= _GAP_TOL * (1 + abs(score)),
        "weights": {k: clean(float(w)) for k, w in zip(names, weights, strict=True) if k in menu},
        "current": {k: clean(float(w)) for k, w in zip(names, w0, strict=True) if w > 0},
        "constant": constant,
    }
    return row, {k: float(w) for k, w in zip(names, weights, strict=True) if w > 0}


def _closest_weights(
    inverse: InverseLP, w0: np.ndarray, what: str, d: str, notes: list[str]
) -> tuple[np.ndarray, float]:
    """The weights of smallest gap closest (L1) to the current ones ``w0``, and their gap
    measured on their own (the closest-weights step must not trade accuracy for distance:
    where it did, numerically, the minimum-gap weights are taken)."""
    eps_min, w_min = inverse.min_gap(what)
    weights = _tidy(inverse.closest(eps_min * (1 + 1e-6) + 1e-10, w0, what))
    eps = inverse.gap_of(weights, what)
    if eps > eps_min + 1e-6 * (1.0 + eps_min):
        notes.append(
            f"{d}: the weights closest to the current scheme did not keep the minimum gap "
            f"({eps:.3g} > {eps_min:.3g}, numerically); the minimum-gap weights are reported"
        )
        weights = _tidy(w_min)
        eps = inverse.gap_of(weights, what)
    return weights, eps


def _verify(
    session: HighsSession,
    problem: Problem,
    designed: dict[str, dict[str, float]],
    z: np.ndarray,
    x_ref: np.ndarray,
    options: Options,
) -> tuple[DynamicsOutcome, DynamicsOutcome, str, dict[str, Scorecard], dict[str, Scorecard]]:
    """The status quo, and the decentralized outcome under the designed scheme and the
    optimal allocations (from the status quo where that is feasible, else from z*);
    where it started; the current and designed scorecards."""
    lp = session.lp
    assert lp is not None
    alloc_cols, _ = allocation_columns(lp)
    cards_now = {d: scorecard(lp, d, problem.incentives[d], x_ref) for d in lp.departments}
    status_quo = best_response_dynamics(session, cards_now, x_ref, options=options)
    cards = {d: scorecard(lp, d, designed[d], x_ref, linearize_at=z) for d in lp.departments}
    start = status_quo.x.copy() if status_quo.x is not None else z.copy()
    start[alloc_cols] = z[alloc_cols]
    start_from = "the status-quo outcome"
    if status_quo.x is None or not feasible(lp, start):
        start, start_from = (
            z.copy(),
            "the target plan z* (the status-quo outcome is infeasible under the optimal "
            "allocations)",
        )
    outcome = best_response_dynamics(session, cards, start, options=options)
    return status_quo, outcome, start_from, cards_now, cards


def _tie_checks(
    session: HighsSession,
    row: dict,
    card_now: Scorecard,
    card: Scorecard,
    z: np.ndarray,
    x_ref: np.ndarray,
    options: Options,
) -> None:
    """Add to a design row: is the department indifferent at z* under its designed
    scorecard (its pessimistic tie-break loses value), and the alignment scores."""
    lp = session.lp
    assert lp is not None
    resp = respond(session, card, z, tie_slack=options.tie_slack)
    opt = lp.objective.at(resp.optimistic)
    pes = lp.objective.at(resp.pessimistic) if resp.pessimistic is not None else -np.inf
    loss = worse_by(lp, pes, opt) * abs(opt) if np.isfinite(pes) else np.inf
    row["indifferent"] = bool(loss > 1e-6 * (1 + abs(opt)))
    row["pessimistic_loss"] = clean(loss)
    row["alignment_current"] = alignment_score(lp, card_now.department, card_now.weights, x_ref, z)
    row["alignment_designed"] = alignment_score(lp, card.department, card.weights, x_ref, z)


def _design(
    lp: LinearProgram, problem: Problem, options: Options, stats: Statistics
) -> DesignResult:
    """Designed weights per department, their incentive gaps, and a verification."""
    session = HighsSession(lp, options, stats=stats)
    _, baseline = allocation_columns(lp)
    c_sol = system_optimum(session, what=f"the system problem of {problem.label}")
    z = c_sol.x
    x_ref = system_optimum(
        session,
        allocations=baseline,
        what=f"the system problem of {problem.label} at baseline allocations",
    ).x
    rows, notes = [], []
    designed: dict[str, dict[str, float]] = {}
    for d in lp.departments:
        row, designed[d] = _design_department(session, problem, d, z, x_ref, options, stats, notes)
        rows.append(row)
    status_quo, outcome, start_from, cards_now, cards = _verify(
        session, problem, designed, z, x_ref, options
    )
    for row in rows:
        d = row["department"]
        _tie_checks(session, row, cards_now[d], cards[d], z, x_ref, options)
    for note in outcome.notes:
        if note not in notes:
            notes.append(note)
    return DesignResult(
        run=run_info(problem, lp.sense, options, stats),
        optimum=c_sol.objective,
        status_quo=status_quo.objective,
        weights=_weights_table(rows),
        departments=pd.DataFrame([{k: r[k] for k in _DEPARTMENT_COLUMNS} for r in rows]),
        approximate_ratio=tuple(
            d
            for d, weights in designed.items()
            if len(weights) > 1 and any(lp.kpis[k].is_ratio for k in weights)
        ),
        constant_kpis={
            r["department"]: tuple(own_name(k, r["department"]) for k in r["constant"])
            for r in rows
            if r["constant"]
        },
        verification=Verification(
            objective=clean(outcome.objective),
            share_of_optimum=clean(share_of_optimum(lp.sense, outcome.objective, c_sol.objective)),
            rounds=outcome.rounds,
            converged=outcome.converged,
            cycle=outcome.cycle,
            start=start_from,
        ),
        notes=notes,
    )


_DEPARTMENT_COLUMNS = (
    "department",
    "gap",
    "gap_share",
    "current_gap",
    "exact",
    "indifferent",
    "pessimistic_loss",
    "alignment_current",
    "alignment_designed",
)


def _weights_table(rows: list[dict]) -> pd.DataFrame:
    """department, kpi (a department's own by its own name), designed, current."""
    return pd.DataFrame(
        [
            {
                "department": r["department"],
                "kpi": own_name(k, r["department"]),
                "designed": r["weights"].get(k, 0.0),
                "current": r["current"].get(k, 0.0),
            }
            for r in rows
            for k in dict.fromkeys([*r["weights"], *r["current"]])
        ],
        columns=["department", "kpi", "designed", "current"],
    )


#: KPI design: ``design_schemes(lp, problem, options)``; a problem without an optimum is
#: returned with its status and diagnosis, not raised.
design_schemes = returning_failures(_design, DesignResult.failed)
