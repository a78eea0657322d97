"""``reveal``: the incentives a department acts on, read from its plan.

Hand answers: ``tests/models/reveal/mix.yaml`` (its description works each case).  The
issue's acceptance on the seed model: actuals a known scheme produces are revealed with
fit 1 and the official scheme fits as well; under schemes drawn at random, the true
weights lie inside the reported intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TESTS, run_kpidesign

import kpidesign
from kpidesign.analyses.compare import status_quo_plan
from kpidesign.api import prepare
from kpidesign.cli import main
from kpidesign.errors import KpiDesignError
from kpidesign.model.problem import Problem
from kpidesign.spec.plan import plan_csv

MIX = TESTS / "models" / "reveal" / "mix.yaml"
SEED = TESTS.parent / "models" / "manufacturer.yaml"


def mix_actuals(tmp_path: Path, a: float, b: float) -> Path:
    path = tmp_path / "actuals.csv"
    path.write_text(f"variable,index,value\na,,{a}\nb,,{b}\nc,,5\n")
    return path


@pytest.mark.parametrize(
    ("a", "b", "fit", "weights", "b_range", "official_fit", "distance"),
    [
        (6, 4, 1.0, {"maker.made_a": 1.0}, (0.0, 0.4), 1.0, 0.0),
        (2, 8, 1.0, {"maker.made_a": 0.6, "maker.made_b": 0.4}, (0.4, 1.0), -1.0, 0.0),
        (4, 4, 0.7, {"maker.made_a": 0.6, "maker.made_b": 0.4}, (0.4, 0.4), 0.5, 0.0),
        (7, 4, 1.0, {"maker.made_a": 1.0}, (0.0, 0.4), 1.0, 1.0),
    ],
)
def test_revealed_weights_fit_and_intervals_as_by_hand(
    tmp_path: Path,
    a: float,
    b: float,
    fit: float,
    weights: dict,
    b_range: tuple,
    official_fit: float,
    distance: float,
) -> None:
    out = kpidesign.reveal(MIX, actuals=mix_actuals(tmp_path, a, b)).to_dict()
    maker = out["departments"]["maker"]
    assert maker["fit"] == pytest.approx(fit, abs=1e-6)
    assert maker["weights"] == pytest.approx(weights, abs=1e-5)
    ranges = maker["weight_ranges"]["maker.made_b"]
    assert (ranges["min"], ranges["max"]) == pytest.approx(b_range, abs=1e-5)
    assert maker["official"] == {"maker.made_a": 1.0}
    assert maker["official_fit"] == pytest.approx(official_fit, abs=1e-6)
    assert maker["distance"] == pytest.approx(distance)
    assert out["departments"]["seller"]["fit"] == 1.0
    assert out["actuals"]["projected"] is (distance > 0)


def test_a_department_that_deviates_fits_worse_than_one_that_does_not(tmp_path: Path) -> None:
    out = kpidesign.reveal(MIX, actuals=mix_actuals(tmp_path, 4, 4)).to_dict()
    assert out["departments"]["maker"]["fit"] < out["departments"]["seller"]["fit"] == 1.0


def _status_quo_actuals(tmp_path: Path, scheme: dict | None = None) -> Path:
    spec, lp = prepare(SEED)
    x = status_quo_plan(lp, Problem.from_spec(spec, lp), scheme)
    path = tmp_path / "status_quo.csv"
    path.write_text(plan_csv(lp.plan_entries(x)))
    return path


def test_the_seed_status_quo_reveals_today_s_scorecards(tmp_path: Path) -> None:
    out = kpidesign.reveal(SEED, actuals=_status_quo_actuals(tmp_path)).to_dict()
    for d, f in out["departments"].items():
        assert f["fit"] >= 0.99, d
        assert f["official_fit"] == pytest.approx(f["fit"], abs=1e-6), d
    # sales' orders are pinned by what logistics ships: every scheme fits, none revealed
    assert out["departments"]["sales"]["weight_ranges"]["sales.volume"] == {"min": 0, "max": 1}
    assert out["departments"]["sales"]["moves_no_kpi"] is True
    assert any("sales cannot move any KPI" in n for n in out["notes"])


@pytest.mark.parametrize("seed", [1, 2])
def test_true_weights_of_a_random_scheme_lie_in_the_intervals(tmp_path: Path, seed: int) -> None:
    spec, lp = prepare(SEED)
    problem = Problem.from_spec(spec, lp)
    rng = np.random.default_rng(seed)
    scheme = {}
    for d, menu in problem.menus.items():
        linear = [k for k in menu if not lp.kpis[k].is_ratio]
        chosen = rng.choice(linear, size=2, replace=False)
        scheme[d] = dict(zip(chosen.tolist(), rng.dirichlet([1.0, 1.0]).tolist(), strict=True))
    out = kpidesign.reveal(SEED, actuals=_status_quo_actuals(tmp_path, scheme)).to_dict()
    for d, weights in scheme.items():
        ranges = out["departments"][d]["weight_ranges"]
        for k, w in weights.items():
            if k in ranges:  # not a KPI the department cannot move
                assert ranges[k]["min"] - 1e-6 <= w <= ranges[k]["max"] + 1e-6, (d, k, w)


def test_cli_table_json_and_errors(tmp_path: Path) -> None:
    actuals = mix_actuals(tmp_path, 4, 4)
    res = CliRunner().invoke(main, ["reveal", str(MIX), "--actuals", str(actuals)])
    assert res.exit_code == 0, res.output
    assert "made_a 60.0%, made_b 40.0%" in res.output and "0.7" in res.output
    res = run_kpidesign("reveal", MIX, "--actuals", actuals, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["departments"]["maker"]["fit"] == pytest.approx(0.7)
    res = run_kpidesign("reveal", MIX, "--actuals", actuals, "--department", "makr")
    assert res.returncode == 2
    assert "--department: unknown department 'makr' (did you mean 'maker'?)" in res.stderr
    with pytest.raises(KpiDesignError, match="unknown variable 'aa'"):
        bad = tmp_path / "bad.csv"
        bad.write_text("variable,index,value\naa,,1\n")
        kpidesign.reveal(MIX, actuals=bad)


def test_the_seed_reveal_story_in_models_readme() -> None:
    story = TESTS.parent / "scenarios" / "monitoring.yaml"
    data = TESTS.parent / "scenarios" / "data"
    four = kpidesign.reveal(story, actuals=data / "monitoring_actuals.csv").to_dict()
    fits = {d: f["official_fit"] for d, f in four["departments"].items()}
    assert fits == pytest.approx(
        {"sales": 1, "production": 0.985, "quality": 1, "logistics": 1, "finance": 1},
        abs=5e-4,
    )
    assert all(f["fit"] == pytest.approx(1) for f in four["departments"].values())
    assert four["departments"]["sales"]["moves_no_kpi"] is True
    weights = four["departments"]["production"]["weights"]
    assert weights["production.inventory_held"] == pytest.approx(0.00016, abs=2e-5)
    year = kpidesign.reveal(story, actuals=data / "monitoring_actuals_year.csv").to_dict()
    assert all(f["official_fit"] >= 0.9995 for f in year["departments"].values())
