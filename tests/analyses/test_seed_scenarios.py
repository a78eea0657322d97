"""The shipped model and scenarios tell the story of the seeds (issue 4, item 6)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TESTS

import kpidesign
from kpidesign.cli import main

ROOT = TESTS.parent
SHIPPED = sorted([*ROOT.glob("models/*.yaml"), *ROOT.glob("scenarios/*.yaml")])


@pytest.fixture(scope="module")
def manufacturer() -> kpidesign.CompareResult:
    return kpidesign.compare(ROOT / "models" / "manufacturer.yaml")


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_validates(path: Path) -> None:
    res = CliRunner().invoke(main, ["validate", str(path)])
    assert res.exit_code == 0, res.output
    assert "valid" in res.stdout


def test_paradox_every_department_meets_its_kpi(manufacturer: kpidesign.CompareResult) -> None:
    holds = manufacturer.own_kpis_hold()
    assert set(holds) == {"sales", "production", "quality", "logistics", "finance"}
    assert all(holds.values()), holds


def test_paradox_yet_the_company_loses_at_least_15_percent(
    manufacturer: kpidesign.CompareResult,
) -> None:
    assert manufacturer.misalignment_cost >= 0.15
    assert manufacturer.decentralized.converged


def test_paradox_shared_state_moves_the_wrong_way(manufacturer: kpidesign.CompareResult) -> None:
    r = manufacturer
    for var in ("inventory", "backlog", "rework"):
        assert r.state_total(var, "status_quo") > r.state_total(var, "aligned"), var
    assert r.state_total("cash", "status_quo") < r.state_total("cash", "aligned")


def test_strong_execution_of_misaligned_kpis_loses_more() -> None:
    path = ROOT / "scenarios" / "execution.yaml"
    weak = kpidesign.compare(path, "weak")
    strong = kpidesign.compare(path, "strong")
    assert strong.misalignment_cost > weak.misalignment_cost + 0.05
    assert strong.objectives["status_quo"] < weak.objectives["status_quo"]


def test_compare_cli_tells_the_story() -> None:
    res = CliRunner().invoke(main, ["compare", str(ROOT / "scenarios" / "baseline.yaml")])
    assert res.exit_code == 0, res.output
    assert "Each department meets its own KPI" in res.stdout
    assert "less than it could" in res.stdout


def test_strategy_variants_design_different_scorecards() -> None:
    """Seed 002: operations strategy follows company strategy, so the designed scorecards of
    at least two departments differ materially (L1 distance >= 0.2) between the variants."""
    path = ROOT / "scenarios" / "strategy.yaml"
    designs = {
        v: kpidesign.design(path, v).to_dict()["departments"] for v in ("quality", "low_cost")
    }
    differ = []
    for dept in designs["quality"]:
        a, b = designs["quality"][dept]["weights"], designs["low_cost"][dept]["weights"]
        distance = sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in {*a, *b})
        if distance >= 0.2:
            differ.append(dept)
    assert len(differ) >= 2, designs
