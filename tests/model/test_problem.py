"""The Problem beside the LinearProgram: picklable, so a worker process gets (program,
problem, options) and never the spec's YAML source map; and provenance digests."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest
from conftest import TESTS, line_of

import kpidesign
from kpidesign.analyses.compare import compare_plans
from kpidesign.model.problem import Problem, file_digest
from kpidesign.options import Options
from kpidesign.render.files import to_json

MENU = TESTS / "models" / "compare" / "design_menu.yaml"
ROOT = TESTS.parent


def test_problem_holds_what_analyses_read_from_the_spec() -> None:
    spec, _ = kpidesign.prepare(MENU)
    problem = Problem.from_spec(spec)
    assert problem.label == "design_menu"
    assert problem.incentives == {
        "sales": {"sales.volume": 1.0},
        "production": {"production.output": 1.0},
    }
    assert problem.menus["production"] == ("production.output", "profit")
    assert problem.cap("production", "profit") == 0.8
    assert problem.cap("production", "production.output") == 1.0
    assert problem.state == ("inventory",)


def test_a_worker_gets_program_problem_and_options_by_pickle_and_computes_the_same() -> None:
    """What a process pool or a Dask worker receives: three pickled objects, no spec."""
    spec, lp = kpidesign.prepare(MENU)
    problem, options = Problem.from_spec(spec), Options(tol=1e-7)
    payload = pickle.dumps((lp, problem, options))
    assert b"SourceMap" not in payload and b"ruamel" not in payload
    lp2, problem2, options2 = pickle.loads(payload)
    here = compare_plans(lp, problem, options)
    there = compare_plans(lp2, problem2, options2)
    assert here.ok and there.ok
    assert to_json(there) == to_json(here)


def test_provenance_digests_every_input_file(tmp_path: Path) -> None:
    """A scenario run records the scenario, its model and the model's CSV files, each by
    the sha256 of its bytes; changing one byte of a CSV changes its digest."""
    spec = kpidesign.load(ROOT / "scenarios" / "baseline.yaml")
    problem = Problem.from_spec(spec)
    files = [f for f, _ in problem.inputs]
    assert files[0].endswith("scenarios/baseline.yaml")
    assert files[1].endswith("models/manufacturer.yaml")
    assert any(f.endswith(".csv") for f in files[2:]) == any(
        p.file is not None for p in spec.params.values()
    )
    for f, digest in problem.inputs:
        assert digest == "sha256:" + hashlib.sha256(Path(f).read_bytes()).hexdigest()
    data = tmp_path / "x.csv"
    data.write_text("a,value\n1,2\n")
    before = file_digest(data)
    data.write_text("a,value\n1,3\n")
    assert file_digest(data) != before


def test_the_run_block_names_the_inputs_and_options() -> None:
    result = kpidesign.solve(MENU, time_limit=30)
    run = result.to_dict()["run"]
    assert run["status"] == "optimal"
    assert run["options"]["time_limit"] == 30
    assert list(run["inputs"]) == [str(MENU)]
    assert run["solves"] == 1 and run["iterations"] >= 0
    assert run["highs"].count(".") == 2 and run["kpidesign"]
    assert "seconds" not in run  # wall time would break byte-for-byte reproducibility
    assert result.run.seconds > 0


@pytest.mark.parametrize(
    "bad", [{"menu": [], "caps": ""}, {"menu": ["output"], "caps": "{output: 0.4}"}]
)
def test_an_impossible_design_menu_is_refused_when_the_file_is_loaded(
    write_model, bad: dict
) -> None:
    """Caps that sum below 1 (or an empty menu) can never make weights summing to 1: the
    file is refused at load, by every command, naming the department's `design` line."""
    caps = f", max_weight: {bad['caps']}" if bad["caps"] else ""
    text = MENU.read_text().replace(
        "design: {kpis: [output, profit], max_weight: {profit: 0.8}}",
        f"design: {{kpis: [{', '.join(bad['menu'])}]{caps}}}",
    )
    path = write_model(text)
    with pytest.raises(kpidesign.SpecError) as info:
        kpidesign.load(path)
    (message,) = info.value.messages
    line = line_of(path, "design: {kpis")
    assert message.startswith(f"{path}:{line}: departments.production.design: ")
    expected = (
        "its KPI menu is empty" if not bad["menu"] else "the caps of its KPI menu sum to 0.4 < 1"
    )
    assert message.endswith(f"{expected}: no scorecard with weights summing to 1 exists")


def test_today_plan_maps_to_columns_and_travels_by_pickle(tmp_path: Path) -> None:
    """Problem.today holds the plan file's values as LinearProgram columns (names and
    indices checked at load), and is pickled with the problem."""
    plan = tmp_path / "plan.csv"
    plan.write_text(
        'variable,index,value\ninventory,"premium,2",7\npromo,3,1.5\nmade,"standard,1",4\n'
    )
    spec, lp = kpidesign.prepare(TESTS / "models" / "tiny.yaml", start_plan=plan)
    problem = Problem.from_spec(spec, lp)
    today = problem.today
    assert today is not None and today.source == str(plan) and len(today) == 3
    assert [lp.col_name(int(j)) for j in today.columns] == [
        "inventory[premium,2]",
        "promo[3]",
        "made[standard,1]",
    ]
    assert today.values.tolist() == [7.0, 1.5, 4.0]
    again = pickle.loads(pickle.dumps(problem))
    assert again == problem and again.today == today
    assert Problem.from_spec(spec).today is None  # without the program, no columns
    assert Problem.from_spec(kpidesign.load(MENU), lp).today is None  # no plan named
