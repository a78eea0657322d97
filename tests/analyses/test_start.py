"""Today's plan as a start (analyses/start.py), hand-checked on tests/models/plans/shop.yaml
(the figures are worked out in its description): completion by the system problem,
projection onto the feasible set, a feasible complete plan unchanged; the session is left
as it was found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import TESTS

import kpidesign
from kpidesign.analyses.common import allocation_columns, feasible
from kpidesign.analyses.start import today_start
from kpidesign.errors import SolveError
from kpidesign.model.problem import Problem
from kpidesign.solver import HighsSession, Statistics

PLANS = TESTS / "models" / "plans"
SHOP = PLANS / "shop.yaml"


def _start(plan: Path | None, model: Path = SHOP):
    """(lp, session at baseline allocations, start plan) of ``model`` from ``plan``."""
    spec, lp = kpidesign.prepare(model, start_plan=plan)
    problem = Problem.from_spec(spec, lp)
    session = HighsSession(lp)
    cols, base = allocation_columns(lp)
    session.fix_cols(cols, base)
    return lp, session, today_start(session, problem, kpidesign.Options(), Statistics())


def _values(lp, x) -> dict[str, float]:
    return {lp.col_name(j): round(float(x[j]), 6) for j in range(lp.num_cols)}


def test_a_partial_plan_is_completed_by_the_system_problem() -> None:
    lp, _, start = _start(PLANS / "today_partial.csv")
    assert start.given == 2 and start.completed == 5
    assert start.distance == 0.0 and not start.projected
    assert _values(lp, start.x) == {
        "stock[1]": 0.0,
        "stock[2]": 0.0,
        "made[1]": 6.0,
        "made[2]": 8.0,
        "sold[1]": 6.0,
        "sold[2]": 8.0,
        "promo": 2.0,
        "resources.budget.allocation[sales]": 5.0,
    }
    assert lp.objective.at(start.x) == pytest.approx(38.0)
    assert feasible(lp, start.x)
    assert start.description == (
        "today's plan (today_partial.csv): 2 of 7 values given, "
        "the rest completed by the system problem"
    )


def test_an_infeasible_plan_is_projected_onto_the_feasible_set() -> None:
    """made[1] = 12 is above its bound 10 and stock[1] = made[1] − sold[1]: L1 distance
    2 + 2 = 4; with the distance held the objective keeps sold[1] = 3 (25 in all)."""
    lp, _, start = _start(PLANS / "today_infeasible.csv")
    assert start.projected and start.given == 3 and start.completed == 4
    assert start.distance == pytest.approx(4.0, abs=1e-6)
    assert _values(lp, start.x) == {
        "stock[1]": 7.0,
        "stock[2]": 0.0,
        "made[1]": 10.0,
        "made[2]": 4.0,
        "sold[1]": 3.0,
        "sold[2]": 11.0,
        "promo": 5.0,
        "resources.budget.allocation[sales]": 5.0,
    }
    assert lp.objective.at(start.x) == pytest.approx(25.0, abs=1e-6)
    assert feasible(lp, start.x)
    assert start.description == (
        "today's plan (today_infeasible.csv): 3 of 7 values given, projected onto the "
        "feasible set, L1 distance 4 (2 values changed; largest change: made[1] 12 → 10); "
        "the rest completed by the system problem"
    )


def test_a_feasible_complete_plan_comes_back_unchanged() -> None:
    lp, _, start = _start(PLANS / "today_feasible.csv")
    assert start.given == 7 and start.completed == 0
    assert start.distance == 0.0 and not start.projected
    assert _values(lp, start.x) == {
        "stock[1]": 0.0,
        "stock[2]": 0.0,
        "made[1]": 5.0,
        "made[2]": 5.0,
        "sold[1]": 5.0,
        "sold[2]": 5.0,
        "promo": 0.0,
        "resources.budget.allocation[sales]": 5.0,
    }
    assert (
        start.description
        == "today's plan (today_feasible.csv): all 7 values given, feasible as given"
    )


def test_a_complete_plan_off_the_rows_is_projected_with_nothing_to_complete(
    tmp_path: Path,
) -> None:
    """All seven values, stock[2] off its balance by 1 (5 + 5 − 5 is 5, not 4): the
    nearest plan moves one value by 1; nothing is left to complete."""
    plan = tmp_path / "plan.csv"
    plan.write_text((PLANS / "today_feasible.csv").read_text().replace("stock,2,0", "stock,2,1"))
    lp, _, start = _start(plan)
    assert start.projected and start.completed == 0
    assert start.distance == pytest.approx(1.0, abs=1e-6)
    assert feasible(lp, start.x)
    assert start.description.startswith(
        "today's plan (plan.csv): all 7 values given, projected onto the feasible set, "
        "L1 distance 1 (1 value changed; largest change: "
    )
    assert not start.description.endswith("system problem")


def test_no_plan_named_gives_none() -> None:
    assert _start(None)[2] is None


def test_the_session_is_left_as_it_was_found() -> None:
    _, lp = kpidesign.prepare(SHOP)
    session = HighsSession(lp)
    cols, base = allocation_columns(lp)
    session.fix_cols(cols, base)
    session.set_objective(lp.kpis["sales.volume"].numerator, "max")
    lower, upper, cost = session.col_lower.copy(), session.col_upper.copy(), session.cost.copy()
    rows = session.num_rows
    for plan in ("today_partial.csv", "today_infeasible.csv"):
        problem = Problem.from_spec(*kpidesign.prepare(SHOP, start_plan=PLANS / plan))
        assert today_start(session, problem) is not None
        assert np.array_equal(session.col_lower, lower)
        assert np.array_equal(session.col_upper, upper)
        assert np.array_equal(session.cost, cost) and session.sense == "max"
        assert session.num_rows == rows
    sol = session.solve()  # HiGHS holds the same: the volume KPI (10 made a month, sold)
    assert sol.optimal and sol.objective == pytest.approx(20.0)


def test_a_plan_completed_into_an_unbounded_problem_is_a_solve_error(tmp_path: Path) -> None:
    """Without a limit on production, and a market that grows with it, the shop makes and
    sells without bound: no plan to start from."""
    model = tmp_path / "shop.yaml"
    text = SHOP.read_text().replace("ub: 10}", "}").replace("6 + promo", "6 + promo + made[t]")
    model.write_text(text)
    plan = tmp_path / "plan.csv"
    plan.write_text("variable,index,value\npromo,,1\n")
    with pytest.raises(SolveError) as info:
        _start(plan, model)
    assert info.value.diagnosis.status.value == "unbounded"
    assert "today's plan (plan.csv) of shop, completed by" in info.value.diagnosis.message
