"""The only user of highspy (:mod:`.session`): a live HiGHS session over a LinearProgram
or bare arrays, solve statuses and statistics (:mod:`.status`), and the diagnosis of a
problem without an optimum (:mod:`.diagnose`: IIS, unbounded ray)."""

from .session import HighsSession, Ranging, highs_version, quiet_highs
from .status import SOLVERS, Solution, Statistics, Status

__all__ = [
    "SOLVERS",
    "HighsSession",
    "Ranging",
    "Solution",
    "Statistics",
    "Status",
    "highs_version",
    "quiet_highs",
]
