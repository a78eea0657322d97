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

import numpy as np

from ..model.problem import Problem
from ..options import Options
from ..results import clean, figure
from ..results.verification import Path, Verification
from ..solver import HighsSession, Statistics
from ..types import Mode, Sense
from .common import share_of_optimum
from .dynamics import DynamicsOutcome, best_response_dynamics
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
    today = best_response_dynamics(session, cards_now, plan.x, options=options)
    assert today.x is not None  # optimistic dynamics always have a plan
    ending = "converged" if today.converged else ("cycled" if today.cycle else "stopped")
    start = (
        "the plan the organization reaches under the scheme's allocations with today's "
        f"schemes (best-response dynamics from the optimal plan there, {ending} after "
        f"{today.rounds} round(s), {figure(today.objective)} = "
        f"{share_of_optimum(lp.sense, today.objective, optimum):.2%} of the optimum)"
    )
    paths = {
        mode: best_response_dynamics(session, cards, today.x, mode=mode, options=options)
        for mode in Mode
    }
    held = {
        mode: best_response_dynamics(session, cards, plan.x, mode=mode, options=options)
        for mode in Mode
    }
    notes: list[str] = [plan.note] if plan.note else []
    for outcome in (today, *paths.values(), *held.values()):
        notes.extend(n for n in outcome.notes if n not in notes)
    allocation: dict[str, dict[str, float]] = {}
    for a, amount in zip(lp.allocations, allocations, strict=True):
        allocation.setdefault(a.department, {})[a.resource] = clean(float(amount))
    verification = Verification(
        allocation=allocation,
        optimistic=_path(lp.sense, paths[Mode.OPTIMISTIC], optimum),
        pessimistic=_path(lp.sense, paths[Mode.PESSIMISTIC], optimum),
        start=start,
        from_target=(
            _path(lp.sense, held[Mode.OPTIMISTIC], optimum),
            _path(lp.sense, held[Mode.PESSIMISTIC], optimum),
        ),
    )
    worst = paths[
        Mode.PESSIMISTIC if verification.worst is verification.pessimistic else Mode.OPTIMISTIC
    ]
    if worst.x is not None:
        verification = dataclasses.replace(
            verification, could_improve=could_improve_alone(session, worst.x)
        )
    return verification, notes


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


def _path(sense: str, outcome: DynamicsOutcome, optimum: float) -> Path:
    return Path(
        objective=outcome.objective,
        share_of_optimum=share_of_optimum(sense, outcome.objective, optimum),
        rounds=outcome.rounds,
        converged=outcome.converged,
        cycle=outcome.cycle,
    )
