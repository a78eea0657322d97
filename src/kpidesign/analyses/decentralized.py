"""Plans on one live session: the system optimum, and best-response dynamics."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compile import LinearProgram
from ..highs import HighsSession, Solution
from .local import Scorecard, respond

__all__ = ["Outcome", "allocation_columns", "best_response_dynamics", "system_optimum"]


def allocation_columns(lp: LinearProgram) -> tuple[np.ndarray, np.ndarray]:
    """Allocation columns and their baselines, in the order of ``lp.allocations``."""
    cols = np.array([a.column for a in lp.allocations], dtype=np.int64)
    base = np.array([a.baseline for a in lp.allocations], dtype=float)
    return cols, base


def system_optimum(
    session: HighsSession,
    *,
    allocations: np.ndarray | None = None,
    what: str = "the system problem",
) -> Solution:
    """The model's objective over everything; allocations fixed to ``allocations`` if given."""
    lp = session.lp
    session.set_col_bounds(np.arange(lp.num_cols), lp.col_lower, lp.col_upper)
    if allocations is not None:
        cols, _ = allocation_columns(lp)
        session.fix_cols(cols, allocations)
    session.set_objective(lp.objective, lp.sense)
    sol = session.solve(warm=False)
    if not sol.optimal:
        raise session.explain(sol, what)
    return sol


@dataclass
class Outcome:
    """Where best-response dynamics ended."""

    mode: str  # "optimistic" | "pessimistic"
    x: np.ndarray | None  # None when a pessimistic response was unbounded
    objective: float
    rounds: int
    converged: bool
    cycle: bool
    history: list[float] = field(default_factory=list)  # system objective after each round
    solves: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def best_response_dynamics(
    session: HighsSession,
    cards: dict[str, Scorecard],
    start: np.ndarray,
    *,
    mode: str = "optimistic",
    tol: float = 1e-6,
    max_rounds: int = 50,
) -> Outcome:
    """Gauss–Seidel best responses, departments in file order, from the plan ``start``.

    Stops when no department's own variables move by more than ``tol`` (relative to their
    size) in a whole round, when a round ends within ``tol`` of an earlier round's plan (a
    cycle), or after ``max_rounds``.
    """
    lp = session.lp
    x = start.copy()
    outcome = Outcome(mode, x, lp.objective.at(x), 0, False, False)
    earlier: list[np.ndarray] = []  # round-end plans, to recognize a cycle
    for rnd in range(1, max_rounds + 1):
        moved = 0.0
        for d in lp.departments:
            card = cards[d]
            resp = respond(
                session, card, x, optimistic=mode == "optimistic", pessimistic=mode == "pessimistic"
            )
            outcome.solves += resp.solves
            outcome.seconds += resp.seconds
            outcome.notes.extend(resp.notes)
            new = resp.optimistic if mode == "optimistic" else resp.pessimistic
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
