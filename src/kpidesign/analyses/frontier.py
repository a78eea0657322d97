"""The value of a resource: the company objective as a function of a resource's total, with
allocations optimized, walked exactly from breakpoint to breakpoint.

The optimum of an LP as a function of one right-hand side is piecewise linear (concave for
a maximized objective). At a total, the resource row's shadow price is the slope, and the
ranging of that row says how far it holds; the next breakpoint is there. A plan where the
range ends where it starts (a degenerate basis at a breakpoint) is stepped past by a probe
a hair further, whose basis belongs to the next piece. Every point is a solve of its own,
not an extrapolation.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..model.problem import Problem
from ..model.program import LinearProgram
from ..options import Options
from ..results import FrontierResult, clean
from ..solver import HighsSession, Solution, Statistics
from .common import returning_failures, run_info
from .sensitivity import rhs_ranges

__all__ = ["MAX_BREAKPOINTS", "value_frontier"]

#: breakpoints of one frontier at most (each a solve or two); a model with more is cut
#: there with a note
MAX_BREAKPOINTS = 10_000


def _solve_at(session: HighsSession, row: int, total: float, share: float, what: str) -> Solution:
    """The system optimum with the resource's row at ``total * share``."""
    session.set_row_bounds(np.array([row]), np.array([-np.inf]), np.array([total * share]))
    sol = session.solve()
    if not sol.optimal:
        raise session.explain(sol, f"{what} at a total of {total:g}")
    return sol


def _piece(session: HighsSession, sol: Solution, row: int, share: float) -> tuple[float, float]:
    """The slope (objective per unit of total) at ``sol`` and the total up to which it
    holds."""
    lp = session.lp
    assert lp is not None
    ranges = rhs_ranges(session, sol)
    return float(sol.row_dual[row]) * share, float(ranges.rhs_upper[row]) / share


def _frontier(
    lp: LinearProgram,
    problem: Problem,
    options: Options,
    stats: Statistics,
    *,
    resource: str,
    start: float,
    stop: float,
    share: float = 1.0,
) -> FrontierResult:
    """The frontier of ``resource`` over totals ``[start, stop]`` (``share``: the part of
    the total that may be allocated, ``1 - reserve``)."""
    if resource not in lp.resource_rows:
        known = ", ".join(lp.resource_rows) or "none"
        msg = f"unknown resource {resource!r} (the model's resources: {known})"
        raise ValueError(msg)
    if not (math.isfinite(start) and math.isfinite(stop) and start < stop):
        msg = f"the totals must be finite with from < to, not {start:g} .. {stop:g}"
        raise ValueError(msg)
    row = lp.resource_rows[resource]
    what = f"the system problem of {problem.label}"
    session = HighsSession(lp, options, stats=stats)
    total = start
    sol = _solve_at(session, row, total, share, what)
    points = [(total, sol.objective)]
    slopes: list[tuple[float, float, float]] = []
    notes: list[str] = []
    eps = 1e-7 * (1.0 + abs(stop))
    while total < stop:
        if len(points) > MAX_BREAKPOINTS:
            notes.append(f"cut at {MAX_BREAKPOINTS} breakpoints, at a total of {total:g}")
            break
        slope, end = _piece(session, sol, row, share)
        if end <= total + eps:  # a degenerate basis at a breakpoint: the next piece's
            probe = _solve_at(session, row, min(total + eps, stop), share, what)
            slope, end = _piece(session, probe, row, share)
        nxt = min(max(end, total + eps), stop)
        sol = _solve_at(session, row, nxt, share, what)
        if slopes and abs(slopes[-1][2] - slope) <= 1e-9 * (1.0 + abs(slope)):
            slopes[-1] = (slopes[-1][0], nxt, slopes[-1][2])  # the same piece: no breakpoint
            points[-1] = (nxt, sol.objective)
        else:
            slopes.append((total, nxt, slope))
            points.append((nxt, sol.objective))
        total = nxt
    return FrontierResult(
        run=run_info(problem, lp.sense, options, stats),
        resource=resource,
        points=pd.DataFrame(
            [{"total": clean(t), "objective": clean(v)} for t, v in points],
            columns=["total", "objective"],
        ),
        slopes=pd.DataFrame(
            [{"from": clean(a), "to": clean(b), "slope": clean(s)} for a, b, s in slopes],
            columns=["from", "to", "slope"],
        ),
        notes=notes,
    )


#: The value frontier: ``value_frontier(lp, problem, options, resource=R, start=A, stop=B,
#: share=1 - reserve)``; a total without an optimum is returned with its diagnosis.
value_frontier = returning_failures(_frontier, FrontierResult.failed)
