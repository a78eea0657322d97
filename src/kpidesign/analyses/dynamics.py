"""Best-response dynamics on one live session: departments take turns at their own
optimum until nothing moves, a plan comes back, or the rounds run out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..options import Options
from ..solver import HighsSession
from ..types import Mode
from .local import Scorecard, respond

__all__ = ["DynamicsOutcome", "ResponseMemo", "best_response_dynamics"]


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
    #: why the path could not be computed (a local problem without an optimum: the
    #: solver's message); "" for a computed path
    failed: str = ""


class ResponseMemo:
    """Best responses already computed on one session, by department, tie-break and plan:
    a plan within ``tol`` of one seen before, entry by entry (relative to the entry), gets
    the same response without a solve.  Paths of several orders share their first moves
    and usually end in the same few equilibria, so most of their steps are looked up."""

    def __init__(self, tol: float) -> None:
        self.tol = tol
        self._plans: dict[tuple[str, Mode], list[np.ndarray]] = {}
        self._responses: dict[tuple[str, Mode], list[tuple[np.ndarray | None, list[str]]]] = {}
        self.hits = 0

    def get(self, d: str, mode: Mode, x: np.ndarray) -> tuple[np.ndarray | None, list[str]] | None:
        """The response remembered for a plan within the tolerance of ``x``, if any."""
        plans = self._plans.get((d, mode))
        if not plans:
            return None
        scale = self.tol * (1.0 + np.abs(x))
        near = np.flatnonzero(np.all(np.abs(np.stack(plans) - x) <= scale, axis=1))
        if not near.size:
            return None
        self.hits += 1
        return self._responses[(d, mode)][int(near[0])]

    def put(
        self, d: str, mode: Mode, x: np.ndarray, response: np.ndarray | None, notes: list[str]
    ) -> None:
        """Remember ``response`` (and its notes) to plan ``x``."""
        self._plans.setdefault((d, mode), []).append(x.copy())
        self._responses.setdefault((d, mode), []).append((response, list(notes)))


def best_response_dynamics(
    session: HighsSession,
    cards: dict[str, Scorecard],
    start: np.ndarray,
    *,
    mode: Mode = Mode.OPTIMISTIC,
    options: Options | None = None,
    order: Sequence[str] | None = None,
    memo: ResponseMemo | None = None,
) -> DynamicsOutcome:
    """Gauss–Seidel best responses, departments in ``order`` (default: file order), from
    the plan ``start``; responses looked up in ``memo`` where it has them.

    Stops when no department's own variables move by more than ``options.tol`` (relative
    to their size) in a whole round, when a round ends within ``tol`` of an earlier round's
    plan (a cycle), or after ``options.max_rounds``.
    """
    lp = session.lp
    assert lp is not None
    options = options or Options()
    tol = options.tol
    x = start.copy()
    outcome = DynamicsOutcome(mode, x, lp.objective.at(x), 0, False, False)
    earlier: list[np.ndarray] = []  # round-end plans, to recognize a cycle
    for rnd in range(1, options.max_rounds + 1):
        moved = 0.0
        for d in lp.departments if order is None else order:
            new, notes = _response(session, cards[d], x, Mode(mode), options, memo)
            outcome.notes.extend(n for n in notes if n not in outcome.notes)
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


def _response(
    session: HighsSession,
    card: Scorecard,
    x: np.ndarray,
    mode: Mode,
    options: Options,
    memo: ResponseMemo | None,
) -> tuple[np.ndarray | None, list[str]]:
    """One department's response to ``x`` under ``mode`` (None: unbounded), from the memo
    if it has it."""
    if memo is not None:
        known = memo.get(card.department, mode, x)
        if known is not None:
            return known
    optimistic = mode is Mode.OPTIMISTIC
    resp = respond(
        session,
        card,
        x,
        optimistic=optimistic,
        pessimistic=not optimistic,
        tie_slack=options.tie_slack,
    )
    new = resp.optimistic if optimistic else resp.pessimistic
    if memo is not None:
        memo.put(card.department, mode, x, new, resp.notes)
    return new, resp.notes
