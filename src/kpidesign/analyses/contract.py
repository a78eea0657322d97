"""``contract``: the terms under which each partner's own optimum is the alliance optimum.

Partners are departments that are firms, each paid on its own profit (one linear KPI);
contract terms are scalar params (``contract:`` in the model, each within ``[min, max]``)
that appear in the profits only, linearly: a partner's profit row is
``c_d(θ) = c_d(θ0) + Σ_k (θ_k − θ0_k) s_dk`` with ``s_dk`` the change of its profit per unit
of term k, measured by compiling the model with each term moved by one unit (and checked
affine by a second step).

- **The target** z* is the alliance optimum (the system optimum), chosen as ``design``
  chooses its target (:func:`~.target.canonical_optimum`).
- **Coordination** is design's inverse LP with the terms in place of the weights, all
  partners at once: dual feasibility of each partner's local problem at z* for
  ``c_d(θ)``, and its duality gap (how much more it could earn than at z*) at most ε_d.
  The terms with Σ ε_d = 0 make z* every partner's best choice.
- **A margin against ties**, as design has: the widest τ such that the terms stay
  coordinating when any one of them moves by ±τ (within its bounds); the terms chosen
  keep half the widest τ and are, of those, the closest to today's (L1, each term's move
  relative to the width of its range, ties broken by the terms' names).  Where no terms
  within the bounds coordinate, the terms with the smallest total gap (closest to
  today's) are reported, with the bounds that bind.
- **Fixed payments** split the surplus over today's status quo: ``equal`` (each partner
  gets its status-quo profit plus an equal share of the surplus; with side payments
  this is also the Nash bargaining solution) or ``proportional`` (profits scaled by the
  alliance's gain, in proportion to status-quo profits).  Payments sum to 0.
- **Verification**: the decentralized dynamics under the new terms, as ``design`` verifies
  a scheme (both tie-breaks, every department order).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..errors import KpiDesignError
from ..model.assemble import program
from ..model.problem import Problem
from ..model.program import LinearProgram
from ..options import Options
from ..results import clean
from ..results.contract import ContractResult, TermResult
from ..solver import HighsSession, Statistics
from ..spec.model import ModelSpec
from ..types import Sense
from .common import (
    allocation_columns,
    name_weight,
    run_info,
    share_of_optimum,
    system_optimum,
)
from .compare import status_quo_plan
from .inverse import LocalDualData, local_dual_data, multipliers, optimal_x
from .local import free_columns, scorecards
from .scales import measure_scales
from .target import chosen_target, reference_plan
from .verify import verify_scheme

__all__ = ["SPLITS", "contract_terms", "partner_profits", "term_slopes"]

#: the rules the surplus over the status quo is split by
SPLITS = ("equal", "proportional")


def partner_profits(lp: LinearProgram, problem: Problem) -> dict[str, str]:
    """Each partner's profit KPI (qualified name); a :class:`KpiDesignError` naming every
    department not paid on exactly one linear KPI to maximize."""
    out, wrong = {}, []
    for d in lp.departments:
        paid = [k for k, w in problem.incentives[d].items() if w > 0]
        kpi = lp.kpis[paid[0]] if len(paid) == 1 else None
        if kpi is None or kpi.is_ratio or Sense(kpi.sense) is not Sense.MAX:
            wrong.append(d)
        else:
            out[d] = paid[0]
    if wrong:
        msg = (
            f"contract: {', '.join(wrong)} not paid on one profit KPI to maximize: a partner "
            "firm is paid on its own profit (incentive: {profit: 1})"
        )
        raise KpiDesignError(msg)
    return out


def _with_terms(spec: ModelSpec, values: dict[str, float]) -> ModelSpec:
    """``spec`` with the contract terms' params at ``values``."""
    params = dict(spec.params)
    for name, v in values.items():
        params[name] = dataclasses.replace(params[name], values={(): float(v)})
    return dataclasses.replace(spec, params=params)


def _program(spec: ModelSpec, values: dict[str, float]) -> LinearProgram:
    return program(_with_terms(spec, values))


@dataclass(frozen=True)
class TermSlopes:
    """Each partner's profit row at today's terms (``base``: dense row, constant) and its
    change per unit of each term (``slope``: terms x columns, ``slope_constant``)."""

    names: list[str]
    today: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    base: dict[str, tuple[np.ndarray, float]]
    slope: dict[str, np.ndarray]
    slope_constant: dict[str, np.ndarray]

    def row(self, d: str, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """Partner ``d``'s profit row and constant at terms ``theta``."""
        row, const = self.base[d]
        step = theta - self.today
        return row + step @ self.slope[d], const + float(step @ self.slope_constant[d])


def term_slopes(spec: ModelSpec, lp: LinearProgram, profits: dict[str, str]) -> TermSlopes:
    """The partners' profit rows as affine functions of the contract terms; a
    :class:`KpiDesignError` where a term reaches a constraint, a bound or the alliance
    objective, or a profit non-linearly."""
    names = list(spec.contract)
    today = np.array([spec.params[k].values[()] for k in names], dtype=float)
    n = lp.num_cols

    def rows(program: LinearProgram) -> dict[str, tuple[np.ndarray, float]]:
        return {
            d: (program.kpis[k].numerator.dense(n), program.kpis[k].numerator.constant)
            for d, k in profits.items()
        }

    base = rows(lp)
    slope = {d: np.zeros((len(names), n)) for d in profits}
    slope_constant = {d: np.zeros(len(names)) for d in profits}
    errors = []
    for i, name in enumerate(names):
        values = dict(zip(names, today, strict=True))
        one, two = (_program(spec, {**values, name: today[i] + step}) for step in (1.0, 2.0))
        where = spec.contract[name].where.prefix()
        if (
            (one.A != lp.A).nnz
            or not np.array_equal(one.row_lower, lp.row_lower)
            or not np.array_equal(one.row_upper, lp.row_upper)
            or not np.array_equal(one.col_lower, lp.col_lower)
            or not np.array_equal(one.col_upper, lp.col_upper)
        ):
            errors.append(
                f"{where}: '{name}' changes a constraint or a bound: a contract term may "
                "only price flows in the partners' profits"
            )
            continue
        if not np.allclose(one.objective.dense(n), lp.objective.dense(n)) or not np.isclose(
            one.objective.constant, lp.objective.constant
        ):
            errors.append(
                f"{where}: '{name}' changes the alliance objective: the objective is the sum "
                "of the partners' profits, in which contract payments cancel"
            )
            continue
        at_one, at_two = rows(one), rows(two)
        for d in profits:
            s = at_one[d][0] - base[d][0]
            c = at_one[d][1] - base[d][1]
            scale = 1.0 + np.abs(base[d][0]).max(initial=0.0) + np.abs(s).max(initial=0.0)
            if not np.allclose(at_two[d][0] - base[d][0], 2 * s, atol=1e-9 * scale) or not (
                np.isclose(at_two[d][1] - base[d][1], 2 * c, atol=1e-9 * (1 + abs(c)))
            ):
                errors.append(
                    f"{where}: {d}'s profit is not linear in '{name}' (a term times a term, "
                    "or inside a ratio)"
                )
                break
            slope[d][i], slope_constant[d][i] = s, c
    if errors:
        raise KpiDesignError(errors)
    lower = np.array([spec.contract[k].lower for k in names])
    upper = np.array([spec.contract[k].upper for k in names])
    return TermSlopes(names, today, lower, upper, base, slope, slope_constant)


@dataclass
class _Copy:
    """One copy of a partner's dual block in the coordination LP: the terms shifted by
    ``tau * shift``."""

    partner: str
    data: LocalDualData
    shift: np.ndarray


class CoordinationLP:
    """The partners' inverse LP over the terms, built from the compiled matrices.

    Columns: ``θ (K) | τ | per copy: its multipliers, its gap ε | t (K)``; rows per copy:
    dual feasibility of the partner's local problem at z* for its profit at ``θ + τ·shift``
    and its duality gap at most ε; then ``θ ± τ`` within the bounds (for shifted copies)
    and the L1 distance rows ``t >= |θ − today|``.
    """

    def __init__(
        self,
        slopes: TermSlopes,
        copies: list[_Copy],
        options: Options,
        stats: Statistics,
    ):
        K = len(slopes.names)
        lo, hi = [], []
        duals = [multipliers(c.data)[:2] for c in copies]
        n = K + 1 + sum(b.size for _, b in duals) + len(copies) + K
        self.K, self.n, self.tau = K, n, K
        self.eps = []
        offset = K + 1
        rows: list[sp.csr_array] = []
        for c, (D, b) in zip(copies, duals, strict=True):
            size = b.size
            free = c.data.free
            row0, _ = slopes.row(c.partner, slopes.today)
            S = slopes.slope[c.partner][:, free]  # K x nf
            zf = c.data.z
            nf = free.size
            eps_col = offset + size
            # D m − Sᵀ θ − τ Sᵀ shift = row(today)[free] − Sᵀ today
            left = sp.hstack([sp.csr_array(-S.T), sp.csr_array((-S.T @ c.shift)[:, None])])
            mid = sp.hstack(
                [sp.csr_array((nf, offset - K - 1)), D, sp.csr_array((nf, n - offset - size))]
            )
            rows.append(sp.hstack([left, mid]))
            rhs = row0[free] - S.T @ slopes.today
            lo.append(rhs)
            hi.append(rhs)
            # gap: b·m − (S z) θ − τ (S z)·shift − ε <= (row(today)[free] − Sᵀ today)·z
            gap = np.zeros(n)
            gap[:K] = -(S @ zf)
            gap[K] = -float((S @ zf) @ c.shift)
            gap[offset : offset + size] = b
            gap[eps_col] = -1.0
            rows.append(sp.csr_array(gap[None, :]))
            lo.append(np.array([-np.inf]))
            hi.append(np.array([float(rhs @ zf)]))
            self.eps.append(eps_col)
            offset += size + 1
        self.t0 = offset
        # θ_k − τ >= lower_k and θ_k + τ <= upper_k
        self.bound_rows = sum(r.shape[0] for r in rows)
        eye = sp.identity(K, format="csr")
        ones = sp.csr_array(np.ones((K, 1)))
        pad = sp.csr_array((K, n - K - 1))
        rows += [sp.hstack([eye, -ones, pad]), sp.hstack([eye, ones, pad])]
        lo += [slopes.lower, np.full(K, -np.inf)]
        hi += [np.full(K, np.inf), slopes.upper]
        # t_k >= θ_k − today_k and t_k >= today_k − θ_k
        mid = sp.csr_array((K, n - 2 * K))
        rows += [sp.hstack([-eye, mid, eye]), sp.hstack([eye, mid, eye])]
        lo += [-slopes.today, slopes.today]
        hi += [np.full(K, np.inf), np.full(K, np.inf)]
        width = np.maximum(slopes.upper - slopes.lower, 1e-12)
        self.distance_weights = np.array(
            [name_weight(name) / w for name, w in zip(slopes.names, width, strict=True)]
        )
        col_lower = np.zeros(n)
        col_upper = np.full(n, np.inf)
        col_lower[:K], col_upper[:K] = slopes.lower, slopes.upper
        col_upper[K] = 0.0  # τ: opened by widest_margin and closest
        self.session = HighsSession.from_arrays(
            cost=np.zeros(n), sense="min", A=sp.vstack(rows, format="csc"),
            col_lower=col_lower, col_upper=col_upper,
            row_lower=np.concatenate(lo), row_upper=np.concatenate(hi),
            options=options, stats=stats,
        )  # fmt: skip

    def set_bounds(self, k: int, lower: float, upper: float) -> None:
        """Term ``k`` within ``[lower, upper]`` from now on (its margin too)."""
        s, K = self.session, self.K
        s.set_col_bounds(np.array([k]), np.array([lower]), np.array([upper]))
        rows = np.array([self.bound_rows + k, self.bound_rows + K + k])
        s.set_row_bounds(rows, np.array([lower, -np.inf]), np.array([np.inf, upper]))

    def _solve(self, cost: np.ndarray, sense: str, what: str) -> np.ndarray:
        self.session.set_objective(cost, sense, 0.0)
        return optimal_x(self.session, what, warm=False)

    def min_gap(self, what: str) -> tuple[np.ndarray, np.ndarray]:
        """The terms with the smallest total gap and each copy's gap."""
        cost = np.zeros(self.n)
        cost[self.eps] = 1.0
        x = self._solve(cost, "min", what)
        return x[: self.K], np.maximum(x[self.eps], 0.0)

    def hold_gaps(self, allow: np.ndarray) -> None:
        """Each copy's gap at most ``allow`` (one per copy) from now on."""
        cols = np.array(self.eps)
        self.session.set_col_bounds(cols, np.zeros(cols.size), allow)

    def widest_margin(self, what: str) -> float:
        """The largest τ with every copy's gap held (see :meth:`hold_gaps`)."""
        self.session.set_col_bounds(np.array([self.tau]), 0.0, np.inf)
        cost = np.zeros(self.n)
        cost[self.tau] = 1.0
        return max(0.0, float(self._solve(cost, "max", what)[self.tau]))

    def closest(self, tau: float, what: str) -> np.ndarray:
        """Of the terms with margin at least ``tau`` (gaps held), those closest to
        today's: the L1 distance with each term's move measured against the width of its
        range (a euro off a price allowed to move 120 counts less than one off a rate
        allowed to move 12), ties broken by the terms' names."""
        self.session.set_col_bounds(np.array([self.tau]), float(tau), np.inf)
        cost = np.zeros(self.n)
        cost[self.t0 : self.t0 + self.K] = self.distance_weights
        return self._solve(cost, "min", what)[: self.K]


def _binding(
    joint: CoordinationLP,
    slopes: TermSlopes,
    theta: np.ndarray,
    gap: float,
    scale: float,
    what: str,
) -> list[str]:
    """The bounds the smallest total gap ``gap`` (at ``theta``) is held by: each term at
    a bound whose widening (by the width of its range, or 1) lowers the smallest gap."""
    out = []
    for k, name in enumerate(slopes.names):
        lo, hi = slopes.lower[k], slopes.upper[k]
        width = max(hi - lo, 1.0)
        for end, bound, wider in (("min", lo, (lo - width, hi)), ("max", hi, (lo, hi + width))):
            if abs(theta[k] - bound) > 1e-6 * (1.0 + abs(bound)):
                continue
            joint.set_bounds(k, *wider)
            _, widened = joint.min_gap(what)
            joint.set_bounds(k, lo, hi)
            if float(widened.sum()) < gap - _gap_tol(scale):
                out.append(f"{name} at its {end} ({bound:g})")
    return out


def _gap_tol(scale: float) -> float:
    """A total gap this small is 0 (the solver's tolerances on the profits' scale)."""
    return 1e-7 * (1.0 + scale)


def _split(rule: str, status_quo: dict[str, float], contract: dict[str, float]) -> dict[str, float]:
    """Fixed payments (received, summing to 0) so that each partner earns its share of the
    alliance's profit under the contract."""
    total_sq, total = sum(status_quo.values()), sum(contract.values())
    n = len(status_quo)
    if rule == "equal":
        target = {d: v + (total - total_sq) / n for d, v in status_quo.items()}
    else:
        if total_sq <= 0 or any(v < 0 for v in status_quo.values()):
            msg = (
                "--split proportional needs every partner's status-quo profit at least 0 and "
                "their sum above 0; use --split equal"
            )
            raise KpiDesignError(msg)
        target = {d: v * total / total_sq for d, v in status_quo.items()}
    return {d: target[d] - contract[d] for d in status_quo}


def _contract(
    lp: LinearProgram,
    problem: Problem,
    options: Options,
    stats: Statistics,
    *,
    spec: ModelSpec,
    split: str = "equal",
) -> ContractResult:
    """The coordinating contract of ``spec`` (see the module's definitions)."""
    if not spec.contract:
        msg = f"{spec.model_file}: no contract: section names the terms contract may set"
        raise KpiDesignError(msg)
    if split not in SPLITS:
        msg = f"split must be one of {', '.join(SPLITS)}, not {split!r}"
        raise ValueError(msg)
    profits = partner_profits(lp, problem)
    slopes = term_slopes(spec, lp, profits)
    session = HighsSession(lp, options, stats=stats)
    _, baseline = allocation_columns(lp)
    c_sol = system_optimum(session, what=f"the alliance optimum of {problem.label}")
    reference = reference_plan(session, baseline, options, stats)
    what = f"the alliance optimum of {problem.label}"
    target, target_notes = chosen_target(
        lp, c_sol, reference.x, options=options, stats=stats, what=what
    )
    allocations = target.allocations
    z = target.x
    notes = list(dict.fromkeys([reference.note, *target_notes] if reference.note else target_notes))
    data = {d: local_dual_data(lp, free_columns(lp, d), z) for d in profits}
    K = len(slopes.names)
    scale = sum(abs(slopes.row(d, slopes.today)[0] @ z) for d in profits)
    what = f"the contract LP of {problem.label}"
    joint = CoordinationLP(
        slopes, [_Copy(d, data[d], np.zeros(K)) for d in profits], options, stats
    )
    theta, gaps = joint.min_gap(what)
    exact = float(gaps.sum()) <= _gap_tol(scale)
    margin = 0.0
    binding: list[str] = []
    if exact:
        shifts = [s * np.eye(K)[k] for k in range(K) for s in (1.0, -1.0)]
        robust = CoordinationLP(
            slopes, [_Copy(d, data[d], sh) for sh in shifts for d in profits], options, stats
        )
        allow = np.full(len(shifts) * len(profits), _gap_tol(scale) / len(profits))
        robust.hold_gaps(allow)
        widest = robust.widest_margin(what)
        if widest > 0:
            theta = robust.closest(0.5 * widest, what)
            margin = 0.5 * widest
        else:
            notes.append(
                "the coordinating terms are a knife edge: no term can move at all without "
                "a partner preferring another plan; the terms are those closest to today's"
            )
            joint.hold_gaps(gaps * (1 + 1e-6) + _gap_tol(scale) / len(profits))
            theta = joint.closest(0.0, what)
    else:
        binding = _binding(joint, slopes, theta, float(gaps.sum()), scale, what)
        joint.hold_gaps(gaps * (1 + 1e-9) + 1e-9 * (1 + scale))
        theta = joint.closest(0.0, what)
        notes.append(
            "no terms within the bounds make the alliance optimum every partner's best "
            f"choice (smallest total gap {float(gaps.sum()):g})"
            + (f"; binding: {', '.join(binding)}" if binding else "")
        )
    theta = np.clip(theta, slopes.lower, slopes.upper)
    if margin > 1e-5 or not exact:  # the solver's dust off (well inside the margin)
        theta = np.clip(np.round(theta, 6), slopes.lower, slopes.upper)
    values = dict(zip(slopes.names, theta.tolist(), strict=True))
    contracted = _program(spec, values)
    scales_now = measure_scales(session, reference.x, list(profits.values()))
    cards_now, _ = scorecards(lp, problem.incentives, scales_now)
    new_session = HighsSession(contracted, options, stats=stats)
    scales_new = measure_scales(new_session, reference.x, list(profits.values()))
    cards_new, _ = scorecards(contracted, problem.incentives, scales_new)
    verification, verify_notes = verify_scheme(
        session, problem, cards_now, cards_new, allocations, reference.x, c_sol.objective,
        options, stats,
    )  # fmt: skip
    notes.extend(n for n in verify_notes if n not in notes)
    x_sq = status_quo_plan(lp, problem, options=options)
    status_quo = {d: lp.kpis[k].value(x_sq) for d, k in profits.items()}
    at_target = {d: contracted.kpis[k].value(z) for d, k in profits.items()}
    payments = _split(split, status_quo, at_target) if exact else {}
    if not exact:
        notes.append(
            "no fixed payments: the terms do not make the alliance optimum every partner's "
            "best choice, so the profits they would share are not the ones that happen"
        )
    if abs(sum(at_target.values()) - c_sol.objective) > 1e-6 * (1 + abs(c_sol.objective)):
        notes.append(
            f"the partners' profits at the alliance optimum sum to {sum(at_target.values()):g}, "
            f"not the objective {c_sol.objective:g}: the split shares their sum"
        )
    terms = {
        name: TermResult(
            today=float(slopes.today[k]),
            contract=clean(float(theta[k])),
            lower=float(slopes.lower[k]),
            upper=float(slopes.upper[k]),
        )
        for k, name in enumerate(slopes.names)
    }
    return ContractResult(
        run=run_info(problem, lp.sense, options, stats),
        terms=terms,
        margin=clean(margin),
        exact=bool(exact),
        gap=clean(float(gaps.sum())),
        split=split,
        payments={d: clean(v) for d, v in payments.items()},
        status_quo={d: clean(v) for d, v in status_quo.items()},
        at_optimum={d: clean(v) for d, v in at_target.items()},
        optimum=c_sol.objective,
        status_quo_objective=lp.objective.at(x_sq),
        status_quo_share=share_of_optimum(str(lp.sense), lp.objective.at(x_sq), c_sol.objective),
        verification=verification,
        binding=binding,
        notes=notes,
    )


def contract_terms(
    lp: LinearProgram,
    problem: Problem,
    options: Options | None = None,
    *,
    spec: ModelSpec,
    split: str = "equal",
) -> ContractResult:
    """The coordinating contract of ``spec`` (``lp`` its program), its payments under
    ``split`` and its verification (see the module's definitions)."""
    return _contract(lp, problem, options or Options(), Statistics(), spec=spec, split=split)
