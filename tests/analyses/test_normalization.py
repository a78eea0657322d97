"""One scale rule without cliffs (issue 10, item 6), and weights as exchange rates.

``scale_k = max(|KPI_k(B)|, 0.001·R_k, 1e-6)``, ``R_k`` the KPI's range over the system's
feasible plans (a ratio: the range of its first-order model at B); see
:mod:`kpidesign.analyses.scales`.  The model ``tests/models/compare/safety_stock.yaml``
(hand-solved in its description) has a KPI, production's inventory, worth the safety
stock p at the reference plan B.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TESTS

from kpidesign import api
from kpidesign.analyses.common import allocation_columns, system_optimum
from kpidesign.analyses.design import _scaled_kpis
from kpidesign.analyses.scales import (
    RANGE_FRACTION,
    SCALE_FLOOR,
    as_scales,
    exchange_rates,
    kpi_range,
    measure_scales,
    scale_of,
)
from kpidesign.api import prepare
from kpidesign.cli import main
from kpidesign.model.problem import Problem
from kpidesign.solver import HighsSession

MODELS = TESTS / "models"
SAFETY = MODELS / "compare" / "safety_stock.yaml"
INVENTORY, OUTPUT = "production.inventory", "production.output"


def _safety_model(tmp_path: Path, p: str) -> Path:
    """``safety_stock.yaml`` with the safety stock ``p``."""
    text = SAFETY.read_text(encoding="utf-8")
    assert "safety: 0\n" in text
    path = tmp_path / f"safety_{p}.yaml"
    path.write_text(text.replace("safety: 0\n", f"safety: {p}\n"), encoding="utf-8")
    return path


def test_the_rule_keeps_the_value_away_from_zero_and_is_continuous_near_it() -> None:
    assert scale_of(7.0, 9.0) == 7.0  # |v| >= 0.001·R: today's scale, exactly
    assert scale_of(-250.0, 1e5) == 250.0
    assert scale_of(0.0, 10.0) == pytest.approx(0.01)  # near 0: 0.1% of the range
    assert scale_of(4e-7, 10.0) == scale_of(1e-6, 10.0) == pytest.approx(0.01)
    assert scale_of(0.0, 0.0) == SCALE_FLOOR  # constant at 0: the floor, no division by 0
    assert scale_of(float("nan"), 3.0) == 1.0  # a ratio undefined at B: no reference value
    # continuous across the point where the value takes over: no jump at |v| = 0.001·R
    edge = RANGE_FRACTION * 10.0
    assert scale_of(edge * (1 - 1e-9), 10.0) == pytest.approx(scale_of(edge * (1 + 1e-9), 10.0))


def test_designs_and_comparisons_change_continuously_with_the_safety_stock(
    tmp_path: Path,
) -> None:
    """Continuity in the data: the safety stock p in {0, 4e-7, 1e-6, 2e-6, 1e-3, 1}.

    Measured with the old rule (scale ``|KPI(B)|``, or 1 where that is <= 1e-6), before
    this change: inventory's scale was 1 for p <= 1e-6 and p above, so
    - the designed production weights jumped from output 0.6429 / inventory 0.3571
      (p = 0, 4e-7, 1e-6) to 0.7500 / 0.2500 (p = 2e-6), and were 0.7499 / 0.2501 at 1e-3;
    - the exact set (inventory weight >= s_inv/(s_out + s_inv)) jumped from >= 1/7 = 0.143
      to >= 2e-6/6.000004 = 3.3e-7: four orders of magnitude;
    - `compare` under today's scheme (output 0.9, inventory 0.1) reported a misalignment
      cost of 66.7% for p <= 1e-6 (production makes 10, objective 6 against 18) and 0% for
      p = 2e-6: an immaterial change of a safety stock flipped the headline.
    With the new rule inventory's scale is 0.001·(10 - p) for p below 0.00999 (its range is
    [p, 10]), so the designed weights are 0.74875 / 0.25125 for every p up to 1e-3 and the
    misalignment cost is 0; at p = 1 the scale is |KPI(B)| = 1, today's, and 0.1/1 < 0.9/7:
    production makes 10, objective 6 against 15, a misalignment cost of 60%.
    """
    ps = ["0", "4e-7", "1e-6", "2e-6", "1e-3", "1"]
    weights, costs, scores = {}, {}, {}
    for p in ps:
        path = _safety_model(tmp_path, p)
        design = api.design(path)
        w = design.weights[design.weights.department == "production"]
        weights[p] = dict(zip(w.kpi, w.designed, strict=True))
        compared = api.compare(path)
        costs[p] = compared.misalignment_cost
        unilateral = compared.unilateral.set_index("department")
        scores[p] = unilateral.loc["production", "score"]
    inv = {p: weights[p]["inventory"] for p in ps}
    assert abs(inv["4e-7"] - inv["1e-6"]) <= 1e-4
    assert abs(inv["1e-6"] - inv["2e-6"]) <= 1e-4
    small = ["0", "4e-7", "1e-6", "2e-6", "1e-3"]
    for a, b in itertools.pairwise(small):
        # a weight moves at most in proportion to the data: |Δw| <= |Δp| + 1e-6
        assert abs(inv[a] - inv[b]) <= abs(float(a) - float(b)) + 1e-6, (a, b, inv)
    assert inv["0"] == pytest.approx(0.25125, abs=1e-5)
    for p in small:
        assert costs[p] == pytest.approx(0.0, abs=1e-6)
    assert costs["1"] == pytest.approx(0.6, abs=1e-6)
    # production's score alone at its optimum from B: 0.9·made/(6 + p) - 0.1·stock/s_inv
    # with made = 6 + p, stock = p: 0.9 - 0.1·p/(0.001·(10 - p)) (continuous in p)
    for p in small:
        q = float(p)
        assert scores[p] == pytest.approx(0.9 - 0.1 * q / (0.001 * (10 - q)), abs=1e-6)
    assert abs(scores["4e-7"] - scores["1e-6"]) <= 1e-4


def test_a_design_evaluated_on_an_immaterially_different_model_holds(tmp_path: Path) -> None:
    designed = api.design(_safety_model(tmp_path, "4e-7")).scheme
    other = api.evaluate(_safety_model(tmp_path, "1e-6"), designed)
    assert other.misalignment_cost == pytest.approx(0.0, abs=1e-6)
    assert other.misalignment_cost_pessimistic == pytest.approx(0.0, abs=1e-6)


def test_scales_by_hand_on_the_safety_stock_model(tmp_path: Path) -> None:
    for p, inventory, output in (("0", 0.01, 6.0), ("1e-3", 0.001 * (10 - 1e-3), 6.001)):
        _, lp = prepare(_safety_model(tmp_path, p))
        session = HighsSession(lp)
        scales = measure_scales(session, system_optimum(session).x, [INVENTORY, OUTPUT])
        assert scales.ranges[INVENTORY] == pytest.approx(10 - float(p))  # stock in [p, 10]
        assert scales.scales[INVENTORY] == pytest.approx(inventory, rel=1e-9)
        assert scales.scales[OUTPUT] == pytest.approx(output, rel=1e-12)
    # away from 0 the scale is exactly |KPI(B)|: existing scheme files keep their meaning
    _, lp = prepare(_safety_model(tmp_path, "1"))
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    scales = measure_scales(session, x_b, [INVENTORY, OUTPUT, "profit"])
    for name in (INVENTORY, OUTPUT, "profit"):
        assert scales.scales[name] == abs(lp.kpis[name].value(x_b))
    assert scales.scales[INVENTORY] == pytest.approx(1.0)


def test_on_the_seed_only_kpis_at_zero_change_their_scale() -> None:
    """Every KPI of the seed's scorecards and menus keeps |KPI(B)| exactly, except the two
    that are 0 at B: quality's rework (range 0..1680 units, now 1.68) and finance's
    interest (0..36,000 EUR, now 36; it was 1, "per euro")."""
    spec, lp = prepare(TESTS.parent / "models" / "manufacturer.yaml")
    problem = Problem.from_spec(spec)
    session = HighsSession(lp)
    _, baseline = allocation_columns(lp)
    x_b = system_optimum(session, allocations=baseline).x
    scales = measure_scales(session, x_b, _scaled_kpis(problem))
    changed = {k: s for k, s in scales.scales.items() if s != abs(lp.kpis[k].value(x_b))}
    assert set(changed) == {"quality.rework_units", "finance.interest"}
    assert changed["quality.rework_units"] == pytest.approx(1.68, rel=1e-6)
    assert changed["finance.interest"] == pytest.approx(36.0, rel=1e-6)


def test_a_ratio_ranges_over_its_first_order_model_and_an_unbounded_side_is_ignored() -> None:
    # express.yaml: truck 10 (fixed), express e in [2, 20]; B at e = 2: freight per unit
    # (10 + 4e)/(10 + e) = 18/12 = 1.5; its first-order model at B, (N - 1.5·D)/12 =
    # (2.5e - 5)/12, ranges over [0, 45/12]: R = 3.75, scale max(1.5, 0.00375) = 1.5
    _, lp = prepare(MODELS / "ratio" / "express.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    freight = lp.kpis["logistics.freight_per_unit"]
    assert kpi_range(session, freight, x_b) == pytest.approx(3.75)
    scales = measure_scales(session, x_b, [freight.name])
    assert scales.scales[freight.name] == pytest.approx(1.5)
    # dorian.yaml: marketing's spend is unbounded above, 320 at B and its minimum: the
    # unbounded end counts as the value at B, so R = 0 and the scale is |320|
    _, lp = prepare(MODELS / "textbook" / "dorian.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    assert kpi_range(session, lp.kpis["marketing.spend"], x_b) == pytest.approx(0.0, abs=1e-9)
    scales = as_scales(lp, x_b, ["marketing.spend"])
    assert scales.scales["marketing.spend"] == pytest.approx(320.0)


#: models whose every KPI is scaled both ways below (shipped, textbook, ratio, compare)
_SCALED = sorted(
    [
        *(TESTS.parent / "models").glob("*.yaml"),
        *MODELS.glob("textbook/*.yaml"),
        *MODELS.glob("ratio/*.yaml"),
        SAFETY,
    ]
)


@pytest.mark.parametrize("path", _SCALED, ids=lambda p: p.stem)
def test_scales_skip_only_the_range_lps_that_cannot_change_them(path: Path) -> None:
    """measure_scales stops measuring a range once a bound of it shows the value at B
    decides the scale: its scales equal scale_of(value, R) with R measured in full (both
    LPs, kpi_range), bit for bit, and where it skipped, that bound really is below the
    deciding amount."""
    _, lp = prepare(path)
    session = HighsSession(lp)
    _, baseline = allocation_columns(lp)
    x_b = system_optimum(session, allocations=baseline).x
    names = list(lp.kpis)
    solves_before = session.stats.solves
    scales = measure_scales(session, x_b, names)
    measured_solves = session.stats.solves - solves_before
    full = {k: kpi_range(session, lp.kpis[k], x_b) for k in names}
    for k in names:
        value = lp.kpis[k].value(x_b)
        assert scales.scales[k] == scale_of(value, full[k]), k
        if np.isnan(scales.ranges[k]) and np.isfinite(full[k]):
            assert RANGE_FRACTION * full[k] <= max(abs(value), SCALE_FLOOR) * (1 + 1e-12), k
        elif np.isfinite(scales.ranges[k]):
            assert scales.ranges[k] == full[k], k
    assert measured_solves <= 2 * len(names)


def test_scales_of_kpis_away_from_zero_need_no_lp_where_the_bounds_say_so() -> None:
    """express.yaml: every column is bounded (truck fixed at 10, express in [2, 20]), so
    the box bound of freight per unit's first-order range, 3.75, is the range itself and
    0.001·3.75 <= 1.5: no LP; same-month units (express, 2 at B) range over [2, 20], and
    0.001·18 <= 2: no LP either."""
    _, lp = prepare(MODELS / "ratio" / "express.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    before = session.stats.solves
    scales = measure_scales(session, x_b, list(lp.kpis))
    assert session.stats.solves == before
    assert all(np.isnan(r) for r in scales.ranges.values())


def test_exchange_rates_by_hand(tmp_path: Path) -> None:
    # p = 1: B has made 7, stock 1, objective 15; scales output 7, inventory 1, profit 15
    _, lp = prepare(_safety_model(tmp_path, "1"))
    names = [OUTPUT, INVENTORY, "profit"]
    scales = as_scales(lp, system_optimum(HighsSession(lp)).x, names)
    # with profit (it is the objective) on the scorecard, rates are in objective units:
    # output (0.5/7)/(0.2/15) = 5.357 EUR per unit, inventory (0.3/1)/(0.2/15) = 22.5
    weights = {OUTPUT: 0.5, INVENTORY: 0.3, "profit": 0.2}
    rates = exchange_rates(lp, "production", weights, scales)
    assert [(r["kpi"], r["per"], r["objective_units"]) for r in rates] == [
        ("output", "profit", True),
        ("inventory", "profit", True),
    ]
    assert rates[0]["rate"] == pytest.approx(0.5 / 7 / (0.2 / 15))
    assert rates[1]["rate"] == pytest.approx(22.5)
    assert rates[1]["text"] == (
        "1 less inventory (unit-months) is worth 22.5 profit (EUR) on production's scorecard"
    )
    # without it, against the KPI of the largest weight: (0.4/1)/(0.6/7) = 4.667 units
    rates = exchange_rates(lp, "production", {OUTPUT: 0.6, INVENTORY: 0.4}, scales)
    assert len(rates) == 1 and rates[0]["per"] == "output" and not rates[0]["objective_units"]
    assert rates[0]["rate"] == pytest.approx(0.4 / (0.6 / 7))
    assert rates[0]["text"] == (
        "1 less inventory (unit-months) counts as much as 4.667 more output (units) on "
        "production's scorecard"
    )
    assert exchange_rates(lp, "production", {OUTPUT: 1.0}, scales) == []


def test_design_json_shows_the_designed_weights_as_exchange_rates(tmp_path: Path) -> None:
    result = api.design(_safety_model(tmp_path, "1"))
    out = result.to_dict()["departments"]["production"]
    w = out["weights"]
    (rate,) = out["exchange_rates"]
    assert (rate["kpi"], rate["per"]) == ("inventory", "output")  # output weighs more
    assert (rate["unit"], rate["per_unit"]) == ("unit-months", "units")
    assert rate["rate"] == pytest.approx((w["inventory"] / 1.0) / (w["output"] / 7.0))
    assert result.to_dict()["departments"]["sales"]["exchange_rates"] == []


def test_the_design_table_prints_the_exchange_rates() -> None:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["design", str(SAFETY)])
    assert res.exit_code == 0, res.output
    assert "Exchange rates on the designed scorecards" in res.stdout
    assert "1 less inventory (unit-months) counts as much as" in res.stdout
