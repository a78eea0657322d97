"""The shared vocabulary: enums for strings that stand for a choice, and the diagnosis of
an analysis without an optimum.

The enums are :class:`enum.StrEnum`: a member equals, prints and serializes as its value
(``Sense.MAX == "max"``), so files, tables and JSON read as before.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Diagnosis", "Mode", "Plan", "Sense", "Status"]


class Sense(enum.StrEnum):
    """The direction of an objective or KPI."""

    MAX = "max"
    MIN = "min"

    @property
    def sign(self) -> float:
        """+1 for max, -1 for min: ``sign * value`` is larger when better."""
        return 1.0 if self is Sense.MAX else -1.0

    @property
    def opposite(self) -> Sense:
        """The other direction."""
        return Sense.MIN if self is Sense.MAX else Sense.MAX


class Mode(enum.StrEnum):
    """The tie-break among a department's optimal responses: best or worst for the company."""

    OPTIMISTIC = "optimistic"
    PESSIMISTIC = "pessimistic"


class Plan(enum.StrEnum):
    """The three plans of a comparison (DESIGN.md): A, B and C."""

    STATUS_QUO = "status_quo"
    ALIGNED = "aligned"
    SYSTEM = "system"


class Status(enum.StrEnum):
    """How an analysis ended; every HiGHS model status maps to one of these."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible or unbounded"
    TIME_LIMIT = "time limit"
    ITERATION_LIMIT = "iteration limit"
    INTERRUPTED = "interrupted"
    NUMERICAL = "numerical trouble"
    #: a ratio KPI a department is paid on is undefined (its denominator 0) where it must
    #: be evaluated
    UNDEFINED = "undefined ratio"
    ERROR = "solver error"


@dataclass(frozen=True)
class Diagnosis:
    """Why an analysis has no optimum, by the model's names.

    ``message`` is the one line the command line prints; ``conflict`` names the
    constraints and bounds of an irreducible infeasible subset, ``ray`` the variables
    along which an unbounded objective improves (largest first).
    """

    status: Status
    message: str
    conflict: tuple[str, ...] = ()
    ray: tuple[str, ...] = ()
