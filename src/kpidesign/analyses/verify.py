"""Verification of a scheme that can fail: start where the organization would really be.

Under the scheme's allocations, the organization first plays today's schemes: best-response
dynamics (optimistic) from the canonical optimal plan at those allocations (see
:mod:`.target`).  Where that ends is the start; then every department switches to the new
scheme and the dynamics run again, once with each tie-break.  The figure reported is the
worst computed path.  ``design`` verifies its scheme this way and ``evaluate`` of a scheme
file with ``allocations:`` runs the very same function, so the figures agree exactly.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

from ..model.problem import Problem
from ..options import Options
from ..results import clean, figure
from ..results.verification import Path, Verification
from ..solver import HighsSession, Statistics
from ..types import Mode, Sense
from .common import share_of_optimum
from .dynamics import DynamicsOutcome
from .equilibria import ComputedPath, department_orders, explore, extreme, failures
from .local import Scorecard, fix_others, free_columns
from .target import optimum_at

__all__ = ["could_improve_alone", "verify_scheme"]


def verify_scheme(
    session: HighsSession,
    problem: Problem,
    cards_now: dict[str, Scorecard],
    cards: dict[str, Scorecard],
    allocations: np.ndarray,
    x_ref: np.ndarray,
    optimum: float,
    options: Options,
    stats: Statistics,
) -> tuple[Verification, list[str]]:
    """The verification of scorecards ``cards`` at ``allocations`` (shares of ``optimum``,
    the system optimum), from the plan today's scorecards ``cards_now`` reach there; and the
    dynamics' notes."""
    lp = session.lp
    assert lp is not None
    plan = optimum_at(
        session,
        allocations,
        x_ref,
        options,
        stats,
        what=f"the system problem of {problem.label} at the scheme's allocations",
    )
    orders = department_orders(lp.departments, options.orders)
    starts = {"scheme allocations": plan.x}
    run = functools.partial(explore, lp, starts=starts, orders=orders, options=options, stats=stats)
    paths = run([cards_now, cards], workers=options.workers)
    held = run([cards], workers=options.workers)
    first = [p.first_stage for p in paths if p.mode is Mode.OPTIMISTIC]
    start = _start_words(lp.sense, first, optimum, len(orders))
    notes: list[str] = [plan.note] if plan.note else []
    notes.extend(failures([*paths, *held]))
    for p in (*paths, *held):
        outcomes = (p.outcome,) if p.first_stage is None else (p.first_stage, p.outcome)
        for outcome in outcomes:
            notes.extend(n for n in outcome.notes if n not in notes)
    allocation: dict[str, dict[str, float]] = {}
    for a, amount in zip(lp.allocations, allocations, strict=True):
        allocation.setdefault(a.department, {})[a.resource] = clean(float(amount))
    worst = {mode: _worst(lp.sense, paths, mode, optimum) for mode in Mode}
    verification = Verification(
        allocation=allocation,
        optimistic=worst[Mode.OPTIMISTIC][1],
        pessimistic=worst[Mode.PESSIMISTIC][1],
        start=start,
        from_target=tuple(_worst(lp.sense, held, mode, optimum)[1] for mode in Mode),
        paths=len(paths),
    )
    mode = Mode.PESSIMISTIC if verification.worst is verification.pessimistic else Mode.OPTIMISTIC
    end = worst[mode][0].outcome.x
    if end is not None:
        verification = dataclasses.replace(
            verification, could_improve=could_improve_alone(session, end)
        )
    return verification, notes


def _worst(
    sense: str, paths: list[ComputedPath], mode: Mode, optimum: float
) -> tuple[ComputedPath, Path]:
    """The worst path of ``mode`` for the company, and its figures."""
    path = extreme([p for p in paths if p.mode is mode], sense, worst=True)
    return path, _path(sense, path, optimum)


def _start_words(
    sense: str, ends: list[DynamicsOutcome | None], optimum: float, orders: int
) -> str:
    """Where the verification started, in words: the plans today's schemes reach under
    the scheme's allocations, over the orders."""
    reached = [e for e in ends if e is not None and not e.failed]
    converged = sum(e.converged for e in reached)
    rounds = sorted({e.rounds for e in reached})
    after = f"{rounds[0]}" if len(rounds) == 1 else f"{rounds[0]} to {rounds[-1]}"
    lowest = min(reached, key=lambda e: share_of_optimum(sense, e.objective, optimum))
    highest = max(reached, key=lambda e: share_of_optimum(sense, e.objective, optimum))

    def at(e: DynamicsOutcome) -> str:
        return f"{figure(e.objective)} = {share_of_optimum(sense, e.objective, optimum):.2%}"

    ended = (
        "all converged" if converged == len(reached) else f"{converged} of {len(reached)} converged"
    )
    same = abs(lowest.objective - highest.objective) <= 1e-6 * (1.0 + abs(lowest.objective))
    where = at(lowest) if same else f"from {at(lowest)} to {at(highest)}"
    return (
        "the plans the organization reaches under the scheme's allocations with today's "
        f"schemes (best-response dynamics from the optimal plan there in {orders} department "
        f"order(s), {ended} after {after} round(s)): {where} of the optimum"
    )


def could_improve_alone(session: HighsSession, x: np.ndarray) -> tuple[str, ...]:
    """The departments that, everyone else fixed at plan ``x``, could move to a plan
    better for the company (by more than 1e-7 relative): none means that only a
    coordinated move of several departments can improve on ``x``."""
    lp = session.lp
    assert lp is not None
    here = lp.objective.at(x)
    sign = Sense(lp.sense).sign
    out = []
    for d in lp.departments:
        fix_others(session, lp, free_columns(lp, d), x)
        session.set_objective(lp.objective, lp.sense)
        sol = session.solve(warm=False)
        # compared directly, not relative to the better value (which may be 0)
        if sol.optimal and sign * (lp.objective.at(sol.x) - here) > 1e-7 * (1.0 + abs(here)):
            out.append(d)
    return tuple(out)


def _path(sense: str, path: ComputedPath, optimum: float) -> Path:
    outcome = path.outcome
    return Path(
        objective=outcome.objective,
        share_of_optimum=share_of_optimum(sense, outcome.objective, optimum),
        rounds=outcome.rounds,
        converged=outcome.converged,
        cycle=outcome.cycle,
        order=path.order,
    )
