"""`kpidesign sweep`: each point against a scenario file that sets the same value, the same
JSON on every engine and number of workers, infeasible points as rows, interrupt and
resume, and the reused programs against programs built from the points' specs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TESTS, assert_same_program, kpidesign_executable

import kpidesign
from kpidesign.cli import main
from kpidesign.model.build import build
from kpidesign.model.compile import compile_model
from kpidesign.runners.plan import CHUNK, Axis, parse_axis, sweep_points
from kpidesign.runners.points import Reuse, _with_totals, program_reuse
from kpidesign.spec.scenario import Overlay

SEED = TESTS.parent / "scenarios" / "baseline.yaml"
BUDGET = "resources.budget.total=500000:700000:3"
HEADROOM = TESTS / "models" / "textbook" / "headroom.yaml"
MODEL = (TESTS.parent / "models" / "manufacturer.yaml").resolve()


def _scenario_objective(tmp_path: Path, model: Path, total: float) -> float:
    """``solve`` of a scenario file that sets the total: the other way to the same point."""
    f = tmp_path / f"at_{total!r}.yaml"
    f.write_text(
        f"kpidesign: 1\nmodel: {model.resolve()}\nset:\n  resources.budget.total: {total!r}\n"
    )
    result = kpidesign.solve(f)
    assert result.ok
    return result.objective


@pytest.mark.parametrize(
    ("file", "model", "values"),
    [(SEED, SEED.parent.parent / "models" / "manufacturer.yaml", "500000:700000:3"),
     (HEADROOM, HEADROOM, "11:30:5")],
    ids=["seed", "headroom"],
)  # fmt: skip
def test_each_point_is_solve_of_a_scenario_setting_its_total(
    tmp_path: Path, file: Path, model: Path, values: str
) -> None:
    # the seed's optimum is the same above 432,397 (frontier), and its baselines need
    # 494,737; headroom's total is worth 1.5 per unit up to 12, then 0.75 up to 24
    r = kpidesign.sweep(file, [f"resources.budget.total={values}"])
    assert set(r.points.built) == {"reused"}  # totals are bounds of the compiled program
    for total, objective in zip(r.points["resources.budget.total"], r.points.objective,
                                strict=True):  # fmt: skip
        assert objective == pytest.approx(_scenario_objective(tmp_path, model, total), rel=1e-9)
    assert len(r.kpis) == len(r.points) * len(r.kpis[r.kpis.point == 0]) > 0
    if file == HEADROOM:
        # 1.5 x 11; 18 + 0.75 x 3.75; 18 + 0.75 x 8.5; 27 from 24 on
        assert list(r.points.objective) == pytest.approx([16.5, 20.8125, 24.375, 27.0, 27.0])


def test_a_sweep_after_other_solves_in_the_same_process() -> None:
    # HiGHS cannot switch a process that has solved with its default threads to one thread:
    # a serial sweep keeps the caller's setting (a notebook solves first, then sweeps)
    assert kpidesign.solve(SEED).ok
    r = kpidesign.sweep(SEED, scales=["params.base_demand=0.9,1.1"], workers=1)
    assert list(r.points.status) == ["optimal", "optimal"]


def test_a_reused_program_is_the_program_built_from_the_points_spec() -> None:
    # the sweep patches the resource rows of the variant's program for a total or reserve,
    # and keeps it for an incentive: exactly what build + compile of the point's spec give
    # (params and margins: tests/model/test_update.py)
    base = kpidesign.load(SEED)
    lp = compile_model(build(base))
    for sets in (
        {"resources.budget.total": 612345.0, "resources.budget.reserve": 0.2},
        {"departments.sales.incentive.volume": 0.3},
    ):
        point = sweep_points([Axis(k, (v,)) for k, v in sets.items()])[0]
        reuse = program_reuse(point)
        assert reuse is not None and not reuse.params and not reuse.slacks
        spec = kpidesign.load(SEED, overlay=Overlay(sets, {}, "test"))
        assert_same_program(_with_totals(lp, spec) if reuse.totals else lp,
                            compile_model(build(spec)))  # fmt: skip
    assert program_reuse(sweep_points([Axis("variables.cash.lb", (1.0,))])[0]) is None
    assert program_reuse(sweep_points([Axis("params.base_demand", (1.1,), "scale")])[0]) == (
        Reuse(params=frozenset({"base_demand"}))
    )


def test_params_and_margins_are_evaluated_anew_and_solve_as_scenarios(tmp_path: Path) -> None:
    r = kpidesign.sweep(SEED, ["constraints.capacity.slack=0,0.2"], ["params.base_demand=0.9,1.1"])
    assert set(r.points.built) == {"re-evaluated"}
    for row in r.points.to_dict("records"):
        f = tmp_path / f"p{row['point']}.yaml"
        f.write_text(
            f"kpidesign: 1\nmodel: {MODEL}\nset:\n  constraints.capacity.slack: "
            f"{row['constraints.capacity.slack']!r}\nscale:\n  params.base_demand: "
            f"{row['params.base_demand*']!r}\n"
        )
        assert row["objective"] == pytest.approx(kpidesign.solve(f).objective, rel=1e-9)
    built = kpidesign.sweep(SEED, ["variables.cash.lb=0,1000"])
    why = "variables.cash.lb: not a param, margin or total"
    assert list(built.points.built_why) == [why, why]
    assert built.notes == [f"2 point(s) built from their spec: {why}"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [kpidesign_executable(), "sweep", *args], capture_output=True, text=True, check=False
    )


def test_the_same_json_on_dask_and_on_one_worker() -> None:
    args = [str(SEED), "--set", "resources.budget.total=500000:700000:10", "--scale",
            "params.base_demand=0.9,1.1", "--format", "json", "-q"]  # fmt: skip
    one = _cli(*args, "--workers", "1")
    dask = _cli(*args, "--engine", "dask", "--workers", "2")
    pool = _cli(*args, "--workers", "2")
    for run in (one, dask, pool):
        assert run.returncode == 0, run.stderr
        assert run.stderr == ""  # Dask's chatter stays off
    assert dask.stdout == one.stdout and pool.stdout == one.stdout
    out = json.loads(one.stdout)
    assert len(out["points"]) == 20 and out["analysis"] == "solve"
    assert out["points"][0]["values"] == {
        "resources.budget.total": 500000.0, "params.base_demand*": 0.9,
    }  # fmt: skip


def test_infeasible_points_are_rows_with_their_conflict(tmp_path: Path) -> None:
    # four times the key-account volume cannot be made: that point is infeasible, with the
    # conflicting rows by name (HiGHS's IIS: key_accounts[...] with the newest HiGHS, a
    # cash row with 1.13), the same as solve of a scenario that scales it; the other point
    # is solved
    r = kpidesign.sweep(SEED, scales=["params.contract_volume=1,4"])
    assert list(r.points.status) == ["optimal", "infeasible"]
    assert r.points.objective.iloc[0] > 0 and np.isnan(r.points.objective.iloc[1])
    d = r.points.diagnosis.iloc[1]
    f = tmp_path / "four.yaml"
    f.write_text(f"kpidesign: 1\nmodel: {MODEL}\nscale:\n  params.contract_volume: 4\n")
    alone = kpidesign.solve(f)
    assert str(alone.status) == "infeasible" and d["conflict"]
    assert d["conflict"] == list(alone.diagnosis.conflict)
    spec = kpidesign.load(SEED)
    named = set(spec.constraints) | set(spec.variables) | {"resources"}  # rows and bounds
    assert all(name.split("[")[0].split(".")[0] in named for name in d["conflict"])
    out = r.to_dict()
    assert out["points"][1]["objective"] is None and out["points"][1]["status"] == "infeasible"
    table = CliRunner().invoke(
        main, ["sweep", str(SEED), "--scale", "params.contract_volume=1,4", "-q"]
    )
    assert table.exit_code == 0 and "infeasible" in table.output


def test_bad_points_are_errors_naming_them_before_any_solving(tmp_path: Path) -> None:
    out = tmp_path / "out"
    bad = _cli(str(SEED), "--set", "resources.budget.total=100,500000", "--out", str(out))
    assert bad.returncode == 2
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: sweep point 0 (")
    assert "resources.budget.total=100.0" in lines[0] and "above total*(1-reserve)" in lines[0]
    assert not out.exists()  # nothing solved, nothing written
    typo = _cli(str(SEED), "--set", "resources.budget.totl=1")
    assert typo.returncode == 2 and "closest existing path: resources.budget.total" in typo.stderr
    for args, message in [
        (["--set", "resources.budget.total"], "expected PATH=VALUES"),
        (["--set", "resources.budget.total=1:2"], "a range is a:b:n"),
        (["--set", "a=1,2", "--set", "b=1,2,3", "--zip"], "as many values"),
        (["--set", "a=1:2:1000", "--set", "b=1:2:1000"], "more than a sweep may have"),
        (["--analysis", "evaluate", "--set", BUDGET], "needs a scheme"),
        ([], "nothing to sweep"),
    ]:
        run = _cli(str(SEED), *args)
        assert run.returncode == 2 and message in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr


def test_zip_pairs_and_variants_are_an_axis() -> None:
    assert [p.labels() for p in sweep_points(
        [parse_axis("a=1,2"), parse_axis("b=3,4", "scale")], paired=True
    )] == [{"a": 1.0, "b*": 3.0}, {"a": 2.0, "b*": 4.0}]  # fmt: skip
    strategy = TESTS.parent / "scenarios" / "strategy.yaml"
    r = CliRunner().invoke(
        main, ["sweep", str(strategy), "--variants", "all", "--format", "json", "-q"]
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    names = [p["variant"] for p in out["points"]]
    assert names and None not in names and len(set(names)) == len(names)
    for p in out["points"]:
        assert p["objective"] == pytest.approx(kpidesign.solve(strategy, p["variant"]).objective)


@pytest.mark.parametrize(
    "engine",
    [["--workers", "1"], ["--workers", "2"], ["--engine", "dask", "--workers", "2"]],
    ids=["serial", "pool", "dask"],
)
def test_interrupt_and_resume_give_the_uninterrupted_output(
    tmp_path: Path, engine: list[str]
) -> None:
    # 160 points, 5 chunks of 32 (a solve's chunk): interrupted after the first
    sweep = [str(SEED), "--scale", "params.base_demand=0.8:1.2:160", "--format", "json", "-q"]
    whole = _cli(*sweep, "--workers", "1")
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "kept"
    proc = subprocess.Popen(
        [kpidesign_executable(), "sweep", *sweep, *engine, "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list((out / ".sweep").glob("chunk-*.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=120)
    kept = len(list((out / ".sweep").glob("chunk-*.json")))
    assert proc.returncode == 130, err
    assert 1 <= kept < 5, "interrupted after the first chunk, before the last"
    # one line, no worker's traceback
    assert err.strip().splitlines() == [
        f"error: interrupted: {CHUNK['solve'] * kept} of 160 points finished, kept in {out}; "
        f"continue with --resume {out}"
    ]
    resumed = _cli(*sweep, *engine, "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert (out / "sweep.json").read_text() == whole.stdout
    # a resume of another sweep does not reuse these chunks
    other = _cli(str(SEED), "--scale", "params.base_demand=0.8:1.2:5", "--resume", str(out))
    assert other.returncode == 2 and "another one" in other.stderr


def test_a_point_the_build_refuses_is_a_row_not_the_end(tmp_path: Path) -> None:
    # x <= 10 / d: d = 0 divides by zero and d = 1e-320 overflows to an infinite bound;
    # both are found only when the point's rows are evaluated, so they are rows, and the
    # point in between solves (x = 5)
    f = tmp_path / "divide.yaml"
    f.write_text(
        "kpidesign: 1\nname: divide\nparams:\n  d: 1\nvariables:\n  x: {lb: 0}\n"
        "departments:\n  ops:\n    kpis:\n      out: {max: x}\n    incentive: {out: 1}\n"
        "constraints:\n  cap: {expr: 'x <= 10 / d'}\nobjective:\n  max: x\n"
    )
    r = kpidesign.sweep(f, ["params.d=0,2,1e-320"])
    assert list(r.points.status) == ["invalid", "optimal", "invalid"]
    assert r.points.objective.iloc[1] == pytest.approx(5.0)
    assert list(r.points.built) == ["re-evaluated"] * 3
    for i in (0, 2):
        assert "cap" in r.points.diagnosis.iloc[i]["message"]


def test_a_running_cluster_through_its_scheduler() -> None:
    # --scheduler ADDRESS submits to a cluster kpidesign did not start (here one this test
    # starts, as a cluster's admin would): the same JSON as one worker
    from distributed import LocalCluster

    args = [str(SEED), "--scale", "params.base_demand=0.9,1.0,1.1", "--format", "json", "-q"]
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = _cli(*args, "--engine", "dask", "--scheduler", cluster.scheduler_address)
    one = _cli(*args, "--workers", "1")
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == one.stdout and remote.stderr == ""


def test_the_point_bound_counts_zipped_axes_and_variants() -> None:
    # --zip pairs values, and the variants multiply them: 60,000 pairs over two variants
    # are 120,000 points, over the bound; zipping no axes over variants is one point each
    with pytest.raises(ValueError, match="120,000 points, more than a sweep may have"):
        sweep_points([parse_axis("a=0:1:60000")], paired=True, variants=["x", "y"])
    assert [p.variant for p in sweep_points([], paired=True, variants=["x", "y"])] == ["x", "y"]
