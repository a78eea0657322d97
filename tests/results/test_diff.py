"""`kpidesign diff`: two runs side by side, checked by hand on headroom.yaml with a
smaller budget, and on the pairing rules themselves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TESTS, kpidesign_executable

import kpidesign
from kpidesign.cli import main
from kpidesign.results.diff import changes_between

HEADROOM = TESTS / "models" / "textbook" / "headroom.yaml"
STRATEGY = TESTS.parent / "scenarios" / "strategy.yaml"


def _smaller_budget(tmp_path: Path) -> Path:
    f = tmp_path / "smaller.yaml"
    f.write_text(f"kpidesign: 1\nmodel: {HEADROOM}\nset:\n  resources.budget.total: 12\n")
    return f


def test_a_smaller_budget_by_hand(tmp_path: Path) -> None:
    # headroom: max 3x + 2y, x + y <= 9, 2x + y <= A (A = 0.75 total). Total 20: A = 15,
    # x = 6, y = 3, 24, the plant allocated 15. Total 12: A = 9, y = 9, x = 0, 18, 9.
    d = kpidesign.diff(HEADROOM, _smaller_budget(tmp_path))
    changes = {(c["section"], c["key"]): c for c in d.to_dict()["changes"]}
    assert changes[("objective", "")]["a"] == pytest.approx(24.0)
    assert changes[("objective", "")]["b"] == pytest.approx(18.0)
    assert changes[("objective", "")]["delta"] == pytest.approx(-6.0)
    assert changes[("allocation", "plant.budget")]["delta"] == pytest.approx(-6.0)
    assert ("kpis", "plant.units") not in changes  # x + y = 9 on both sides: unchanged
    assert d.a["scenario"] == "headroom" and d.b["scenario"] == "smaller"


def test_the_same_run_twice_changes_nothing_and_all_shows_everything() -> None:
    d = kpidesign.diff(HEADROOM, HEADROOM)
    assert d.changes.empty and d.notes == ["the two runs agree on every figure"]
    every = kpidesign.diff(HEADROOM, HEADROOM, everything=True)
    assert len(every.changes) == every.compared > 0
    assert all(c == 0.0 for c in every.changes.delta if c is not None)


def test_pairing_by_path() -> None:
    a = {
        "model": "m",
        "objective": 1.0,
        "kpis": {"s": {"v": 2.0, "w": 3.0}},
        "rows": [{"x": 1}, {"x": 2}],
        "status": "optimal",
        "run": {"seconds": 1},
    }
    b = {"model": "n", "objective": 1.0 + 1e-12, "kpis": {"s": {"v": 2.5}},
         "rows": [{"x": 1}, {"x": 3}], "status": "infeasible", "run": {"seconds": 2},
         "extra": "new"}  # fmt: skip
    got = changes_between(a, b)
    assert got == [
        {"section": "kpis", "key": "s.v", "a": 2.0, "b": 2.5, "delta": 0.5},
        {"section": "kpis", "key": "s.w", "a": 3.0, "b": None, "delta": None},
        {"section": "rows[1]", "key": "x", "a": 2, "b": 3, "delta": 1.0},
        {"section": "status", "key": "", "a": "optimal", "b": "infeasible", "delta": None},
        {"section": "extra", "key": "", "a": None, "b": "new", "delta": None},
    ]  # the model's name and the run block are not compared; 1e-12 is no change


def test_variants_of_one_file_and_design_weights() -> None:
    d = kpidesign.diff(STRATEGY, variants=("quality", "low_cost"), analysis="design")
    keys = {(c["section"], c["key"]) for c in d.to_dict()["changes"]}
    assert ("departments", "sales.weights.volume") in keys
    assert (d.a["variant"], d.b["variant"]) == ("quality", "low_cost")


def test_diff_through_the_command_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [kpidesign_executable(), "diff", str(HEADROOM), str(_smaller_budget(tmp_path)),
         "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == ""
    out = json.loads(proc.stdout)
    assert out["changes"][0] == {
        "section": "objective", "key": "", "a": 24.0, "b": 18.0, "delta": -6.0,
    }  # fmt: skip
    table = CliRunner().invoke(main, ["diff", str(STRATEGY), "-V", "quality"])
    assert table.exit_code == 0 and "B = strategy[quality]" in " ".join(table.output.split())
    for args, message in [
        ([str(HEADROOM)], "give two files"),
        ([str(STRATEGY), "-V", "a", "-V", "b", "-V", "c"], "at most two --variant"),
    ]:
        bad = CliRunner().invoke(main, ["diff", *args])
        assert bad.exit_code == 2 and message in bad.output
    missing = CliRunner().invoke(main, ["diff", str(STRATEGY), "-V", "nope"])
    assert missing.exit_code == 2 and "unknown variant 'nope'" in missing.output
