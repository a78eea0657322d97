"""The comparison of DESIGN.md: local problems, tie-breaks, ratio KPIs, dynamics."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from click.testing import CliRunner
from conftest import TESTS
from hypothesis import HealthCheck, given, settings
from random_models import model_params
from random_models import random_model as _random_model

import kpidesign
from kpidesign.analyses.common import system_optimum
from kpidesign.analyses.local import Scorecard, free_columns, respond, scorecard
from kpidesign.api import prepare
from kpidesign.cli import main
from kpidesign.errors import SolveError
from kpidesign.solver import HighsSession, Status

MODELS = TESTS / "models"
CASES = MODELS / "compare"


def test_two_departments_by_hand() -> None:
    # System: sell s = 6 (demand), make p = 6, inventory 0 -> profit 5*6 - 2*6 - 0 = 18.
    # Production alone maximizes output p = 10 with s = 6: inventory 4, profit 30 - 20 - 4 = 6,
    # so its unilateral loss is 18 - 6 = 12.  Sales already sells all it can (loss 0).
    # Dynamics: round 1 sales keeps 6, production goes to 10; round 2 nobody moves.
    # Misalignment cost (18 - 6) / 18 = 2/3.  No resources: reallocation gain 0.
    r = kpidesign.compare(CASES / "two_departments.yaml")
    assert r.objectives["aligned"] == pytest.approx(18.0)
    assert r.objectives["system"] == pytest.approx(18.0)
    assert r.objectives["status_quo"] == pytest.approx(6.0)
    assert r.misalignment_cost == pytest.approx(2 / 3)
    assert r.reallocation_gain == pytest.approx(0.0)
    loss = r.unilateral.set_index("department").loss
    assert loss["production"] == pytest.approx(12.0)
    assert loss["sales"] == pytest.approx(0.0)
    assert r.decentralized.converged and r.decentralized.rounds == 2
    assert r.kpi("production", "output", "status_quo") == pytest.approx(10.0)
    assert r.state_total("inventory", "status_quo") == pytest.approx(4.0)
    assert r.own_kpis_hold() == {"sales": True, "production": True}
    assert r.headline().startswith("Each department meets its own KPI")
    assert "67% less" in r.headline() and "inventory 0 -> 4" in r.headline()


def test_indifferent_department_gives_an_interval() -> None:
    # Sales is paid on nothing, so every s in [0, min(6, p)] is optimal for it.  At the
    # aligned plan (p = 6): optimistic s = 6 (profit 18), pessimistic s = 0, i = 6
    # (profit -12 - 6 = -18): sales' unilateral loss lies in [0, 36].
    r = kpidesign.compare(CASES / "indifferent.yaml")
    row = r.unilateral.set_index("department").loc["sales"]
    assert row.loss == pytest.approx(0.0)
    assert row.loss_pessimistic == pytest.approx(36.0)
    # Optimistic dynamics: production makes 10, sales (indifferent) then sells 6: profit 6.
    # Pessimistic: sales sells nothing, production makes 10: profit -20 - 10 = -30.
    assert r.objectives["status_quo"] == pytest.approx(6.0)
    assert r.status_quo_pessimistic == pytest.approx(-30.0)
    assert r.misalignment_cost_pessimistic == pytest.approx(48 / 18)
    assert any("no incentive" in n for n in r.notes)


def test_reallocation_gain_by_hand() -> None:
    # Baseline budgets of 5 cap production at p = 5: aligned profit 5*5 - 2*5 = 15.  With
    # max_shift 0.5 production may get 7.5 (sales keeps >= 2.5 of the 12): p = s = 6 and
    # profit 18.  Reallocation gain (18 - 15) / 18 = 1/6.  The budget binds production's
    # output, so production's own optimum (p = 5) is harmless: misalignment 0.
    r = kpidesign.compare(CASES / "budget.yaml")
    assert r.objectives["aligned"] == pytest.approx(15.0)
    assert r.objectives["system"] == pytest.approx(18.0)
    assert r.reallocation_gain == pytest.approx(1 / 6)
    assert r.misalignment_cost == pytest.approx(0.0, abs=1e-9)
    alloc = r.allocations.set_index(["department", "plan"]).allocation
    assert alloc["production", "aligned"] == pytest.approx(5.0)
    assert alloc["production", "system"] >= 6.0 - 1e-9


def test_ratio_kpi_by_hand() -> None:
    # Production minimizes (10 + 2p)/p, falling in p: with s = 6 fixed and inventory
    # p - 6 >= 0 it makes p = 10 (unit cost 3.0 instead of 22/6 at p = 6): profit 6.
    r = kpidesign.compare(CASES / "unit_cost.yaml")
    assert r.kpi("production", "unit_cost", "aligned") == pytest.approx(22 / 6)
    assert r.kpi("production", "unit_cost", "status_quo") == pytest.approx(3.0)
    assert r.unilateral.set_index("department").loss["production"] == pytest.approx(12.0)


def _inequalities(lp) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``lp`` as dense ``G z <= h`` (a ranged or equality row gives two)."""
    A = lp.A.toarray()
    rows, rhs = [], []
    for i in range(lp.num_rows):
        if np.isfinite(lp.row_upper[i]):
            rows.append(A[i])
            rhs.append(lp.row_upper[i])
        if np.isfinite(lp.row_lower[i]):
            rows.append(-A[i])
            rhs.append(-lp.row_lower[i])
    return np.array(rows), np.array(rhs)


def _charnes_cooper(session: HighsSession, num, den, sign: float) -> float:
    """max sign*N/D over the session's current bounds, by the Charnes–Cooper LP in scipy."""
    lp = session.lp
    n = lp.num_cols
    G, h = _inequalities(lp)
    # y = t z, t >= 0: G y - t h <= 0, and the same for the column bounds
    rows = [np.append(g, -b) for g, b in zip(G, h, strict=True)]
    rhs = [0.0] * len(rows)
    for j in range(n):
        e = np.zeros(n + 1)
        e[j] = 1.0
        if np.isfinite(session.col_upper[j]):
            rows.append(e - np.append(np.zeros(n), session.col_upper[j]))
            rhs.append(0.0)
        if np.isfinite(session.col_lower[j]):
            rows.append(-e + np.append(np.zeros(n), session.col_lower[j]))
            rhs.append(0.0)
    c = -sign * np.append(num.dense(n), num.constant)
    eq = np.append(den.dense(n), den.constant)[None, :]
    res = scipy.optimize.linprog(
        c,
        A_ub=np.array(rows),
        b_ub=np.array(rhs),
        A_eq=eq,
        b_eq=[1.0],
        bounds=[(None, None)] * n + [(0, None)],
        method="highs",
    )
    assert res.status == 0, res.message
    return -res.fun


def _naive_dinkelbach(session: HighsSession, num, den, sign: float) -> float:
    """Dinkelbach's iterations written from scratch on scipy's linprog (dense, no reuse):
    lam <- N(z)/D(z) at z = argmax sign*(N - lam*D), until the optimum of that is 0."""
    lp = session.lp
    n = lp.num_cols
    rows, rhs = _inequalities(lp)
    bounds = [
        (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
        for lo, hi in zip(session.col_lower, session.col_upper, strict=True)
    ]
    N, D = num.dense(n), den.dense(n)

    def argmax(cost: np.ndarray) -> np.ndarray:
        res = scipy.optimize.linprog(
            -cost, A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs"
        )
        assert res.status == 0, res.message
        return res.x

    def q(z: np.ndarray) -> float:  # the signed ratio
        return sign * (N @ z + num.constant) / (D @ z + den.constant)

    lam = q(argmax(np.zeros(n)))  # start from the ratio at a feasible point
    for _ in range(100):
        z = argmax(sign * N - lam * D)
        value = sign * (N @ z + num.constant) - lam * (D @ z + den.constant)
        lam = q(z)
        if value <= 1e-10:
            return lam
    raise AssertionError("no convergence")


@pytest.mark.parametrize(
    "path,department",
    [(MODELS / "tiny.yaml", "production"), (CASES / "unit_cost.yaml", "production")],
)
def test_dinkelbach_matches_charnes_cooper_and_a_naive_dinkelbach(
    path: Path, department: str
) -> None:
    spec, lp = prepare(path)
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    card = scorecard(lp, department, dict(spec.departments[department].weights), x_b)
    assert card.ratio is not None
    resp = respond(session, card, x_b)
    assert resp.dinkelbach_iterations >= 1
    # the session still holds the local problem's bounds: the same region for scipy
    exact = _charnes_cooper(session, card.ratio.numerator, card.ratio.denominator, card.ratio_sign)
    assert resp.score == pytest.approx(exact, rel=1e-7)
    assert card.ratio_sign * card.ratio.value(resp.optimistic) == pytest.approx(exact, rel=1e-7)
    naive = _naive_dinkelbach(
        session, card.ratio.numerator, card.ratio.denominator, card.ratio_sign
    )
    assert resp.score == pytest.approx(naive, rel=1e-7)


def test_a_mixed_ratio_stays_exact_and_its_first_order_model_is_the_linearization() -> None:
    """A ratio mixed with a linear KPI is kept as a ratio (solved exactly, no linearization
    note; see test_mixed_ratio.py); ``cost``, the first-order model the alignment score
    reads, holds the ratio's linearization at the reference plan, which vanishes there."""
    spec, lp = prepare(MODELS / "tiny.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    card = scorecard(lp, "production", {"production.unit_cost": 0.5, "production.output": 0.5}, x_b)
    assert card.ratio is None and card.mixed is not None and card.exact
    assert not any("linearization" in n for n in card.notes)
    kpi = lp.kpis["production.unit_cost"]
    r_ref = kpi.value(x_b)
    assert kpi.numerator.at(x_b) - r_ref * kpi.denominator.at(x_b) == pytest.approx(0.0, abs=1e-9)
    # the true score: -0.5 unit_cost/|unit_cost(B)| + 0.5 output/|output(B)|, = 0 at B
    assert card.value(x_b) == pytest.approx(0.0, abs=1e-12)
    resp = respond(session, card, x_b)
    assert resp.certified and resp.bound - resp.score <= 1e-7 * (1 + abs(resp.score))
    assert card.value(resp.optimistic) == pytest.approx(resp.score, abs=1e-9)


def test_local_problem_moves_only_own_and_shared_columns() -> None:
    spec, lp = prepare(MODELS / "tiny.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    card = scorecard(lp, "sales", {"sales.volume": 1.0}, x_b)
    resp = respond(session, card, x_b)
    fixed = np.setdiff1d(np.arange(lp.num_cols), free_columns(lp, "sales"))
    np.testing.assert_allclose(resp.optimistic[fixed], x_b[fixed], atol=1e-9)
    assert resp.pessimistic is not None
    np.testing.assert_allclose(resp.pessimistic[fixed], x_b[fixed], atol=1e-9)
    # both tie-breaks are optimal for the department; optimistic is better for the system
    assert card.value(resp.optimistic) == pytest.approx(resp.score, rel=1e-6)
    assert card.value(resp.pessimistic) == pytest.approx(resp.score, rel=1e-6)
    assert lp.objective.at(resp.optimistic) >= lp.objective.at(resp.pessimistic) - 1e-6


def test_compare_cli_json_contract() -> None:
    res = CliRunner().invoke(main, ["compare", str(MODELS / "tiny.yaml"), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out["plans"]) == {"status_quo", "aligned", "system"}
    for key in ("misalignment_cost", "reallocation_gain"):
        assert isinstance(out[key], float)
    dept = out["departments"]["production"]
    assert set(dept["kpis"]["unit_cost"]) == {
        "status_quo",
        "aligned",
        "system",
        "status_quo_range",
    }
    assert set(dept["kpis"]["unit_cost"]["status_quo_range"]) == {"min", "max"}
    assert set(out["status_quo_range"]) >= {"min", "max", "paths", "equilibria"}
    assert set(out["misalignment_cost_range"]) == {"min", "max"}
    assert isinstance(dept["unilateral_loss"], float)
    assert set(out["decentralized"]) >= {"rounds", "converged"}
    assert set(out["state"]["inventory"]) == {"status_quo", "aligned", "system"}
    again = CliRunner().invoke(main, ["compare", str(MODELS / "tiny.yaml"), "--format", "json"])
    assert again.stdout == res.stdout  # deterministic, byte for byte


def test_compare_cli_table_has_a_headline() -> None:
    res = CliRunner().invoke(main, ["compare", str(CASES / "two_departments.yaml")])
    assert res.exit_code == 0, res.output
    assert "the company earns 67% less than it could" in res.stdout
    assert "Misalignment cost" in res.stdout


# -- properties -------------------------------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=model_params)
def test_aligned_is_never_worse_than_decentralized(tmp_path: Path, params: tuple) -> None:
    path = tmp_path / "random.yaml"
    path.write_text(_random_model(*params))
    r = kpidesign.compare(path)
    b = r.objectives["aligned"]
    assert r.objectives["status_quo"] <= b + 1e-6 * (1 + abs(b))
    assert r.status_quo_pessimistic <= b + 1e-6 * (1 + abs(b))
    assert r.objectives["system"] >= b - 1e-6 * (1 + abs(b))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(params=model_params)
def test_scheme_equal_to_the_objective_leaves_no_misalignment(
    tmp_path: Path, params: tuple
) -> None:
    path = tmp_path / "random.yaml"
    path.write_text(_random_model(*params[:6], "profit", "profit"))
    r = kpidesign.compare(path)
    b = r.objectives["aligned"]
    assert r.objectives["status_quo"] == pytest.approx(b, rel=1e-6, abs=1e-6)
    assert r.status_quo_pessimistic == pytest.approx(b, rel=1e-6, abs=1e-6)


def test_a_ratio_whose_denominator_can_reach_zero_is_accepted(tmp_path: Path) -> None:
    # made may now be 0, where unit cost (10 + 2m)/m is undefined; production still
    # minimizes it by making the most (m = 10, unit cost 3), as with made >= 1
    text = (
        (CASES / "unit_cost.yaml")
        .read_text()
        .replace("made: {lb: 1, ub: 10}", "made: {lb: 0, ub: 10}")
    )
    path = tmp_path / "zero.yaml"
    path.write_text(text)
    res = CliRunner().invoke(main, ["compare", str(path), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["departments"]["production"]["kpis"]["unit_cost"]["status_quo"] == pytest.approx(3)


def test_a_local_solve_that_fails_numerically_is_retried_without_presolve(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A local problem contains the current plan; if HiGHS still says infeasible (columns
    fixed at values feasible only within tolerance), a cold solve without presolve follows."""
    session, x_b, card = _production_response_setup()
    calls = _spuriously_infeasible(monkeypatch, session, {1})  # the first answer
    resp = respond(session, card, x_b)
    assert calls[:2] == [True, False]
    assert card.value(resp.optimistic) == pytest.approx(10 / 6)  # made = 10, normalized by 6


def test_a_local_solve_that_keeps_failing_is_a_clear_error_without_iis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec, lp = prepare(CASES / "two_departments.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    card = scorecard(lp, "production", {"production.output": 1.0}, x_b)
    real = session.solve
    monkeypatch.setattr(
        session, "solve", lambda **kw: dataclasses.replace(real(**kw), status=Status.INFEASIBLE)
    )
    monkeypatch.setattr(session, "conflict", lambda: pytest.fail("no IIS for a local problem"))
    with pytest.raises(SolveError, match="numerical trouble"):
        respond(session, card, x_b)


def test_a_score_held_only_within_the_solver_tolerance_is_relaxed_with_a_note(
    tmp_path: Path,
) -> None:
    # found by hypothesis: a demand of 1e-7 (HiGHS's feasibility tolerance) gives an aligned
    # plan selling 1e-7 from an inventory of -1e-7; holding production's score at that
    # optimum is infeasible by 1e-7, so the tie-break holds it with the tolerance to spare
    path = tmp_path / "random.yaml"
    path.write_text(_random_model(3, 1.0, 1.0, 1.0, [0.0, 0.0, 1e-07], 2.0, "volume", "profit"))
    r = kpidesign.compare(path)  # with highspy 1.16, the relaxation below is needed here
    b = r.objectives["aligned"]
    assert r.objectives["status_quo"] <= b + 1e-6


def test_a_tie_break_infeasible_twice_is_held_with_the_tolerance_to_spare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The optimistic tie-break says infeasible, warm, cold, and cold without presolve: the
    held score is relaxed once by the feasibility tolerance, and a note says so."""
    session, x_b, card = _production_response_setup()
    # the local solve is fine; the tie-break fails, warm and both cold retries
    calls = _spuriously_infeasible(monkeypatch, session, {2, 3, 4})
    resp = respond(session, card, x_b)
    assert calls[:5] == [True, True, True, False, True]
    assert any("within the solver's feasibility tolerance" in n for n in resp.notes)
    assert card.value(resp.optimistic) == pytest.approx(10 / 6)
    assert session.highs.getNumRow() == session.lp.num_rows


def _production_response_setup() -> tuple[HighsSession, np.ndarray, Scorecard]:
    """two_departments at B, production paid on output (made = 10 is its best response)."""
    spec, lp = prepare(CASES / "two_departments.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    return session, x_b, scorecard(lp, "production", {"production.output": 1.0}, x_b)


def _spuriously_infeasible(
    monkeypatch: pytest.MonkeyPatch, session: HighsSession, failing: set[int]
) -> list[bool]:
    """Make the solves numbered in ``failing`` (1-based) answer "infeasible"; returns the
    list of each solve's presolve flag, filled as they run."""
    real = session.solve
    calls: list[bool] = []

    def flaky(*, warm: bool = True, presolve: bool = True):
        calls.append(presolve)
        sol = real(warm=warm, presolve=presolve)
        if len(calls) in failing:
            return dataclasses.replace(sol, status=Status.INFEASIBLE)
        return sol

    monkeypatch.setattr(session, "solve", flaky)
    return calls


def test_a_plan_off_a_large_row_by_more_than_the_solver_tolerance_is_contained() -> None:
    """A local problem must contain the plan it starts from.  HiGHS's feasibility tolerance
    is absolute (1e-7), so a plan off a row whose activity is ~80,000 EUR (the seed's cash
    balance) by 1e-5 is infeasible to it although that is only 1.2e-10 relative: the row
    is widened.  (A relative threshold of 1e-9 left it, and the seed with its cash covenant
    binding stopped with 'numerical trouble' in evaluate.)"""
    from kpidesign.analyses.local import _containing

    _, lp = prepare(TESTS.parent / "models" / "manufacturer.yaml")
    session = HighsSession(lp)
    x = system_optimum(session, what="the seed").x.copy()
    j = lp.columns_of("cash")[0]  # cash[1]: in cash_balance[1] and [2]
    x[j] += 1e-5
    with _containing(session, lp, x) as widened:
        assert widened
    x[j] += 1.0  # far outside any tolerance: not the solver's dust, left alone
    with _containing(session, lp, x) as widened:
        assert not widened


def test_a_plan_off_a_balance_row_by_its_terms_rounding_is_contained() -> None:
    """A balance row sums large terms to 0: a plan off it by 5e-7 of its terms' size is
    rounding, however small its activity.  At 1M variables an inventory balance (terms of
    size 297, activity 0) was off by 1.05e-6, beyond 1e-6 of 1 + |activity|, so it was not
    widened, the next department's problem was infeasible to presolve and the pessimistic
    path of ``compare`` failed; the tolerance is now relative to 1 + sum_j |a_ij x_j|."""
    from kpidesign.analyses.local import _PLAN_TOLERANCE, _containing

    _, lp = prepare(TESTS.parent / "models" / "manufacturer.yaml")
    session = HighsSession(lp)
    x = system_optimum(session, what="the seed").x.copy()
    rows = lp.A.tocsr()
    size = abs(rows) @ np.abs(x)
    balances = np.flatnonzero((lp.row_lower == 0) & (lp.row_upper == 0) & (size > 10))
    r = int(balances[np.argmax(size[balances])])
    start = rows.indptr[r]
    j, a = int(rows.indices[start]), float(rows.data[start])
    off = 0.5 * _PLAN_TOLERANCE * (1.0 + size[r])
    x[j] += off / abs(a)
    act = lp.A @ x
    assert abs(act[r]) > _PLAN_TOLERANCE * (1.0 + abs(act[r]))  # the old rule left it
    with _containing(session, lp, x):
        assert session.row_lower[r] <= act[r] <= session.row_upper[r]
    assert session.row_lower[r] == session.row_upper[r] == 0.0  # put back


@pytest.mark.parametrize(
    ("model", "scheme"),
    [
        (TESTS.parent / "models" / "manufacturer.yaml", None),
        (TESTS.parent / "models" / "alliance.yaml", None),
        (CASES / "two_departments.yaml", {"production": {"output": 0.5, "profit": 0.5}}),
    ],
)
def test_status_quo_plan_is_the_plan_compare_reports(model: Path, scheme: dict | None) -> None:
    """``status_quo_plan`` (which generates actuals and the contract's status quo) runs the
    steps ``compare`` runs, so its plan is compare's status quo bit for bit: every KPI and
    the objective equal, not merely close (it ran its dynamics on another session before)."""
    from kpidesign.analyses.compare import status_quo_plan
    from kpidesign.model.problem import Problem
    from kpidesign.spec.model import split_kpi
    from kpidesign.spec.scheme import resolve_scheme

    spec, lp = prepare(model)
    problem = Problem.from_spec(spec, lp)
    x = status_quo_plan(lp, problem, None if scheme is None else resolve_scheme(spec, scheme))
    r = kpidesign.compare(model, orders="file", **({} if scheme is None else {"scheme": scheme}))
    assert lp.objective.at(x) == r.objectives["status_quo"]
    for k in lp.kpis.values():
        assert k.value(x) == r.kpi(k.owner or "", split_kpi(k.name)[1], "status_quo"), k.name
