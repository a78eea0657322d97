"""`kpidesign validate FILE [--variant V]` through click's CliRunner."""

from __future__ import annotations

import json
import re

import pytest
from conftest import BASE_MODEL, TESTS, line_of

REPO = TESTS.parent
ERROR_LINE = re.compile(
    r"^error: (?P<file>[^:]+):(?P<line>\d+): (?P<path>[\w.\[\]]+): (?P<msg>.+)$"
)

SCENARIO = """\
kpidesign: 1
model: model.yaml
name: tweak
set:
  params.cap: 12
variants:
  big:
    set: {params.cap: 95}
"""


def assert_clean_failure(result, n_errors: int) -> list[re.Match]:
    """Exit 2, nothing on stdout, ``n_errors`` well-formed error lines, no traceback."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    lines = result.error_lines()
    assert len(lines) == n_errors, lines
    assert all(line.startswith("error: ") for line in lines), lines
    return [ERROR_LINE.match(line) for line in lines]


def test_validate_tiny(run_cli, monkeypatch):
    monkeypatch.chdir(REPO)
    result = run_cli("validate", "tests/models/tiny.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    out = result.stdout
    assert "tiny  (tests/models/tiny.yaml): valid" in out
    # 6 sold + 3 promo + 6 made + 6 inventory + 2 allocations; 6 + 6 + 3 rows + 2 uses + 1 total
    assert "23 variables, 19 constraints" in out
    assert re.search(r"product\s*│\s*2\b", out)
    assert re.search(r"period\s*│\s*3\b", out)
    for word in (
        "Departments",
        "sales",
        "production",
        "sold (6)",
        "promo (3)",
        "made (6)",
        "volume (max)",
        "revenue (max)",
        "unit_cost (ratio min)",
        "output (max)",
        "Shared state: inventory (6)",
        "Constraints",
        "balance",
        "market",
        "capacity",
        "Resources",
        "budget",
        "Objective: max",
    ):
        assert word in out, word
    assert re.search(r"capacity\s*│\s*3\b", out)
    assert re.search(r"balance\s*│\s*6\b", out)


def test_validate_help_lists_variant(run_cli):
    result = run_cli("validate", "--help")
    assert result.exit_code == 0
    assert "--variant" in result.stdout


def test_malformed_yaml_exits_2(run_cli, write_model):
    path = write_model(BASE_MODEL.replace("  cap: 10", "  cap: a: b"))
    result = run_cli("validate", path)
    (match,) = assert_clean_failure(result, 1)
    assert result.error_lines()[0] == (
        f"error: {path}:{line_of(path, 'cap: a: b')}: "
        "YAML syntax error: mapping values are not allowed here"
    )
    assert match is None or match["file"] == str(path)
    assert result.stdout == ""


def test_several_errors_all_reported(run_cli, write_model):
    text = (
        BASE_MODEL.replace("incentive: {output: 1}", "incentive: {output: -1}")
        .replace("expr: make[t] <= cap", "expr: make[t] <= cap\n    slack: 2")
        .replace("    kpis:\n", "    kpi:\n")
    )
    path = write_model(text)
    result = run_cli("validate", path)
    matches = assert_clean_failure(result, 3)
    assert all(m is not None and m["file"] == str(path) for m in matches), result.stderr
    found = {(int(m["line"]), m["path"]) for m in matches}
    assert found == {
        (line_of(path, "kpi:"), "departments.ops.kpi"),
        (line_of(path, "incentive:"), "departments.ops.incentive.output"),
        (line_of(path, "slack: 2"), "constraints.limit.slack"),
    }


def test_several_name_errors_all_reported(run_cli, write_model):
    text = (
        BASE_MODEL.replace("incentive: {output: 1}", "incentive: {outptu: 1}")
        .replace("stock: {over: [period]", "stock: {over: [perod]")
        .replace("  cap: 10", "  cap: 10\n  make: 3")
    )
    path = write_model(text)
    result = run_cli("validate", path)
    matches = assert_clean_failure(result, 3)
    assert all(m is not None and m["file"] == str(path) for m in matches), result.stderr
    found = {(int(m["line"]), m["path"]) for m in matches}
    assert found == {
        (line_of(path, "stock:"), "variables.stock.over[0]"),
        (line_of(path, "make: {over"), "departments.ops.variables.make"),
        (line_of(path, "incentive:"), "departments.ops.incentive.outptu"),
    }


def test_several_expression_errors_all_reported(run_cli, write_model):
    text = (
        BASE_MODEL.replace("expr: make[t] <= cap", "expr: make[t] <= cpa")
        .replace(
            '{max: "sum(make[t] for t in period)"}', '{max: "sum(make[t] for t in period) ** 2"}'
        )
        .replace('  max: "sum(make[t] for t in period)"\n', '  max: "cap.__class__"\n')
    )
    path = write_model(text)
    result = run_cli("validate", path)
    matches = assert_clean_failure(result, 3)
    assert [(int(m["line"]), m["path"]) for m in matches] == [
        (line_of(path, "expr: make[t] <= cpa"), "constraints.limit.expr"),
        (line_of(path, "output: {max"), "departments.ops.kpis.output.max"),
        (line_of(path, "  max: "), "objective.max"),
    ]
    assert "unknown name 'cpa' (did you mean 'cap'?)" in matches[0]["msg"]
    assert "`**` is not allowed" in matches[1]["msg"]
    assert matches[2]["msg"] == "attribute access is not allowed: `cap.__class__`"


def test_error_lines_keep_expression_text(run_cli, write_model):
    path = write_model(
        BASE_MODEL.replace("expr: make[t] <= cap", "expr: make[t] * stock[t] <= cap")
    )
    result = run_cli("validate", path)
    assert_clean_failure(result, 1)
    assert result.error_lines()[0].endswith("`make[t] * stock[t]`")


def test_summary_keeps_objective_text(run_cli):
    result = run_cli("validate", TESTS / "models" / "tiny.yaml")
    assert result.exit_code == 0
    assert "sum(price[p] * sold[p, t]" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty"),
        ("kpidesign: 2\nname: x\nobjective: {max: y}\n", "unsupported format version 2"),
    ],
)
def test_bad_files_exit_2(run_cli, write_model, text, message):
    path = write_model(text)
    result = run_cli("validate", path)
    assert_clean_failure(result, 1)
    assert result.error_lines()[0].startswith(f"error: {path}")
    assert message in result.stderr


def test_missing_file_exits_2(run_cli, tmp_path):
    result = run_cli("validate", tmp_path / "nope.yaml")
    assert_clean_failure(result, 1)
    assert result.error_lines() == [f"error: {tmp_path / 'nope.yaml'}: file not found"]


def test_csv_error_names_csv_file_and_line(run_cli, write_model):
    text = BASE_MODEL.replace("  cap: 10", "  cap: {file: data/cap.csv}").replace(
        "<= cap", "<= cap[t]"
    )
    path = write_model(text, cap="period,value\n1,5\n2,nan\n3,4\n")
    result = run_cli("validate", path)
    assert_clean_failure(result, 1)
    csv = path.parent / "data" / "cap.csv"
    assert result.error_lines() == [
        f"error: {csv}:3: value 'nan' is missing or not a finite number (param 'cap')"
    ]


def test_attack_in_expression_is_rejected_and_not_run(run_cli, write_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "MARKER"
    attack = f"__import__('os').system('touch {marker}')"
    path = write_model(
        BASE_MODEL.replace('max: "sum(make[t] for t in period)"\n', f"max: {json.dumps(attack)}\n")
    )
    result = run_cli("validate", path)
    (match,) = assert_clean_failure(result, 1)
    assert match is not None and match["path"] == "objective.max"
    assert int(match["line"]) == line_of(path, "  max: ")
    assert "function calls are not allowed" in match["msg"]
    assert not marker.exists()


def test_variant_on_a_scenario(run_cli, write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO, name="scen.yaml")
    result = run_cli("validate", scen, "--variant", "big")
    assert result.exit_code == 0, result.output
    # output that is not a terminal is 120 columns wide: a long temporary path wraps
    flat = " ".join(result.stdout.split())
    assert f"base / scenario tweak / variant big ({scen}): valid" in flat
    short = run_cli("validate", scen, "-V", "big")
    assert short.exit_code == 0 and short.stdout == result.stdout
    plain = run_cli("validate", scen)
    assert plain.exit_code == 0
    assert f"base / scenario tweak ({scen}): valid" in " ".join(plain.stdout.split())


def test_unknown_variant_exits_2(run_cli, write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO, name="scen.yaml")
    result = run_cli("validate", scen, "--variant", "bgi")
    assert_clean_failure(result, 1)
    assert result.error_lines() == [f"error: {scen}: unknown variant 'bgi' (did you mean 'big'?)"]


def test_variant_on_a_model_file_exits_2(run_cli, write_model):
    path = write_model(BASE_MODEL)
    result = run_cli("validate", path, "--variant", "big")
    assert_clean_failure(result, 1)
    assert result.error_lines() == [f"error: {path}: --variant big: a model file has no variants"]


def test_scenario_error_points_at_scenario(run_cli, write_model):
    write_model(BASE_MODEL)
    scen = write_model(SCENARIO.replace("params.cap: 12", "params.cpa: 12"), name="scen.yaml")
    result = run_cli("validate", scen)
    (match,) = assert_clean_failure(result, 1)
    assert match is not None
    assert (match["file"], int(match["line"]), match["path"]) == (
        str(scen),
        line_of(scen, "params.cpa"),
        "set.params.cpa",
    )
    assert "closest existing path: params.cap" in match["msg"]
