"""The one number format (``results.figure``) and the readable measures of shared state."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import TESTS

import kpidesign
from kpidesign.analyses.common import state_measures, state_series
from kpidesign.model.problem import Problem
from kpidesign.results import figure

STOCK = TESTS / "models" / "compare" / "stock_periods.yaml"
SEED = TESTS.parent / "scenarios" / "baseline.yaml"


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (0, "0"),
        (-0.0, "0"),  # never "-0"
        (1e-9, "1e-09"),  # below 0.0001: scientific, not "0.000000001"
        (-3.7e-5, "-3.7e-05"),
        (0.0001, "0.0001"),
        (0.0378393, "0.03784"),  # four significant digits
        (96.6306, "96.63"),
        (101.505, "101.5"),
        (999.94, "999.9"),
        (999.96, "1,000"),  # rounds up into the whole numbers: separators, no "1000"
        (22409.9, "22,410"),  # whole numbers from 1,000 up
        (-4129.3, "-4,129"),
        (2165485, "2,165,485"),
        (1e14, "100,000,000,000,000"),
        (1e15, "1e+15"),
        (math.nan, "-"),
        (None, "-"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
    ],
)
def test_figure_on_edge_values(x: float | None, text: str) -> None:
    assert figure(x) == text


@pytest.mark.parametrize(
    ("x", "text"),
    [(0.0378393, "3.784%"), (0, "0%"), (-0.0, "0%"), (1.5, "150%"), (math.nan, "-")],
)
def test_a_share_prints_as_a_percentage(x: float, text: str) -> None:
    assert figure(x, "share") == text
    assert figure(x, "EUR") == figure(x)  # any other unit: the number as it is


def test_state_series_by_hand() -> None:
    # stock over [product, period]: the time-like set is period (the integer set), the
    # series sums both products per period; cash over [period] alone
    spec, lp = kpidesign.prepare(STOCK)
    problem = Problem.from_spec(spec)
    info = problem.state_variable("stock")
    assert (info.per, info.axis, info.unit) == ("period", 1, "units")
    x = np.zeros(lp.num_cols)
    for j in lp.columns_of("stock"):
        p, t = lp.col_indices[j]
        x[j] = {"a": 1.0, "b": 10.0}[p] * t  # a: 1, 2, 3; b: 10, 20, 30
    for j in lp.columns_of("cash"):
        x[j] = [5.0, -1.0, 2.0][lp.col_indices[j] - 1]
    assert state_series(lp, problem, "stock", x).tolist() == [11.0, 22.0, 33.0]
    m = state_measures(lp, problem, x)
    assert m["stock"] == {"average": 22.0, "min": 11.0, "max": 33.0}
    assert m["cash"] == {"average": 2.0, "min": -1.0, "max": 5.0}


def test_compare_json_state_measures_by_hand() -> None:
    # the model's description: aligned stock 0 and cash 19, 28, 37; status quo stock
    # 5, 10, 15 (both products) and cash 9, 8, 7
    out = kpidesign.compare(STOCK).to_dict()
    assert out["state"]["stock"]["status_quo"] == pytest.approx(30.0, abs=1e-6)  # the sum
    assert out["state"]["cash"]["aligned"] == pytest.approx(84.0)
    stock, cash = out["state_measures"]["stock"], out["state_measures"]["cash"]
    assert (stock["per"], stock["unit"], cash["unit"]) == ("period", "units", "EUR")
    expected = {
        "stock": {"average": (10, 0), "min": (5, 0), "max": (15, 0)},
        "cash": {"average": (8, 28), "min": (7, 19), "max": (9, 37)},
    }
    for var, measures in expected.items():
        for measure, (a, b) in measures.items():
            got = out["state_measures"][var][measure]
            assert got["status_quo"] == pytest.approx(a, abs=1e-6), (var, measure)
            assert got["aligned"] == pytest.approx(b, abs=1e-6), (var, measure)
            assert got["system"] == pytest.approx(b, abs=1e-6), (var, measure)


def test_compare_json_state_by_period_by_hand() -> None:
    # the model's description, period by period: status quo stock 5, 10, 15 (a: 2, 4, 6
    # plus b: 3, 6, 9) and cash 9, 8, 7; aligned and optimum stock 0 and cash 19, 28, 37
    result = kpidesign.compare(STOCK)
    out = result.to_dict()["state_by_period"]
    assert (out["stock"]["per"], out["stock"]["unit"], out["cash"]["unit"]) == (
        "period", "units", "EUR",
    )  # fmt: skip
    expected = {
        "stock": {"status_quo": [5, 10, 15], "aligned": [0, 0, 0], "system": [0, 0, 0]},
        "cash": {"status_quo": [9, 8, 7], "aligned": [19, 28, 37], "system": [19, 28, 37]},
    }
    for var, plans in expected.items():
        assert list(out[var]["periods"]) == ["1", "2", "3"]  # in the set's order
        for plan, values in plans.items():
            got = [out[var]["periods"][t][plan] for t in ("1", "2", "3")]
            assert got == pytest.approx(values, abs=1e-6), (var, plan)
    # the periods add up to the totals and average to the measures
    frame = result.state_periods
    for (var, plan), rows in frame.groupby(["variable", "plan"]):
        assert rows.value.sum() == pytest.approx(result.state_total(var, plan), abs=1e-9)
        average = result.state_measure(var, "average", plan)
        assert rows.value.mean() == pytest.approx(average, abs=1e-9)


def test_headline_quotes_averages_in_units() -> None:
    r = kpidesign.compare(STOCK)
    # a change from 0 as levels only; a moderate one with its % too
    assert r.state_changes() == "average per period, stock 0 -> 10 units, cash 28 -> 8 EUR (-71%)"
    assert r.headline().endswith(": " + r.state_changes() + ".")


def test_headline_on_the_seed() -> None:
    r = kpidesign.compare(SEED)
    changes = r.state_changes()
    assert changes.startswith("average per period, ")
    items = dict(
        item.split(" ", 1) for item in changes.removeprefix("average per period, ").split(", ")
    )
    assert set(items) == {"rework", "inventory", "cash", "backlog"}
    assert items["rework"] == "0 -> 20.83"  # from ~0: never a %
    assert "%" not in items["inventory"]  # 8.459 -> 357.7: a % of +4129 reads nothing
    assert items["cash"].endswith("(-35%)") and items["backlog"].endswith("(+26%)")
    assert "+4129%" not in r.headline() and "average" in r.headline()
    tables = r.tables()
    assert set(tables["state_measures"].columns) == {
        "variable", "per", "unit", "measure", "plan", "value",
    }  # fmt: skip
    assert "unit" in tables["kpis"].columns
