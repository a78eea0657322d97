"""The status quo as a range: best-response dynamics over department orders, starting
plans and both tie-breaks.

Gauss–Seidel dynamics depend on who moves first (the first mover takes the shared
headroom), so one path in file order is an answer a reordered file changes.  Every order
is run instead (up to :data:`MAX_ALL_ORDERS` departments; a seeded sample beyond), from
each starting plan, with the optimistic and the pessimistic tie-break, and the result is
the set of computed paths: its worst and best end, and the file-order path beside them.

The paths are independent and many share their first moves, so they run as **tasks**: the
orders that start with the same department, from one starting plan, on one session of
their own with a :class:`~.dynamics.ResponseMemo` (a plan seen before, within 1% of the
dynamics' tolerance entry by entry, is not solved again).  A task's result depends on
nothing but its own solves, so it is the same run serially or in a worker process: the
output does not depend on the number of workers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

import numpy as np
import pandas as pd

from ..errors import SolveError
from ..model.program import LinearProgram
from ..options import Options
from ..results import PathEnd, StatusQuoRange, clean
from ..solver import HighsSession, Statistics
from ..spec.model import split_kpi
from ..types import Mode, Sense
from .common import worse_by
from .dynamics import DynamicsOutcome, ResponseMemo, best_response_dynamics
from .local import Scorecard

__all__ = [
    "ALIGNED_START",
    "MAX_ALL_ORDERS",
    "ORDER_SEED",
    "TODAY_START",
    "ComputedPath",
    "department_orders",
    "explore",
    "extreme",
    "failures",
    "status_quo_range",
]

#: the label of the start every comparison has: the aligned plan B
ALIGNED_START = "aligned"
#: the label of today's plan as a start (where the model or ``--start-plan`` gives one)
TODAY_START = "today"

#: ``orders='all'`` runs every order up to this many departments (720 orders)
MAX_ALL_ORDERS = 6
#: the seed of the sample of orders drawn beyond :data:`MAX_ALL_ORDERS` departments
ORDER_SEED = 0


def department_orders(departments: Sequence[str], setting: str | int) -> list[tuple[str, ...]]:
    """The orders to run: ``'file'`` the file order alone; ``'all'`` every order up to
    :data:`MAX_ALL_ORDERS` departments, beyond that a sample of ``MAX_ALL_ORDERS!`` orders;
    an integer N a sample of N orders (every order if there are no more than N).  A sample
    is drawn with :data:`ORDER_SEED` from the departments sorted by name and always holds
    the file order.  Orders are returned sorted, so the set (and the work) does not depend
    on the file's order wherever every order is run."""
    file_order = tuple(departments)
    if setting == "file":
        return [file_order]
    names = sorted(departments)
    total = math.factorial(len(names))
    if setting == "all":
        count = total if len(names) <= MAX_ALL_ORDERS else math.factorial(MAX_ALL_ORDERS)
    else:
        count = int(setting)
    if count >= total:
        return list(itertools.permutations(names))
    rng = np.random.default_rng(ORDER_SEED)
    chosen = {file_order}
    while len(chosen) < count:
        chosen.add(tuple(names[i] for i in rng.permutation(len(names))))
    return sorted(chosen)


@dataclass
class ComputedPath:
    """One computed path: the order the departments moved in, the start (its label), the
    tie-break, where the dynamics ended and, for a two-stage path, where the first stage
    (today's schemes) ended."""

    order: tuple[str, ...]
    start: str
    mode: Mode
    outcome: DynamicsOutcome
    first_stage: DynamicsOutcome | None = None


@dataclass(frozen=True)
class _Task:
    """The orders starting with one department, from one start: run on one session."""

    start: str
    orders: tuple[tuple[str, ...], ...]


@dataclass
class _Work:
    """What every task needs (sent once to each worker process)."""

    lp: LinearProgram
    stages: tuple[Mapping[str, Scorecard], ...]
    starts: Mapping[str, np.ndarray]
    modes: tuple[Mode, ...]
    options: Options
    stats: Statistics = field(default_factory=Statistics)


def explore(
    lp: LinearProgram,
    stages: Sequence[Mapping[str, Scorecard]],
    starts: Mapping[str, np.ndarray],
    orders: Sequence[tuple[str, ...]],
    options: Options,
    stats: Statistics,
    *,
    modes: Sequence[Mode] = tuple(Mode),
    workers: int = 1,
) -> list[ComputedPath]:
    """Every path: for each start and order, the dynamics of each stage's scorecards in
    turn (every stage but the last with the optimistic tie-break, each from where the one
    before ended), the last with each of ``modes``.  Tasks run on ``workers`` processes
    (1: in this one); the paths come back in a fixed order (starts, orders, modes as given)
    whatever the number of workers."""
    work = _Work(lp, tuple(stages), dict(starts), tuple(modes), options)
    tasks = [
        _Task(label, tuple(group))
        for label in starts
        for _, group in itertools.groupby(sorted(orders), key=lambda o: o[0])
    ]
    if workers <= 1 or len(tasks) <= 1:
        results = [_run_task(work, t) for t in tasks]
    else:
        context = get_context("spawn")  # HiGHS may hold threads: never fork
        with ProcessPoolExecutor(
            min(workers, len(tasks)), mp_context=context, initializer=_init, initargs=(work,)
        ) as pool:
            results = list(pool.map(_run_in_worker, tasks))
    by_key: dict[tuple, ComputedPath] = {}
    for paths, task_stats in results:
        stats.add(task_stats)
        for p in paths:
            by_key[(p.start, p.order, p.mode)] = p
    return [by_key[(s, o, m)] for s in starts for o in orders for m in modes]


def _run_task(work: _Work, task: _Task) -> tuple[list[ComputedPath], Statistics]:
    """One task on a session of its own (so that its result depends on its solves only)."""
    stats = Statistics()
    session = HighsSession(work.lp, work.options, stats=stats)
    memos = [ResponseMemo(work.options.tol / 100) for _ in work.stages]
    *earlier, last = work.stages
    paths = []
    for order in task.orders:
        x = work.starts[task.start]
        first_stage = None
        try:
            for cards, memo in zip(earlier, memos, strict=False):
                first_stage = _dynamics(session, cards, x, Mode.OPTIMISTIC, work, order, memo)
                assert first_stage.x is not None  # optimistic dynamics always have a plan
                x = first_stage.x
        except SolveError as exc:
            first_stage = _failed(Mode.OPTIMISTIC, exc)
        for mode in work.modes:
            if first_stage is not None and first_stage.failed:
                outcome = _failed(mode, first_stage.failed)
            else:
                try:
                    outcome = _dynamics(session, last, x, mode, work, order, memos[-1])
                except SolveError as exc:
                    outcome = _failed(mode, exc)
            paths.append(ComputedPath(order, task.start, mode, outcome, first_stage))
    return paths, stats


def _dynamics(
    session: HighsSession,
    cards: Mapping[str, Scorecard],
    x: np.ndarray,
    mode: Mode,
    work: _Work,
    order: tuple[str, ...],
    memo: ResponseMemo,
) -> DynamicsOutcome:
    return best_response_dynamics(
        session, dict(cards), x, mode=mode, options=work.options, order=order, memo=memo
    )


def _failed(mode: Mode, why: SolveError | str) -> DynamicsOutcome:
    """A path that could not be computed: a local problem on it had no optimum (in exact
    arithmetic each contains its start plan, so this is the solver's numerical trouble)."""
    reason = why if isinstance(why, str) else why.diagnosis.message
    return DynamicsOutcome(mode, None, float("nan"), 0, False, False, failed=reason)


_WORK: _Work | None = None


def _init(work: _Work) -> None:
    global _WORK
    _WORK = work


def _run_in_worker(task: _Task) -> tuple[list[ComputedPath], Statistics]:
    assert _WORK is not None
    return _run_task(_WORK, task)


def extreme(paths: Sequence[ComputedPath], sense: str, *, worst: bool) -> ComputedPath:
    """The path that ends worst (or best) for the company, among those computed (see
    :func:`failures`); a path without a plan (an unbounded pessimistic response) counts
    as the worst."""
    sign = Sense(sense).sign

    def key(p: ComputedPath) -> float:
        value = p.outcome.objective
        return -math.inf if p.outcome.x is None or math.isnan(value) else sign * value

    computed = [p for p in paths if not p.outcome.failed] or list(paths)
    chosen = min(computed, key=key) if worst else max(computed, key=key)
    # paths that end alike within 1e-9 (relative) are one answer: the first of them in the
    # paths' fixed order is named, not whichever solver noise made a hair worse
    v = key(chosen)
    if not math.isfinite(v):
        return chosen
    near = 1e-9 * (1.0 + abs(v))
    return next(p for p in computed if abs(key(p) - v) <= near)


def failures(paths: Sequence[ComputedPath]) -> list[str]:
    """Notes on the paths that could not be computed (none for most models)."""
    failed = [p for p in paths if p.outcome.failed]
    if not failed:
        return []
    first = failed[0]
    return [
        f"{len(failed)} of {len(paths)} computed paths failed and are left out of the "
        f"figures (the first: {first.outcome.failed}, {first.mode} tie-break, order "
        f"{', '.join(first.order)})"
    ]


def status_quo_range(
    lp: LinearProgram,
    paths: Sequence[ComputedPath],
    aligned: float,
    starts: Mapping[str, str],
) -> StatusQuoRange:
    """The range of the status quo over ``paths``: worst and best end (misalignment cost
    against the ``aligned`` objective), distinct end plans, and each KPI's range;
    ``starts``: each start's label and where it is, in words."""
    ended = [p for p in paths if p.outcome.x is not None]
    failed = sum(bool(p.outcome.failed) for p in paths)
    worst, best = (_end(extreme(ended, lp.sense, worst=w)) for w in (True, False))
    plans = np.stack([p.outcome.x for p in ended])
    rows = []
    for k in lp.kpis.values():
        values = np.array([k.value(x) for x in plans])
        rows.append(
            {
                "department": k.owner or "",
                "kpi": split_kpi(k.name)[1],
                "min": clean(float(np.min(values))),
                "max": clean(float(np.max(values))),
            }
        )
    return StatusQuoRange(
        worst=worst,
        best=best,
        misalignment_cost=(
            worse_by(lp, best.objective, aligned),
            worse_by(lp, worst.objective, aligned),
        ),
        paths=len(paths),
        orders=len({p.order for p in paths}),
        starts=dict(starts),
        equilibria=_distinct(plans),
        kpis=pd.DataFrame(rows, columns=["department", "kpi", "min", "max"]),
        unbounded=len(paths) - len(ended) - failed,
        failed=failed,
    )


def _end(path: ComputedPath) -> PathEnd:
    return PathEnd(clean(path.outcome.objective), path.order, path.start, str(path.mode))


def _distinct(plans: np.ndarray, tol: float = 1e-6) -> int:
    """How many different plans (entry by entry within ``tol``, relative) ``plans`` holds."""
    kept: list[np.ndarray] = []
    for x in plans:
        scale = tol * (1.0 + np.abs(x))
        if not any(np.all(np.abs(x - k) <= scale) for k in kept):
            kept.append(x)
    return len(kept)
