"""Best-response dynamics on one live session: departments take turns at their own
optimum until nothing moves, a plan comes back, or the rounds run out."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..options import Options
from ..solver import HighsSession
from ..types import Mode
from .local import Scorecard, respond

__all__ = ["DynamicsOutcome", "best_response_dynamics"]


@dataclass
class DynamicsOutcome:
    """Where best-response dynamics ended."""

    mode: Mode
    x: np.ndarray | None  # None when a pessimistic response was unbounded
    objective: float
    rounds: int
    converged: bool
    cycle: bool
    history: list[float] = field(default_factory=list)  # system objective after each round
    notes: list[str] = field(default_factory=list)


def best_response_dynamics(
    session: HighsSession,
    cards: dict[str, Scorecard],
    start: np.ndarray,
    *,
    mode: Mode = Mode.OPTIMISTIC,
    options: Options | None = None,
) -> DynamicsOutcome:
    """Gauss–Seidel best responses, departments in file order, from the plan ``start``.

    Stops when no department's own variables move by more than ``options.tol`` (relative
    to their size) in a whole round, when a round ends within ``tol`` of an earlier round's
    plan (a cycle), or after ``options.max_rounds``.
    """
    lp = session.lp
    assert lp is not None
    options = options or Options()
    tol = options.tol
    optimistic = Mode(mode) is Mode.OPTIMISTIC
    x = start.copy()
    outcome = DynamicsOutcome(mode, x, lp.objective.at(x), 0, False, False)
    earlier: list[np.ndarray] = []  # round-end plans, to recognize a cycle
    for rnd in range(1, options.max_rounds + 1):
        moved = 0.0
        for d in lp.departments:
            card = cards[d]
            resp = respond(
                session,
                card,
                x,
                optimistic=optimistic,
                pessimistic=not optimistic,
                tie_slack=options.tie_slack,
            )
            outcome.notes.extend(resp.notes)
            new = resp.optimistic if optimistic else resp.pessimistic
            if new is None:
                outcome.x, outcome.objective, outcome.rounds = None, float("nan"), rnd
                outcome.notes.append(
                    f"the pessimistic dynamics stopped: {d}'s worst response is unbounded"
                )
                return outcome
            own = lp.owned_by(d)
            if own.size:
                change = float(np.max(np.abs(new[own] - x[own])))
                moved = max(moved, change / (1.0 + float(np.max(np.abs(x[own])))))
            x = new
        outcome.rounds = rnd
        outcome.history.append(lp.objective.at(x))
        if moved <= tol:
            outcome.converged = True
            break
        # a plan that comes back (within the tolerance) to an earlier round's is a cycle
        scale = tol * (1.0 + float(np.max(np.abs(x)))) if x.size else tol
        if any(float(np.max(np.abs(x - e))) <= scale for e in earlier):
            outcome.cycle = True
            break
        earlier.append(x.copy())
    outcome.x = x
    outcome.objective = lp.objective.at(x)
    return outcome
