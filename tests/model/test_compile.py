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
from kpidesign.spec import load

MODELS = TESTS / "models"


@pytest.mark.parametrize("path", [MODELS / "tiny.yaml", MODELS / "textbook" / "giapetto.yaml"])
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
    # the objective
    c = repn.c.toarray().ravel() if hasattr(repn.c, "toarray") else np.asarray(repn.c).ravel()
    sign = -1.0 if lp.sense == "max" else 1.0  # Pyomo's standard form minimizes
    ours_c = {lp.col_name(j): v for j, v in enumerate(lp.objective.dense(lp.num_cols))}
    for j, var in enumerate(repn.columns):
        assert ours_c[var.name] == pytest.approx(sign * c[j] if c[j] else 0.0, abs=1e-12) or ours_c[
            var.name
        ] == pytest.approx(c[j])


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
