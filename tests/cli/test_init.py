"""`kpidesign init DIR`: the commented starter model, written and then run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import kpidesign_executable

from kpidesign.cli.init import init, starter_files

FILES = ("model.yaml", "scenario.yaml", "data/demand.csv")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_init(*args: str | Path):
    """``kpidesign init ARGS...`` in-process (the command object itself: the group
    registers it elsewhere); stdout and stderr apart, ANSI stripped."""
    result = CliRunner(env={"COLUMNS": "200"}).invoke(init, [str(a) for a in args])
    result.out = _ANSI.sub("", result.stdout)
    result.err = _ANSI.sub("", result.stderr)
    return result


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with the starter written into it once for the module."""
    directory = tmp_path_factory.mktemp("client") / "acme"
    result = run_init(directory)
    assert result.exit_code == 0, result.output
    return directory


def json_of(run_cli, *args: str | Path) -> dict:
    result = run_cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- (a) the files -----------------------------------------------------------------------


def test_the_starter_ships_a_model_a_scenario_and_a_csv() -> None:
    assert tuple(starter_files()) == FILES


def test_init_writes_the_files_into_a_new_directory(tmp_path: Path) -> None:
    directory = tmp_path / "new" / "client"  # parents created too
    result = run_init(directory)
    assert result.exit_code == 0, result.output
    shipped = starter_files()
    for rel in FILES:
        assert (directory / rel).read_bytes() == shipped[rel], rel
    assert sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*")) == sorted(
        [*FILES, "data"]
    )
    # one `wrote` line per file on stderr; the next steps on stdout
    assert result.err.splitlines() == [f"wrote {directory / rel}" for rel in FILES]
    scenario = str(directory / "scenario.yaml")
    for command in ("validate", "solve", "compare", "design", "report"):
        assert re.search(rf"kpidesign {command}\s+{re.escape(scenario)}", result.out), command
    assert "--variant demand_surge" in result.out
    assert "wrote" not in result.out


def test_init_into_an_existing_empty_directory(tmp_path: Path) -> None:
    result = run_init(tmp_path)
    assert result.exit_code == 0, result.output
    assert all((tmp_path / rel).is_file() for rel in FILES)


# --- (b) the written files run as written -------------------------------------------------


def test_the_written_model_and_scenario_validate(run_cli, starter: Path) -> None:
    for name in ("model.yaml", "scenario.yaml"):
        result = run_cli("validate", starter / name)
        assert result.exit_code == 0, result.output
        assert "valid" in result.stdout
        assert result.stderr == ""


def test_the_written_scenario_solves(run_cli, starter: Path) -> None:
    data = json_of(run_cli, "solve", starter / "scenario.yaml")
    assert data["status"] == "optimal"
    assert data["objective"] > 0
    assert set(data["kpis"]) >= {"sales", "production", "logistics"}
    assert data["kpis"]["production"]["unit_cost"] > 0  # the ratio KPI, defined at the optimum
    assert set(data["state"]) == {"inventory", "backlog"}
    assert set(data["allocation"]) == {"sales", "production", "logistics"}


def test_compare_tells_the_story_a_positive_misalignment_cost(run_cli, starter: Path) -> None:
    data = json_of(run_cli, "compare", starter / "scenario.yaml")
    plans = {k: v["objective"] for k, v in data["plans"].items()}
    assert plans["status_quo"] < plans["aligned"] < plans["system"]
    assert 0.10 <= data["misalignment_cost"] <= 0.40
    assert data["reallocation_gain"] > 0  # the reallocation has something to do
    low, high = data["misalignment_cost_range"]["min"], data["misalignment_cost_range"]["max"]
    assert 0 < low <= data["misalignment_cost"] + 1e-9 <= high + 1e-9 <= 0.5
    assert data["decentralized"]["converged"]
    assert set(data["departments"]) == {"sales", "production", "logistics"}
    assert all(data["departments"][d]["unilateral_loss"] >= 0 for d in data["departments"])


def test_design_finds_a_scheme_that_beats_the_status_quo(run_cli, starter: Path) -> None:
    scenario = starter / "scenario.yaml"
    design = json_of(run_cli, "design", scenario)
    compare = json_of(run_cli, "compare", scenario)
    plans = compare["plans"]
    status_quo_share = plans["status_quo"]["objective"] / plans["system"]["objective"]
    share = design["verification"]["share_of_optimum"]
    assert status_quo_share < share <= 1 + 1e-6
    for dept, entry in design["departments"].items():
        assert sum(entry["weights"].values()) == pytest.approx(1.0), dept


def test_compare_through_the_installed_executable_is_one_json_document(starter: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    res = subprocess.run(
        [kpidesign_executable(), "compare", str(starter / "scenario.yaml"), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    data, end = json.JSONDecoder().raw_decode(res.stdout)
    assert res.stdout[end:].strip() == ""  # nothing after the one document
    assert data["misalignment_cost"] > 0


# --- (c) the variants ----------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["demand_surge", "budget_cut"])
def test_each_variant_compares(run_cli, starter: Path, variant: str) -> None:
    scenario = starter / "scenario.yaml"
    base = json_of(run_cli, "compare", scenario)
    data = json_of(run_cli, "compare", scenario, "--variant", variant)
    assert data["run"]["variant"] == variant
    assert data["misalignment_cost"] > 0
    if variant == "demand_surge":  # more customers: a better optimum
        assert data["plans"]["system"]["objective"] > base["plans"]["system"]["objective"]
    else:  # less budget: a worse one
        assert data["plans"]["system"]["objective"] < base["plans"]["system"]["objective"]


def test_an_unknown_variant_is_a_clean_error(run_cli, starter: Path) -> None:
    result = run_cli("compare", starter / "scenario.yaml", "--variant", "nope")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "demand_surge" in result.stderr  # the variants the scenario has are named


# --- (d) nothing already written is lost -----------------------------------------------------


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "model.yaml").write_text("# the client's own model\n")
    result = run_init(tmp_path)
    assert result.exit_code == 2, result.output
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"error: {tmp_path}: ")
    assert "model.yaml" in lines[0] and "--force" in lines[0]
    assert (tmp_path / "model.yaml").read_text() == "# the client's own model\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.yaml"]  # nothing else written


def test_init_refuses_when_a_data_file_exists(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "demand.csv").write_text("period,value\n1,7\n")
    result = run_init(tmp_path)
    assert result.exit_code == 2, result.output
    assert "data/demand.csv" in result.err
    assert (tmp_path / "data" / "demand.csv").read_text() == "period,value\n1,7\n"
    assert not (tmp_path / "model.yaml").exists()


def test_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "model.yaml").write_text("# the client's own model\n")
    (tmp_path / "notes.txt").write_text("keep me\n")
    result = run_init(tmp_path, "--force")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "model.yaml").read_bytes() == starter_files()["model.yaml"]
    assert (tmp_path / "notes.txt").read_text() == "keep me\n"  # not a starter file: untouched
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_a_file_in_the_way_of_the_directory_is_a_clean_error(tmp_path: Path) -> None:
    target = tmp_path / "client"
    target.write_text("not a directory\n")
    result = run_init(target, "--force")
    assert result.exit_code == 2, result.output
    assert result.err.splitlines() == [f"error: {target}: exists and is not a directory"]
    assert target.read_text() == "not a directory\n"


def test_a_directory_in_the_way_of_a_file_is_a_clean_error(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").mkdir()
    result = run_init(tmp_path, "--force")
    assert result.exit_code == 2, result.output
    assert result.err.startswith(f"error: {tmp_path}: scenario.yaml exists and is a directory")
    assert not (tmp_path / "model.yaml").exists()


# --- (e) the comments survive ------------------------------------------------------------------


def test_the_written_files_keep_their_comments(starter: Path) -> None:
    model = (starter / "model.yaml").read_text(encoding="utf-8").splitlines()
    comment_lines = [line for line in model if line.lstrip().startswith("#")]
    inline = [line for line in model if " # " in line and not line.lstrip().startswith("#")]
    assert len(comment_lines) >= 5
    assert len(inline) >= 20  # keys explained where they are written
    assert 100 <= len(model) <= 200
    scenario = (starter / "scenario.yaml").read_text(encoding="utf-8")
    assert scenario.lstrip().startswith("#")
    assert "variants:" in scenario
