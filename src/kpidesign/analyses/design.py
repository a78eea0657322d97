"""KPI design: the scorecards under which the system optimum is each department's own best.

Target z* = C, the system optimum with allocations optimized.  For each department an
inverse LP (:mod:`inverse`) finds the weights over its menu of KPIs with the smallest
incentive gap, then the closest (L1) to its current weights.  The design is verified by
running the decentralized outcome under the designed scheme and the optimal allocations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..compile import LinearProgram
from ..errors import SpecError
from ..highs import HighsSession, SolverOptions
from ..results import DesignResult, clean
from ..spec import ModelSpec
from .compare import current_scheme, share_of_optimum, worse_by
from .decentralized import allocation_columns, best_response_dynamics, system_optimum
from .inverse import InverseLP, local_dual_data
from .local import (
    Scorecard,
    free_columns,
    normalized_kpi_row,
    reference_scale,
    respond,
    scorecard,
)

__all__ = ["alignment_score", "design_schemes"]

_GAP_TOL = 1e-7


def _menu(spec: ModelSpec, department: str) -> tuple[list[str], np.ndarray]:
    d = spec.departments[department]
    menu = list(d.design_menu)
    caps = np.array([d.max_weight.get(k, 1.0) for k in menu], dtype=float)
    return menu, caps


def alignment_score(lp: LinearProgram, card: Scorecard, x_lin: np.ndarray) -> float:
    """Baker's (2002) alignment of a scorecard: the cosine between the marginal values the
    department's score and the company objective put on what it can move (its own decisions
    and the shared state), i.e. their gradients over its local problem's columns.

    1 = the scorecard values every move as the company does; 0 = unrelated; negative =
    opposed.  A ratio scorecard enters through its gradient at ``x_lin`` (proportional to
    its Dinkelbach linearization there).  NaN for a department with no incentive.
    """
    if not card.weights:
        return float("nan")
    n = lp.num_cols
    free = free_columns(lp, card.department)
    if card.ratio is not None:
        kpi = card.ratio
        assert kpi.denominator is not None
        r = kpi.value(x_lin)
        score = card.ratio_sign * (kpi.numerator.dense(n) - r * kpi.denominator.dense(n))
    else:
        assert card.cost is not None
        score = card.cost
    system = lp.objective.dense(n) * (1.0 if lp.sense == "max" else -1.0)
    a, b = score[free], system[free]
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na <= 1e-12 or nb <= 1e-12:
        return float("nan")
    return float(np.clip(a @ b / (na * nb), -1.0, 1.0))


def _tidy(weights: np.ndarray) -> np.ndarray:
    """Weights without solver dust, summing to 1."""
    weights = np.where(weights < 1e-9, 0.0, weights)
    return weights / weights.sum()


def _undesigned_row(department: str, names: list[str], current: dict[str, float]) -> dict:
    """The design row of a department for which no scorecard could be designed."""
    total = sum(current.values())
    return {
        "department": department,
        "gap": float("nan"),
        "gap_share": float("nan"),
        "current_gap": float("nan"),
        "exact": False,
        "weights": dict.fromkeys(names, 0.0),
        "current": {k: clean(w / total) for k, w in current.items() if w > 0} if total else {},
    }


def _own_name(name: str, department: str) -> str:
    """A department's own KPI by its own name (``volume``); company KPIs as they are."""
    return name[len(department) + 1 :] if name.startswith(f"{department}.") else name


def _feasible(lp: LinearProgram, x: np.ndarray, tol: float = 1e-6) -> bool:
    act = lp.A @ x
    scale = tol * (1.0 + np.abs(act))
    rows_ok = np.all(act >= lp.row_lower - scale) and np.all(act <= lp.row_upper + scale)
    cscale = tol * (1.0 + np.abs(x))
    cols_ok = np.all(x >= lp.col_lower - cscale) and np.all(x <= lp.col_upper + cscale)
    return bool(rows_ok and cols_ok)


def design_schemes(
    lp: LinearProgram,
    spec: ModelSpec,
    *,
    tol: float = 1e-6,
    max_rounds: int = 50,
    options: SolverOptions | None = None,
) -> DesignResult:
    """Designed weights per department, their incentive gaps, and a verification."""
    session = HighsSession(lp, options)
    current = current_scheme(spec)
    alloc_cols, baseline = allocation_columns(lp)
    c_sol = system_optimum(session, what=f"the system problem of {spec.label}")
    z = c_sol.x
    x_ref = system_optimum(
        session,
        allocations=baseline,
        what=f"the system problem of {spec.label} at baseline allocations",
    ).x
    n = lp.num_cols
    rows, notes = [], []
    designed: dict[str, dict[str, float]] = {}
    for d in lp.departments:
        menu, caps = _menu(spec, d)
        extra = [k for k in current[d] if k not in menu]
        names = menu + extra
        all_caps = np.concatenate([caps, np.zeros(len(extra))])
        if caps.sum() < 1.0 - 1e-12:
            where = spec.source.locate(("departments", d, "design"))
            what = (
                "its KPI menu is empty"
                if not menu
                else f"the caps of its KPI menu sum to {caps.sum():g} < 1"
            )
            raise SpecError.at(where, f"{what}: no scorecard with weights summing to 1 exists")
        free = free_columns(lp, d)
        # a ratio undefined at z* (denominator 0 there) cannot make z* a best choice: it
        # stays off the menu, and a department left with nothing defined gets no design
        undefined = [k for k in names if not lp.kpis[k].defined_at(z)]
        if undefined:
            all_caps = np.where([k in undefined for k in names], 0.0, all_caps)
            notes.append(
                f"{d}: {', '.join(undefined)} undefined at the target plan (denominator 0 "
                "there), so left out of its design menu"
            )
        if all_caps.sum() < 1.0 - 1e-12:
            notes.append(
                f"{d}: no KPI of its menu is defined at the target plan and can carry the "
                "remaining weight; give it one that stays defined there (e.g. a company KPI)"
            )
            designed[d] = {}
            rows.append(_undesigned_row(d, names, current[d]))
            continue
        data = local_dual_data(lp, free, z)
        full_rows = [
            normalized_kpi_row(lp.kpis[k], n, x_ref, z)
            if k not in undefined
            else (np.zeros(n), 0.0, None)
            for k in names
        ]
        costs = np.array([row[free] for row, _, _ in full_rows])
        inverse = InverseLP(data, costs, all_caps)
        what = f"the KPI design LP of {d}"
        eps_min, w_min = inverse.min_gap(what)
        w0 = np.array([current[d].get(k, 0.0) for k in names], dtype=float)
        w0 = w0 / w0.sum() if w0.sum() > 0 else w0
        weights = _tidy(inverse.closest(eps_min * (1 + 1e-6) + 1e-10, w0, what))
        # report the gap of the weights handed over, measured on their own; the closest-
        # weights step must not have traded accuracy for distance
        eps = inverse.gap_of(weights, what)
        if eps > eps_min + 1e-6 * (1.0 + eps_min):
            notes.append(
                f"{d}: the weights closest to the current scheme did not keep the minimum gap "
                f"({eps:.3g} > {eps_min:.3g}, numerically); the minimum-gap weights are reported"
            )
            weights = _tidy(w_min)
            eps = inverse.gap_of(weights, what)
        current_gap = inverse.gap_of(w0, what) if w0.sum() > 0 else float("nan")
        # the scorecard's value at z*, with ratios as ratios (their linearization is 0 there)
        score = sum(
            w
            * (1.0 if lp.kpis[k].sense == "max" else -1.0)
            * lp.kpis[k].value(z)
            / reference_scale(lp.kpis[k], x_ref)
            for k, w in zip(names, weights, strict=True)
        )
        designed[d] = {k: float(w) for k, w in zip(names, weights, strict=True) if w > 0}
        for _, _, note in full_rows:
            if note and note not in notes:
                notes.append(f"KPI design uses {note} at the target plan")
        rows.append(
            {
                "department": d,
                "gap": clean(eps),
                "gap_share": clean(eps / abs(score)) if abs(score) > 1e-9 else float("nan"),
                "current_gap": clean(current_gap),
                "exact": eps <= _GAP_TOL * (1 + abs(score)),
                "weights": {
                    k: clean(float(w)) for k, w in zip(names, weights, strict=True) if k in menu
                },
                "current": {k: clean(float(w)) for k, w in zip(names, w0, strict=True) if w > 0},
            }
        )

    # verification: decentralized outcome under the designed scheme and optimal allocations
    alloc_opt = z[alloc_cols]
    cards_now = {d: scorecard(lp, d, current[d], x_ref) for d in lp.departments}
    status_quo = best_response_dynamics(session, cards_now, x_ref, tol=tol, max_rounds=max_rounds)
    cards = {d: scorecard(lp, d, designed[d], x_ref, linearize_at=z) for d in lp.departments}
    start = status_quo.x.copy() if status_quo.x is not None else z.copy()
    start[alloc_cols] = alloc_opt
    start_from = "the status-quo outcome"
    if status_quo.x is None or not _feasible(lp, start):
        start, start_from = (
            z.copy(),
            "the target plan z* (the status-quo outcome is infeasible under the optimal "
            "allocations)",
        )
    outcome = best_response_dynamics(session, cards, start, tol=tol, max_rounds=max_rounds)
    verification = outcome.objective
    share = share_of_optimum(lp.sense, verification, c_sol.objective)

    for row in rows:
        d = row["department"]
        resp = respond(session, cards[d], z)
        opt = lp.objective.at(resp.optimistic)
        pes = lp.objective.at(resp.pessimistic) if resp.pessimistic is not None else -np.inf
        loss = worse_by(lp, pes, opt) * abs(opt) if np.isfinite(pes) else np.inf
        row["indifferent"] = bool(loss > 1e-6 * (1 + abs(opt)))
        row["pessimistic_loss"] = clean(loss)
        row["alignment_current"] = alignment_score(lp, cards_now[d], z)
        row["alignment_designed"] = alignment_score(lp, cards[d], z)
    for outcome_note in outcome.notes:
        if outcome_note not in notes:
            notes.append(outcome_note)
    table = pd.DataFrame(
        [
            {
                "department": r["department"],
                "kpi": _own_name(k, r["department"]),
                "designed": r["weights"].get(k, 0.0),
                "current": r["current"].get(k, 0.0),
            }
            for r in rows
            for k in dict.fromkeys([*r["weights"], *r["current"]])
        ],
        columns=["department", "kpi", "designed", "current"],
    )
    departments = pd.DataFrame(
        [
            {
                k: r[k]
                for k in (
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
            }
            for r in rows
        ]
    )
    return DesignResult(
        model=spec.name,
        scenario=spec.scenario,
        variant=spec.variant,
        sense=lp.sense,
        optimum=c_sol.objective,
        status_quo=status_quo.objective,
        weights=table,
        departments=departments,
        verification={
            "objective": clean(verification),
            "share_of_optimum": clean(share),
            "rounds": outcome.rounds,
            "converged": outcome.converged,
            "cycle": outcome.cycle,
            "start": start_from,
        },
        notes=notes,
    )
