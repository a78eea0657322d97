"""KPI design: the scorecards under which the system optimum is each department's own best.

The target z* is the system optimum chosen on purpose (:mod:`.target`): the optimal plan
closest to the reference plan B, with tight allocations.  For each department an inverse LP
(:mod:`.inverse`) finds the smallest incentive gap over weights on its menu of KPIs.  Where
the gap is 0, weights are taken inside the exact set with a margin (the weight tolerance
LP: the widest tolerance, then, within half of it, the weights closest to the current
ones), not on its boundary; elsewhere the minimum-gap weights closest to the current ones.
Optionally sparse (``max_kpis``) and rounded (``step``): the practical scheme is the one
measured, verified and written.  Verification (:mod:`.verify`) starts where today's schemes
take the organization under the new allocations and reports the worst computed path.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SolveError
from ..model.problem import Problem
from ..model.program import LinearProgram
from ..options import Options
from ..results import DesignResult, clean
from ..solver import HighsSession, Statistics
from ..spec.model import own_name
from ..types import Sense
from .alignment import alignment_score
from .common import (
    allocation_columns,
    returning_failures,
    run_info,
)
from .dynamics import best_response_dynamics
from .inverse import InverseLP, ToleranceLP, local_dual_data, margin_of
from .local import (
    Scorecard,
    can_move,
    free_columns,
    kpi_values,
    normalized_kpi_row,
    respond,
    scorecard,
    scorecards,
)
from .prices import price_scorecards, resolve_prices, transfer_prices
from .scales import Scales, exchange_rates, measure_scales
from .target import chosen_target, system_and_reference
from .verify import verify_scheme

__all__ = ["Practice", "design_schemes", "round_weights"]

_GAP_TOL = 1e-7


def _tidy(weights: np.ndarray) -> np.ndarray:
    """Weights without solver dust, summing to 1."""
    weights = np.where(weights < 1e-9, 0.0, weights)
    return weights / weights.sum()


@dataclass(frozen=True)
class Practice:
    """What makes a scorecard practical: at most ``max_kpis`` KPIs with a positive weight,
    and weights in multiples of ``step`` (None: no limit, no rounding)."""

    max_kpis: int | None = None
    step: float | None = None
    #: the lever verified, headlined and written: ``weights`` (KPI scorecards) or
    #: ``prices`` (profit centres at transfer prices)
    lever: str = "weights"


def round_weights(weights: np.ndarray, step: float, caps: np.ndarray) -> np.ndarray:
    """``weights`` (summing to 1) in multiples of ``step`` summing to 1, by largest
    remainder: each weight rounded down, then the units left go to the largest remainders
    (ties to the earlier KPI) where the cap allows.  A KPI without weight gets none."""
    units = round(1.0 / step)
    scaled = weights * units
    out = np.floor(scaled + 1e-9)
    cap_units = np.floor(caps * units + 1e-9)
    out = np.minimum(out, cap_units)
    left = units - int(out.sum())
    order = sorted(range(weights.size), key=lambda k: (-(scaled[k] - out[k]), k))
    for k in order * units:
        if left <= 0:
            break
        if weights[k] > 0 and out[k] < cap_units[k]:
            out[k] += 1
            left -= 1
    return out / units


def _undesigned_row(
    department: str,
    names: list[str],
    current: dict[str, float],
    constant: list[str],
    gap: float = float("nan"),
) -> dict:
    """The design row of a department without designed weights: none could be designed
    (gap NaN), or none is needed because it cannot move any KPI of its menu (gap 0).  It
    keeps its current scheme, in the verification and in the scheme file."""
    total = sum(current.values())
    kept = {k: clean(w / total) for k, w in current.items() if w > 0} if total else {}
    return {
        "department": department,
        "gap": gap,
        "gap_share": gap,
        "current_gap": gap,
        "exact": gap == 0.0,
        "margin": float("nan"),
        "weight_tolerance": float("nan"),
        "widest_tolerance": float("nan"),
        "certified": True,
        "cuts": 0,
        "weights": {k: kept.get(k, 0.0) for k in dict.fromkeys([*names, *kept])},
        "current": kept,
        "constant": constant,
        "kept": True,
    }


def _scaled_kpis(problem: Problem) -> list[str]:
    """The KPIs design divides by a scale: every department's menu and current scheme."""
    menus = (k for d in problem.menus for k in _menu(problem, d)[0])
    current = (k for weights in problem.incentives.values() for k in weights)
    return list(dict.fromkeys([*menus, *current]))


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


class _DepartmentDesign:
    """The inverse LP, the weight tolerance LP and the margin of one department at z*."""

    def __init__(
        self,
        session: HighsSession,
        d: str,
        names: list[str],
        caps: np.ndarray,
        undefined: list[str],
        z: np.ndarray,
        scales: Scales,
        options: Options,
        stats: Statistics,
    ):
        lp = session.lp
        assert lp is not None
        n = lp.num_cols
        self.what = f"the KPI design LP of {d}"
        self.options, self.stats = options, stats
        self.data = local_dual_data(lp, free_columns(lp, d), z)
        full_rows = [
            normalized_kpi_row(lp.kpis[k], n, scales, z)
            if k not in undefined
            else (np.zeros(n), 0.0, None)
            for k in names
        ]
        self.linearized = [note for _, _, note in full_rows if note]
        self.costs = np.array([row[self.data.free] for row, _, _ in full_rows])
        self.caps = caps
        self.inverse = InverseLP(self.data, self.costs, caps, options, stats)
        self.cuts: list[np.ndarray] = []
        # the scorecard's value at z* per unit weight, ratios as ratios
        self.values = np.array(
            [
                Sense(lp.kpis[k].sense).sign * lp.kpis[k].value(z) / scales.of(lp.kpis[k])
                if k not in undefined
                else 0.0
                for k in names
            ]
        )

    def exact(self, weights: np.ndarray, eps: float) -> bool:
        """Is a gap of ``eps`` for ``weights`` 0 within the design's tolerance?"""
        return eps <= _GAP_TOL * (1.0 + abs(float(weights @ self.values)))

    def tolerance_lp(self, caps: np.ndarray, eps: float) -> ToleranceLP:
        """The weight tolerance LP over ``caps``, exact meaning a gap of at most ``eps``."""
        allow = eps * (1.0 + 1e-6) + 1e-10
        lp = ToleranceLP(self.data, self.costs, caps, allow, self.options, self.stats)
        for cut in self.cuts:
            lp.add_cut(cut)
        return lp

    def add_cut(self, coefficients: np.ndarray) -> None:
        """A response that beats z* under some weights: ``w·coefficients <= ε`` from now on,
        in the inverse LP and in every weight tolerance LP built after."""
        self.cuts.append(coefficients)
        self.inverse.add_cut(coefficients)

    def weights(
        self, w0: np.ndarray, caps: np.ndarray, d: str, notes: list[str]
    ) -> tuple[np.ndarray, float, float]:
        """The designed weights under ``caps``, their gap and the widest tolerance of the
        exact set (0 where there is no exact weight or the exact set has no interior)."""
        self.inverse.set_caps(caps)
        weights, eps = _closest_weights(self.inverse, w0, self.what, d, notes)
        if not self.exact(weights, eps):
            return weights, eps, 0.0
        tolerance = self.tolerance_lp(caps, eps)
        widest, _ = tolerance.widest(self.what)
        if widest <= 1e-9:
            return weights, eps, 0.0
        robust = _tidy(tolerance.closest(0.5 * widest, w0, self.what))
        robust_eps = self.inverse.gap_of(robust, self.what)
        if not self.exact(robust, robust_eps):  # numerically only: keep the exact weights
            return weights, eps, 0.0
        return robust, robust_eps, widest

    def measure(self, weights: np.ndarray, *, margin: bool = True) -> tuple[float, float, float]:
        """The gap of ``weights``, their tolerance and their margin (0, 0 where inexact; the
        margin 0 also without ``margin``)."""
        self.inverse.set_caps(self.caps)
        eps = self.inverse.gap_of(weights, self.what)
        if not self.exact(weights, eps):
            return eps, 0.0, 0.0
        tolerance = self.tolerance_lp(self.caps, eps).tolerance_of(weights, self.what)
        if not margin:
            return eps, tolerance, 0.0
        allow = eps * (1.0 + 1e-6) + 1e-10
        return eps, tolerance, margin_of(self.data, self.costs, weights, allow)


def _design_department(
    session: HighsSession,
    problem: Problem,
    d: str,
    z: np.ndarray,
    scales: Scales,
    options: Options,
    stats: Statistics,
    notes: list[str],
    practice: Practice,
) -> tuple[dict, dict[str, float]]:
    """The design row of department ``d`` and the weights it is verified with (its current
    ones where none are designed); notes are added to ``notes``."""
    current = problem.incentives[d]
    names, all_caps, menu = _menu(problem, d)
    offered = [k for k, cap in zip(names, all_caps, strict=True) if cap > 0]
    all_caps, undefined, constant = _usable(session, d, names, all_caps, offered, z, notes)
    if offered and set(offered) <= set(constant):
        notes.append(
            f"{d} cannot move any KPI of its menu at the target plan: every response is as "
            "good for it, so no scorecard steers it (its incentive gap is 0 whatever it is "
            "paid on); it keeps its current scheme, and what it does is decided by the "
            "tie-break (see its pessimistic loss)"
        )
        return _undesigned_row(d, names, current, constant, gap=0.0), dict(current)
    if all_caps.sum() < 1.0 - 1e-12:
        notes.append(
            f"{d}: no KPI of its menu is defined at the target plan, can be moved by {d} "
            "and can carry the remaining weight; give it one that does (e.g. a company KPI); "
            "it keeps its current scheme"
        )
        return _undesigned_row(d, names, current, constant), dict(current)
    design = _DepartmentDesign(session, d, names, all_caps, undefined, z, scales, options, stats)
    for note in design.linearized:
        line = (
            f"the KPI design LP uses {note} at the target plan; each designed scorecard is "
            "then checked against the true ratio, and a better response becomes a cut"
        )
        if line not in notes:
            notes.append(line)
    w0 = np.array([current.get(k, 0.0) for k in names], dtype=float)
    w0 = w0 / w0.sum() if w0.sum() > 0 else w0
    certified = True
    for _ in range(_MAX_CUTS):
        weights, widest = _practical(design, w0, all_caps, practice, d, notes)
        cut, certified = _improving_response(session, d, names, weights, z, scales, options)
        if cut is None:
            break
        design.add_cut(cut)
    else:
        certified = False
        notes.append(
            f"{d}: after {_MAX_CUTS} cuts a response still beats the target plan under its "
            "true scorecard (a ratio mixed with other KPIs); its design is approximate"
        )
    current_gap = design.inverse.gap_of(w0, design.what) if w0.sum() > 0 else float("nan")
    eps, tolerance, margin = design.measure(weights)
    score = float(weights @ design.values)
    row = {
        "department": d,
        "gap": clean(eps),
        "gap_share": clean(eps / abs(score)) if abs(score) > 1e-9 else float("nan"),
        "current_gap": clean(current_gap),
        "exact": design.exact(weights, eps) and certified,
        "certified": certified,
        "cuts": len(design.cuts),
        "margin": clean(margin),
        "weight_tolerance": clean(tolerance),
        "widest_tolerance": clean(widest),
        "weights": {k: clean(float(w)) for k, w in zip(names, weights, strict=True) if k in menu},
        "current": {k: clean(float(w)) for k, w in zip(names, w0, strict=True) if w > 0},
        "constant": constant,
        "kept": False,
    }
    return row, {k: float(w) for k, w in zip(names, weights, strict=True) if w > 0}


#: at most this many rounded candidates are measured (2^6: six weights rounded up or down)
_MAX_ROUNDINGS = 64


def _rounded(
    design: _DepartmentDesign, weights: np.ndarray, step: float, caps: np.ndarray
) -> np.ndarray:
    """``weights`` in multiples of ``step``: of the ways to round each positive weight down
    or up that sum to 1 within the caps, the one with the smallest gap (an exact one where
    any is), then the widest tolerance, then the closest to ``weights``; by largest
    remainder (:func:`round_weights`) where there are too many ways to measure."""
    units = round(1.0 / step)
    lower = np.floor(weights * units + 1e-9)
    positive = np.flatnonzero(weights * units - lower > 1e-9)
    if 2**positive.size > _MAX_ROUNDINGS:
        return round_weights(weights, step, caps)
    cap_units = np.floor(caps * units + 1e-9)
    candidates = []
    for bits in itertools.product((0.0, 1.0), repeat=positive.size):
        q = lower.copy()
        q[positive] += bits
        if q.sum() == units and np.all(q <= cap_units):
            candidates.append(q / units)
    if not candidates:
        return round_weights(weights, step, caps)

    def rank(w: np.ndarray) -> tuple[bool, float, float, float]:
        eps, tolerance, _ = design.measure(w, margin=False)
        exact = design.exact(w, eps)
        return (not exact, 0.0 if exact else eps, -tolerance, float(np.abs(w - weights).sum()))

    return min(candidates, key=rank)


#: constraint generation stops after this many cuts per department
_MAX_CUTS = 20


def _practical(
    design: _DepartmentDesign,
    w0: np.ndarray,
    caps: np.ndarray,
    practice: Practice,
    d: str,
    notes: list[str],
) -> tuple[np.ndarray, float]:
    """The designed weights made practical (sparse, rounded), and the widest tolerance."""
    weights, _, widest = design.weights(w0, caps, d, notes)
    if practice.max_kpis is not None and np.count_nonzero(weights) > practice.max_kpis:
        weights, widest = _sparse(design, weights, w0, caps, practice.max_kpis, d, notes)
    if practice.step is not None:
        weights = _rounded(design, weights, practice.step, caps)
    return weights, widest


def _improving_response(
    session: HighsSession,
    d: str,
    names: list[str],
    weights: np.ndarray,
    z: np.ndarray,
    scales: Scales,
    options: Options,
) -> tuple[np.ndarray | None, bool]:
    """For a scorecard that mixes a ratio with other KPIs (which the inverse LP sees only
    through the ratio's linearization at z*): the cut of a response that beats z* under
    the true scorecard, or None where none does; and whether that was certified."""
    lp = session.lp
    assert lp is not None
    active = {k: float(w) for k, w in zip(names, weights, strict=True) if w > 0}
    card = scorecard(lp, d, active, scales)
    if card.mixed is None:
        return None, card.exact
    resp = respond(
        session, card, z, optimistic=False, pessimistic=False, tie_slack=options.tie_slack
    )
    here = card.value(z)
    if resp.score <= here + _GAP_TOL * (1.0 + abs(here)):
        return None, resp.certified
    after = kpi_values(lp, names, resp.optimistic, scales)
    before = kpi_values(lp, names, z, scales)
    cut = np.nan_to_num(after - before, nan=0.0, posinf=0.0, neginf=0.0)
    return cut, resp.certified


def _sparse(
    design: _DepartmentDesign,
    weights: np.ndarray,
    w0: np.ndarray,
    caps: np.ndarray,
    max_kpis: int,
    d: str,
    notes: list[str],
) -> tuple[np.ndarray, float]:
    """At most ``max_kpis`` KPIs: of the sets of that many usable KPIs whose caps can carry
    a total of 1, the design with the smallest gap (exact where any is), then the widest
    tolerance, then the closest to the current weights ``w0``; greedily (the largest
    weights) where there are too many sets to try."""
    usable = [k for k in range(caps.size) if caps[k] > 0]
    sets = [
        list(c)
        for size in range(1, max_kpis + 1)
        for c in itertools.combinations(usable, size)
        if caps[list(c)].sum() >= 1.0 - 1e-12
    ]
    if len(sets) > _MAX_ROUNDINGS:
        order = sorted(usable, key=lambda k: (-weights[k], k))
        sets = [order[:max_kpis]]
    if not sets:
        notes.append(
            f"{d}: no {max_kpis} KPIs of its menu can carry a total weight of 1 within their "
            f"caps; --max-kpis {max_kpis} is not applied to it"
        )
        return weights, 0.0
    best: tuple | None = None
    for keep in sets:
        sparse_caps = np.where(np.isin(np.arange(caps.size), keep), caps, 0.0)
        new, eps, widest = design.weights(w0, sparse_caps, d, [])
        exact = design.exact(new, eps)
        key = (not exact, 0.0 if exact else eps, -widest, float(np.abs(new - w0).sum()))
        if best is None or key < best[0]:
            best = (key, new, widest)
    assert best is not None
    return best[1], best[2]


def _closest_weights(
    inverse: InverseLP, w0: np.ndarray, what: str, d: str, notes: list[str]
) -> tuple[np.ndarray, float]:
    """The weights of smallest gap closest (L1) to the current ones ``w0``, and their gap
    measured on their own (the closest-weights step must not trade accuracy for distance:
    where it did, numerically, the minimum-gap weights are taken)."""
    eps_min, w_min = inverse.min_gap(what)
    try:
        weights = _tidy(inverse.closest(eps_min * (1 + 1e-6) + 1e-10, w0, what))
        eps = inverse.gap_of(weights, what)
        problem = f"did not keep the minimum gap ({eps:.3g} > {eps_min:.3g}, numerically)"
    except SolveError as exc:  # the gap held that tight can defeat the solver
        eps, problem = np.inf, f"could not be computed ({exc.diagnosis.status})"
    if eps > eps_min + 1e-6 * (1.0 + eps_min):
        notes.append(
            f"{d}: the weights closest to the current scheme {problem}; the minimum-gap "
            "weights are reported"
        )
        weights = _tidy(w_min)
        eps = inverse.gap_of(weights, what)
    return weights, eps


def _tie_checks(
    session: HighsSession,
    row: dict,
    card_now: Scorecard,
    card: Scorecard,
    z: np.ndarray,
    scales: Scales,
    optimum: float,
    options: Options,
) -> None:
    """Add to a design row what the department does alone at z* under its scheme: the
    company's loss from the optimum under its optimistic and its pessimistic tie-break
    (objective units), whether it is indifferent (several best responses: a margin of 0,
    or tie-breaks that differ for the company) and the alignment scores."""
    lp = session.lp
    assert lp is not None
    resp = respond(session, card, z, tie_slack=options.tie_slack)

    sign = Sense(lp.sense).sign

    def loss(x: np.ndarray | None) -> float:
        # in objective units, direct (a relative measure is undefined at an optimum of 0)
        return float("inf") if x is None else max(0.0, sign * (optimum - lp.objective.at(x)))

    material = 1e-6 * (1.0 + abs(optimum))
    optimistic, pessimistic = loss(resp.optimistic), loss(resp.pessimistic)
    knife_edge = bool(row["exact"]) and not row["kept"] and row["margin"] <= 1e-12
    row["indifferent"] = knife_edge or pessimistic - optimistic > material
    row["optimistic_only"] = optimistic <= material < pessimistic
    row["optimistic_loss"] = clean(optimistic)
    row["pessimistic_loss"] = clean(pessimistic)
    row["alignment_current"] = alignment_score(lp, card_now.department, card_now.weights, scales, z)
    row["alignment_designed"] = alignment_score(lp, card.department, card.weights, scales, z)


def _design(
    lp: LinearProgram,
    problem: Problem,
    options: Options,
    stats: Statistics,
    *,
    practice: Practice | None = None,
) -> DesignResult:
    """Designed weights per department, their gaps, margins and tolerances, the target
    with its allocations, and a verification that can fail."""
    practice = practice or Practice()
    session, c_sol, reference = system_and_reference(lp, problem.label, options, stats)
    _, baseline = allocation_columns(lp)
    x_ref = reference.x
    scales = measure_scales(session, x_ref, _scaled_kpis(problem))
    what = f"the system problem of {problem.label}"
    target, target_notes = chosen_target(lp, c_sol, x_ref, options=options, stats=stats, what=what)
    allocations = target.allocations
    z = target.x
    rows: list[dict] = []
    notes = list(dict.fromkeys([reference.note, *target_notes] if reference.note else target_notes))
    designed: dict[str, dict[str, float]] = {}
    for d in lp.departments:
        row, designed[d] = _design_department(
            session, problem, d, z, scales, options, stats, notes, practice
        )
        rows.append(row)
    cards_now, _ = scorecards(lp, problem.incentives, scales)
    cards, card_notes = scorecards(lp, designed, scales)
    status_quo = best_response_dynamics(session, cards_now, x_ref, options=options)
    verification, verify_notes = verify_scheme(
        session, problem, cards_now, cards, allocations, x_ref, c_sol.objective, options, stats
    )
    prices = transfer_prices(session, problem, z, options, stats=stats)
    price_cards = price_scorecards(lp, resolve_prices(lp, prices.scheme()))
    price_verification, price_notes = verify_scheme(
        session,
        problem,
        cards_now,
        price_cards,
        allocations,
        x_ref,
        c_sol.objective,
        options,
        stats,
    )
    verify_notes += [n for n in price_notes if n not in verify_notes]
    for row in rows:
        d = row["department"]
        _tie_checks(session, row, cards_now[d], cards[d], z, scales, c_sol.objective, options)
    for note in [*card_notes, *verify_notes]:
        if note not in notes and "has no incentive" not in note:
            notes.append(note)
    return DesignResult(
        run=run_info(problem, lp.sense, options, stats),
        optimum=c_sol.objective,
        status_quo=status_quo.objective,
        weights=_weights_table(lp, rows),
        departments=pd.DataFrame([{k: r[k] for k in _DEPARTMENT_COLUMNS} for r in rows]),
        allocations=_allocations_table(lp, baseline, allocations),
        target_objective=target.objective,
        approximate_ratio=tuple(r["department"] for r in rows if not r.get("certified", True)),
        constant_kpis={
            r["department"]: tuple(own_name(k, r["department"]) for k in r["constant"])
            for r in rows
            if r["constant"]
        },
        scheme={
            d: {own_name(k, d): w for k, w in weights.items()} for d, weights in designed.items()
        },
        verification=verification,
        transfer_prices=prices,
        price_verification=price_verification,
        lever=practice.lever,
        practice={"max_kpis": practice.max_kpis, "round": practice.step},
        exchange_rates={d: exchange_rates(lp, d, designed[d], scales) for d in lp.departments},
        notes=notes,
    )


_DEPARTMENT_COLUMNS = (
    "department",
    "gap",
    "gap_share",
    "current_gap",
    "exact",
    "margin",
    "weight_tolerance",
    "widest_tolerance",
    "certified",
    "cuts",
    "indifferent",
    "optimistic_only",
    "optimistic_loss",
    "pessimistic_loss",
    "kept",
    "alignment_current",
    "alignment_designed",
)


def _allocations_table(
    lp: LinearProgram, baseline: np.ndarray, allocations: np.ndarray
) -> pd.DataFrame:
    """department, resource, baseline (today's), designed (tight at the target)."""
    return pd.DataFrame(
        [
            {
                "department": a.department,
                "resource": a.resource,
                "baseline": clean(float(b)),
                "designed": clean(float(v)),
            }
            for a, b, v in zip(lp.allocations, baseline, allocations, strict=True)
        ],
        columns=["department", "resource", "baseline", "designed"],
    )


def _weights_table(lp: LinearProgram, rows: list[dict]) -> pd.DataFrame:
    """department, kpi (a department's own by its own name), sense, unit, designed,
    current."""
    return pd.DataFrame(
        [
            {
                "department": r["department"],
                "kpi": own_name(k, r["department"]),
                "sense": str(lp.kpis[k].sense),
                "unit": lp.kpis[k].unit or "",
                "designed": r["weights"].get(k, 0.0),
                "current": r["current"].get(k, 0.0),
            }
            for r in rows
            for k in dict.fromkeys([*r["weights"], *r["current"]])
        ],
        columns=["department", "kpi", "sense", "unit", "designed", "current"],
    )


def _design_with(
    lp: LinearProgram,
    problem: Problem,
    options: Options,
    stats: Statistics,
    *,
    max_kpis: int | None = None,
    step: float | None = None,
    lever: str = "weights",
) -> DesignResult:
    return _design(lp, problem, options, stats, practice=Practice(max_kpis, step, lever))


#: KPI design: ``design_schemes(lp, problem, options, max_kpis=None, step=None,
#: lever="weights")``; a
#: problem without an optimum is returned with its status and diagnosis, not raised.
design_schemes = returning_failures(_design_with, DesignResult.failed)
