"""The value of a resource: the company objective as a function of a resource's total, with
allocations optimized, walked exactly from breakpoint to breakpoint (or of one constraint
row's right-hand side, or of a margin: a constraint family's ``slack`` or a reserve).

The optimum of an LP as a function of one right-hand side is piecewise linear (concave for
a maximized objective). At a total, the resource row's shadow price is the slope, and the
ranging of that row says how far it holds; the next breakpoint is there. A plan where the
range ends where it starts (a degenerate basis at a breakpoint) is stepped past by a probe
a hair further, whose basis belongs to the next piece. Every point is a solve of its own,
not an extrapolation.

A margin moves many rows at once (every row of a family, each by its own ``|rhs|``). It is
made one row: a free column θ enters each moving row with the coefficient ``-change`` per
unit of margin, and one more row fixes ``θ``; that row's dual is the objective's change per
unit of margin and its ranging how far the basis holds, so the same walk serves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..model.problem import Problem
from ..model.program import SHARED, LinearProgram
from ..options import Options
from ..results import FrontierResult, clean
from ..solver import HighsSession, Solution, Statistics
from .common import returning_failures, run_info
from .sensitivity import rhs_ranges

__all__ = ["MAX_BREAKPOINTS", "bound_of", "value_frontier", "with_parameter"]

#: breakpoints of one frontier at most (each a solve or two); a model with more is cut
#: there with a note
MAX_BREAKPOINTS = 10_000


@dataclass(frozen=True)
class _Parameter:
    """The bound that varies: row ``row``'s upper bound, lower bound or both (``side``),
    at ``value * share``."""

    row: int
    side: str  # "upper", "lower" or "both"
    share: float = 1.0


def _parameter(lp: LinearProgram, resource: str | None, constraint: str | None) -> _Parameter:
    """A resource's total row, or a constraint row by its name (``capacity`` or
    ``capacity[3]``)."""
    if (resource is None) == (constraint is None):
        msg = "give a resource, a constraint or a margin, one of them"
        raise ValueError(msg)
    if resource is not None:
        if resource not in lp.resource_rows:
            known = ", ".join(lp.resource_rows) or "none"
            msg = f"unknown resource {resource!r} (the model's resources: {known})"
            raise ValueError(msg)
        return _Parameter(lp.resource_rows[resource], "upper")
    rows = {lp.row_name(int(i)): int(i) for i in lp.constraint_rows()}
    if constraint not in rows:
        family = [n for n in rows if n.startswith(f"{constraint}[")]
        hint = (
            f"; it is indexed: name one row, e.g. {family[0]}, or vary its slack with "
            f"--margin {constraint}"
            if family
            else ""
        )
        msg = f"unknown constraint row {constraint!r}{hint}"
        raise ValueError(msg)
    i = rows[constraint]
    lower, upper = lp.row_lower[i], lp.row_upper[i]
    side = "both" if lower == upper else ("upper" if np.isfinite(upper) else "lower")
    return _Parameter(i, side)


def bound_of(lp: LinearProgram, resource: str | None, constraint: str | None) -> float:
    """The bound the parameter has in the program (a resource's: what may be allocated; a
    constraint row's: its active bound); a ``ValueError`` unless exactly one of them is
    given and the model has it."""
    p = _parameter(lp, resource, constraint)
    return float(lp.row_upper[p.row] if p.side != "lower" else lp.row_lower[p.row])


def with_parameter(lp: LinearProgram, change: np.ndarray, name: str) -> LinearProgram:
    """``lp`` with its rows' bounds moving together as one parameter θ: a free column θ
    (no cost) with the coefficient ``-change[i]`` in row i, and a last row ``θ = 0``, both
    named ``name``. Fixing that row at t moves row i's bounds by ``t * change[i]``."""
    m, n = lp.A.shape
    change = np.asarray(change, dtype=float)
    column = sp.csc_array(-change.reshape(m, 1))
    last = sp.csc_array(([1.0], ([0], [n])), shape=(1, n + 1))
    A = sp.csc_array(sp.vstack([sp.hstack([lp.A, column]), last]))
    k, j = len(lp.row_components), len(lp.col_components)
    return replace(
        lp,
        A=A,
        row_lower=np.append(lp.row_lower, 0.0),
        row_upper=np.append(lp.row_upper, 0.0),
        col_lower=np.append(lp.col_lower, -np.inf),
        col_upper=np.append(lp.col_upper, np.inf),
        row_components=[*lp.row_components, name],
        row_component=np.append(lp.row_component, k),
        row_indices=[*lp.row_indices, None],
        col_components=[*lp.col_components, name],
        col_component=np.append(lp.col_component, j),
        col_indices=[*lp.col_indices, None],
        col_owner=np.append(lp.col_owner, SHARED),
    )


def _solve_at(session: HighsSession, p: _Parameter, value: float, what: str, name: str) -> Solution:
    """The system optimum with the parameter at ``value``."""
    lp = session.lp
    assert lp is not None
    bound = value * p.share
    lower = bound if p.side in ("lower", "both") else lp.row_lower[p.row]
    upper = bound if p.side in ("upper", "both") else lp.row_upper[p.row]
    session.set_row_bounds(np.array([p.row]), np.array([lower]), np.array([upper]))
    sol = session.solve()
    if not sol.optimal:
        raise session.explain(sol, f"{what} at {name} = {value:g}")
    return sol


def _piece(session: HighsSession, sol: Solution, p: _Parameter) -> tuple[float, float]:
    """The slope (objective per unit of the parameter) at ``sol`` and the value up to
    which it holds."""
    ranges = rhs_ranges(session, sol, session.ranging())
    return float(sol.row_dual[p.row]) * p.share, float(ranges.rhs_upper[p.row]) / p.share


def _frontier(
    lp: LinearProgram,
    problem: Problem,
    options: Options,
    stats: Statistics,
    *,
    start: float,
    stop: float,
    resource: str | None = None,
    constraint: str | None = None,
    share: float = 1.0,
    margin: str | None = None,
    change: np.ndarray | None = None,
) -> FrontierResult:
    """The frontier of ``resource``'s total (``share``: the part of it that may be
    allocated, ``1 - reserve``), of ``constraint``'s right-hand side (a row by name) or of
    the ``margin`` that moves the rows' bounds by ``change`` per unit (``lp`` holds them at
    a margin of 0), over ``[start, stop]``."""
    if margin is not None:
        if change is None or resource is not None or constraint is not None:
            msg = "a margin needs its change of the rows' bounds, and nothing else"
            raise ValueError(msg)
        lp = with_parameter(lp, change, f"the margin of {margin}")
        p = _Parameter(lp.num_rows - 1, "both")
        name = f"the margin of {margin}"
    else:
        p = _parameter(lp, resource, constraint)
        p = _Parameter(p.row, p.side, share if resource is not None else 1.0)
        name = f"the total of {resource}" if resource is not None else f"the bound of {constraint}"
    if not (math.isfinite(start) and math.isfinite(stop) and start < stop):
        msg = f"the values must be finite with from < to, not {start:g} .. {stop:g}"
        raise ValueError(msg)
    what = f"the system problem of {problem.label}"
    session = HighsSession(lp, options, stats=stats)
    total = start
    sol = _solve_at(session, p, total, what, name)
    points = [(total, sol.objective)]
    slopes: list[tuple[float, float, float]] = []
    notes: list[str] = []
    eps = 1e-7 * (1.0 + abs(stop))
    while total < stop:
        if len(points) > MAX_BREAKPOINTS:
            notes.append(f"cut at {MAX_BREAKPOINTS} breakpoints, at {name} = {total:g}")
            break
        slope, end = _piece(session, sol, p)
        if end <= total + eps:  # a degenerate basis at a breakpoint: the next piece's
            probe = _solve_at(session, p, min(total + eps, stop), what, name)
            slope, end = _piece(session, probe, p)
        nxt = min(max(end, total + eps), stop)
        sol = _solve_at(session, p, nxt, what, name)
        if slopes and abs(slopes[-1][2] - slope) <= 1e-9 * (1.0 + abs(slope)):
            slopes[-1] = (slopes[-1][0], nxt, slopes[-1][2])  # the same piece: no breakpoint
            points[-1] = (nxt, sol.objective)
        else:
            slopes.append((total, nxt, slope))
            points.append((nxt, sol.objective))
        total = nxt
    x = "total" if resource is not None else ("margin" if margin is not None else "rhs")
    return FrontierResult(
        run=run_info(problem, lp.sense, options, stats),
        resource=resource or "",
        constraint=constraint or "",
        margin=margin or "",
        points=pd.DataFrame(
            [{x: clean(t), "objective": clean(v)} for t, v in points],
            columns=[x, "objective"],
        ),
        slopes=pd.DataFrame(
            [{"from": clean(a), "to": clean(b), "slope": clean(s)} for a, b, s in slopes],
            columns=["from", "to", "slope"],
        ),
        notes=notes,
    )


#: The value frontier: ``value_frontier(lp, problem, options, resource=R, start=A, stop=B,
#: share=1 - reserve)``, ``constraint=ROW`` or ``margin=NAME, change=...``; a value without
#: an optimum is returned with its diagnosis.
value_frontier = returning_failures(_frontier, FrontierResult.failed)
