"""``monitor``: the year so far against the plan, against answers worked by hand.

``tests/models/plans/shop.yaml`` (two months, production and sales, stock between them,
promotion paid from a budget of 8 whose allocation may move 50% from its baseline of 5).
Its plan: 52 (made = sold = 10 each month, promo 4).  Actuals of month 1: made 8, sold 6,
stock 2.  By hand (obj = 5 (s1 + s2) - 2 (m1 + m2) - st1 - st2 - 2 p, s_t <= 6 + p):

- re-plan: m2 = 10, s2 = 12 (the 2 in stock), p = 6 (a unit made and sold with its
  promotion earns 5 - 2 - 2 = 1): 5 * 18 - 2 * 18 - 2 - 12 = 40; lost 12; the allocation
  of 6 is the only one (p <= allocation, and p = 6 is needed).  At the allocation in
  force (5): p = 5, m2 = 9, s2 = 11: 85 - 34 - 2 - 10 = 39; lost 13.
- v({production}) (made[1] = 8): s1 = 8, m2 = s2 = 10, p = 4: 90 - 36 - 8 = 46, loss 6.
  v({sales}) (sold[1] = 6): m1 = 6, m2 = s2 = 10, p = 4: 80 - 32 - 8 = 40 (making a unit
  early to sell it in month 2 is a tie: +5 - 2 - 1 - 2 = 0), loss 12.  Together: 12.
  Shapley: production (6 + (12 - 12)) / 2 = 3, sales (12 + (12 - 6)) / 2 = 9; the sum is
  the loss, and neither is its standalone loss (6 + 12 = 18 > 12: the losses overlap).
  At the allocation in force: losses 6, 12, 13: production 3.5, sales 9.5.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TESTS, run_kpidesign

import kpidesign
from kpidesign.analyses.monitor import shapley
from kpidesign.cli import main
from kpidesign.errors import KpiDesignError, SpecError

SHOP = TESTS / "models" / "plans" / "shop.yaml"
SEED = TESTS.parent / "models" / "manufacturer.yaml"


def actuals(tmp_path: Path, *rows: str, name: str = "actuals.csv") -> Path:
    path = tmp_path / name
    path.write_text("variable,index,value\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def month_one(tmp_path: Path) -> Path:
    return actuals(tmp_path, "made,1,8", "sold,1,6", "stock,1,2")


def test_replan_loss_and_shapley_attribution_as_by_hand(month_one: Path) -> None:
    r = kpidesign.monitor(SHOP, actuals=month_one)
    out = r.to_dict()
    assert (out["time_set"], out["through"], out["observed_periods"]) == ("month", 1, [1])
    assert out["plan"]["objective"] == pytest.approx(52)
    assert out["replan"]["objective"] == pytest.approx(40)
    assert out["lost"] == pytest.approx(12)
    assert out["attribution"] == pytest.approx({"production": 3, "sales": 9})
    assert out["unexplained"] == 0
    assert sum(out["attribution"].values()) + out["unexplained"] == pytest.approx(out["lost"])
    assert out["allocation"] == {"sales": {"budget": 6.0}}
    assert "exact (4 coalitions of 2 department(s))" in out["attribution_method"]
    drift = {(d["kind"], d["name"]): d for d in out["drift"]}
    assert drift["decision", "sold[1]"]["drift"] == pytest.approx(-4)
    assert drift["decision", "made[1]"]["drift"] == pytest.approx(-2)
    assert drift["state", "stock[1]"]["actual"] == pytest.approx(2)
    assert drift["kpi", "sales.volume"]["plan"] == pytest.approx(10)
    assert drift["kpi", "sales.volume"]["actual"] == pytest.approx(6)


MONITOR = TESTS / "models" / "monitor"


@pytest.mark.parametrize(
    ("model", "csv", "keep", "replan", "production", "sales", "unexplained"),
    [
        ("two_periods", "actuals", False, 64, 2.5, 9.5, 0),
        ("two_periods", "actuals", True, 59, 2.5, 14.5, 0),
        ("two_periods", "actuals_partial", False, 71, 2.5, 2.5, 0),
        ("two_periods", "actuals_partial", True, 71, 2.5, 2.5, 0),
        ("two_periods_shrinkage", "actuals_shrinkage", False, 59, 2.5, 9.5, 5),
        ("two_periods_shrinkage", "actuals_shrinkage", True, 59, 2.5, 14.5, 0),
    ],
)
def test_the_two_period_model_as_worked_by_hand(
    model: str,
    csv: str,
    keep: bool,
    replan: float,
    production: float,
    sales: float,
    unexplained: float,
) -> None:
    # tests/models/monitor/two_periods.yaml works every case in its description (a
    # reviewer's hand solution, checked with scipy's linprog)
    out = kpidesign.monitor(
        MONITOR / f"{model}.yaml", actuals=MONITOR / f"{csv}.csv", keep_allocations=keep
    ).to_dict()
    assert out["plan"]["objective"] == pytest.approx(76)
    assert out["replan"]["objective"] == pytest.approx(replan)
    assert out["lost"] == pytest.approx(76 - replan)
    assert out["attribution"] == pytest.approx({"production": production, "sales": sales})
    assert out["unexplained"] == pytest.approx(unexplained, abs=1e-9)
    if (csv, keep) == ("actuals", False):
        allocation = {d: a["budget"] for d, a in out["allocation"].items()}
        assert allocation == pytest.approx({"production": 14, "sales": 6})


def test_the_two_period_model_s_broken_actuals() -> None:
    with pytest.raises(SpecError) as info:
        kpidesign.monitor(MONITOR / "two_periods.yaml", actuals=MONITOR / "actuals_broken.csv")
    (line,) = info.value.messages
    assert line.endswith(
        "actuals_broken.csv:2: balance[1]: the actuals break this constraint: "
        "stock[1] - made[1] + sold[1] comes to 1 (lines 2, 3, 5), but must be 0"
    )


def test_keeping_the_allocations_in_force(month_one: Path) -> None:
    out = kpidesign.monitor(SHOP, actuals=month_one, keep_allocations=True).to_dict()
    assert out["plan"]["objective"] == pytest.approx(52)
    assert out["replan"]["objective"] == pytest.approx(39)
    assert out["lost"] == pytest.approx(13)
    assert out["attribution"] == pytest.approx({"production": 3.5, "sales": 9.5})
    assert out["allocation"] == {"sales": {"budget": 5.0}}


def test_redesign_designs_for_the_periods_from_here(month_one: Path) -> None:
    # the design's optimum is the re-plan (40): month 1 cannot move any more
    out = kpidesign.monitor(SHOP, actuals=month_one, redesign=True).to_dict()
    design = out["redesign"]
    assert design["optimum"] == pytest.approx(out["replan"]["objective"])
    assert design["verification"]["objective"] == pytest.approx(40)
    assert design["allocation"] == {"sales": {"budget": 6.0}}
    res = CliRunner().invoke(
        main, ["monitor", str(SHOP), "--actuals", str(month_one), "--redesign"]
    )
    assert res.exit_code == 0, res.output
    assert "Scorecards for the periods from here" in res.output


def test_values_not_given_are_re_planned_and_later_ones_ignored(tmp_path: Path) -> None:
    # made[1] = 8 alone: sold[1] and stock[1] re-planned (s1 = 8: v({production}) = 46);
    # sold[2] is after --through 1 and is not used
    path = actuals(tmp_path, "made,1,8", "sold,2,3")
    out = kpidesign.monitor(SHOP, actuals=path, through=1).to_dict()
    assert out["replan"]["objective"] == pytest.approx(46)
    assert out["actuals"] == {
        "given": 1,
        "re_planned": ["stock[1]", "sold[1]"],
        "ignored_after_through": 1,
    }
    kinds = {d["name"]: d["kind"] for d in out["drift"]}
    assert kinds["sold[1]"] == "decision (re-planned)"
    assert kinds["stock[1]"] == "state (re-planned)"
    assert any("not in the actuals and were re-optimized" in n for n in out["notes"])
    assert any("after month 1 and were not used" in n for n in out["notes"])
    # without --through the actuals cover month 2, the last they give
    assert kpidesign.monitor(SHOP, actuals=path).to_dict()["through"] == 2


def test_shared_state_the_decisions_do_not_imply_is_unexplained(tmp_path: Path) -> None:
    # stock[1] = 2 fixed with made[1] = 8 and sold[1] not given: sold[1] = 6 follows, as in
    # the full actuals (40), but the departments' actuals alone (made[1] = 8) give 46:
    # production 6, the stock's part 6
    path = actuals(tmp_path, "made,1,8", "stock,1,2")
    out = kpidesign.monitor(SHOP, actuals=path).to_dict()
    assert out["lost"] == pytest.approx(12)
    assert out["attribution"] == pytest.approx({"production": 6, "sales": 0})
    assert out["unexplained"] == pytest.approx(6)
    assert any("account for 6 of the loss" in n for n in out["notes"])


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            ("made,1,8", "sold,1,6", "stock,1,3"),
            "actuals.csv:2: balance[1]: the actuals break this constraint: "
            "stock[1] - made[1] + sold[1] comes to 1 (lines 2, 3, 4), but must be 0",
        ),
        (
            ("made,1,12", "sold,1,6"),
            "actuals.csv:2: value: made[1] = 12 is above its upper bound 10",
        ),
        (("sold,1,-1",), "actuals.csv:2: value: sold[1] = -1 is below its lower bound 0"),
    ],
)
def test_actuals_that_break_a_row_or_bound_are_located(
    tmp_path: Path, rows: tuple[str, ...], message: str
) -> None:
    path = actuals(tmp_path, *rows)
    with pytest.raises(SpecError) as info:
        kpidesign.monitor(SHOP, actuals=path)
    assert [m.replace(str(tmp_path) + "/", "") for m in info.value.messages] == [message]


def test_actuals_no_later_decision_can_complete_name_the_conflict(tmp_path: Path) -> None:
    # selling 20 in month 2 needs promotion 14, more than any allocation (7.5 at most)
    path = actuals(tmp_path, "made,1,10", "sold,2,20")
    with pytest.raises(
        SpecError, match=r"re-plan .* infeasible: conflicting constraints market\[2\]"
    ):
        kpidesign.monitor(SHOP, actuals=path)


def test_cli_exit_2_one_line_per_error_and_one_json_document(
    tmp_path: Path, month_one: Path
) -> None:
    bad = actuals(tmp_path, "made,1,12", "sold,1,-1", name="bad.csv")
    res = run_kpidesign("monitor", SHOP, "--actuals", bad)
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 2 and all(f"{bad}:" in line for line in lines)
    assert "Traceback" not in res.stderr
    res = run_kpidesign("monitor", SHOP, "--actuals", month_one, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["lost"] == pytest.approx(12)
    res = CliRunner().invoke(main, ["monitor", str(SHOP), "--actuals", str(month_one)])
    assert res.exit_code == 0, res.output
    assert "lost 12" in res.output and "sales" in res.output


def test_the_time_set_is_where_the_lags_run(tmp_path: Path) -> None:
    from kpidesign.spec import load
    from kpidesign.spec.time import lag_sets, time_set

    assert lag_sets(load(SEED)) == ["period"]
    assert time_set(load(SHOP)) == "month"
    no_lags = load(TESTS / "models" / "stress" / "two_shops.yaml")
    with pytest.raises(KpiDesignError, match=r"no lag .* name it with --time-set"):
        time_set(no_lags)
    assert time_set(no_lags, "one") == "one"
    with pytest.raises(KpiDesignError, match=r"--time-set: unknown set 'mnth'.*'month'"):
        time_set(load(SHOP), "mnth")
    with pytest.raises(KpiDesignError, match="--through: '3' is not a member of set 'month'"):
        kpidesign.monitor(SHOP, actuals=actuals(tmp_path, "made,1,8"), through=3)


def test_shapley_of_known_games() -> None:
    # majority of three: any two win 1; each gets 1/3
    values, method = shapley(list("abc"), lambda s: 1.0 if len(s) >= 2 else 0.0)
    assert values == pytest.approx(dict.fromkeys("abc", 1 / 3))
    assert "exact" in method
    # an additive game: every order gives each its own worth, so sampling is exact too
    worth = {"a": 1.0, "b": 2.0, "c": 4.0}
    values, method = shapley(list("abc"), lambda s: sum(worth[p] for p in s), exact=2)
    assert values == pytest.approx(worth)
    assert "estimated over 200 orders" in method
    # glove game: a holds a left glove, b and c right ones; a pair is worth 1
    glove = lambda s: 1.0 if "a" in s and ({"b", "c"} & s) else 0.0  # noqa: E731
    values, _ = shapley(list("abc"), glove)
    assert values == pytest.approx({"a": 2 / 3, "b": 1 / 6, "c": 1 / 6})


ROOT = TESTS.parent
STORY = ROOT / "scenarios" / "monitoring.yaml"
DATA = ROOT / "scenarios" / "data"


def _values(text: str) -> dict[tuple[str, str], float]:
    rows = [line.rsplit(",", 1) for line in text.strip().splitlines()[1:]]
    return {tuple(key.split(",", 1)): float(value) for key, value in rows}


def test_the_shipped_actuals_are_what_their_script_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make", DATA / "make_monitoring_actuals.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in module.actuals_texts().items():
        shipped = _values((DATA / name).read_text())
        written = _values(text)
        assert shipped.keys() == written.keys()
        for key, value in written.items():
            assert shipped[key] == pytest.approx(value, rel=1e-6, abs=1e-6), (name, key)


def test_the_seed_monitoring_story_in_models_readme() -> None:
    out = kpidesign.monitor(STORY, actuals=DATA / "monitoring_actuals.csv").to_dict()
    assert out["through"] == 4
    assert out["plan"]["objective"] == pytest.approx(366_559, abs=1)
    assert out["replan"]["objective"] == pytest.approx(360_843, abs=1)
    assert out["lost"] == pytest.approx(5_716, abs=1)
    parts = {d: round(v) for d, v in out["attribution"].items()}
    assert parts == {"sales": 0, "production": 0, "quality": 291, "logistics": 5_426, "finance": 0}
    assert out["unexplained"] == 0
    assert "exact (32 coalitions of 5 department(s))" in out["attribution_method"]
    assert any(str(DATA / "monitoring_actuals.csv") in f for f in out["run"]["inputs"])


def test_against_a_scheme_s_prediction_the_actuals_it_produced_do_not_drift() -> None:
    # the shipped actuals are months 1-4 of today's scorecards' status quo: measured
    # against that scheme's prediction nothing drifts, and the company is ahead of it
    # (the re-plan from May, 360,843, beats the prediction, 294,344); the attribution
    # stays against the optimum (5,716), less the scheme's shortfall (72,215)
    today = {
        "sales": {"volume": 1}, "production": {"unit_cost": 1}, "quality": {"escape_rate": 1},
        "logistics": {"freight_per_unit": 1}, "finance": {"interest": 1},
    }  # fmt: skip
    out = kpidesign.monitor(STORY, actuals=DATA / "monitoring_actuals.csv", scheme=today)
    d = out.to_dict()
    assert d["plan"]["objective"] == pytest.approx(294_344, abs=1)
    assert d["plan"]["source"].startswith("the prediction of the scheme")
    assert d["replan"]["objective"] == pytest.approx(360_843, abs=1)
    assert d["scheme_shortfall"] == pytest.approx(72_215, abs=1)
    assert d["lost"] == pytest.approx(5_716 - 72_215, abs=2)
    total = sum(d["attribution"].values()) + d["unexplained"] - d["scheme_shortfall"]
    assert total == pytest.approx(d["lost"])
    decisions = out.drift[out.drift.kind != "kpi"]
    assert decisions.drift.abs().max() <= 1e-6 * (1 + decisions.actual.abs().max())


def test_a_scheme_s_prices_are_refused_and_its_allocations_said_unused(
    tmp_path: Path, month_one: Path
) -> None:
    priced = tmp_path / "priced.yaml"
    priced.write_text("sales:\n  volume: 1\nprices:\n  balance: 2\n")
    res = run_kpidesign("monitor", SHOP, "--actuals", month_one, "--scheme", priced)
    assert res.returncode == 2
    assert res.stderr.strip() == (
        f"error: {priced}: a prices: section: monitor predicts a scheme of weights only "
        "(evaluate runs a price scheme)"
    )
    allocated = {"sales": {"volume": 1}, "allocations": {"sales": {"budget": 5}}}
    out = kpidesign.monitor(SHOP, actuals=month_one, scheme=allocated).to_dict()
    assert out["notes"][0].startswith("the scheme's allocations: section is not used")
    # today's scheme predicts the optimum on the shop (52): the same figures as without
    assert (out["plan"]["objective"], out["lost"]) == (52, 12)
    assert out["scheme_shortfall"] == 0


@pytest.mark.parametrize(
    ("rows", "replan", "production", "sales"),
    [
        (("made,1,6", "ship,1,5", "stock,1,1"), 24, 4, 0),
        (("made,1,10", "ship,1,7", "stock,1,3"), 25, 0, 5),
    ],
)
def test_a_minimized_objective_loses_a_positive_amount_as_by_hand(
    tmp_path: Path, rows: tuple[str, ...], replan: float, production: float, sales: float
) -> None:
    # tests/models/monitor/min_cost.yaml (its description)
    out = kpidesign.monitor(MONITOR / "min_cost.yaml", actuals=actuals(tmp_path, *rows))
    d = out.to_dict()
    assert (d["sense"], d["plan"]["objective"]) == ("min", 20)
    assert d["replan"]["objective"] == pytest.approx(replan)
    assert d["lost"] == pytest.approx(replan - 20)  # worse off: positive
    assert d["attribution"] == pytest.approx({"production": production, "sales": sales})


def test_a_time_set_of_names_follows_its_declared_order(tmp_path: Path) -> None:
    # months declared [mar, jan, feb], no lag: --time-set names it; --through jan covers
    # mar and jan, and feb's value is not used
    model = tmp_path / "names.yaml"
    model.write_text(
        textwrap.dedent(
            """\
            kpidesign: 1
            name: names
            sets:
              month: [mar, jan, feb]
            departments:
              production:
                variables:
                  made: {over: [month], lb: 0, ub: 10}
                kpis:
                  output: {max: "sum(made[t] for t in month)"}
                incentive: {output: 1}
            objective:
              max: "sum(made[t] for t in month)"
            """
        )
    )
    path = actuals(tmp_path, "made,mar,4", "made,jan,10", "made,feb,1")
    with pytest.raises(KpiDesignError, match="name it with --time-set"):
        kpidesign.monitor(model, actuals=path)
    out = kpidesign.monitor(model, actuals=path, time_set="month", through="jan").to_dict()
    assert out["observed_periods"] == ["mar", "jan"]
    assert out["actuals"]["ignored_after_through"] == 1
    assert out["lost"] == pytest.approx(6)  # mar made 4 of 10
    # without --through the last period given in the set's order: feb
    assert kpidesign.monitor(model, actuals=path, time_set="month").to_dict()["through"] == "feb"
