"""``monitor``: the year so far against the plan, who caused the gap, the best plan from here.

The actuals (a plan file) give what was done in the periods observed so far: the members
of the model's time set up to ``through``.  Definitions (the README's *monitor*):

- **the plan**: the system optimum, allocations optimized (with ``keep_allocations``: at
  the allocations in force, the file's baselines); of several optimal plans, the one
  closest in L1 to the actuals over the observed values, so that a department's drift is
  never an artefact of the vertex HiGHS returned;
- **the re-plan**: the observed values fixed at the actuals, everything else (later
  periods, observed values the file does not give, and the allocations unless kept)
  re-optimized; its allocations, of several optimal ones, those closest to the
  allocations in force;
- **lost**: how much worse the re-plan is than the plan, positive when the company is
  worse off, for maximized and minimized objectives alike; with a scheme's predicted
  plan as the plan (``predicted``), the drift is measured against it and ``lost``
  against its objective;
- **attribution**: the Shapley value of the game ``v(S)`` = the re-plan with the actuals
  of the departments in ``S`` fixed (their own variables; the shared state follows), so
  ``v(∅)`` is the plan and ``v(all)`` fixes every department's actuals.  Exact up to
  :data:`EXACT_PLAYERS` departments (``2^D`` re-plans on one session), sampled over
  :data:`SAMPLED_ORDERS` seeded orders beyond.  What the departments' actuals leave
  unexplained (observed shared state that their decisions do not imply, e.g. shrinkage)
  is ``unexplained``; the parts add up to ``lost`` (against a scheme's predicted plan,
  less the scheme's own shortfall from the optimum, ``scheme_shortfall``).

Actuals that break a bound or a constraint on their own are errors located in the file;
actuals that no later decision can complete are diagnosed by the conflicting constraints.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import ErrorCollector, Location, SpecError
from ..model.problem import Problem, TodayPlan
from ..model.program import SHARED, LinearProgram
from ..options import Options
from ..results import clean
from ..results.monitor import DRIFT_COLUMNS, MonitorResult
from ..solver import HighsSession, Statistics
from ..spec.model import PlanSpec
from ..types import Sense
from .common import allocation_columns, name_weights, run_info, system_optimum

__all__ = [
    "EXACT_PLAYERS",
    "SAMPLED_ORDERS",
    "Observed",
    "fixed_program",
    "monitor_year",
    "observe",
]

#: the most departments whose Shapley values are computed exactly (2^D re-plans)
EXACT_PLAYERS = 12
#: orders of the departments sampled beyond :data:`EXACT_PLAYERS` (seed 0)
SAMPLED_ORDERS = 200
#: how far (relative) a value or a row may lie outside its bound and still count as within
_TOL = 1e-6


@dataclass(frozen=True)
class Observed:
    """The actuals of the observed periods, as columns of the program.

    ``columns``/``values``/``lines``: the values the file gives for the observed periods
    (and for variables without the time set), with the file's line of each; ``missing``:
    the columns of observed periods the file does not give (re-optimized); ``ignored``:
    values the file gives for later periods; ``periods``: the observed members, in order.
    """

    file: Path
    time_set: str
    through: Any
    periods: tuple
    columns: np.ndarray
    values: np.ndarray
    lines: np.ndarray
    missing: np.ndarray
    ignored: int
    period_of: list = field(repr=False, default_factory=list)  # member per column or None


def column_periods(lp: LinearProgram, spec_over: dict[str, tuple], time_set: str) -> list:
    """The time set's member of each column (None for columns without it, allocations
    among them)."""
    out: list = []
    for j in range(lp.num_cols):
        over = spec_over.get(lp.col_components[int(lp.col_component[j])], ())
        if time_set not in over:
            out.append(None)
            continue
        index = lp.col_indices[j]
        index = index if isinstance(index, tuple) else (index,)
        out.append(index[over.index(time_set)])
    return out


def observe(
    lp: LinearProgram,
    spec_over: dict[str, tuple],
    members: tuple,
    actuals: PlanSpec,
    time_set: str,
    through: Any,
) -> Observed:
    """The actuals of the periods up to ``through`` (a member of ``time_set``, whose
    members in order are ``members``); ``spec_over``: each variable's sets."""
    period_of = column_periods(lp, spec_over, time_set)
    seen = set(members[: members.index(through) + 1])
    given = TodayPlan.of(actuals, lp)
    lines = np.array([actuals.lines.get(k, 0) for k in actuals.values], dtype=np.int64)
    keep = np.array(
        [period_of[j] is None or period_of[j] in seen for j in given.columns], dtype=bool
    )
    columns = given.columns[keep]
    allocations, _ = allocation_columns(lp)
    observed_cols = [j for j, t in enumerate(period_of) if t is not None and t in seen]
    missing = np.setdiff1d(np.array(observed_cols, dtype=np.int64), columns)
    missing = np.setdiff1d(missing, allocations)
    return Observed(
        file=actuals.file,
        time_set=time_set,
        through=through,
        periods=tuple(m for m in members if m in seen),
        columns=columns,
        values=given.values[keep],
        lines=lines[keep],
        missing=missing,
        ignored=int((~keep).sum()),
        period_of=period_of,
    )


def fixed_program(lp: LinearProgram, obs: Observed, keep_allocations: bool) -> LinearProgram:
    """``lp`` with the observed values fixed at the actuals (and the allocations at their
    baselines with ``keep_allocations``): the program of the periods from here, whose
    system optimum is the re-plan (what ``--redesign`` designs scorecards for)."""
    lower, upper = lp.col_lower.copy(), lp.col_upper.copy()
    lower[obs.columns], upper[obs.columns] = obs.values, obs.values
    if keep_allocations:
        cols, baseline = allocation_columns(lp)
        lower[cols], upper[cols] = baseline, baseline
    return dataclasses.replace(lp, col_lower=lower, col_upper=upper)


def check_actuals(lp: LinearProgram, obs: Observed) -> None:
    """A :class:`SpecError` with a located line per value outside its bounds and per
    constraint row the actuals alone break (every column of the row given)."""
    errors = ErrorCollector()

    def at(line: int) -> Location:
        return Location(obs.file, int(line) or None, "value")

    for j, v, line in zip(obs.columns, obs.values, obs.lines, strict=True):
        lo, hi = lp.col_lower[j], lp.col_upper[j]
        if v < lo - _TOL * (1 + abs(lo)):
            errors.add(at(line), f"{lp.col_name(int(j))} = {v:g} is below its lower bound {lo:g}")
        if v > hi + _TOL * (1 + abs(hi)):
            errors.add(at(line), f"{lp.col_name(int(j))} = {v:g} is above its upper bound {hi:g}")
    x = np.zeros(lp.num_cols)
    x[obs.columns] = obs.values
    free = np.ones(lp.num_cols)
    free[obs.columns] = 0.0
    line_of = dict(zip(obs.columns.tolist(), obs.lines.tolist(), strict=True))
    A = lp.A.tocsr()
    # the rows every column of which the actuals give, and what the actuals make of them
    pattern = sp.csr_array((np.ones(A.nnz), A.indices, A.indptr), shape=A.shape)
    decided = (pattern @ free == 0) & (np.diff(A.indptr) > 0)
    act_all = A @ x
    lower, upper = lp.row_lower, lp.row_upper
    outside = (act_all < lower - _TOL * (1 + np.abs(lower))) | (
        act_all > upper + _TOL * (1 + np.abs(upper))
    )
    for i in np.flatnonzero(decided & outside):
        cols = A.indices[A.indptr[i] : A.indptr[i + 1]]
        act, lo, hi = float(act_all[i]), lower[i], upper[i]
        if lo == hi:
            bound = f"must be {lo:g}"
        elif act < lo:
            bound = f"must be at least {lo:g}"
        else:
            bound = f"must be at most {hi:g}"
        lines = sorted(line_of[int(j)] for j in cols)
        terms = _terms(lp, cols, A.data[A.indptr[i] : A.indptr[i + 1]])
        errors.add(
            Location(obs.file, lines[0] or None, lp.row_name(i)),
            f"the actuals break this constraint: {terms} comes to {act:g} (lines "
            f"{', '.join(map(str, lines))}), but {bound}",
        )
    errors.raise_if_any()


def _terms(lp: LinearProgram, cols: np.ndarray, coefs: np.ndarray, limit: int = 6) -> str:
    """``stock[1] - made[1] + 2 sold[1]``: a row's terms as the model's names (the first
    ``limit``)."""
    out = []
    for k, (j, a) in enumerate(zip(cols, coefs, strict=True)):
        if k == limit:
            out.append(f"+ … ({cols.size - limit} more)")
            break
        size = "" if abs(a) == 1 else f"{abs(a):g} "
        sign = ("-" if a < 0 else "") if k == 0 else ("- " if a < 0 else "+ ")
        out.append(f"{sign}{size}{lp.col_name(int(j))}")
    return " ".join(out)


def _closest_optimal(
    session: HighsSession,
    x: np.ndarray,
    cols: np.ndarray,
    reference: np.ndarray,
    options: Options,
) -> np.ndarray:
    """Of the plans as good as ``x``, the one closest to ``reference`` over ``cols`` in
    the name-weighted L1 distance: at ``x``'s objective exactly, else (where rounding
    defeats that) within the tie slack; ``x`` where none is found or ``cols`` is empty."""
    lp = session.lp
    assert lp is not None
    if cols.size == 0:
        return x
    held = Sense(lp.sense).sign * lp.objective.dense(lp.num_cols)
    value = float(held @ x)
    full = x.copy()
    full[cols] = reference
    for slack in (0.0, options.tie_slack * (1.0 + abs(value))):
        with session.temporary_rows():
            session.add_row(np.arange(lp.num_cols), held, value - slack)
            sol = session.closest(full, cols, name_weights(lp, cols))
        if sol.optimal:
            return sol.x[: lp.num_cols]
    return x


def shapley(
    players: list[str], loss: Callable[[frozenset[str]], float], exact: int = EXACT_PLAYERS
) -> tuple[dict[str, float], str]:
    """Each player's Shapley value of the game ``loss`` (``loss(∅) = 0``), and how it was
    computed: exactly over every coalition up to ``exact`` players, else over
    :data:`SAMPLED_ORDERS` orders drawn with seed 0.  ``loss`` is called for a coalition
    as often as it appears: memoize a costly one (``functools.cache``)."""

    def v(s: frozenset[str]) -> float:
        return loss(s) if s else 0.0

    n = len(players)
    out = dict.fromkeys(players, 0.0)
    if n <= exact:
        for i in players:
            others = [p for p in players if p != i]
            for size in range(n):
                w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for s in itertools.combinations(others, size):
                    coalition = frozenset(s)
                    out[i] += w * (v(coalition | {i}) - v(coalition))
        return out, f"Shapley values, exact ({2**n} coalitions of {n} department(s))"
    rng = np.random.default_rng(0)
    for _ in range(SAMPLED_ORDERS):
        order = [players[k] for k in rng.permutation(n)]
        before: frozenset[str] = frozenset()
        for i in order:
            after = before | {i}
            out[i] += (v(after) - v(before)) / SAMPLED_ORDERS
            before = after
    return out, (
        f"Shapley values estimated over {SAMPLED_ORDERS} orders of the {n} departments "
        f"(seed 0; exact up to {exact})"
    )


def _drift(lp: LinearProgram, obs: Observed, plan: np.ndarray, actual: np.ndarray) -> pd.DataFrame:
    """Decisions (each observed value) and KPIs (each linear KPI's part in an observed
    period) under the plan and in the actuals: department, kind, name, period, plan,
    actual, drift."""
    rows = []
    given = set(obs.columns.tolist())
    for j in np.sort(np.concatenate([obs.columns, obs.missing])):
        owner = int(lp.col_owner[j])
        kind = "decision" if owner >= 0 else "state"
        rows.append(
            {
                "department": lp.departments[owner] if owner >= 0 else "",
                "kind": kind if j in given else f"{kind} (re-planned)",
                "name": lp.col_name(int(j)),
                "period": "" if obs.period_of[j] is None else str(obs.period_of[j]),
                "plan": clean(float(plan[j])),
                "actual": clean(float(actual[j])),
                "drift": clean(float(actual[j] - plan[j])),
            }
        )
    for k in lp.kpis.values():
        if k.is_ratio:
            continue
        for t in obs.periods:
            mask = np.array([obs.period_of[j] == t for j in k.numerator.indices], dtype=bool)
            if not mask.any():
                continue
            cols, coefs = k.numerator.indices[mask], k.numerator.values[mask]
            p, a = float(coefs @ plan[cols]), float(coefs @ actual[cols])
            rows.append(
                {
                    "department": k.owner or "",
                    "kind": "kpi",
                    "name": k.name,
                    "period": str(t),
                    "plan": clean(p),
                    "actual": clean(a),
                    "drift": clean(a - p),
                }
            )
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS)


def monitor_year(
    lp: LinearProgram,
    problem: Problem,
    obs: Observed,
    options: Options | None = None,
    *,
    keep_allocations: bool = False,
    predicted: np.ndarray | None = None,
) -> MonitorResult:
    """The plan, the re-plan from the actuals ``obs``, the value lost, its attribution to
    departments and the drift (see the module's definitions).  With ``predicted`` (a
    scheme's predicted plan), that is the plan: the drift is measured against it, and
    the value lost against its objective, less its shortfall from the optimum.  A
    :class:`SpecError` where the actuals break a bound or constraint, or leave no
    feasible plan."""
    options = options or Options()
    check_actuals(lp, obs)
    stats = Statistics()
    sign = Sense(lp.sense).sign
    alloc_cols, baseline = allocation_columns(lp)
    kept = baseline if keep_allocations else None
    session = HighsSession(lp, options, stats=stats)
    what = f"the plan of {problem.label}"
    first = system_optimum(session, allocations=kept, what=what)
    optimum = first.objective
    if predicted is None:
        plan_objective = optimum
        plan = _closest_optimal(session, first.x, obs.columns, obs.values, options)
    else:
        plan_objective, plan = lp.objective.at(predicted), predicted

    with session.restored():  # the re-plan: the actuals fixed, the rest re-optimized
        session.fix_cols(obs.columns, obs.values)
        sol = session.solve(warm=False)
        if not sol.optimal:  # diagnosed here, with the actuals still fixed
            what = f"the re-plan with the actuals through {obs.time_set} {obs.through} fixed"
            msg = f"{obs.file}: {session.diagnose(sol, what).message}"
            raise SpecError(msg)
        replan_objective = sol.objective
        # of several optimal re-plans, the one that moves the allocations least
        replanned = (
            sol.x
            if keep_allocations
            else _closest_optimal(session, sol.x, alloc_cols, baseline, options)
        )

    owners = lp.col_owner[obs.columns]
    players = [d for i, d in enumerate(lp.departments) if (owners == i).any()]

    @functools.cache  # each coalition's re-plan solved once (the grand one is used twice)
    def loss(coalition: frozenset[str]) -> float:
        mine = np.isin(owners, [lp.departments.index(d) for d in coalition])
        with session.restored():
            session.fix_cols(obs.columns[mine], obs.values[mine])
            part = session.solve(warm=False)
            if not part.optimal:  # fewer values fixed than the re-plan: only numerically
                raise session.explain(part, f"the re-plan with the actuals of {sorted(coalition)}")
        return sign * (optimum - part.objective)

    parts, method = shapley(players, loss)
    lost = sign * (plan_objective - replan_objective)
    shortfall = sign * (optimum - plan_objective)  # 0 for the optimum itself
    everyone = loss(frozenset(players)) if players else 0.0
    attribution = {d: clean(parts.get(d, 0.0)) for d in lp.departments}
    notes = []
    if obs.missing.size:
        shown = ", ".join(lp.col_name(int(j)) for j in obs.missing[:10])
        more = f" and {obs.missing.size - 10} more" if obs.missing.size > 10 else ""
        notes.append(
            f"{obs.missing.size} value(s) of the observed periods are not in the actuals and "
            f"were re-optimized: {shown}{more}"
        )
    if obs.ignored:
        notes.append(
            f"{obs.ignored} value(s) of the actuals are for periods after "
            f"{obs.time_set} {obs.through} and were not used"
        )
    unexplained = sign * (optimum - replan_objective) - everyone
    if abs(unexplained) <= 1e-9 * (1.0 + abs(plan_objective)):  # solver dust
        unexplained = 0.0
    if unexplained:
        shared = int((owners == SHARED).sum())
        notes.append(
            f"the {shared} observed shared-state value(s) are not what the departments' "
            f"actuals imply: they account for {unexplained:g} of the loss (unexplained)"
        )
    allocation: dict[str, dict[str, float]] = {}
    for a in lp.allocations:
        allocation.setdefault(a.department, {})[a.resource] = clean(float(replanned[a.column]))
    return MonitorResult(
        run=run_info(problem, lp.sense, options, stats),
        time_set=obs.time_set,
        through=obs.through,
        periods=tuple(obs.periods),
        actuals_given=int(obs.columns.size),
        missing=[lp.col_name(int(j)) for j in obs.missing],
        ignored=obs.ignored,
        plan_objective=plan_objective,
        replan_objective=replan_objective,
        lost=clean(lost),
        attribution=attribution,
        unexplained=unexplained,
        scheme_shortfall=clean(shortfall),
        method=method,
        keep_allocations=keep_allocations,
        allocation=allocation,
        drift=_drift(lp, obs, plan, replanned),
        notes=notes,
    )
