"""Programs with other param values without a build: every array equal to a full build and
compile of the changed spec, or a rebuild with its reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TESTS, assert_same_program

import kpidesign
from kpidesign.model.assemble import assemble
from kpidesign.model.build import build
from kpidesign.model.compile import compile_model
from kpidesign.model.update import ProgramUpdater, RebuildRequired
from kpidesign.spec.scenario import Overlay

SEED = TESTS.parent / "scenarios" / "baseline.yaml"
MODELS = [
    SEED,
    TESTS / "models" / "compare" / "stock_periods.yaml",
    TESTS / "models" / "textbook" / "margins.yaml",
    TESTS / "models" / "compare" / "safety_stock.yaml",
]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_param_scaled_is_a_full_build(path: Path) -> None:
    # constraint rows, departments' uses of resources, KPIs and the objective: all of them
    # evaluated anew equal what build and compile of the changed spec give
    base = kpidesign.load(path)
    updater = ProgramUpdater(assemble(base))
    updated = 0
    for name in base.params:
        spec = kpidesign.load(path, overlay=Overlay({}, {f"params.{name}": 1.37}, "test"))
        got = updater.with_params(spec, {name})  # no param decides these models' rows
        assert_same_program(got, compile_model(build(spec)))
        updated += 1
    assert updated == len(base.params) > 0


def test_a_margin_and_several_params_at_once() -> None:
    base = kpidesign.load(SEED)
    updater = ProgramUpdater(assemble(base))
    spec = kpidesign.load(
        SEED,
        overlay=Overlay(
            {"constraints.capacity.slack": 0.2, "params.ramp": 0.3},
            {"params.base_demand": 0.9, "params.price": 1.1, "params.truck_cost": 1.2},
            "test",
        ),
    )
    got = updater.with_params(spec, {"ramp", "base_demand", "price", "truck_cost"}, {"capacity"})
    assert_same_program(got, compile_model(build(spec)))


def test_a_param_that_decides_which_rows_exist_needs_a_build(tmp_path: Path) -> None:
    f = tmp_path / "rows.yaml"
    f.write_text(
        "kpidesign: 1\nname: rows\nsets:\n  plant: [a, b]\nparams:\n  cap: {a: 1, b: 0}\n"
        "variables:\n  x: {over: [plant], lb: 0}\n"
        "departments:\n  ops:\n    kpis:\n      out: {max: 'sum(x[p] for p in plant)'}\n"
        "    incentive: {out: 1}\n"
        "constraints:\n  limit:\n    for: p in plant if cap[p] > 0\n    expr: x[p] <= cap[p]\n"
        "  rest:\n    for: p in plant\n    expr: x[p] <= 5\n"
        "objective:\n  max: sum(x[p] for p in plant)\n"
    )
    base = kpidesign.load(f)
    updater = ProgramUpdater(assemble(base))
    spec = kpidesign.load(f, overlay=Overlay({"params.cap.b": 2}, {}, "test"))
    with pytest.raises(RebuildRequired, match=r"params.cap feeds which rows limit has"):
        updater.with_params(spec, {"cap"})
    # a swept point with it is built from its spec, saying why, and solves as a full build
    r = kpidesign.sweep(f, ["params.cap.b=0,2"])
    assert list(r.points.built) == ["built", "built"]
    assert r.points.built_why.iloc[0] == "params.cap feeds which rows limit has (its for:)"
    assert list(r.points.objective) == pytest.approx([6.0, 3.0])  # 1 + 5; 1 + 2
