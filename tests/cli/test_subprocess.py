"""The installed ``kpidesign`` executable, run in a subprocess.

click's ``CliRunner`` swaps Python's ``sys.stdout`` but not file descriptor 1, so it never
sees what a C library (HiGHS) writes there.  These tests run the real console script, as a
user or a pipe (``kpidesign solve … --format json | jq``) would, and check the contract:
stdout of ``--format json`` is exactly one JSON document, stderr is empty on success, and a
bad file gives exit status 2 with one located ``error:`` line per problem.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import TESTS, run_kpidesign

ROOT = TESTS.parent
TWO = TESTS / "models" / "compare" / "two_departments.yaml"
MANUFACTURER = ROOT / "models" / "manufacturer.yaml"
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


def run(*args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return run_kpidesign(*args, timeout=timeout)


def _evaluate_args(model: Path) -> list[str]:
    return ["evaluate", str(model), "--incentive", "sales.volume=1"]


COMMANDS = {
    "validate": ["validate", str(TWO)],
    "solve": ["solve", str(TWO)],
    "compare": ["compare", str(TWO)],
    "design": ["design", str(TWO)],
    "evaluate": _evaluate_args(TWO),
    "sensitivity": ["sensitivity", str(TWO)],
    "frontier": ["frontier", str(TWO), "--constraint", "demand"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_json_on_stdout_is_one_document_and_stderr_is_empty(command: str) -> None:
    res = run(*COMMANDS[command], "--format", "json")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    data = json.loads(res.stdout)  # the whole of stdout, nothing before or after
    assert isinstance(data, dict)
    assert "HiGHS" not in res.stdout


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_tables_carry_nothing_from_the_solver(command: str) -> None:
    res = run(*COMMANDS[command])
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert "HiGHS" not in res.stdout
    assert "Copyright" not in res.stdout


def test_csv_writes_files_and_only_says_so(tmp_path: Path) -> None:
    res = run("solve", TWO, "--format", "csv", "--out", tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    assert res.stderr.startswith("wrote ")
    assert "HiGHS" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("path", [MANUFACTURER, *SCENARIOS], ids=lambda p: p.name)
def test_every_shipped_file_solves_to_clean_json(path: Path) -> None:
    res = run("solve", path, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert json.loads(res.stdout)["status"] == "optimal"


@pytest.mark.parametrize("path", [MANUFACTURER, *SCENARIOS], ids=lambda p: p.name)
@pytest.mark.parametrize(
    "command", ["validate", "compare", "design", "evaluate", "sensitivity", "frontier"]
)
def test_every_command_on_every_shipped_file_prints_one_json_document(
    command: str, path: Path
) -> None:
    extra = {
        "evaluate": ["--incentive", "sales.revenue=1"],
        "frontier": ["--resource", "budget"],
    }.get(command, [])
    res = run(command, path, *extra, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert isinstance(json.loads(res.stdout), dict)


_LOCATED = re.compile(r"^error: \S+\.yaml:\d+: \S+: .+")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_bad_file_exits_2_with_one_located_line_per_error(command: str, tmp_path: Path) -> None:
    text = TWO.read_text().replace('max: "sold"', 'max: "sould"').replace("ub: 10}", "ub: ten}")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    args = [str(bad) if a == str(TWO) else a for a in COMMANDS[command]]
    res = run(*args, "--format", "json")
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) >= 2, res.stderr
    for line in lines:
        assert _LOCATED.match(line), line
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize("command", ["compare", "evaluate"])
def test_a_bad_start_plan_exits_2_with_its_csv_lines(command: str, tmp_path: Path) -> None:
    """--start-plan through the installed executable: each error of the CSV one line
    FILE:LINE: column: message, exit 2, nothing on stdout."""
    plan = tmp_path / "plan.csv"
    plan.write_text("variable,index,value\nsould,,2\nsold,1,nan\n")
    res = run(*COMMANDS[command], "--start-plan", plan, "--format", "json")
    assert res.returncode == 2, res.stderr
    assert res.stdout == ""
    assert res.stderr.splitlines() == [
        f"error: {plan}:2: variable: unknown variable 'sould' (did you mean 'sold'?)",
        f"error: {plan}:3: index: sold is a scalar variable: its index is empty, not '1'",
        f"error: {plan}:3: value: sold: 'nan' is not a finite number",
    ]
