"""``stress``: plans lived through futures, against answers worked by hand.

The models (tests/models/stress/) say their answers in their descriptions: two shops
sharing a budget of 10 with a fifth in reserve (shocks_reserve, shocks_zero), and a
contract that one future cannot meet (shocks_contract, shocks_penalty)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TESTS, run_kpidesign

import kpidesign
from kpidesign.api import stress
from kpidesign.cli import main
from kpidesign.render.files import to_json

STRESS = TESTS / "models" / "stress"
SEED_MODEL = TESTS.parent / "models" / "manufacturer.yaml"


def plan(result, name: str) -> dict:
    return result.to_dict()["plans"][name]


def test_reserve_pays_when_demand_is_uncertain_as_by_hand() -> None:
    r = stress(STRESS / "shocks_reserve.yaml")
    out = r.to_dict()
    assert out["futures"] == {"count": 2, "out_of_sample": 2, "enumerated": True, "seed": 0}
    assert plan(r, "with_slack")["allocation"] == {
        "shop_a": {"budget": 5.0}, "shop_b": {"budget": 3.0},
    }  # fmt: skip
    assert plan(r, "with_slack")["planned_objective"] == pytest.approx(21)
    assert plan(r, "without_slack")["planned_objective"] == pytest.approx(25)
    assert plan(r, "with_slack")["distribution"]["mean"] == pytest.approx(21.5)
    assert plan(r, "without_slack")["distribution"]["mean"] == pytest.approx(20.5)
    assert plan(r, "with_slack")["distribution"]["quantiles"]["p95"] == pytest.approx(27)
    assert plan(r, "with_slack")["distribution"]["worst_5pct_mean"] == pytest.approx(16)
    assert out["value_of_slack"]["mean"] == pytest.approx(1.0)
    assert out["value_of_slack"]["standard_error"] == 0  # enumerated: exact
    robust = plan(r, "robust")
    assert robust["allocation"]["shop_a"]["budget"] == pytest.approx(2)
    assert robust["allocation"]["shop_b"]["budget"] == pytest.approx(6)
    assert out["robust"]["expected"] == pytest.approx(23)
    # the extensive form's expectation is what the robust plan's recourse gives
    assert robust["distribution"]["mean"] == pytest.approx(out["robust"]["expected"])
    assert out["robust"]["value_of_stochastic_solution"]["mean"] == pytest.approx(1.5)
    assert out["robust"]["keeps_more_headroom"] is False  # both leave the reserve, 2


@pytest.mark.parametrize(("reserve", "expected"), [(0.2, 23.0), (0.5, 24.5), (0.8, 25.0)])
def test_a_larger_reserve_never_lowers_the_robust_expectation(
    tmp_path: Path, reserve: float, expected: float
) -> None:
    # why a reserve is not a first-stage decision of the robust LP: released in the
    # recourse it is a free option, so the LP would always hold the most it may.  By hand
    # (shocks_reserve's futures, today's allocations 1 each so that every reserve fits):
    # 0.2 is the shipped answer, 23.  0.5: a + b <= 5, top-ups <= 5; a = 2, b = 3:
    # demand 2 gives 6 + 2 * 8 = 22, demand 8 gives 3 * 7 + 2 * 3 = 27, mean 24.5 (a
    # in [0, 2] gives 23.5 + a / 2, a in [2, 3] gives (51 - a) / 2).  0.8: a, b <= 2
    # and the reserve of 8 reaches the best of each future, 22 and 28: 25, what knowing
    # the future before allocating would give.
    model = (STRESS / "two_shops.yaml").read_text()
    model = model.replace("reserve: 0.2", f"reserve: {reserve}")
    (tmp_path / "two_shops.yaml").write_text(model.replace("{budget: 4}", "{budget: 1}"))
    (tmp_path / "s.yaml").write_text((STRESS / "shocks_reserve.yaml").read_text())
    out = stress(tmp_path / "s.yaml").to_dict()
    assert out["robust"]["expected"] == pytest.approx(expected)
    assert out["plans"]["robust"]["distribution"]["mean"] == pytest.approx(expected)


def test_zero_variance_slack_never_pays_and_committed_it_costs_its_price() -> None:
    r = kpidesign.stress(STRESS / "shocks_zero.yaml")  # the one-import API
    assert r.value_of_slack()[0] == pytest.approx(0.0, abs=1e-9)
    assert r.value_of_slack()[0] <= 1e-9
    committed = stress(STRESS / "shocks_zero.yaml", commit="all")
    price = kpidesign.sensitivity(STRESS / "shocks_zero.yaml", at="optimum")
    assert price.slack_price_total()["resolve"] == pytest.approx(4.0)
    assert committed.value_of_slack()[0] == pytest.approx(-4.0)
    assert committed.to_dict()["robust"]["found"] is False  # not computed when committed


def test_zero_variance_on_the_seed_model(tmp_path: Path) -> None:
    # the seed model's capacity slack and budget reserve together: committed, the value of
    # the slack is minus what sensitivity at the optimum says they cost
    scenario = tmp_path / "zero.yaml"
    scenario.write_text(
        textwrap.dedent(f"""\
            kpidesign: 1
            model: {SEED_MODEL}
            shocks:
              samples: 2
              factors:
                params.base_demand: {{normal: {{sd: 0}}}}
            """)
    )
    free = stress(scenario)
    assert free.value_of_slack()[0] <= 1e-6 * 366_559
    committed = stress(scenario, commit="all")
    cost = kpidesign.sensitivity(scenario, at="optimum").slack_price_total()["resolve"]
    assert cost > 0
    # each plan is the optimal plan closest to today's allocations, optimal to within the
    # tie slack (1e-9 of the objective): so the two agree to that
    assert committed.value_of_slack()[0] == pytest.approx(-cost, rel=1e-8)


def test_a_future_the_plan_cannot_meet_is_counted_not_dropped() -> None:
    r = stress(STRESS / "shocks_contract.yaml")
    out = r.to_dict()
    for name in ("with_slack", "without_slack", "average_future"):
        d = plan(r, name)["distribution"]
        assert d["mean"] is None  # undefined: one future has no objective
        assert d["probability_infeasible"] == pytest.approx(0.5)
    assert out["robust"]["found"] is False
    assert "no robust allocation" in " ".join(out["notes"])


def test_a_shortfall_penalty_prices_the_broken_rows_by_name() -> None:
    r = stress(STRESS / "shocks_penalty.yaml")
    with_slack = plan(r, "with_slack")
    assert with_slack["distribution"]["mean"] == pytest.approx(20.5)
    assert with_slack["distribution"]["probability_infeasible"] == pytest.approx(0.5)
    assert with_slack["broken"] == {"market_a": 1}
    assert plan(r, "without_slack")["distribution"]["mean"] == pytest.approx(20.0)
    assert plan(r, "without_slack")["broken"] == {"contract_a": 1}
    assert r.to_dict()["robust"]["expected"] == pytest.approx(20.5)


@pytest.fixture
def sampled(tmp_path: Path) -> Path:
    scenario = tmp_path / "sampled.yaml"
    scenario.write_text(
        textwrap.dedent(f"""\
            kpidesign: 1
            model: {STRESS / "two_shops.yaml"}
            shocks:
              samples: 60
              seed: 11
              factors:
                params.demand_a: {{normal: {{sd: 0.4}}}}
                params.demand_b: {{uniform: {{low: 0.2, high: 1.0}}}}
                resources.budget.total:
                  discrete: {{values: [1, 0.8], probabilities: [0.7, 0.3]}}
            """)
    )
    return scenario


def test_same_seed_same_bytes_on_one_worker_two_and_dask(sampled: Path) -> None:
    one = to_json(stress(sampled, workers=1))
    assert to_json(stress(sampled, workers=2)) == one
    assert to_json(stress(sampled, workers=2, engine="dask")) == one
    assert to_json(stress(sampled, workers=1, seed=12)) != one  # the seed matters
    out = json.loads(one)
    assert out["futures"] == {"count": 60, "out_of_sample": 60, "enumerated": False, "seed": 11}
    assert out["value_of_slack"]["standard_error"] > 0


def test_cli_json_is_one_document_and_table_names_the_plans(sampled: Path) -> None:
    res = run_kpidesign("stress", sampled, "--format", "json", "--workers", "1")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert json.loads(res.stdout)["plans"]["robust"]["distribution"]["mean"] is not None
    res = CliRunner().invoke(main, ["stress", str(STRESS / "shocks_reserve.yaml")])
    assert res.exit_code == 0, res.output
    assert "Value of the slack" in res.stdout
    assert "shop_a.budget 2, shop_b.budget 6" in res.stdout


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ("params.nope: {normal: {sd: 0.1}}", "shocks.factors.params.nope: no param nope"),
        ("params.demand_a: {normal: {sd: 0.1}, by: period}", "by: period is not a set"),
        (
            "params.demand_a: {discrete: {values: [1, 2], probabilities: [0.5, 0.6]}}",
            "probabilities sum to 1.1, not 1",
        ),
        ("params.demand_a: {uniform: {low: 2, high: 1}}", "high 1 < low 2"),
        ("params.demand_a: {}", "give one of normal, uniform, discrete"),
        ("budget.total: {normal: {sd: 0.1}}", "a param (params.NAME) or resources.R.total"),
    ],
)
def test_bad_shocks_are_located_one_line_each(tmp_path: Path, factors: str, message: str) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(
        f"kpidesign: 1\nmodel: {STRESS / 'two_shops.yaml'}\nshocks:\n  factors:\n    {factors}\n"
    )
    res = CliRunner().invoke(main, ["stress", str(scenario)])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {scenario}:5: ")
    assert message in lines[0]


def test_a_file_without_shocks_says_so(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["stress", str(STRESS / "two_shops.yaml")])
    assert res.exit_code == 2
    assert res.stderr.strip().endswith(
        "no shocks: section (a scenario's shocks: declare the futures)"
    )
    res = CliRunner().invoke(
        main, ["stress", str(STRESS / "shocks_reserve.yaml"), "--samples", "0"]
    )
    assert res.exit_code == 2
    res = CliRunner().invoke(main, ["stress", str(STRESS / "shocks_zero.yaml"), "--samples", "all"])
    assert res.exit_code == 2
    assert "'all' enumerates discrete factors only" in res.stderr or "discrete" in res.stderr


def test_per_margin_values_each_margin_alone() -> None:
    # the reserve is the model's only margin: planned alone it is worth what all are, 1
    r = stress(STRESS / "shocks_reserve.yaml", per_margin=True)
    out = r.to_dict()
    assert out["value_of_slack"]["per_margin"] == {
        "resources.budget.reserve": {"mean": 1.0, "standard_error": 0.0}
    }
    alone = out["plans"]["margin:resources.budget.reserve"]
    assert alone["allocation"] == out["plans"]["with_slack"]["allocation"]
    assert stress(STRESS / "shocks_reserve.yaml").to_dict()["value_of_slack"]["per_margin"] == {}


def test_decentralized_under_shocks_is_compare_and_evaluate_in_each_future(
    tmp_path: Path,
) -> None:
    # one method against another: stress --analysis compare's row for a future is what
    # compare and evaluate (of the scheme design makes for the forecast) give on that
    # future's spec
    from kpidesign.cli.init import write_starter
    from kpidesign.spec.shocks import draw, read_shocks

    write_starter(tmp_path)
    scenario = tmp_path / "shaken.yaml"
    scenario.write_text(
        "kpidesign: 1\nmodel: model.yaml\nshocks:\n  samples: 3\n  seed: 5\n  factors:\n"
        "    params.demand: {normal: {sd: 0.1}, by: all}\n"
    )
    r = stress(scenario, analysis="compare", orders="file")
    frame = r.decentralized
    assert list(frame.future) == [0, 1, 2]
    spec = kpidesign.load(scenario)
    futures = draw(read_shocks(scenario, spec), spec)
    designed = kpidesign.design(scenario, orders="file")
    scheme = {**designed.scheme, "allocations": designed.allocation()}
    for s in range(3):
        future = futures.spec(spec, s)
        c = kpidesign.compare(future, orders="file").figures()
        checked = kpidesign.evaluate(future, scheme, orders="file").verification
        assert frame.status_quo[s] == c["status_quo"]
        assert frame.system[s] == c["system"]
        assert frame.designed[s] == checked.objective
        assert frame.designed_optimistic[s] == checked.optimistic.objective
    out = r.to_dict()["decentralized"]
    assert out["system"]["mean"] == pytest.approx(frame.system.mean())
    assert set(out) == set(r.DECENTRALIZED)


def test_decentralized_with_a_given_scheme_is_design_s_when_it_is_design_s(
    tmp_path: Path,
) -> None:
    # the scheme file design writes, given with --scheme, gives what stress derives itself
    from kpidesign.cli.init import write_starter

    write_starter(tmp_path)
    scenario = tmp_path / "shaken.yaml"
    scenario.write_text(
        "kpidesign: 1\nmodel: model.yaml\nshocks:\n  samples: 2\n  seed: 5\n  factors:\n"
        "    params.demand: {normal: {sd: 0.1}, by: all}\n"
    )
    res = CliRunner().invoke(
        main, ["design", str(scenario), "--orders", "file", "--out", str(tmp_path / "d")]
    )
    assert res.exit_code == 0, res.output
    args = ["stress", str(scenario), "--analysis", "compare", "--orders", "file", "--workers", "1"]
    own = CliRunner().invoke(main, [*args, "--format", "json"])
    given = CliRunner().invoke(
        main, [*args, "--scheme", str(tmp_path / "d" / "scheme.yaml"), "--format", "json"]
    )
    assert own.exit_code == 0 and given.exit_code == 0, own.output + given.output
    assert json.loads(given.stdout)["decentralized"] == json.loads(own.stdout)["decentralized"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("sales:\n  nonsense: 1\n")
    res = CliRunner().invoke(main, [*args, "--scheme", str(bad)])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"error: {bad}:2: ")
    res = CliRunner().invoke(main, ["stress", str(scenario), "--scheme", str(bad)])
    assert res.exit_code == 2
    assert "--analysis compare" in res.stderr


def test_futures_from_a_csv_give_the_enumerated_answers() -> None:
    enumerated = stress(STRESS / "shocks_reserve.yaml").to_dict()
    read = stress(STRESS / "shocks_file.yaml").to_dict()
    for key in ("plans", "value_of_slack", "robust"):
        assert read[key] == enumerated[key], key
    assert read["futures"]["count"] == 2
    assert read["futures"]["enumerated"] is True  # probabilities given: the distribution


@pytest.mark.parametrize(
    ("rows", "line", "message"),
    [
        (
            "a,params.nope,,1",
            2,
            "path 'params.nope' is not a param (params.NAME) or resources.R.total",
        ),
        ("a,params.demand_a,,-1", 2, "factor '-1' is not a number >= 0"),
        ("a,params.demand_a,x,1", 2, "key 'x' is not an index of params.demand_a"),
    ],
)
def test_a_bad_csv_of_futures_is_located(
    tmp_path: Path, rows: str, line: int, message: str
) -> None:
    (tmp_path / "f.csv").write_text(f"future,path,key,factor\n{rows}\n")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"kpidesign: 1\nmodel: {STRESS / 'two_shops.yaml'}\nshocks:\n  file: f.csv\n"
    )
    res = CliRunner().invoke(main, ["stress", str(scenario)])
    assert res.exit_code == 2, res.output
    assert res.stderr.strip() == f"error: {tmp_path / 'f.csv'}:{line}: {message}"


def test_a_csv_of_futures_with_bad_probabilities_or_samples(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text(
        "future,path,key,factor,probability\na,params.demand_a,,1,0.5\nb,params.demand_a,,2,0.4\n"
    )
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"kpidesign: 1\nmodel: {STRESS / 'two_shops.yaml'}\nshocks:\n  file: f.csv\n"
    )
    res = CliRunner().invoke(main, ["stress", str(scenario)])
    assert res.exit_code == 2
    assert "probabilities sum to 0.9, not 1" in res.stderr
    scenario.write_text(
        f"kpidesign: 1\nmodel: {STRESS / 'two_shops.yaml'}\nshocks:\n  file: f.csv\n  samples: 3\n"
    )
    res = CliRunner().invoke(main, ["stress", str(scenario)])
    assert res.exit_code == 2
    assert "the futures are the file's" in res.stderr


def test_a_low_penalty_is_the_same_in_the_robust_lp_and_in_each_future(tmp_path: Path) -> None:
    # at 0.5 a unit, selling beyond shop a's market pays (3 - 0.5 > 2, what b makes of
    # the same budget) even where the future could be met: the robust LP and the
    # evaluation of its plan price the constraints alike, and a note says the penalty is
    # too low
    scenario = tmp_path / "cheap.yaml"
    scenario.write_text(
        (STRESS / "shocks_penalty.yaml")
        .read_text()
        .replace("model: two_shops_contract.yaml", f"model: {STRESS / 'two_shops_contract.yaml'}")
        .replace("shortfall_penalty: 10", "shortfall_penalty: 0.5")
    )
    r = stress(scenario)
    out = r.to_dict()
    assert out["robust"]["expected"] == pytest.approx(
        out["plans"]["robust"]["distribution"]["mean"]
    )
    assert any("shortfall penalty (0.5) is below" in n for n in out["notes"])
    # budgets stay hard: only the model's own constraints break
    assert all(
        not row.startswith("resources.") for p in out["plans"].values() for row in p["broken"]
    )


def test_tied_plans_allocate_everything_then_stay_closest_to_today(tmp_path: Path) -> None:
    # with shop b's demand at 2, many allocations are optimal for the forecast (a >= 5,
    # b >= 2); the plan takes one that allocates all it may (10 without the reserve, 8
    # with it), so no money it could have committed sits idle in a future
    model = tmp_path / "m.yaml"
    model.write_text((STRESS / "two_shops.yaml").read_text().replace("demand_b: 10", "demand_b: 2"))
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        f"kpidesign: 1\nmodel: {model}\nshocks:\n  samples: all\n  factors:\n"
        "    params.demand_a: {discrete: {values: [1.6], probabilities: [1]}}\n"
    )
    out = stress(scenario).to_dict()["plans"]
    without = out["without_slack"]["allocation"]
    with_slack = out["with_slack"]["allocation"]
    assert without["shop_a"]["budget"] + without["shop_b"]["budget"] == pytest.approx(10)
    assert with_slack["shop_a"]["budget"] + with_slack["shop_b"]["budget"] == pytest.approx(8)
    assert out["without_slack"]["unallocated"] == {"budget": pytest.approx(0)}
