"""An LP's optimal face, read from one optimal solution's duals (complementary slackness),
as bounds: every plan within them and the program's rows is optimal, and every optimal
plan lies within them.  Searching the face for a plan with a second property (the closest
to a reference) needs no objective row, and finds a plan exactly at the optimum, where a
row holding the objective within a slack lets that search spend the slack."""

from __future__ import annotations

import numpy as np

from .status import Solution

__all__ = ["DUAL_TOL", "at_bounds", "optimal_face"]

#: a reduced cost or row dual this far from 0 counts as nonzero (HiGHS's dual feasibility
#: tolerance: below it, HiGHS itself cannot tell a dual from 0)
DUAL_TOL = 1e-7


def at_bounds(
    value: np.ndarray, lower: np.ndarray, upper: np.ndarray, tol: float = 1e-7
) -> tuple[np.ndarray, np.ndarray]:
    """Where ``value`` sits at its finite ``lower`` and at its finite ``upper`` bound,
    within ``tol`` relative to ``1 + |value|`` (both masks; a fixed entry is at both)."""
    scale = tol * (1.0 + np.abs(value))
    at_lower = np.isfinite(lower) & (np.abs(value - lower) <= scale)
    at_upper = np.isfinite(upper) & (np.abs(value - upper) <= scale)
    return at_lower, at_upper


def optimal_face(
    solution: Solution,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Column and row bounds (copies of the LP's, one per column and row of ``solution``)
    that confine the LP to its optimal face, read from one optimal ``solution`` by
    complementary slackness: every optimal plan and every optimal dual are complementary,
    so a column whose reduced cost is nonzero sits at the bound ``solution`` has it at in
    every optimal plan, and a row whose dual is nonzero is active at the same bound.
    Duals within :data:`DUAL_TOL` of 0 count as 0 (the face can then come out larger
    than the optimal face, never by more than such duals allow; the caller checks the
    objective of the plan it finds there)."""
    col_lower, col_upper = col_lower.copy(), col_upper.copy()
    row_lower, row_upper = row_lower.copy(), row_upper.copy()
    for lower, upper, value, dual in (
        (col_lower, col_upper, solution.x, solution.col_dual),
        (row_lower, row_upper, solution.row_activity, solution.row_dual),
    ):
        at_lower, at_upper = at_bounds(value, lower, upper)
        at_upper &= ~at_lower
        priced = np.abs(dual) > DUAL_TOL
        upper[priced & at_lower] = lower[priced & at_lower]
        lower[priced & at_upper] = upper[priced & at_upper]
    return col_lower, col_upper, row_lower, row_upper
