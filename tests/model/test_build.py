"""The Pyomo model that build makes of tests/models/tiny.yaml, component by component."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from conftest import TINY
from pyomo.repn.standard_repn import generate_standard_repn

from kpidesign.model.build import BuiltModel, build
from kpidesign.spec import load

PRODUCTS = ["standard", "premium"]
PERIODS = [1, 2, 3]


@pytest.fixture
def built() -> BuiltModel:
    return build(load(TINY))


def _terms(expr: object) -> tuple[dict[str, float], float]:
    """A linear expression as {variable name: coefficient} and its constant."""
    repn = generate_standard_repn(expr, quadratic=False)
    assert repn.is_linear()
    names = [v.name for v in repn.linear_vars]
    return dict(zip(names, map(float, repn.linear_coefs), strict=True)), float(repn.constant)


def _row(built: BuiltModel, name: str) -> tuple[float | None, dict[str, float], float | None]:
    con = built.model.find_component(name)
    assert con is not None, name
    body, constant = _terms(con.body)
    assert constant == 0.0  # constants are moved into the bounds
    return con.lower, body, con.upper


def _names(model: pyo.ConcreteModel, ctype: type) -> dict[str, int]:
    return {c.name: len(c) for c in model.component_objects(ctype, descend_into=True)}


def test_sets_variables_and_their_bounds(built: BuiltModel) -> None:
    m = built.model
    assert _names(m, pyo.Set) == {"product": 2, "period": 3}
    assert list(m.product) == PRODUCTS and list(m.period) == PERIODS
    assert _names(m, pyo.Var) == {
        "inventory": 6,
        "sold": 6,
        "promo": 3,
        "made": 6,
        "resources.budget.allocation": 2,
    }
    assert {m.inventory[p, t].bounds for p in PRODUCTS for t in PERIODS} == {(0, None)}
    assert {m.promo[t].bounds for t in PERIODS} == {(0, 100)}
    # allocations within baseline * (1 -+ max_shift 0.5): sales 60, production 30
    assert m.resources.budget.allocation["sales"].bounds == (30, 90)
    assert m.resources.budget.allocation["production"].bounds == (15, 45)
    assert built.owners == {
        "inventory": None,
        "sold": "sales",
        "promo": "sales",
        "made": "production",
    }


def test_constraints_have_the_files_rows(built: BuiltModel) -> None:
    assert built.constraint_names == ["balance", "market", "min_output", "capacity"]
    assert _names(built.model, pyo.Constraint) == {
        "balance": 6,
        "market": 6,
        "min_output": 1,
        "capacity": 3,
        "resources.budget.use": 2,
        "resources.budget.total": 1,
    }
    # period 1 reads the initial inventory 5 (inventory[p, 0]) as data
    assert _row(built, "balance[standard,1]") == (
        5.0,
        {"inventory[standard,1]": 1.0, "made[standard,1]": -1.0, "sold[standard,1]": 1.0},
        5.0,
    )
    assert _row(built, "balance[premium,2]") == (
        0.0,
        {
            "inventory[premium,2]": 1.0,
            "inventory[premium,1]": -1.0,
            "made[premium,2]": -1.0,
            "sold[premium,2]": 1.0,
        },
        0.0,
    )
    # variables on both sides: sold - 0.2 promo <= demand (from data/demand.csv: 8)
    assert _row(built, "market[premium,3]") == (
        None,
        {"sold[premium,3]": 1.0, "promo[3]": -0.2},
        8.0,
    )
    made = {f"made[{p},{t}]": 1.0 for p in PRODUCTS for t in PERIODS}
    assert _row(built, "min_output") == (10.0, made, None)
    # capacity 50 (40 in period 2) less its 10% slack
    for t, cap in [(1, 45.0), (2, 36.0), (3, 45.0)]:
        lower, body, upper = _row(built, f"capacity[{t}]")
        assert (lower, body) == (None, {f"made[standard,{t}]": 1.0, f"made[premium,{t}]": 1.0})
        assert upper == pytest.approx(cap)


def test_resources_are_blocks_with_use_rows_and_a_total(built: BuiltModel) -> None:
    alloc = "resources.budget.allocation"
    assert _row(built, "resources.budget.use[sales]") == (
        None,
        {**{f"promo[{t}]": 1.0 for t in PERIODS}, f"{alloc}[sales]": -1.0},
        0.0,
    )
    lower, body, upper = _row(built, "resources.budget.use[production]")
    assert (lower, upper) == (None, 0.0)
    assert body == pytest.approx(
        {**{f"made[{p},{t}]": 0.1 for p in PRODUCTS for t in PERIODS}, f"{alloc}[production]": -1}
    )
    # total 100 less the 5% reserve
    assert _row(built, "resources.budget.total") == (
        None,
        {f"{alloc}[sales]": 1.0, f"{alloc}[production]": 1.0},
        95.0,
    )
    assert [(a.department, a.resource, a.baseline) for a in built.allocations] == [
        ("sales", "budget", 60.0),
        ("production", "budget", 30.0),
    ]
    assert [a.var.name for a in built.allocations] == [f"{alloc}[sales]", f"{alloc}[production]"]
    assert [a.use_row.name for a in built.allocations] == [
        "resources.budget.use[sales]",
        "resources.budget.use[production]",
    ]
    assert built.resource_rows["budget"].name == "resources.budget.total"


def test_kpis_and_objective_evaluate_as_written(built: BuiltModel) -> None:
    m = built.model
    assert list(m.kpi.keys()) == [
        "sales.volume",
        "sales.revenue",
        "production.unit_cost",
        "production.output",
        "profit",
    ]
    assert list(built.kpis) == list(m.kpi.keys())
    assert [k for k, kpi in built.kpis.items() if kpi.is_ratio] == ["production.unit_cost"]
    assert _names(m, pyo.Objective) == {"objective": 1}
    assert m.objective.sense == pyo.maximize
    # one unit sold and made of each product in each period, no inventory, no promotion
    for p in PRODUCTS:
        for t in PERIODS:
            m.sold[p, t].set_value(1.0)
            m.made[p, t].set_value(1.0)
            m.inventory[p, t].set_value(0.0)
    for t in PERIODS:
        m.promo[t].set_value(0.0)
    assert pyo.value(m.kpi["sales.volume"]) == pytest.approx(6.0)
    assert pyo.value(m.kpi["sales.revenue"]) == pytest.approx(3 * 10 + 3 * 16)
    assert pyo.value(m.kpi["production.unit_cost"]) == pytest.approx((30 + 4 * 6) / 6)
    assert pyo.value(m.kpi["production.output"]) == pytest.approx(6.0)
    # revenue 78 - cost 4 * 6 - holding 0 - promotion 0
    assert pyo.value(m.kpi["profit"]) == pytest.approx(54.0)
    assert pyo.value(m.objective) == pytest.approx(54.0)
    assert pyo.value(built.objective_expr) == pytest.approx(54.0)
