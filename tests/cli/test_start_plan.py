"""``--start-plan CSV`` and ``today:`` on the command line (click's CliRunner): located
errors and exit 2, the plan file's digest in the run block."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import TESTS, line_of

PLANS = TESTS / "models" / "plans"
SHOP = PLANS / "shop.yaml"


@pytest.mark.parametrize("command", ["compare", "evaluate"])
def test_start_plan_errors_are_located_in_the_csv_and_exit_2(
    run_cli, command: str, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.csv"
    plan.write_text("variable,index,value\nmade,3,1\nmade,1,\nmade,1,2\nmade,1,3\npromo,,x\n")
    extra = ["--incentive", "sales.volume=1"] if command == "evaluate" else []
    res = run_cli(command, SHOP, *extra, "--start-plan", plan)
    assert res.exit_code == 2, res.output
    assert res.stdout == "" and "Traceback" not in res.output
    assert res.error_lines() == [
        f"error: {plan}:2: index: made[3]: '3' is not a member of set 'month'",
        f"error: {plan}:3: value: made[1]: the value is missing",
        f"error: {plan}:5: index: made[1] is given twice (first at line 4)",
        f"error: {plan}:6: value: promo: 'x' is not a number",
    ]


def test_a_missing_start_plan_and_a_header_error(run_cli, tmp_path: Path) -> None:
    res = run_cli("compare", SHOP, "--start-plan", tmp_path / "none.csv")
    assert res.exit_code == 2
    assert res.error_lines() == [
        f"error: --start-plan: plan file not found: {tmp_path / 'none.csv'}"
    ]
    plan = tmp_path / "plan.csv"
    plan.write_text("variable;index;value\n")
    res = run_cli("compare", SHOP, "--start-plan", plan)
    assert res.exit_code == 2
    assert res.error_lines() == [
        f"error: {plan}:1: header: unknown column 'variable;index;value' "
        "(the columns are variable, index, value)",
        f"error: {plan}:1: header: missing column 'variable' (the columns are variable, "
        "index, value)",
        f"error: {plan}:1: header: missing column 'index' (the columns are variable, index, value)",
        f"error: {plan}:1: header: missing column 'value' (the columns are variable, index, value)",
    ]


def test_a_model_naming_a_bad_plan_fails_validation(run_cli, tmp_path: Path) -> None:
    model = Path(shutil.copy(SHOP, tmp_path / "shop.yaml"))
    model.write_text(model.read_text() + "today: {file: plan.csv}\n")
    (tmp_path / "plan.csv").write_text("variable,index,value\nmade,1,inf\n")
    res = run_cli("validate", model)
    assert res.exit_code == 2
    assert res.error_lines() == [
        f"error: {tmp_path / 'plan.csv'}:2: value: made[1]: 'inf' is not a finite number"
    ]
    (tmp_path / "plan.csv").unlink()
    res = run_cli("validate", model)
    line = line_of(model, "today:")
    assert res.error_lines() == [
        f"error: {model}:{line}: today.file: plan file not found: {tmp_path / 'plan.csv'}"
    ]


def test_the_start_plan_joins_the_run_inputs(run_cli) -> None:
    plan = PLANS / "today_partial.csv"
    res = run_cli("compare", SHOP, "--start-plan", plan, "--format", "json")
    assert res.exit_code == 0, res.output
    inputs = json.loads(res.stdout)["run"]["inputs"]
    assert list(inputs) == [str(SHOP), str(plan)]
    assert inputs[str(plan)].startswith("sha256:")
