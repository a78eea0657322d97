"""``contract``: terms that make each partner's own optimum the alliance optimum.

The issue's hand example of double marginalization, worked in
``tests/models/contract/double_marginalization.yaml``'s description."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TESTS, run_kpidesign

import kpidesign
from kpidesign.cli import main
from kpidesign.errors import KpiDesignError, SpecError

CONTRACT = TESTS / "models" / "contract"
DM = CONTRACT / "double_marginalization.yaml"


def test_compare_shows_the_double_marginalization_loss() -> None:
    out = kpidesign.compare(DM).to_dict()
    assert out["plans"]["status_quo"]["objective"] == pytest.approx(800)
    assert out["plans"]["system"]["objective"] == pytest.approx(1100)
    assert out["misalignment_cost"] == pytest.approx(300 / 1100)


@pytest.mark.parametrize(
    ("split", "manufacturer", "distributor"),
    [("equal", 650, 450), ("proportional", 687.5, 412.5)],
)
def test_the_coordinating_contract_and_its_split_as_by_hand(
    split: str, manufacturer: float, distributor: float
) -> None:
    r = kpidesign.contract(DM, split=split)
    out = r.to_dict()
    price = out["terms"]["wholesale"]
    assert price["today"] == 7
    assert price["contract"] < 5  # strictly: at 5 the distributor is indifferent
    assert price["contract"] == pytest.approx(3.75)  # half the widest margin from 5
    assert out["exact"] is True and out["gap"] == 0
    assert out["margin"] == pytest.approx(1.25)
    partners = out["partners"]
    assert partners["manufacturer"]["status_quo"] == pytest.approx(500, abs=1e-5)
    assert partners["distributor"]["status_quo"] == pytest.approx(300, abs=1e-5)
    assert partners["manufacturer"]["contract"] == pytest.approx(manufacturer, abs=1e-5)
    assert partners["distributor"]["contract"] == pytest.approx(distributor, abs=1e-5)
    assert sum(out["payments"].values()) == pytest.approx(0, abs=1e-9)
    v = out["verification"]
    assert v["objective"] == pytest.approx(1100, rel=1e-8)  # the worst computed path
    assert v["pessimistic"]["objective"] == pytest.approx(1100, rel=1e-8)
    assert v["optimistic"]["objective"] == pytest.approx(1100, rel=1e-8)
    assert out["alliance"] == pytest.approx(
        {"status_quo": 800, "optimum": 1100, "status_quo_share": 800 / 1100}
    )


def test_no_contract_within_the_bounds_reports_the_best_and_the_binding_bound() -> None:
    out = kpidesign.contract(CONTRACT / "contract_floor.yaml").to_dict()
    assert out["exact"] is False
    assert out["terms"]["wholesale"]["contract"] == 6
    assert out["gap"] == pytest.approx(100)
    assert out["binding"] == ["wholesale at its min (6)"]
    assert out["payments"] is None
    assert out["verification"]["objective"] == pytest.approx(800)


def _model(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(DM.read_text().replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'stock: {expr: "high + low <= order"}',
            'stock: {expr: "high + low <= order + wholesale"}',
            "'wholesale' changes a constraint or a bound",
        ),
        (
            '"wholesale * order - 2 * made"',
            '"wholesale * wholesale * order - 2 * made"',
            "manufacturer's profit is not linear in 'wholesale'",
        ),
        (
            'max: "10 * high + 5 * low - 2 * made"',
            'max: "10 * high + 5 * low - 2 * made + wholesale * order"',
            "'wholesale' changes the alliance objective",
        ),
        (
            "    incentive: {profit: 1}\n  distributor:",
            "    incentive: {profit: 1, volume: 1}\n  distributor:",
            "manufacturer not paid on one profit KPI to maximize",
        ),
    ],
)
def test_terms_and_partners_that_contract_cannot_price_are_errors(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = DM.read_text()
    assert old in text
    if "volume" in new:
        text = text.replace(
            '      profit: {max: "wholesale * order - 2 * made"}',
            '      profit: {max: "wholesale * order - 2 * made"}\n      volume: {max: "made"}',
        )
    path = tmp_path / "model.yaml"
    path.write_text(text.replace(old, new))
    with pytest.raises(KpiDesignError, match=message):
        kpidesign.contract(path)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "  wholesal: {min: 0, max: 20}",
            "contract.wholesal: unknown param 'wholesal' (did you mean 'wholesale'?)",
        ),
        ("  wholesale: {min: 5, max: 1}", "contract.wholesale: min (5) is above max (1)"),
        ("  wholesale: {min: 0}", "contract.wholesale.max: missing required key"),
    ],
)
def test_a_bad_contract_section_is_located(tmp_path: Path, section: str, message: str) -> None:
    text = DM.read_text()
    path = tmp_path / "model.yaml"
    path.write_text(text[: text.index("contract:\n")] + "contract:\n" + section + "\n")
    with pytest.raises(SpecError) as info:
        kpidesign.load(path)
    assert info.value.messages == [f"{path}:47: {message}"]


def test_a_model_without_a_contract_section_says_so(tmp_path: Path) -> None:
    text = DM.read_text()
    path = tmp_path / "model.yaml"
    path.write_text(text[: text.index("contract:\n")])
    with pytest.raises(KpiDesignError, match="no contract: section names the terms"):
        kpidesign.contract(path)


def test_cli_table_and_one_json_document() -> None:
    res = CliRunner().invoke(main, ["contract", str(DM)])
    assert res.exit_code == 0, res.output
    assert "3.75" in res.output and "650" in res.output and "450" in res.output
    res = run_kpidesign("contract", DM, "--split", "proportional", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["partners"]["manufacturer"]["contract"] == pytest.approx(687.5)


@pytest.mark.parametrize("split", ["equal", "proportional"])
def test_the_alliance_reaches_its_optimum_with_every_partner_better_off(split: str) -> None:
    # the acceptance on models/alliance.yaml (figures in models/README.md)
    out = kpidesign.contract(TESTS.parent / "models" / "alliance.yaml", split=split).to_dict()
    v = out["verification"]
    assert v["pessimistic"]["share_of_optimum"] >= 0.99
    assert v["share_of_optimum"] >= 0.99  # the worst computed path
    assert out["alliance"]["status_quo_share"] < 0.8  # double marginalization today
    for partner, p in out["partners"].items():
        assert p["contract"] >= p["status_quo"], partner
    terms = out["terms"]
    assert terms["wholesale_price"]["contract"] < terms["wholesale_price"]["today"]
