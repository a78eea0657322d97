"""The comparison: status quo (decentralized), aligned (system optimum at baseline
allocations) and system optimum (allocations optimized), side by side."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import SolveError
from ..model.problem import Problem
from ..model.program import LinearProgram
from ..options import Options
from ..results import CompareResult, Dynamics, clean
from ..solver import HighsSession, Solution, Statistics
from ..spec.model import split_kpi
from ..types import Mode, Plan, Status
from .common import (
    allocation_columns,
    returning_failures,
    run_info,
    state_measures_long,
    state_periods_long,
    state_totals,
    worse_by,
)
from .dynamics import DynamicsOutcome
from .equilibria import (
    ALIGNED_START,
    TODAY_START,
    department_orders,
    explore,
    failures,
    status_quo_range,
)
from .local import Scorecard, respond, scorecards, undefined_ratio_notes
from .prices import price_scorecards
from .scales import Scales, measure_scales
from .start import today_start
from .target import Target, system_and_reference
from .verify import verify_scheme

__all__ = ["compare_plans", "kpi_long_table", "status_quo_plan"]


def kpi_long_table(lp: LinearProgram, plans: dict[Plan, np.ndarray | None]) -> pd.DataFrame:
    """Every KPI under each plan (long format; NaN under a plan that does not exist)."""
    rows = []
    for k in lp.kpis.values():
        for plan, x in plans.items():
            rows.append(
                {
                    "department": k.owner or "",
                    "kpi": split_kpi(k.name)[1],
                    "sense": k.sense,
                    "unit": k.unit or "",
                    "plan": plan,
                    "value": float("nan") if x is None else clean(k.value(x)),
                }
            )
    return pd.DataFrame(rows, columns=["department", "kpi", "sense", "unit", "plan", "value"])


def _state_long(
    lp: LinearProgram, problem: Problem, plans: dict[Plan, np.ndarray | None]
) -> pd.DataFrame:
    rows = []
    for plan, x in plans.items():
        if x is None:
            continue
        for var, total in state_totals(lp, problem, x).items():
            rows.append({"variable": var, "plan": plan, "total": total})
    return pd.DataFrame(rows, columns=["variable", "plan", "total"])


def _unilateral_row(
    session: HighsSession, card: Scorecard, x_b: np.ndarray, b_objective: float, options: Options
) -> tuple[dict, list[str]]:
    """One department alone at its own optimum from the aligned plan B: the company's loss
    (optimistic and pessimistic tie-break) and the department's score."""
    lp = session.lp
    assert lp is not None
    resp = respond(session, card, x_b, tie_slack=options.tie_slack)
    opt = worse_by(lp, lp.objective.at(resp.optimistic), b_objective) * abs(b_objective)
    pes = (
        worse_by(lp, lp.objective.at(resp.pessimistic), b_objective) * abs(b_objective)
        if resp.pessimistic is not None
        else float("inf")
    )
    row = {
        "department": card.department,
        "loss": clean(opt),
        "loss_pessimistic": clean(pes),
        "score": clean(resp.score),
    }
    return row, resp.notes


def _profit_centres(
    lp: LinearProgram,
    cards: dict[str, Scorecard],
    notes: list[str],
    prices: Mapping[int, float],
    profit_centres: Collection[str] | None,
) -> None:
    """Replace the scorecards of ``profit_centres`` (default: every department) by their
    profit-centre scorecards at ``prices`` (:mod:`.prices`), with a note saying so."""
    names = list(lp.departments if profit_centres is None else profit_centres)
    priced = price_scorecards(lp, prices)
    for d in names:
        cards[d] = priced[d]
        notes[:] = [n for n in notes if not n.startswith(f"{d} has no incentive")]
    if names:
        notes.append(
            f"{', '.join(names)}: profit centres at the transfer prices of the scheme (their "
            "own objective terms less the priced rows they use)"
        )


def _compare(
    lp: LinearProgram,
    problem: Problem,
    options: Options,
    stats: Statistics,
    *,
    scheme: dict[str, dict[str, float]] | None = None,
    allocations: np.ndarray | None = None,
    prices: Mapping[int, float] | None = None,
    profit_centres: Collection[str] | None = None,
) -> CompareResult:
    """Plans A (status quo), B (aligned) and C (system) with the measures of DESIGN.md;
    with ``prices`` (row -> price), ``profit_centres`` (default: every department) are
    paid as profit centres at those prices instead of on KPIs; with ``allocations`` (in the
    order of ``lp.allocations``), also the scheme's verification there
    (:func:`~.verify.verify_scheme`, as ``design`` runs it)."""
    scheme = problem.incentives if scheme is None else scheme
    first = _first_steps(lp, problem, scheme, options, stats)
    session, c_sol, b_sol, scales = first.session, first.system, first.b, first.scales
    cards, notes = first.cards, first.notes
    x_b = b_sol.x
    if prices is not None:
        _profit_centres(lp, cards, notes, prices, profit_centres)
    unilateral = []
    for d in lp.departments:
        row, row_notes = _unilateral_row(session, cards[d], x_b, b_sol.objective, options)
        unilateral.append(row)
        notes.extend(row_notes)
    starts = {ALIGNED_START: x_b}
    described = {ALIGNED_START: "the aligned plan B"}
    if problem.today is not None:
        session.set_col_bounds(np.arange(lp.num_cols), lp.col_lower, lp.col_upper)
        session.fix_cols(*allocation_columns(lp))  # today's allocations
        today = today_start(session, problem, options, stats)
        assert today is not None
        starts[TODAY_START] = today.x
        described[TODAY_START] = today.description
    paths = explore(
        lp,
        [cards],
        starts,
        department_orders(lp.departments, options.orders),
        options,
        stats,
        workers=options.workers,
    )
    for p in paths:
        notes.extend(n for n in p.outcome.notes if n not in notes)
    notes.extend(failures(paths))
    file_order = tuple(lp.departments)
    optimistic, pessimistic = (
        next(p.outcome for p in paths if p.order == file_order and p.mode is mode) for mode in Mode
    )
    if optimistic.failed:  # the status quo itself: no comparison without it
        raise SolveError(optimistic.failed, Status.NUMERICAL)
    assert optimistic.x is not None
    verification = None
    if allocations is not None:
        cards_now = (
            cards if scheme is problem.incentives else scorecards(lp, problem.incentives, scales)[0]
        )
        verification, verify_notes = verify_scheme(
            session, problem, cards_now, cards, allocations, x_b, c_sol.objective, options, stats
        )
        notes.extend(n for n in verify_notes if n not in notes)
    plans = {Plan.STATUS_QUO: optimistic.x, Plan.ALIGNED: x_b, Plan.SYSTEM: c_sol.x}
    notes.extend(undefined_ratio_notes(lp, plans))
    objectives = {
        Plan.STATUS_QUO: optimistic.objective,
        Plan.ALIGNED: b_sol.objective,
        Plan.SYSTEM: c_sol.objective,
    }
    return CompareResult(
        run=run_info(problem, lp.sense, options, stats),
        objectives=objectives,
        status_quo_pessimistic=pessimistic.objective,
        misalignment_cost=worse_by(lp, optimistic.objective, b_sol.objective),
        misalignment_cost_pessimistic=worse_by(lp, pessimistic.objective, b_sol.objective),
        reallocation_gain=worse_by(lp, b_sol.objective, c_sol.objective),
        kpis=kpi_long_table(lp, plans),
        incentives={d: dict(card.weights) for d, card in cards.items()},
        unilateral=pd.DataFrame(
            unilateral, columns=["department", "loss", "loss_pessimistic", "score"]
        ),
        state=_state_long(lp, problem, plans),
        state_measures=state_measures_long(lp, problem, plans),
        state_periods=state_periods_long(lp, problem, plans),
        allocations=_allocations_long(lp, plans),
        decentralized=_dynamics(optimistic),
        pessimistic=_dynamics(pessimistic),
        notes=notes,
        verification=verification,
        status_quo_range=status_quo_range(lp, paths, b_sol.objective, described),
    )


def _weighted(*schemes: Mapping[str, Mapping[str, float]]) -> list[str]:
    """The KPIs the schemes weigh (qualified names, first seen first): those that need a
    scale."""
    return list(
        dict.fromkeys(k for scheme in schemes for weights in scheme.values() for k in weights)
    )


@dataclass
class _FirstSteps:
    """What every comparison starts with: its session, the system optimum (plan C), plan B
    at the baseline allocations, the KPI scales measured at B and the scheme's
    scorecards (with their notes, B's first)."""

    session: HighsSession
    system: Solution
    b: Target
    scales: Scales
    cards: dict[str, Scorecard]
    notes: list[str]


def _first_steps(
    lp: LinearProgram,
    problem: Problem,
    scheme: Mapping[str, Mapping[str, float]],
    options: Options,
    stats: Statistics,
) -> _FirstSteps:
    session, c_sol, b_sol = system_and_reference(lp, problem.label, options, stats)
    scales = measure_scales(session, b_sol.x, _weighted(scheme, problem.incentives))
    cards, notes = scorecards(lp, scheme, scales)
    if b_sol.note:
        notes.insert(0, b_sol.note)
    return _FirstSteps(session, c_sol, b_sol, scales, cards, notes)


def status_quo_plan(
    lp: LinearProgram,
    problem: Problem,
    scheme: dict[str, dict[str, float]] | None = None,
    options: Options | None = None,
) -> np.ndarray:
    """The plan ``compare`` reports as the status quo under ``scheme`` (default: today's
    incentives; qualified KPI names), computed as ``compare`` computes it: the departments'
    best responses in file order with the optimistic tie-break, from plan B at the
    baseline allocations, on a task session of its own (as one vector, to generate actuals
    a known scheme produces)."""
    options = options or Options()
    stats = Statistics()
    scheme = problem.incentives if scheme is None else scheme
    first = _first_steps(lp, problem, scheme, options, stats)
    (path,) = explore(
        lp,
        [first.cards],
        {ALIGNED_START: first.b.x},
        [tuple(lp.departments)],
        options,
        stats,
        modes=(Mode.OPTIMISTIC,),
    )
    if path.outcome.failed or path.outcome.x is None:
        why = path.outcome.failed or "; ".join(path.outcome.notes)
        msg = f"the status quo of {problem.label}: {why}"
        raise SolveError(msg, Status.NUMERICAL)
    return path.outcome.x


def _dynamics(outcome: DynamicsOutcome) -> Dynamics:
    return Dynamics(
        outcome.rounds,
        outcome.converged,
        outcome.cycle,
        tuple(clean(v) for v in outcome.history),
        clean(outcome.objective),
    )


def _allocations_long(lp: LinearProgram, plans: dict[Plan, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "department": a.department,
                "resource": a.resource,
                "plan": plan,
                "allocation": clean(x[a.column]),
            }
            for plan, x in plans.items()
            for a in lp.allocations
        ],
        columns=["department", "resource", "plan", "allocation"],
    )


#: Status quo vs aligned vs system optimum: ``compare_plans(lp, problem, options, scheme=,
#: allocations=, prices=, profit_centres=)`` (``scheme``: department -> {qualified KPI:
#: weight}, replacing the status-quo incentives of the departments it names;
#: ``allocations``: the scheme's allocations, adding its verification there; ``prices``:
#: row -> transfer price, making ``profit_centres``, default every department, profit
#: centres); a problem without an optimum is returned with its status and diagnosis, not
#: raised.
compare_plans = returning_failures(_compare, CompareResult.failed)
