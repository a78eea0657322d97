"""`kpidesign export FILE --lp OUT --mps OUT`: the Pyomo model written for audit, read
back by HiGHS to the optimum every analysis finds."""

from __future__ import annotations

from pathlib import Path

import highspy
import pytest
from conftest import TESTS, assert_same_program, run_kpidesign

import kpidesign

REPO = TESTS.parent
MODEL = REPO / "models" / "manufacturer.yaml"


def _objective(path: Path) -> float:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    assert h.readModel(str(path)) == highspy.HighsStatus.kOk
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return h.getInfo().objective_function_value


def test_the_exported_files_solve_to_the_system_optimum(tmp_path: Path) -> None:
    lp, mps = tmp_path / "model.lp", tmp_path / "model.mps"
    done = run_kpidesign("export", MODEL, "--lp", lp, "--mps", mps)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr.splitlines() == [f"wrote {lp}", f"wrote {mps}"]
    text = lp.read_text()
    assert "produced(standard_3)" in text  # the model's names (Pyomo's LP spelling)
    want = kpidesign.solve(MODEL).objective
    assert _objective(lp) == pytest.approx(want, rel=1e-9)
    assert _objective(mps) == pytest.approx(want, rel=1e-9)


def test_export_needs_a_file_to_write(run_cli) -> None:
    result = run_cli("export", MODEL)
    assert result.exit_code == 2
    assert result.error_lines() == ["error: export: give --lp FILE and/or --mps FILE"]


def test_a_bad_model_is_one_located_line_and_nothing_written(run_cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODEL.read_text().replace("sum(", "summ(", 1))
    out = tmp_path / "model.lp"
    result = run_cli("export", bad, "--lp", out)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.error_lines()[0].startswith(f"error: {bad}:")
    assert not out.exists()


def test_the_apis_build_is_the_pyomo_model_of_the_program_analyses_solve() -> None:
    from kpidesign.model import compile_model

    built = kpidesign.build(MODEL)
    assert type(built.model).__name__ == "ConcreteModel"
    _, lp = kpidesign.prepare(MODEL)
    assert_same_program(compile_model(built), lp)
