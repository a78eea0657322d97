"""What a solve returns, without highspy: the :class:`Solution` of one solve, the
running :class:`Statistics` of a session, and the algorithms HiGHS offers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..types import Status

__all__ = ["SOLVERS", "Solution", "Statistics", "Status"]

#: HiGHS's ``solver`` option: ``choose`` (its default), ``simplex``, ``ipm`` (interior
#: point, for the largest models) or ``pdlp``
SOLVERS = ("choose", "simplex", "ipm", "pdlp")


@dataclass(frozen=True)
class Solution:
    """One solve: its status and, where optimal, primal and dual values (NaN otherwise)."""

    status: Status
    objective: float
    x: np.ndarray  # column values
    row_activity: np.ndarray
    row_dual: np.ndarray  # d objective / d row bound
    col_dual: np.ndarray  # reduced costs
    seconds: float  # wall time of this solve
    message: str = ""

    @property
    def optimal(self) -> bool:
        """Did the solve end optimal?"""
        return self.status is Status.OPTIMAL


@dataclass
class Statistics:
    """What a session has done: solves, simplex/IPM iterations, wall time in HiGHS."""

    solves: int = 0
    iterations: int = 0
    seconds: float = 0.0

    def add(self, other: Statistics) -> None:
        """Count ``other``'s solves, iterations and time too."""
        self.solves += other.solves
        self.iterations += other.iterations
        self.seconds += other.seconds
