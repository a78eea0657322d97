"""`kpidesign sensitivity`: the published Wyndor report, the range lpSolve gets wrong, and
every range checked against re-solves (inside it the shadow price or the plan holds, just
beyond it they do not)."""

from __future__ import annotations

import json
import math
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TESTS, kpidesign_executable

import kpidesign
from kpidesign.analyses.common import allocation_columns
from kpidesign.api import prepare
from kpidesign.cli import main
from kpidesign.options import Options
from kpidesign.solver import HighsSession

MODELS = TESTS / "models"
TEXTBOOK = MODELS / "textbook"
INF = math.inf


def test_wyndor_reproduces_the_published_sensitivity_report() -> None:
    # Hillier & Lieberman's report: shadow prices 0, 1.5, 1; right-hand sides [2, inf),
    # [6, 18], [12, 24]; objective coefficients [0, 7.5] and [2, inf)
    r = kpidesign.sensitivity(TEXTBOOK / "wyndor.yaml")
    c = r.constraints.set_index("constraint")
    assert list(c.dual) == pytest.approx([0.0, 1.5, 1.0])
    assert list(c.rhs_lower) == pytest.approx([2.0, 6.0, 12.0])
    assert list(c.rhs_upper) == [INF, pytest.approx(18.0), pytest.approx(24.0)]
    assert list(c.slack) == pytest.approx([2.0, 0.0, 0.0])
    v = r.variables.set_index("variable")
    assert list(v.cost_lower) == pytest.approx([0.0, 2.0])
    assert list(v.cost_upper) == [pytest.approx(7.5), INF]
    assert not r.degenerate and r.at == "today"


def test_a_row_with_slack_ranges_from_its_activity_not_over_everything() -> None:
    # tests/models/textbook/lpsolve_range.yaml, worked out in its description: lpSolve
    # reports (-inf, inf) for c2
    r = kpidesign.sensitivity(TEXTBOOK / "lpsolve_range.yaml")
    out = r.to_dict()
    assert out["objective"] == pytest.approx(40.5)
    c1, c2 = out["constraints"]["c1"], out["constraints"]["c2"]
    assert c1 == {"dual": 4.5, "slack": 0.0, "rhs": 9.0, "rhs_lower": 0.0, "rhs_upper": 15.0}
    assert c2 == {"dual": 0.0, "slack": 6.0, "rhs": 15.0, "rhs_lower": 9.0, "rhs_upper": None}
    v = out["variables"]
    assert (v["x2"]["cost_lower"], v["x2"]["cost_upper"]) == (pytest.approx(2.0), None)
    assert (v["x1"]["cost_lower"], v["x1"]["cost_upper"]) == (None, pytest.approx(4.5))
    assert (v["x3"]["cost_lower"], v["x3"]["cost_upper"]) == (None, pytest.approx(13.5))
    assert v["x1"]["reduced_cost"] == pytest.approx(-3.5)


def test_allocations_at_today_and_at_the_optimum_by_hand() -> None:
    # tests/models/compare/budget.yaml: max 5 sold - 2 made - inventory, inventory = made -
    # sold >= 0, sold <= 6, made <= production's budget (5 today), promo <= sales' (5).
    # Today: made = sold = 5, 15; one more unit of production's budget makes and sells one
    # more (+5 - 2 = 3) up to sold = 6, down to 0. Sales' budget buys promo, worth
    # nothing: 0 from its use (0) up, within its own bounds [2.5, 7.5] (max_shift 0.5),
    # so production's range is [2.5, 6] too. The total (12) is worth nothing while the allocations
    # (10) are fixed: [10, inf). At the optimum (18, production using 6) production's
    # budget is worth 0, and demand 3 up to 7.5 (production's max_shift bound).
    out = kpidesign.sensitivity(MODELS / "compare" / "budget.yaml").to_dict()
    assert out["objective"] == pytest.approx(15.0)
    assert out["allocation"]["production"]["budget"] == {
        "value": 5.0, "dual": 3.0, "lower": 2.5, "upper": 6.0,
    }  # fmt: skip
    assert out["allocation"]["sales"]["budget"] == {
        "value": 5.0, "dual": 0.0, "lower": 2.5, "upper": 7.5,
    }  # fmt: skip
    assert out["resources"]["budget"] == {
        "available": 12.0, "dual": 0.0, "lower": 10.0, "upper": None,
    }  # fmt: skip
    at_c = kpidesign.sensitivity(MODELS / "compare" / "budget.yaml", at="optimum").to_dict()
    assert at_c["at"] == "optimum" and at_c["objective"] == pytest.approx(18.0)
    # at C production's allocation is optimal anywhere in [6, 7.5] (it uses 6): the report
    # is at the solver's vertex, and one more unit of it is worth nothing at any of them
    production = at_c["allocation"]["production"]["budget"]
    assert 6.0 - 1e-9 <= production["value"] <= 7.5 + 1e-9
    assert production["dual"] == 0.0 and production["upper"] == pytest.approx(7.5)
    assert at_c["constraints"]["demand"]["dual"] == pytest.approx(3.0)
    assert at_c["constraints"]["demand"]["rhs_upper"] == pytest.approx(7.5)


CASES = [
    (TEXTBOOK / "wyndor.yaml", "today"),
    (TEXTBOOK / "dorian.yaml", "today"),
    (TEXTBOOK / "giapetto.yaml", "today"),
    (TEXTBOOK / "lpsolve_range.yaml", "today"),
    (MODELS / "compare" / "budget.yaml", "today"),
    (MODELS / "compare" / "budget.yaml", "optimum"),
]


def _resolve(lp, at: str, rows=None, cols=None, cost=None) -> float | None:
    """The optimum with row bounds ``rows`` ({i: (lo, hi)}) or column bounds ``cols``
    ({j: (lo, hi)}) or costs ``cost`` replaced, on a fresh session (None if infeasible)."""
    session = HighsSession(lp, Options())
    if at == "today":
        alloc, baseline = allocation_columns(lp)
        session.fix_cols(alloc, baseline)
    for i, (lo, hi) in (rows or {}).items():
        session.set_row_bounds(np.array([i]), np.array([lo]), np.array([hi]))
    for j, (lo, hi) in (cols or {}).items():
        session.set_col_bounds(np.array([j]), np.array([lo]), np.array([hi]))
    if cost is not None:
        session.set_objective(cost, str(lp.sense), lp.objective.constant)
    sol = session.solve(warm=False)
    return sol.objective if sol.optimal else None


def _probes(rhs: float, lower: float, upper: float) -> tuple[list[float], list[float]]:
    """Points inside a range (halfway to each end, or 1 + |rhs| along an open side) and
    just beyond each finite end that is not the value itself."""
    step = 1.0 + abs(rhs)
    inside = [rhs + (0.5 * (e - rhs) if math.isfinite(e) else s * step) for e, s in
              ((lower, -1), (upper, 1))]  # fmt: skip
    beyond = [e + s * 0.05 * (1.0 + abs(e)) for e, s in ((lower, -1), (upper, 1))
              if math.isfinite(e) and abs(e - rhs) > 1e-9]  # fmt: skip
    return inside, beyond


@pytest.mark.parametrize(("path", "at"), CASES, ids=lambda c: getattr(c, "stem", c))
def test_every_rhs_range_holds_inside_and_ends_where_it_says(path, at) -> None:
    _, lp = prepare(path)
    r = kpidesign.sensitivity(path, at=at)
    rows = [int(i) for i in lp.constraint_rows()]
    assert len(rows) == len(r.constraints)
    for i, c in zip(rows, r.constraints.itertuples(index=False), strict=True):
        assert c.rhs_lower <= c.rhs <= c.rhs_upper
        equality = lp.row_lower[i] == lp.row_upper[i]
        upper_side = c.rhs == lp.row_upper[i]

        def bounds(t: float, i=i, equality=equality, upper_side=upper_side):
            if equality:
                return {i: (t, t)}
            return {i: (lp.row_lower[i], t)} if upper_side else {i: (t, lp.row_upper[i])}

        inside, beyond = _probes(c.rhs, c.rhs_lower, c.rhs_upper)
        for t in inside:
            got = _resolve(lp, at, rows=bounds(t))
            assert got == pytest.approx(r.objective + c.dual * (t - c.rhs), rel=1e-7, abs=1e-7)
        for t in beyond:
            got = _resolve(lp, at, rows=bounds(t))
            linear = r.objective + c.dual * (t - c.rhs)
            assert got is None or abs(got - linear) > 1e-6 * (1.0 + abs(linear))


@pytest.mark.parametrize(("path", "at"), CASES, ids=lambda c: getattr(c, "stem", c))
def test_every_cost_range_keeps_the_plan_optimal_inside_and_not_beyond(path, at) -> None:
    _, lp = prepare(path)
    r = kpidesign.sensitivity(path, at=at)
    cost0 = lp.objective.dense(lp.num_cols)
    names = [lp.col_name(j) for j in range(lp.num_cols)]
    better = 1.0 if str(lp.sense) == "max" else -1.0
    for v in r.variables.itertuples(index=False):
        j = names.index(v.variable + (f"[{v.index}]" if v.index else ""))
        assert v.cost_lower <= v.cost <= v.cost_upper
        inside, beyond = _probes(v.cost, v.cost_lower, v.cost_upper)
        for t, stays in [*((t, True) for t in inside), *((t, False) for t in beyond)]:
            cost = cost0.copy()
            cost[j] = t
            plan_value = r.objective + (t - v.cost) * v.value  # the plan at the new cost
            got = _resolve(lp, at, cost=cost)
            if stays:
                assert got == pytest.approx(plan_value, rel=1e-7, abs=1e-7)
            else:
                assert got is not None and better * (got - plan_value) > 1e-7


def test_today_allocation_ranges_hold_against_re_solves() -> None:
    path = MODELS / "compare" / "budget.yaml"
    _, lp = prepare(path)
    r = kpidesign.sensitivity(path)
    alloc, _ = allocation_columns(lp)
    for j, a in zip(alloc, r.allocations.itertuples(index=False), strict=True):
        inside, beyond = _probes(a.allocation, a.lower, a.upper)
        for t in inside:
            got = _resolve(lp, "today", cols={int(j): (t, t)})
            assert got == pytest.approx(r.objective + a.dual * (t - a.allocation), abs=1e-7)
        # an end at the allocation's own bound (max_shift) is where the model stops it,
        # not where the price changes
        for t in [t for t in beyond if lp.col_lower[j] < t < lp.col_upper[j]]:
            got = _resolve(lp, "today", cols={int(j): (t, t)})
            linear = r.objective + a.dual * (t - a.allocation)
            assert got is None or abs(got - linear) > 1e-6


def test_the_seed_report_runs_and_its_json_is_one_document_through_the_executable() -> None:
    proc = subprocess.run(
        [kpidesign_executable(), "sensitivity", str(TESTS.parent / "scenarios" / "baseline.yaml"),
         "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["at"] == "today" and out["status"] == "optimal"
    quality = out["allocation"]["quality"]["budget"]
    # quality's budget is the one worth more today (design gives it 15,000 more)
    assert quality["dual"] > 0 and quality["lower"] <= quality["value"] <= quality["upper"]
    demand = out["constraints"]["demand"]
    assert set(demand) == {f"{p},{m}" for p in ("standard", "premium") for m in range(1, 13)}


def test_the_table_and_a_bad_at() -> None:
    res = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["sensitivity", str(TEXTBOOK / "wyndor.yaml")]
    )
    assert res.exit_code == 0, res.output
    assert "[2, inf]" in res.stdout and "[6, 18]" in res.stdout and "[0, 7.5]" in res.stdout
    bad = CliRunner().invoke(main, ["sensitivity", str(TEXTBOOK / "wyndor.yaml"), "--at", "x"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    with pytest.raises(ValueError, match="at must be one of"):
        kpidesign.sensitivity(TEXTBOOK / "wyndor.yaml", at="tomorrow")


def test_the_price_of_intentional_slack_by_hand() -> None:
    # tests/models/textbook/headroom.yaml, worked out in its description
    path = TEXTBOOK / "headroom.yaml"
    today = kpidesign.sensitivity(path).to_dict()
    assert today["objective"] == pytest.approx(16.0)
    zero = {"resolve": 0.0, "first_order": 0.0}
    assert today["slack_price"] == {"capacity": zero, "resources.budget.reserve": zero}
    assert today["allocation"]["plant"]["budget"] == {
        "value": 8.0, "dual": 2.0, "lower": 0.0, "upper": 9.0,
    }  # fmt: skip
    at_c = kpidesign.sensitivity(path, at="optimum")
    out = at_c.to_dict()
    assert out["objective"] == pytest.approx(24.0)
    assert out["slack_price"]["capacity"] == {
        "resolve": pytest.approx(1.0), "first_order": pytest.approx(1.0),
    }  # fmt: skip
    # the duals overestimate the reserve: its price holds only up to a total of 18
    assert out["slack_price"]["resources.budget.reserve"] == {
        "resolve": pytest.approx(3.0), "first_order": pytest.approx(5.0),
    }  # fmt: skip
    assert out["slack_price_total"] == {
        "resolve": pytest.approx(6.0), "first_order": pytest.approx(6.0),
    }  # fmt: skip
    # each re-solve restored the session: the report's own figures are the base plan's
    assert out["constraints"]["capacity"]["rhs"] == pytest.approx(9.0)
    assert list(at_c.slack_prices.margin) == ["capacity", "resources.budget.reserve", "total"]


def test_a_model_without_margins_prices_none() -> None:
    out = kpidesign.sensitivity(TEXTBOOK / "wyndor.yaml").to_dict()
    assert out["slack_price"] == {} and out["slack_price_total"] is None


def test_the_seed_prices_its_capacity_slack_and_its_reserve() -> None:
    r = kpidesign.sensitivity(TESTS.parent / "scenarios" / "baseline.yaml", at="optimum")
    p = r.slack_prices.set_index("margin")
    assert set(p.index) == {"capacity", "resources.budget.reserve", "total"}
    assert p.loc["capacity", "rows"] == 12
    # releasing headroom can only help a maximized objective, and the duals' estimate of
    # a relaxation is an upper bound of its gain (the value function is concave)
    for m in p.index:
        assert -1e-6 <= p.loc[m, "resolve"] <= p.loc[m, "first_order"] + 1e-6


def _apply(path, moves) -> float:
    """Plan B's objective at today's allocations with ``moves`` applied, on a fresh session
    (the check of every move's claim)."""
    _, lp = prepare(path)
    alloc, amounts = allocation_columns(lp)
    amounts = amounts.copy()
    where = {a.department: k for k, a in enumerate(lp.allocations)}
    for m in moves:
        if m["from"] is not None:
            amounts[where[m["from"]]] -= m["amount"]
        amounts[where[m["to"]]] += m["amount"]
    cols = {int(j): (v, v) for j, v in zip(alloc, amounts, strict=True)}
    got = _resolve(lp, "today", cols=cols)
    assert got is not None
    return got


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # budget.yaml: production's unit is worth 3 up to 6 (sold reaches demand), the
        # unallocated 2 is worth nothing: one move of 1, 15 -> 18, the optimum
        (MODELS / "compare" / "budget.yaml", [(None, "production", 1.0, 3.0, 18.0)]),
        # headroom.yaml: the plant's unit is worth 2 up to 9 (capacity), then 1 up to the
        # 15 that may be allocated: 16 -> 18 -> 24, the optimum
        (
            TEXTBOOK / "headroom.yaml",
            [(None, "plant", 1.0, 2.0, 18.0), (None, "plant", 6.0, 6.0, 24.0)],
        ),
    ],
    ids=["budget", "headroom"],
)
def test_reallocation_advice_by_hand(path, expected) -> None:
    r = kpidesign.sensitivity(path)
    moves = r.to_dict()["reallocation"]
    got = [(m["from"], m["to"], m["amount"], m["gain"], m["objective"]) for m in moves]
    assert got == [tuple(pytest.approx(v) if isinstance(v, float) else v for v in e)
                   for e in expected]  # fmt: skip
    optimum = kpidesign.sensitivity(path, at="optimum").objective
    assert moves[-1]["objective"] == pytest.approx(optimum)
    assert "move 1 of budget from the unallocated budget to" in r.advice()[0]


def test_every_move_on_the_seed_gains_what_it_claims_and_leads_to_the_optimum() -> None:
    path = TESTS.parent / "scenarios" / "baseline.yaml"
    r = kpidesign.sensitivity(path)
    moves = r.to_dict()["reallocation"]
    assert moves and all(m["gain"] > 0 for m in moves)
    before = r.objective
    for k, m in enumerate(moves):
        # applied to today's allocations with the moves before it, re-solved from scratch
        after = _apply(path, moves[: k + 1])
        assert after == pytest.approx(m["objective"], rel=1e-9)
        assert after - before == pytest.approx(m["gain"], rel=1e-6, abs=1e-6)
        before = after
    c = kpidesign.sensitivity(path, at="optimum")
    assert moves[-1]["objective"] == pytest.approx(c.objective, rel=1e-9)
    assert c.to_dict()["reallocation"] == []  # at the optimum no move can gain


def test_a_move_between_departments_when_nothing_is_unallocated(tmp_path) -> None:
    # budget.yaml with a total of 10: nothing is left unallocated, so production's extra
    # unit (worth 3) comes from sales' (worth 0: promo earns nothing), 15 -> 18
    text = (MODELS / "compare" / "budget.yaml").read_text().replace("total: 12", "total: 10")
    path = tmp_path / "budget10.yaml"
    path.write_text(text)
    moves = kpidesign.sensitivity(path).to_dict()["reallocation"]
    assert [(m["from"], m["to"]) for m in moves] == [("sales", "production")]
    assert moves[0]["amount"] == pytest.approx(1.0) and moves[0]["gain"] == pytest.approx(3.0)
    assert _apply(path, moves) == pytest.approx(18.0)


def test_a_basic_row_at_its_bound_is_priced_only_where_it_is_relaxed() -> None:
    # tests/models/textbook/dorian_degenerate.yaml, worked out in its description: the
    # women's row is met exactly but basic (dual 0); HiGHS's ranging of it is its
    # activity's ([4, 84] was reported), and raising it costs 5 per unit at once
    path = TEXTBOOK / "dorian_degenerate.yaml"
    out = kpidesign.sensitivity(path).to_dict()
    assert out["objective"] == pytest.approx(200.0)
    women = out["constraints"]["women"]
    assert (women["dual"], women["rhs_lower"], women["rhs_upper"]) == (0.0, None, 4.0)
    men = out["constraints"]["men"]
    assert men["dual"] == pytest.approx(100 / 12) and men["rhs_upper"] is None
    _, lp = prepare(path)
    i = lp.row_components.index("women")
    assert _resolve(lp, "today", rows={i: (6.0, np.inf)}) == pytest.approx(210.0)
    assert _resolve(lp, "today", rows={i: (2.0, np.inf)}) == pytest.approx(200.0)


def test_the_walk_tries_every_pair_and_says_where_single_moves_stop() -> None:
    # tests/models/compare/pair.yaml, worked out in its description: the move with the
    # largest price difference (into a or b alone) gains nothing; the walk tries the next
    # pair (c -> d, +4) instead of stopping, and stops at 7, short of the optimum 13
    path = MODELS / "compare" / "pair.yaml"
    r = kpidesign.sensitivity(path)
    moves = r.to_dict()["reallocation"]
    assert [(m["from"], m["to"], m["amount"], m["gain"]) for m in moves] == [
        ("c", "d", pytest.approx(4.0), pytest.approx(4.0))
    ]
    assert moves[-1]["objective"] == pytest.approx(7.0)
    assert kpidesign.sensitivity(path, at="optimum").objective == pytest.approx(13.0)
