"""Sensitivity at a plan: shadow prices with the ranges over which they hold, costs with the
ranges over which the plan stays optimal (Excel Solver's Sensitivity Report).

Ranges of binding rows and of costs are HiGHS's ranging of the optimal basis.  A row with
slack has shadow price 0, and it stays 0 while the right-hand side does not cut into the
activity: ``[activity, inf)`` for an upper bound, ``(-inf, activity]`` for a lower one.
HiGHS's ranging of such a row is the activity's own range (on Wyndor's plant 1, ``[0, 4]``
where the right-hand side's range is ``[2, inf)``), so those ranges are computed here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..model.problem import Problem
from ..model.program import ALLOCATION, LinearProgram
from ..options import Options
from ..results import SensitivityResult, clean, clean_array
from ..results.sensitivity import MOVE_COLUMNS, SLACK_PRICE_COLUMNS
from ..solver import HighsSession, Solution, Statistics
from ..solver.face import at_bounds
from ..solver.session import Ranging
from .common import allocation_columns, returning_failures, run_info, system_optimum

__all__ = ["AT", "rhs_ranges", "sensitivity_report"]

#: where the report is taken: today's allocations (plan B) or the system optimum (plan C)
AT = ("today", "optimum")


def rhs_ranges(session: HighsSession, sol: Solution, ranging: Ranging) -> pd.DataFrame:
    """Per row of the session's program, at its bounds now: the bound the dual refers to
    (``rhs``: the active one, else the upper bound if finite), the slack, and the range of
    that bound over which the dual holds; HiGHS's ``ranging`` of the last solve (``sol``) for a
    binding row that is nonbasic, the activity and infinity for a row with slack or a
    basic one (its dual 0 holds while the bound is relaxed). ``degenerate``: a binding
    row whose range ends at its right-hand side on one side (the dual is then one of
    several, and the range one-sided information)."""
    lp = session.lp
    assert lp is not None
    down, up = ranging.row_bound_down, ranging.row_bound_up
    m = lp.num_rows
    row_lower, row_upper = session.row_lower[:m], session.row_upper[:m]
    act = sol.row_activity
    at_lower, at_upper = at_bounds(act, row_lower, row_upper)
    binding = at_upper | at_lower
    upper_side = at_upper | (~binding & np.isfinite(row_upper))
    rhs = np.where(upper_side, row_upper, row_lower)
    slack = np.where(upper_side, row_upper - act, act - row_lower)
    # a row at its bound but basic (a degenerate vertex) has dual 0 and HiGHS ranges its
    # activity there: its dual holds while the bound is relaxed, not while it is tightened
    priced = binding & ~session.basic_rows()
    lower = np.where(priced, down, np.where(upper_side, np.minimum(act, rhs), -np.inf))
    upper = np.where(priced, up, np.where(upper_side, np.inf, np.maximum(act, rhs)))
    tol = 1e-9 * (1.0 + np.abs(rhs))
    degenerate = binding & ((np.abs(lower - rhs) <= tol) | (np.abs(upper - rhs) <= tol))
    return pd.DataFrame(
        {
            "rhs": rhs,
            "slack": np.maximum(slack, 0.0),
            "rhs_lower": lower,
            "rhs_upper": upper,
            "binding": binding,
            "degenerate": degenerate,
        }
    )


def _sensitivity(
    lp: LinearProgram,
    problem: Problem,
    options: Options,
    stats: Statistics,
    *,
    at: str = "today",
    released: LinearProgram | None = None,
) -> SensitivityResult:
    """The report at plan B (``at="today"``: allocations fixed at their baselines) or at the
    system optimum C (``at="optimum"``); with ``released`` (the same model with every
    constraint's slack and every reserve at 0), the price of each margin."""
    if at not in AT:
        msg = f"at must be one of {', '.join(AT)}, not {at!r}"
        raise ValueError(msg)
    session = HighsSession(lp, options, stats=stats)
    _, baseline = allocation_columns(lp)
    what = f"the system problem of {problem.label}"
    if at == "today":
        sol = system_optimum(session, allocations=baseline, what=f"{what} at today's allocations")
    else:
        sol = system_optimum(session, what=what)
    ranging = session.ranging()
    rows = rhs_ranges(session, sol, ranging)
    # column by column: a million-row program is labelled at once, not row by row
    own = lp.constraint_rows()
    constraints = pd.DataFrame(
        {
            "constraint": np.asarray(lp.row_components, dtype=object)[lp.row_component[own]],
            "index": [k or "" for k in lp.row_keys(own)],
            "activity": clean_array(sol.row_activity[own]),
            "dual": clean_array(sol.row_dual[own]),
            **{c: rows[c].to_numpy()[own] for c in rows.columns},
        },
        columns=["constraint", "index", "activity", "dual", *rows.columns],
    )
    decisions = np.flatnonzero(lp.col_owner != ALLOCATION)
    variables = pd.DataFrame(
        {
            "variable": np.asarray(lp.col_components, dtype=object)[lp.col_component[decisions]],
            "index": [k or "" for k in lp.col_keys(decisions)],
            "value": clean_array(sol.x[decisions]),
            "reduced_cost": clean_array(sol.col_dual[decisions]),
            "cost": lp.objective.dense(lp.num_cols)[decisions],
            "cost_lower": np.asarray(ranging.cost_down, dtype=float)[decisions],
            "cost_upper": np.asarray(ranging.cost_up, dtype=float)[decisions],
        },
        columns=["variable", "index", "value", "reduced_cost", "cost", "cost_lower", "cost_upper"],
    )
    allocations = pd.DataFrame(
        [_allocation_row(lp, sol, rows, a) for a in lp.allocations],
        columns=["department", "resource", "allocation", "dual", "lower", "upper"],
    )
    resources = pd.DataFrame(
        [
            {
                "resource": r,
                "available": float(lp.row_upper[i]),
                "dual": clean(sol.row_dual[i]),
                "lower": float(rows.rhs_lower[i]),
                "upper": float(rows.rhs_upper[i]),
            }
            for r, i in lp.resource_rows.items()
        ],
        columns=["resource", "available", "dual", "lower", "upper"],
    )
    slack_prices = (
        pd.DataFrame(columns=SLACK_PRICE_COLUMNS)
        if released is None
        else _slack_prices(session, sol, released)
    )
    moves = (
        _reallocation(session, sol, baseline)
        if at == "today"
        else pd.DataFrame(columns=MOVE_COLUMNS)
    )
    notes = []
    degenerate = bool(constraints.degenerate.any())
    if degenerate:
        names = ", ".join(
            dict.fromkeys(c.constraint for c in constraints.itertuples() if c.degenerate)
        )
        notes.append(
            f"degenerate optimum: a shadow price of {names} is one of several (its range "
            "ends at its right-hand side on one side), so its range is one-sided information"
        )
    return SensitivityResult(
        run=run_info(problem, lp.sense, options, stats),
        objective=sol.objective,
        at=at,
        constraints=constraints,
        variables=variables,
        allocations=allocations,
        resources=resources,
        slack_prices=slack_prices,
        reallocation=moves,
        degenerate=degenerate,
        notes=notes,
    )


def _slack_prices(session: HighsSession, sol: Solution, released: LinearProgram) -> pd.DataFrame:
    """What each intentional margin costs (a constraint family's ``slack``, a resource's
    ``reserve``), then all of them together (``margin`` "total"): ``resolve``, the change
    of the objective when the margin's rows take their released bounds, re-solved on the
    live session; ``first_order``, the duals' estimate ``sum(dual * change of bound)``."""
    lp = session.lp
    assert lp is not None
    if (released.num_rows, released.num_cols) != (lp.num_rows, lp.num_cols):
        msg = "the model without margins has other rows or columns than the model"
        raise ValueError(msg)
    side = np.isfinite(lp.row_upper)
    now = np.where(side, lp.row_upper, lp.row_lower)
    freed = np.where(side, released.row_upper, released.row_lower)
    changed = np.abs(freed - now) > 1e-12 * (1.0 + np.abs(now))
    margins: list[tuple[str, np.ndarray]] = []
    for name in lp.constraint_components:
        k = lp.row_components.index(name)
        rows = np.flatnonzero((lp.row_component == k) & changed)
        if rows.size:
            margins.append((name, rows))
    for r, i in lp.resource_rows.items():
        if changed[i]:
            margins.append((f"resources.{r}.reserve", np.array([i])))
    if len(margins) > 1:
        margins.append(("total", np.concatenate([rows for _, rows in margins])))
    out = []
    for name, rows in margins:
        with session.restored():
            session.set_row_bounds(rows, released.row_lower[rows], released.row_upper[rows])
            freed_sol = session.solve()
        gain = freed_sol.objective - sol.objective if freed_sol.optimal else float("nan")
        if abs(gain) <= 1e-9 * (1.0 + abs(sol.objective)):
            gain = 0.0  # two solves of the same optimum differ by the solver's dust
        out.append(
            {
                "margin": name,
                "rows": int(rows.size),
                "resolve": clean(gain),
                "first_order": clean(float(sol.row_dual[rows] @ (freed[rows] - now[rows]))),
            }
        )
    return pd.DataFrame(out, columns=SLACK_PRICE_COLUMNS)


#: moves of one advice at most (each is one re-solve); every move gains at least the
#: solver's tolerance, so the walk ends long before on any model seen
MAX_MOVES = 100
#: halvings of a move that does not gain before the walk stops
HALVINGS = 20


def _reallocation(session: HighsSession, sol: Solution, baseline: np.ndarray) -> pd.DataFrame:
    """Moves of a resource between departments (or from its unallocated part, ``from``
    None) that raise the objective, from today's allocations: each step tries the moves
    the prices say gain, from one allocation (or the unallocated part) to another, the
    largest price difference first, each as far as both prices' ranges and the
    allocations' own bounds allow (halved where it loses); the first that a re-solve at
    the moved allocations shows to gain stands (``gain``, the improvement in the
    objective's direction, and ``objective``: verified, not the duals' estimate), and the
    walk goes on from there until no single move between two allocations gains (a gain
    that needs two allocations raised together is not found)."""
    lp = session.lp
    assert lp is not None
    cols, _ = allocation_columns(lp)
    amounts = baseline.copy()
    objective = sol.objective
    sign = 1.0 if str(lp.sense) == "max" else -1.0
    moves: list[dict] = []
    with session.restored():
        session.fix_cols(cols, amounts)
        sol = session.solve()  # the ranging below is of this basis, not of a slack re-solve
        while sol.optimal and len(moves) < MAX_MOVES:
            rows = rhs_ranges(session, sol, session.ranging())
            found = None
            for name, source, target, amount in _candidate_moves(lp, sol, rows, amounts, sign):
                if not math.isfinite(amount):
                    continue
                for _ in range(HALVINGS):  # a move past the price's range may lose: halve it
                    trial = amounts.copy()
                    if source is not None:
                        trial[source] -= amount
                    trial[target] += amount
                    session.fix_cols(cols, trial)
                    moved = session.solve()
                    gain = sign * (moved.objective - objective) if moved.optimal else -np.inf
                    if gain > 1e-9 * (1.0 + abs(objective)):
                        found = (name, source, target, amount, trial, moved, gain)
                        break
                    amount /= 2.0
                if found is not None:
                    break
            if found is None:  # no single move between two allocations gains
                session.fix_cols(cols, amounts)
                break
            name, source, target, amount, trial, moved, gain = found
            amounts, objective, sol = trial, moved.objective, moved
            moves.append(
                {
                    "resource": name,
                    "from": None if source is None else lp.allocations[source].department,
                    "to": lp.allocations[target].department,
                    "amount": clean(amount),
                    "gain": clean(gain),
                    "objective": clean(objective),
                }
            )
    return pd.DataFrame(moves, columns=MOVE_COLUMNS)


def _candidate_moves(
    lp: LinearProgram, sol: Solution, rows: pd.DataFrame, amounts: np.ndarray, sign: float
) -> list[tuple[str, int | None, int, float]]:
    """Every move that the prices say gains, ``(resource, source allocation or None,
    target allocation, amount)``, the largest price difference first (the model's order of
    resources, then of targets, then of sources, on a tie)."""
    out: list[tuple[float, int, tuple[str, int | None, int, float]]] = []
    for r, r_row in lp.resource_rows.items():
        mine = [k for k, a in enumerate(lp.allocations) if a.resource == r]
        price = {k: sign * float(sol.row_dual[lp.allocations[k].use_row]) for k in mine}
        room_up, room_down = {}, {}
        for k in mine:
            a = lp.allocations[k]
            row = _allocation_row(lp, sol, rows, a)
            up = float(lp.col_upper[a.column]) - amounts[k]
            down = amounts[k] - float(lp.col_lower[a.column])
            # at a degenerate plan a price's range can end where it starts: the move is
            # then limited by the bounds alone, and the re-solve decides
            ranged_up, ranged_down = row["upper"] - amounts[k], amounts[k] - row["lower"]
            room_up[k] = ranged_up if ranged_up > 1e-9 else up
            room_down[k] = ranged_down if ranged_down > 1e-9 else down
        names = {k: lp.allocations[k].department for k in mine}
        pool = float(lp.row_upper[r_row]) - float(sol.row_activity[r_row])
        givers: list[tuple[float, int, str, int | None, float]] = []
        if pool > 1e-9:
            givers.append((0.0, 0, "", None, pool))
        givers += [(price[k], 1, names[k], k, room_down[k]) for k in mine
                   if room_down[k] > 1e-9]  # fmt: skip
        givers.sort(key=lambda g: g[:3])  # the unallocated part first on a tie, then by name
        for target in sorted((k for k in mine if room_up[k] > 1e-9), key=lambda k: names[k]):
            for worth, _, _, source, room in givers:
                edge = price[target] - worth
                if source != target and edge > 1e-9 * (1.0 + abs(price[target])):
                    move = (r, source, target, min(room_up[target], room))
                    out.append((edge, len(out), move))
    out.sort(key=lambda c: (-c[0], c[1]))
    return [move for _, _, move in out]


def _allocation_row(lp: LinearProgram, sol: Solution, rows: pd.DataFrame, a) -> dict:
    """An allocation's shadow price (its use row's dual, as ``solve`` reports it) and the
    range of the allocation over which it holds, within the allocation's own bounds (its
    ``max_shift``): the use row reads ``rest + coef * allocation <= upper`` (coef < 0), so
    one more unit of allocation is ``-coef`` more room in the row."""
    i = a.use_row
    coef = float(lp.A[i, a.column])
    amount = float(sol.x[a.column])
    room = -coef if coef < 0 else 1.0
    return {
        "department": a.department,
        "resource": a.resource,
        "allocation": clean(amount),
        "dual": clean(sol.row_dual[i]),
        "lower": max(
            amount + (float(rows.rhs_lower[i]) - float(rows.rhs[i])) / room,
            float(lp.col_lower[a.column]),
        ),
        "upper": min(
            amount + (float(rows.rhs_upper[i]) - float(rows.rhs[i])) / room,
            float(lp.col_upper[a.column]),
        ),
    }


#: Sensitivity report: ``sensitivity_report(lp, problem, options, at="today")``; a problem
#: without an optimum is returned with its status and diagnosis, not raised.
sensitivity_report = returning_failures(_sensitivity, SensitivityResult.failed)
