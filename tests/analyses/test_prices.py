"""Transfer prices and the prices lever (issue 10, item 8): linking rows, the interval of
optimal prices, the margin rule, profit centres at the prices, the price scheme file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from conftest import TESTS, CliResult, line_of

import kpidesign
from kpidesign.analyses.common import system_optimum
from kpidesign.analyses.local import respond
from kpidesign.analyses.prices import (
    COMMON,
    decompose,
    price_scorecards,
    profit_centres,
    resolve_prices,
    transfer_prices,
)
from kpidesign.api import prepare
from kpidesign.errors import SpecError
from kpidesign.model.program import LinearProgram
from kpidesign.solver import HighsSession

PRICES = TESTS / "models" / "prices"
DANTZIG_WOLFE = PRICES / "dantzig_wolfe.yaml"
NO_VERTEX = PRICES / "no_vertex.yaml"
MANUFACTURER = TESTS.parent / "models" / "manufacturer.yaml"


def _target(path: Path) -> tuple[LinearProgram, HighsSession, np.ndarray]:
    _, lp = prepare(path)
    session = HighsSession(lp)
    return lp, session, system_optimum(session).x


def _linprog_interval(c: np.ndarray, A: np.ndarray, b: np.ndarray, row: int) -> tuple:
    """Independent check with scipy: ``max c x, A x <= b, x >= 0``; its optimum and the
    min and max of the dual of ``row`` over the optimal duals (``Aᵀ y >= c, y >= 0,
    b·y = optimum``)."""
    primal = scipy.optimize.linprog(-c, A_ub=A, b_ub=b, method="highs")
    opt = -primal.fun
    ends = []
    for sign in (1.0, -1.0):
        e = np.zeros(len(b))
        e[row] = sign
        dual = scipy.optimize.linprog(
            e, A_ub=-A.T, b_ub=-c, A_eq=b[None, :], b_eq=[opt], method="highs"
        )
        ends.append(sign * dual.fun)
    return opt, primal.x, ends[0], ends[1]


# -- the two-division example of DESIGN.md (Dantzig-Wolfe) ------------------------------


def test_dantzig_wolfe_by_scipy() -> None:
    # the figures of the model's description, from scipy alone
    c = np.array([3.0, 2, 2, 4])
    A = np.array([[1.0, 1, 2, 1], [1, 2, 0, 0], [0, 1, 0, 0], [0, 0, 1, 3], [0, 0, 1, 0]])
    b = np.array([10.0, 8, 3, 6, 4])
    opt, x, low, high = _linprog_interval(c, A, b, 0)
    assert opt == pytest.approx(32.0)
    assert x == pytest.approx([8, 0, 0, 2])
    assert (low, high) == (pytest.approx(0.4), pytest.approx(3.0))


def test_dantzig_wolfe_interval_and_the_price_chosen_inside() -> None:
    lp, session, z = _target(DANTZIG_WOLFE)
    assert z == pytest.approx([8, 0, 0, 2])
    result = transfer_prices(session, None, z)
    assert result.interval("shared") == (pytest.approx(0.4), pytest.approx(3.0))
    # the margin rule: the midpoint, 0.5 of the width from both ends
    assert result.price("shared") == pytest.approx(1.7)
    assert result.margin == pytest.approx(0.5)
    assert list(result.prices.constraint) == ["shared"]  # only the shared row links
    assert result.indifferent == []
    d = result.to_dict()
    assert d["transfer_prices"] == {"shared": pytest.approx(1.7)}
    assert d["transfer_price_ranges"] == {
        "shared": {"min": pytest.approx(0.4), "max": pytest.approx(3.0)}
    }
    json.dumps(d, allow_nan=False)  # plain JSON


def test_dantzig_wolfe_inside_the_interval_both_responses_are_unique_and_equal_z() -> None:
    lp, session, z = _target(DANTZIG_WOLFE)
    cards = price_scorecards(lp, {0: 1.7})
    # division one: (3 - 1.7) x1 + (2 - 1.7) x2; division two: (2 - 3.4) x3 + (4 - 1.7) x4
    assert cards["division_one"].cost == pytest.approx([1.3, 0.3, 0, 0])
    assert cards["division_two"].cost == pytest.approx([0, 0, -1.4, 2.3])
    for centre in profit_centres(session, {0: 1.7}, z):
        assert not centre.indifferent and centre.flags == []
        assert centre.pessimistic_loss == 0.0
    for card in cards.values():  # and with the shared row imposed: z* both ways
        resp = respond(session, card, z)
        assert resp.optimistic == pytest.approx(z, abs=1e-7)
        assert resp.pessimistic == pytest.approx(z, abs=1e-7)


def test_dantzig_wolfe_at_price_0_4_division_two_is_indifferent_and_overruns() -> None:
    lp, session, z = _target(DANTZIG_WOLFE)
    one, two = profit_centres(session, {0: 0.4}, z)
    assert not one.indifferent
    assert two.indifferent and two.flags == ["indifferent"]
    # its tied response (4, 2/3) takes 2*4 + 2/3 = 26/3 of the row instead of 2
    assert dict(two.response) == {"x3": pytest.approx(4.0), "x4": pytest.approx(2 / 3)}
    (row,) = two.overrun
    assert (row.constraint, row.index) == ("shared", "")
    assert row.change == pytest.approx(20 / 3)
    assert row.violation == pytest.approx(20 / 3)
    assert two.value_change == pytest.approx(8 / 3)  # "better", but infeasible
    (quantity,) = two.tie_breakers
    assert quantity.kind == "allocation"
    assert quantity.constraint == "shared"
    assert quantity.amount == pytest.approx(2.0)
    assert "division_two" in quantity.text
    out = two.to_dict()
    assert out["overrun"] == {"shared": pytest.approx(20 / 3)}
    assert out["tie_breakers"][0]["amount"] == pytest.approx(2.0)


def test_dantzig_wolfe_at_price_3_division_one_is_indifferent_and_loses_24() -> None:
    lp, session, z = _target(DANTZIG_WOLFE)
    one, two = profit_centres(session, {0: 3.0}, z)
    assert one.indifferent and not two.indifferent
    # (3 - 3) x1: every x1 in [0, 8] scores 0; the worst, x1 = 0, leaves 8 of the row
    assert dict(one.response) == {"x1": pytest.approx(0.0, abs=1e-9)}
    assert one.overrun[0].change == pytest.approx(-8.0)
    assert one.overrun[0].violation == 0.0
    assert one.value_change == pytest.approx(-24.0)
    assert one.pessimistic_loss == pytest.approx(24.0)  # x1 = 0 is feasible with the row imposed


def test_dantzig_wolfe_prices_lever_verifies_at_100_percent_pessimistic_too() -> None:
    lp, session, z = _target(DANTZIG_WOLFE)
    result = transfer_prices(session, None, z, start=np.zeros(lp.num_cols), start_label="zero")
    for mode in ("optimistic", "pessimistic"):
        v = result.verification[mode]
        assert v.share_of_optimum == pytest.approx(1.0, abs=1e-8)
        assert v.converged
    section = result.to_dict()["prices"]["verification"]
    assert section["share_of_optimum"] == pytest.approx(1.0, abs=1e-8)
    assert section["start"] == "zero"


# -- prices cannot decentralize -------------------------------------------------------------


def test_no_vertex_by_scipy() -> None:
    c = np.array([3.0, 2])
    A = np.array([[1.0, 1], [1, 0], [0, 1]])  # hours, a_cap, b's upper bound
    b = np.array([10.0, 6, 10])
    opt, x, low, high = _linprog_interval(c, A, b, 0)
    assert opt == pytest.approx(26.0)
    assert x == pytest.approx([6, 4])
    assert (low, high) == (pytest.approx(2.0), pytest.approx(2.0))


def test_prices_cannot_decentralize_names_the_division_and_the_quantity() -> None:
    lp, session, z = _target(NO_VERTEX)
    assert z == pytest.approx([6, 4])
    result = transfer_prices(session, None, z, start=np.zeros(lp.num_cols))
    assert result.interval("hours") == (pytest.approx(2.0), pytest.approx(2.0))
    assert result.price("hours") == pytest.approx(2.0)
    assert result.margin == 0.0
    assert result.indifferent == ["plant_b"]
    b = result.department("plant_b")
    assert dict(b.response) == {"b": pytest.approx(10.0)}
    assert b.overrun[0].change == pytest.approx(6.0)
    assert b.overrun[0].violation == pytest.approx(6.0)
    assert b.pessimistic_loss == pytest.approx(8.0)
    (quantity,) = b.tie_breakers
    assert (quantity.kind, quantity.variable, quantity.constraint) == ("target", "b", "hours")
    assert quantity.amount == pytest.approx(4.0)
    assert quantity.text == "a target for plant_b: b = 4 (its part of hours)"
    out = result.to_dict()["prices"]
    assert out["departments"]["plant_b"]["flags"] == ["indifferent"]
    assert out["departments"]["plant_a"]["flags"] == []
    # the dynamics from a = b = 0: optimistic 26, pessimistic 18 = 69.2% of the optimum
    assert result.verification["optimistic"].share_of_optimum == pytest.approx(1.0)
    assert result.verification["pessimistic"].objective == pytest.approx(18.0)
    assert out["verification"]["share_of_optimum"] == pytest.approx(18 / 26)


def test_evaluating_the_price_scheme_reproduces_the_lever(tmp_path: Path) -> None:
    # compare's dynamics start at plan B (= z* here, no allocations): plant B's worst tie
    # drops to b = 0 (18), its best keeps b = 4 (26); the lever from z* says the same
    lp, session, z = _target(NO_VERTEX)
    lever = transfer_prices(session, None, z, start=z)
    r = kpidesign.evaluate(NO_VERTEX, {"prices": {"hours": 2}})
    assert r.objectives["status_quo"] == pytest.approx(lever.verification["optimistic"].objective)
    assert r.status_quo_pessimistic == pytest.approx(lever.verification["pessimistic"].objective)
    assert r.status_quo_pessimistic == pytest.approx(18.0)
    assert any("profit centres at the transfer prices" in n for n in r.notes)
    assert r.incentives == {"plant_a": {}, "plant_b": {}}
    # a department the scheme names keeps its KPI weights; the others are profit centres
    mixed = kpidesign.evaluate(NO_VERTEX, {"prices": {"hours": 2}, "plant_b": {"output_b": 1}})
    assert mixed.incentives["plant_b"] == {"plant_b.output_b": 1.0}
    assert mixed.objectives["status_quo"] == pytest.approx(26.0)


def test_a_minimized_objective_has_prices_of_the_other_sign(write_model: Callable) -> None:
    text = NO_VERTEX.read_text().replace('max: "3 * a + 2 * b"', 'min: "-3 * a - 2 * b"')
    lp, session, z = _target(write_model(text))
    result = transfer_prices(session, None, z, start=np.zeros(lp.num_cols))
    # min -3a - 2b: one more hour lowers the objective by 2
    assert result.interval("hours") == (pytest.approx(-2.0), pytest.approx(-2.0))
    assert result.indifferent == ["plant_b"]
    assert result.department("plant_b").tie_breakers[0].amount == pytest.approx(4.0)
    assert result.verification["pessimistic"].share_of_optimum == pytest.approx(18 / 26)


# -- linking rows through shared state ------------------------------------------------------


def test_rows_link_through_shared_state(write_model: Callable) -> None:
    # inventory = made - sold ties sales and production; a cap on inventory alone links
    # them through it; demand is sales' own; a state nobody's row reaches is isolated
    path = write_model(
        """\
        kpidesign: 1
        name: linked
        variables:
          inventory: {lb: 0}
          spare: {lb: 0, ub: 1}
        departments:
          sales:
            variables:
              sold: {lb: 0, ub: 10}
            kpis:
              volume: {max: "sold"}
          production:
            variables:
              made: {lb: 0, ub: 10}
            kpis:
              output: {max: "made"}
        constraints:
          demand: {expr: "sold <= 6"}
          balance: {expr: "inventory == made - sold"}
          store: {expr: "inventory <= 3"}
          idle: {expr: "spare <= 1"}
        objective:
          max: "5 * sold - 2 * made - inventory"
        """
    )
    _, lp = prepare(path)
    dec = decompose(lp)
    linking = {lp.row_name(int(i)) for i in dec.rows}
    assert linking == {"balance", "store"}
    assert dec.block[lp.columns_of("inventory")] == [COMMON]
    assert dec.block[lp.columns_of("spare")] == [-4]  # isolated
    cards = price_scorecards(lp, {int(lp.row_components.index("balance")): 1.0}, dec)
    # the common state is on both scorecards, at its priced value -1 - 1 (balance: inv + ...)
    inv = int(lp.columns_of("inventory")[0])
    assert cards["sales"].cost[inv] == cards["production"].cost[inv] != 0


def test_the_seed_model_prices_are_optimal_duals_inside_their_intervals() -> None:
    lp, session, z = _target(MANUFACTURER)
    result = transfer_prices(session, None, z)
    p = result.prices
    assert len(p) == int(decompose(lp).linking.sum()) > 0
    assert (p["min"] <= p.price + 1e-9).all() and (p.price <= p["max"] + 1e-9).all()
    # z* is each profit centre's best at the chosen prices (they are optimal duals)
    assert not [n for n in result.notes if "not its best" in n]
    again = transfer_prices(HighsSession(lp), None, z)  # a fresh session: the same prices
    assert again.prices.price.to_numpy() == pytest.approx(p.price.to_numpy(), abs=1e-7)


# -- the scheme file's prices: section ---------------------------------------------------


def test_resolve_prices_expands_a_number_over_an_indexed_constraint() -> None:
    _, lp = prepare(TESTS / "models" / "tiny.yaml")
    resolved = resolve_prices(lp, {"balance": 2.5, "market": {"premium,2": 1}})
    balance = [i for i in range(lp.num_rows) if lp.row_name(i).startswith("balance[")]
    assert {i: resolved[i] for i in balance} == dict.fromkeys(balance, 2.5)
    market = [i for i in resolved if lp.row_name(i).startswith("market")]
    assert [lp.row_name(i) for i in market] == ["market[premium,2]"]
    with pytest.raises(SpecError) as caught:
        resolve_prices(lp, {"balanse": 1, "market": {"premiun,2": 1, "standard,1": "x"}})
    assert caught.value.messages == [
        "unknown constraint 'balanse' (did you mean 'balance'?)",
        "market has no index 'premiun,2' (did you mean 'premium,2'?)",
        "a price must be a finite number, got 'x'",
    ]


def test_a_bad_price_scheme_is_a_located_error(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text("prices:\n  hour: 2\n  a_cap: {1: 2}\n  hours: .nan\n", encoding="utf-8")
    result = run_cli("evaluate", NO_VERTEX, "--scheme", scheme)
    assert result.exit_code == 2
    assert result.error_lines() == [
        f"error: {scheme}:{line_of(scheme, 'hour:')}: prices.hour: unknown constraint 'hour' "
        "(did you mean 'hours'?)",
        f"error: {scheme}:{line_of(scheme, 'a_cap')}: prices.a_cap: a_cap is a scalar "
        "constraint: give one price, not indices",
        f"error: {scheme}:{line_of(scheme, 'hours:')}: prices.hours: a price must be a finite "
        "number (or {index: number}), got nan",
    ]


def test_evaluate_reads_a_price_scheme_file(
    tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text("prices:\n  shared: 1.7\n", encoding="utf-8")
    result = run_cli("evaluate", DANTZIG_WOLFE, "--scheme", scheme, "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["plans"]["status_quo"]["objective"] == pytest.approx(32.0)
    assert out["departments"]["division_two"]["unilateral_loss_pessimistic"] == pytest.approx(0)
