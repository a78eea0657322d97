"""``kpidesign stress``: a plan made for the forecast, lived through sampled futures.

**First stage and recourse.** A plan fixes its first stage: the allocations (and, with
``commit``, every decision of the first periods, or all of them).  In each future the rest
is re-solved (the recourse) with the intentional margins **released**: each constraint's
``slack`` and each resource's reserve are there to be used when the shock comes.  A
committed allocation stands; the reserve (that share of the future's total) may be added
to any allocation.  A plan made without margins has no reserve to draw on.

**A future the plan cannot meet** is never dropped: with ``shortfall_penalty`` the
model's own constraints are soft at that price per unit in every future, in the recourse
and in the robust LP alike (budgets and uses stay hard; the rows broken are named);
without it, that future has no objective, and every mean over futures is undefined (NaN).

**Which plan**, of several optimal ones: the one that allocates the most, then the one
closest to today's allocations (:func:`canonical`), for the robust allocation too.

**The robust allocation** maximizes the expected objective over the futures: the
sample-average two-stage LP in extensive form (one copy of the recourse per future, from
the compiled matrices), its first stage the allocations (committed decisions other than
allocations are not part of it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..errors import KpiDesignError
from ..model.assemble import assemble, program
from ..model.problem import Problem
from ..model.program import LinearProgram, SparseRow
from ..model.update import ProgramUpdater
from ..options import Options
from ..results.stress import PlanOutcomes, StressResult
from ..solver import HighsSession, Statistics
from ..spec import ModelSpec
from ..spec.model import margins, with_margin, without_margins
from ..spec.shocks import Futures, Shocks
from ..types import Sense, Status
from .common import allocation_columns, name_weights, run_info, system_optimum

__all__ = [
    "FutureOutcome",
    "StressPlan",
    "StressTask",
    "canonical",
    "commit_columns",
    "robust_allocation",
    "run_futures",
    "shocked_params",
    "shocked_program",
    "stress_plan",
    "stress_test",
]


@dataclass(frozen=True)
class StressPlan:
    """A plan's first stage: its column values ``x``, allocations ``allocation`` (in the
    program's allocation order), the reserve share of each resource it keeps
    (``reserve``: resource -> share), and its objective in the forecast."""

    name: str
    x: np.ndarray
    allocation: np.ndarray
    reserve: dict[str, float]
    objective: float


@dataclass(frozen=True)
class FutureOutcome:
    """One plan in one future: the objective (penalized where rows were broken; NaN where
    the plan cannot be met and there is no penalty), whether it could be met as it is, and
    the rows broken."""

    objective: float
    feasible: bool
    broken: tuple[str, ...] = ()


@dataclass(frozen=True)
class StressTask:
    """What evaluating plans in futures needs, picklable for a worker: the spec with its
    margins released, the futures, the plans, which columns are committed, the penalty."""

    released: ModelSpec
    futures: Futures
    plans: tuple[StressPlan, ...]
    committed: np.ndarray  # bool per column: fixed at the plan's value
    allocations_fixed: bool  # every decision committed: allocations too, no top-up
    shortfall_penalty: float | None
    options: Options


def stress_plan(
    name: str, lp: LinearProgram, spec: ModelSpec, options: Options, stats: Statistics
) -> StressPlan:
    """The system optimum of ``lp`` (allocations optimized; of several, the
    :func:`canonical` one) as a plan: its first stage."""
    session = HighsSession(lp, options, stats=stats)
    sol = system_optimum(session, what=f"the {name} plan")
    cols, baseline = allocation_columns(lp)
    held = Sense(lp.sense).sign * lp.objective.dense(lp.num_cols)
    x = canonical(session, sol.x, held, cols, baseline, name_weights(lp, cols), options)
    reserve = {r: spec.resources[r].reserve for r in lp.resource_rows}
    objective = float(lp.objective.dense(lp.num_cols) @ x + lp.objective.constant)
    return StressPlan(name, x.copy(), x[cols].copy(), reserve, objective)


def canonical(
    session: HighsSession,
    x: np.ndarray,
    held: np.ndarray,
    cols: np.ndarray,
    today: np.ndarray,
    weights: np.ndarray,
    options: Options,
) -> np.ndarray:
    """Of the plans as good as ``x`` (``held``: the objective as maximized, within the tie
    slack): the one that allocates the most over ``cols`` (what a plan leaves unallocated
    beyond its reserve sits idle in every future), then the one closest to ``today`` over
    them in the ``weights``-weighted L1 distance (weights from the columns' names); so
    that no figure depends on the vertex HiGHS returns.  ``x`` itself where no other
    vertex is found."""
    value = float(held @ x)
    every, ones = np.arange(held.size), np.ones(cols.size)
    with session.temporary_rows():
        session.add_row(every, held, value - options.tie_slack * (1.0 + abs(value)))
        session.set_objective(SparseRow(cols, ones), "max")
        most = session.solve(warm=False)
        if most.optimal:
            total = float(most.x[cols].sum())
            session.add_row(cols, ones, total - 1e-9 * (1.0 + abs(total)))
        reference = x.copy()
        reference[cols] = today
        sol = session.closest(reference, cols, weights)
    if sol.optimal:
        moved = np.abs(sol.x[cols] - x[cols]) > 1e-6 * (1.0 + np.abs(x[cols]))
        if moved.any():  # another vertex, not the same one within the tie slack
            return sol.x[: x.size]
    return x


def commit_columns(
    lp: LinearProgram, spec: ModelSpec, time_set: str | None, commit: int | str
) -> np.ndarray:
    """Which columns a plan fixes besides its allocations: none (``commit`` 0), every one
    (``all``), or each decision indexed over the time-like set ``time_set`` at one of its
    first ``commit`` members."""
    if commit == "all":
        return np.ones(lp.num_cols, dtype=bool)
    k = int(commit)
    out = np.zeros(lp.num_cols, dtype=bool)
    if k == 0:
        return out
    if time_set is None:
        msg = "--commit K needs a time-like set (a shared-state variable's per:); use all"
        raise KpiDesignError(msg)
    first = set(spec.sets[time_set].members[:k])
    for j in range(lp.num_cols):
        variable = spec.variables.get(lp.col_components[int(lp.col_component[j])])
        if variable is None or time_set not in variable.over:
            continue
        index = lp.col_indices[j]
        members = index if isinstance(index, tuple) else (index,)
        out[j] = members[variable.over.index(time_set)] in first
    return out


def shocked_program(updater: ProgramUpdater, spec: ModelSpec, changed: set[str]) -> LinearProgram:
    """``updater``'s program with ``spec``'s values of the params ``changed`` (their rows
    anew) and each resource's row at ``spec``'s total less its reserve."""
    lp = updater.with_params(spec, changed)
    upper = lp.row_upper.copy()
    for r, i in lp.resource_rows.items():
        resource = spec.resources[r]
        upper[i] = resource.total * (1.0 - resource.reserve)
    return replace(lp, row_upper=upper)


def shocked_params(futures: Futures) -> set[str]:
    """The params the futures change."""
    return {p.split(".")[1] for p in futures.factors if p.startswith("params.")}


def _bounds(
    lp: LinearProgram, plan: StressPlan, task: StressTask
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column bounds and resource-row uppers of ``plan``'s recourse in the future ``lp``."""
    lower, upper = lp.col_lower.copy(), lp.col_upper.copy()
    cols, _ = allocation_columns(lp)
    lower[task.committed], upper[task.committed] = plan.x[task.committed], plan.x[task.committed]
    row_upper = lp.row_upper.copy()
    if task.allocations_fixed:
        lower[cols], upper[cols] = plan.allocation, plan.allocation
        return lower, upper, row_upper
    lower[cols] = np.maximum(lower[cols], plan.allocation)  # a commitment stands
    upper[cols] = np.maximum(upper[cols], plan.allocation)
    for r, i in lp.resource_rows.items():
        mine = np.array([a.resource == r for a in lp.allocations])
        # the committed allocations plus the reserve share of the future's total
        row_upper[i] = (
            float(plan.allocation[mine].sum()) + plan.reserve.get(r, 0.0) * lp.row_upper[i]
        )
    return lower, upper, row_upper


def _soften(
    A: sp.sparray, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray,
    rows: np.ndarray, price: np.ndarray,
) -> tuple[sp.sparray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The columns, costs and bounds with each of ``rows`` soft: two columns per row, one
    that lets it run over and one under, each costing ``price`` (signed for the
    objective's sense) per unit."""
    k = rows.size
    E = sp.csc_array((np.ones(k), (rows, np.arange(k))), shape=(A.shape[0], k))
    return (
        sp.hstack([A, E, -E], format="csc"),
        np.concatenate([cost, price, price]),
        np.concatenate([lower, np.zeros(2 * k)]),
        np.concatenate([upper, np.full(2 * k, np.inf)]),
    )


def _elastic(
    lp: LinearProgram, lower: np.ndarray, upper: np.ndarray, row_upper: np.ndarray,
    penalty: float, options: Options, stats: Statistics, feasible: bool,
) -> FutureOutcome:  # fmt: skip
    """The recourse with each of the model's own constraint rows soft: broken at
    ``penalty`` objective units per unit (a budget, an allocation's use stays hard)."""
    n = lp.num_cols
    rows = lp.constraint_rows()
    k = rows.size
    price = np.full(k, -Sense(lp.sense).sign * penalty)
    A, cost, col_lower, col_upper = _soften(lp.A, lp.objective.dense(n), lower, upper, rows, price)
    session = HighsSession.from_arrays(
        cost=cost, offset=lp.objective.constant, sense=lp.sense, A=A,
        col_lower=col_lower, col_upper=col_upper,
        row_lower=lp.row_lower, row_upper=row_upper, options=options, stats=stats,
    )  # fmt: skip
    sol = session.solve(warm=False)
    if sol.status is Status.UNBOUNDED:
        return FutureOutcome(float("nan"), feasible, ("(unbounded: the penalty is too low)",))
    if not sol.optimal:
        return FutureOutcome(float("nan"), feasible)
    broken = sol.x[n : n + k] + sol.x[n + k :]
    bound = np.where(np.isfinite(row_upper[rows]), row_upper[rows], lp.row_lower[rows])
    scale = 1e-7 * (1.0 + np.abs(np.where(np.isfinite(bound), bound, 0.0)))
    names = tuple(lp.row_name(int(rows[i])) for i in np.flatnonzero(broken > scale))
    return FutureOutcome(sol.objective, feasible, names)


#: the last released spec this process built, and its updater: chunks of one run in one
#: process (serially) share it; a worker's chunks arrive as copies and build their own
_LAST: list[tuple[ModelSpec, ProgramUpdater]] = []


def _updater(released: ModelSpec) -> ProgramUpdater:
    """The program updater of ``released``, built once per spec object and process."""
    if _LAST and _LAST[0][0] is released:
        return _LAST[0][1]
    updater = ProgramUpdater(assemble(released))
    _LAST[:] = [(released, updater)]
    return updater


def run_futures(task: StressTask, indices: list[int]) -> list[list[FutureOutcome]]:
    """Every plan of ``task`` in each future of ``indices``: per future, one outcome per
    plan.  Each future's program is made once; each recourse is a fresh solve (no warm
    start from another future), so the outcome does not depend on which worker ran it."""
    updater = _updater(task.released)
    stats = Statistics()
    changed = shocked_params(task.futures)
    out = []
    for s in indices:
        lp = shocked_program(updater, task.futures.spec(task.released, s), changed)
        row: list[FutureOutcome] = []
        for plan in task.plans:
            lower, upper, row_upper = _bounds(lp, plan, task)
            future = replace(lp, col_lower=lower, col_upper=upper, row_upper=row_upper)
            sol = HighsSession(future, task.options, stats=stats).solve(warm=False)
            if task.shortfall_penalty is None:
                value = sol.objective if sol.optimal else float("nan")
                row.append(FutureOutcome(value, sol.optimal))
            else:  # the constraints soft in every future, as the robust LP has them
                row.append(
                    _elastic(
                        lp, lower, upper, row_upper, task.shortfall_penalty, task.options,
                        stats, sol.optimal,
                    )
                )  # fmt: skip
        out.append(row)
    return out


def robust_allocation(
    lp: LinearProgram,
    programs: list[LinearProgram],
    weights: np.ndarray,
    reserve: dict[str, float],
    penalty: float | None,
    options: Options,
    stats: Statistics,
) -> tuple[np.ndarray, float] | None:
    """The allocations that maximize (minimize) the expected objective over the futures'
    ``programs`` (margins released, weighted by ``weights``), and that expectation: the
    extensive form, first stage the allocations within ``lp``'s resource rows (the
    model's reserve kept) and bounds, each future's allocations at least those plus its
    reserve share; None where no allocation meets every future (without a penalty)."""
    cols, today = allocation_columns(lp)
    k, n, S = cols.size, lp.num_cols, len(programs)
    resource_rows = sorted(lp.resource_rows.values())
    other = np.setdiff1d(np.arange(lp.num_rows), resource_rows)
    blocks_A, lo, hi, cost, clo, cup = [], [], [], [], [], []
    # first stage: the resource rows on the allocations, as planned (reserve kept)
    first = lp.A[resource_rows][:, cols]
    rows_first = [sp.hstack([first, sp.csr_array((len(resource_rows), S * n))])]
    lo.append(lp.row_lower[resource_rows])
    hi.append(lp.row_upper[resource_rows])
    cost.append(np.zeros(k))
    clo.append(lp.col_lower[cols])
    cup.append(lp.col_upper[cols])
    offset = 0.0
    elastic = []
    for s, future in enumerate(programs):
        A_s = future.A[other]
        left = sp.csr_array((A_s.shape[0], k))
        pieces = [
            left,
            sp.csr_array((A_s.shape[0], s * n)),
            A_s,
            sp.csr_array((A_s.shape[0], (S - s - 1) * n)),
        ]
        blocks_A.append(sp.hstack(pieces))
        lo.append(future.row_lower[other])
        hi.append(future.row_upper[other])
        # each allocation at least the first stage's
        link = sp.hstack([
            -sp.identity(k), sp.csr_array((k, s * n)),
            sp.csr_array((np.ones(k), (np.arange(k), cols)), shape=(k, n)),
            sp.csr_array((k, (S - s - 1) * n)),
        ])  # fmt: skip
        blocks_A.append(link)
        lo.append(np.zeros(k))
        hi.append(np.full(k, np.inf))
        # top-ups out of the reserve share of the future's total
        for r, i in lp.resource_rows.items():
            mine = np.array([a.resource == r for a in lp.allocations], dtype=float)
            row = sp.hstack([
                sp.csr_array(-mine[None, :]), sp.csr_array((1, s * n)),
                sp.csr_array((mine, (np.zeros(k, dtype=int), cols)), shape=(1, n)),
                sp.csr_array((1, (S - s - 1) * n)),
            ])  # fmt: skip
            blocks_A.append(row)
            lo.append(np.array([-np.inf]))
            hi.append(np.array([reserve.get(r, 0.0) * future.row_upper[i]]))
        cost.append(weights[s] * future.objective.dense(n))
        offset += weights[s] * future.objective.constant
        clo.append(future.col_lower)
        cup.append(future.col_upper)
        if penalty is not None:
            elastic.append(s)
    A = sp.vstack(rows_first + blocks_A, format="csc")
    row_lower, row_upper = np.concatenate(lo), np.concatenate(hi)
    c, col_lower, col_upper = np.concatenate(cost), np.concatenate(clo), np.concatenate(cup)
    if penalty is not None:
        # every future's own rows may break at the penalty, weighted as its future
        soft = np.flatnonzero(np.isin(other, lp.constraint_rows()))  # within a block
        block = len(other) + k + len(lp.resource_rows)  # a future's rows
        rows = np.concatenate([len(resource_rows) + s * block + soft for s in elastic])
        w = np.concatenate([np.full(soft.size, weights[s]) for s in elastic])
        price = -Sense(lp.sense).sign * penalty * w
        A, c, col_lower, col_upper = _soften(A, c, col_lower, col_upper, rows, price)
    session = HighsSession.from_arrays(
        cost=c, offset=offset, sense=lp.sense, A=A, col_lower=col_lower, col_upper=col_upper,
        row_lower=row_lower, row_upper=row_upper, options=options, stats=stats,
    )  # fmt: skip
    sol = session.solve(warm=False)
    if not sol.optimal:
        return None
    held = Sense(lp.sense).sign * c
    x = canonical(session, sol.x, held, np.arange(k), today, name_weights(lp, cols), options)
    return x[:k].copy(), sol.objective


#: futures per chunk of work: a few seconds of solves on the seed model
CHUNK = 25

#: the most futures the robust allocation's extensive form holds (the first ones drawn)
ROBUST_FUTURES = 50

Evaluate = Callable[[StressTask, list[list[int]]], list[list[FutureOutcome]]]


def evaluate_serially(task: StressTask, chunks: list[list[int]]) -> list[list[FutureOutcome]]:
    """Every chunk of futures in this process, in order (what a pool or Dask does too)."""
    return [row for chunk in chunks for row in run_futures(task, chunk)]


def _outcomes(task: StressTask, futures: Futures, evaluate: Evaluate) -> list[list[FutureOutcome]]:
    indices = list(range(futures.size))
    chunks = [indices[i : i + CHUNK] for i in range(0, len(indices), CHUNK)]
    return evaluate(replace(task, futures=futures), chunks)


def stress_test(
    spec: ModelSpec,
    shocks: Shocks,
    futures: Futures,
    fresh: Futures,
    options: Options,
    *,
    commit: int | str = 0,
    robust_futures: int = ROBUST_FUTURES,
    per_margin: bool = False,
    evaluate: Evaluate = evaluate_serially,
    progress: Callable[[str], None] | None = None,
) -> StressResult:
    """Plans made for the forecast (with the margins, without them, for the average
    future, and the robust allocation) lived through ``futures`` and the ``fresh`` ones
    (out of sample), each recourse with the margins released; with ``per_margin`` also a
    plan per margin the model has, made with that margin alone (``margin:NAME``);
    ``evaluate`` runs chunks of futures (serially here; a pool or Dask from the API)."""

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    stats = Statistics()
    step("plans")
    assembled = assemble(spec)
    lp = assembled.lp
    released = without_margins(spec)
    released_assembled = assemble(released)
    released_lp = released_assembled.lp
    if (released_lp.num_rows, released_lp.num_cols) != (lp.num_rows, lp.num_cols):
        msg = "the model without margins has other rows or columns than the model"
        raise KpiDesignError(msg)
    changed = shocked_params(futures)
    average = shocked_program(ProgramUpdater(assembled), futures.mean_spec(spec, shocks), changed)
    plans = (
        stress_plan("with_slack", lp, spec, options, stats),
        stress_plan("without_slack", released_lp, released, options, stats),
        stress_plan("average_future", average, spec, options, stats),
    )
    if per_margin:
        for name, value in margins(spec).items():
            if value:
                only = with_margin(released, name, value)
                plans += (stress_plan(f"margin:{name}", program(only), only, options, stats),)
    problem = Problem.from_spec(spec, lp)
    per = next((p for v in problem.state if (p := problem.state_variable(v).per)), None)
    committed = commit_columns(lp, spec, per, commit)
    task = StressTask(
        released, futures, plans, committed, commit == "all", shocks.shortfall_penalty, options
    )
    step("futures")
    inside = _outcomes(task, futures, evaluate)
    notes: list[str] = []
    cheap = sum(1 for row in inside for o in row if o.feasible and o.broken)
    if cheap:
        notes.append(
            f"the shortfall penalty ({shocks.shortfall_penalty:g}) is below what breaking a "
            f"row earns: {cheap} plan-futures that could be met break rows instead; the "
            "figures price those breaks (raise shocks.shortfall_penalty to forbid them)"
        )
    if fresh is futures and not futures.exact:
        notes.append(
            "the futures are a file's: the out-of-sample figures are over the same futures"
        )
    robust: StressPlan | None = None
    expected, count = float("nan"), 0
    if commit != 0:
        notes.append(
            "the robust allocation commits the allocations only; with --commit it is not computed"
        )
    else:
        step("robust")
        updater = ProgramUpdater(released_assembled)
        count = futures.size if futures.exact else min(futures.size, robust_futures)
        programs = [
            shocked_program(updater, futures.spec(released, s), changed) for s in range(count)
        ]
        weights = futures.weights[:count] / futures.weights[:count].sum()
        reserve = {r: spec.resources[r].reserve for r in lp.resource_rows}
        found = robust_allocation(
            lp, programs, weights, reserve, shocks.shortfall_penalty, options, stats
        )
        if found is None:
            notes.append(
                "no allocation meets every future drawn: there is no robust allocation "
                "(declare shocks.shortfall_penalty to price the shortfall)"
            )
        else:
            allocation, expected = found
            x = plans[0].x.copy()
            cols, _ = allocation_columns(lp)
            x[cols] = allocation
            robust = StressPlan("robust", x, allocation, reserve, float("nan"))
            if count < futures.size:
                notes.append(
                    f"the robust allocation is optimal over the first {count} of the "
                    f"{futures.size} futures drawn; its figures are over all of them"
                )
    step("out of sample")
    every = (*plans, robust) if robust is not None else plans
    if robust is not None:  # the robust plan in the same futures, beside the others
        extra = _outcomes(replace(task, plans=(robust,)), futures, evaluate)
        inside = [row + more for row, more in zip(inside, extra, strict=True)]
    outside = inside if fresh is futures else _outcomes(replace(task, plans=every), fresh, evaluate)
    result_plans = {}
    for k, plan in enumerate(every):
        values = [row[k] for row in inside]
        broken: dict[str, int] = {}
        for o in values:
            for name in o.broken:
                broken[name] = broken.get(name, 0) + 1
        out = [row[k] for row in outside]
        allocation: dict[str, dict[str, float]] = {}
        unallocated = {r: spec.resources[r].total for r in lp.resource_rows}
        for a, v in zip(lp.allocations, plan.allocation, strict=True):
            allocation.setdefault(a.department, {})[a.resource] = float(v)
            unallocated[a.resource] -= float(v)
        result_plans[plan.name] = PlanOutcomes(
            allocation=allocation,
            unallocated=unallocated,
            forecast=plan.objective,
            values=np.array([o.objective for o in values]),
            feasible=np.array([o.feasible for o in values]),
            broken=broken,
            out_of_sample=np.array([o.objective for o in out]),
            out_of_sample_feasible=np.array([o.feasible for o in out]),
        )
    return StressResult(
        run=run_info(problem, lp.sense, options, stats),
        plans=result_plans,
        weights=futures.weights,
        out_of_sample_weights=fresh.weights,
        exact=futures.exact,
        seed=shocks.seed,
        commit=str(commit),
        robust_expected=expected,
        robust_futures=count,
        notes=notes,
    )
