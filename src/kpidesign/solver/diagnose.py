"""The diagnosis of a solve without an optimum: its status and one line that says why,
by the model's names (the constraints of an irreducible infeasible subset, the variables
along an unbounded ray)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..types import Diagnosis, Status

if TYPE_CHECKING:
    from .session import HighsSession
    from .status import Solution

__all__ = ["diagnose"]


def diagnose(
    session: HighsSession, solution: Solution, what: str, *, conflict: bool = True
) -> Diagnosis:
    """Why ``what`` (e.g. "the system problem of baseline") has no optimal solution.

    ``conflict=False`` skips the search for an infeasible subset (slow on large models),
    for problems whose infeasibility can only be numerical: they contain a feasible plan.
    """
    status = solution.status
    if not conflict and status not in (Status.TIME_LIMIT, Status.UNBOUNDED):
        return Diagnosis(
            status,
            f"{what}: {status.value} although it starts from a feasible plan "
            "(numerical trouble; try another --solver)",
        )
    if status in (Status.INFEASIBLE, Status.INFEASIBLE_OR_UNBOUNDED):
        rows, cols = session.conflict()
        if status is Status.INFEASIBLE_OR_UNBOUNDED and not rows and not cols:
            names = session.ray()
            if names:
                return _unbounded(what, names)
        parts = []
        if rows:
            parts.append(f"constraints {', '.join(rows)}")
        if cols:
            parts.append(f"bounds of {', '.join(cols)}")
        detail = " and ".join(parts) if parts else "no conflicting subset could be isolated"
        return Diagnosis(
            Status.INFEASIBLE,
            f"{what} is infeasible: conflicting {detail}",
            conflict=(*rows, *cols),
        )
    if status is Status.UNBOUNDED:
        return _unbounded(what, session.ray())
    if status is Status.TIME_LIMIT:
        return Diagnosis(
            status, f"{what}: the time limit was reached before an optimal solution was found"
        )
    return Diagnosis(status, f"{what}: {status.value} ({solution.message})")


def _unbounded(what: str, names: list[str]) -> Diagnosis:
    along = f" along {', '.join(names)}" if names else ""
    return Diagnosis(
        Status.UNBOUNDED,
        f"{what} is unbounded: the objective improves without limit{along}",
        ray=tuple(names),
    )
