"""The compiled LinearProgram against Pyomo's own standard-form compiler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest
from conftest import TESTS
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from kpidesign.model import ALLOCATION, SHARED, compile_model
from kpidesign.model.build import build
from kpidesign.solver import HighsSession
from kpidesign.spec import load

MODELS = TESTS / "models"


@pytest.mark.parametrize(
    "path",
    [
        MODELS / "tiny.yaml",
        MODELS / "textbook" / "giapetto.yaml",
        MODELS / "textbook" / "dorian.yaml",  # a minimized objective
    ],
)
def test_matrix_matches_pyomo_standard_form(path: Path) -> None:
    built = build(load(path))
    lp = compile_model(built)
    ours: dict[tuple[str, str], float] = {}
    A = lp.A.tocoo()
    for i, j, v in zip(A.row, A.col, A.data, strict=True):
        ours[(lp.row_name(int(i)), lp.col_name(int(j)))] = float(v)
    repn = LinearStandardFormCompiler().write(built.model, mixed_form=True)
    theirs: dict[tuple[str, str], float] = {}
    P = repn.A.tocoo()
    for i, j, v in zip(P.row, P.col, P.data, strict=True):
        con, _sense = repn.rows[i]
        theirs[(con.name.replace("'", ""), repn.columns[j].name)] = float(v)
    assert ours.keys() == theirs.keys()
    for key, value in ours.items():
        assert value == pytest.approx(theirs[key])
    # right-hand sides: each of our finite bounds appears in Pyomo's rhs for that row
    rhs = {}
    for (con, sense), b in zip(repn.rows, repn.rhs, strict=True):
        rhs.setdefault(con.name, set()).add((int(sense), float(b)))
    for i in range(lp.num_rows):
        bounds = {float(x) for x in (lp.row_lower[i], lp.row_upper[i]) if np.isfinite(x)}
        assert bounds == {b for _, b in rhs[lp.row_name(i)]}
    # the objective: Pyomo's standard form minimizes (a maximized c is written as -c);
    # ours keeps the objective as written, with its sense
    assert lp.sense == built.spec.objective.sense
    c = repn.c.toarray().ravel() if hasattr(repn.c, "toarray") else np.asarray(repn.c).ravel()
    sign = -1.0 if lp.sense == "max" else 1.0
    ours_c = {lp.col_name(j): v for j, v in enumerate(lp.objective.dense(lp.num_cols))}
    assert set(ours_c) == {var.name for var in repn.columns}
    assert any(c), "an objective of zeros cannot tell the signs apart"
    for j, var in enumerate(repn.columns):
        assert ours_c[var.name] == pytest.approx(sign * c[j], abs=1e-12), var.name


@pytest.mark.parametrize(
    ("name", "sense", "cost", "optimum"),
    [
        # Wyndor Glass: max 3 x1 + 5 x2 -> (2, 6), 3*2 + 5*6 = 36
        ("wyndor.yaml", "max", {"x1": 3.0, "x2": 5.0}, 36.0),
        # Dorian Auto: min 50 c + 100 f -> (3.6, 1.4), 50*3.6 + 100*1.4 = 320
        ("dorian.yaml", "min", {"comedy": 50.0, "football": 100.0}, 320.0),
    ],
)
def test_objective_keeps_its_sense_and_the_signs_as_written(
    name: str, sense: str, cost: dict[str, float], optimum: float
) -> None:
    """The compiled objective is the model's, not a minimization of its negative: the
    sense is the file's, the coefficients carry the file's signs, and HiGHS, given both,
    reports the textbook optimum with its sign (a flipped cost under "max" would give 0)."""
    lp = compile_model(build(load(MODELS / "textbook" / name)))
    assert lp.sense == sense
    assert {lp.col_name(j): v for j, v in enumerate(lp.objective.dense(lp.num_cols))} == cost
    assert lp.objective.constant == 0.0
    sol = HighsSession(lp).solve()
    assert sol.optimal
    assert sol.objective == pytest.approx(optimum)


def test_columns_carry_ownership_and_names() -> None:
    lp = compile_model(build(load(MODELS / "tiny.yaml")))
    owners = {lp.col_name(j): int(lp.col_owner[j]) for j in range(lp.num_cols)}
    assert owners["inventory[standard,1]"] == SHARED
    assert owners["sold[premium,3]"] == lp.departments.index("sales")
    assert owners["made[standard,2]"] == lp.departments.index("production")
    assert owners["resources.budget.allocation[sales]"] == ALLOCATION
    assert lp.row_name(lp.resource_rows["budget"]) == "resources.budget.total"
    assert {lp.row_name(a.use_row) for a in lp.allocations} == {
        "resources.budget.use[sales]",
        "resources.budget.use[production]",
    }


def test_ratio_kpi_compiles_to_numerator_and_denominator() -> None:
    lp = compile_model(build(load(MODELS / "tiny.yaml")))
    kpi = lp.kpis["production.unit_cost"]
    assert kpi.is_ratio and kpi.sense == "min"
    x = np.zeros(lp.num_cols)
    made = lp.columns_of("made")
    x[made] = 1.0  # six units: (30 + 4*6) / 6 = 9
    assert kpi.value(x) == pytest.approx(9.0)
    assert kpi.numerator.constant == pytest.approx(30.0)


def test_user_added_pyomo_constraint_is_compiled_too() -> None:
    built = build(load(MODELS / "textbook" / "wyndor.yaml"))
    built.model.extra = pyo.Constraint(expr=built.model.x1 + built.model.x2 <= 7)
    lp = compile_model(built)
    assert "extra" in [lp.row_name(i) for i in range(lp.num_rows)]


def test_a_constraint_edited_after_build_is_read_from_pyomo_not_from_builds_record() -> None:
    built = build(load(MODELS / "textbook" / "wyndor.yaml"))
    m = built.model
    m.plant3.set_value(3 * m.x1 + 4 * m.x2 <= 20)  # was 3 x1 + 2 x2 <= 18
    lp = compile_model(built)
    row = [lp.row_name(i) for i in range(lp.num_rows)].index("plant3")
    r = lp.A.tocsr()[[row]]
    coefs = {lp.col_name(int(j)): v for j, v in zip(r.indices, r.data, strict=True)}
    assert coefs == {"x1": 3.0, "x2": 4.0}
    assert lp.row_upper[row] == 20.0
