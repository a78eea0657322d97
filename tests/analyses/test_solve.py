"""The system optimum: textbook LPs through the CLI, duals against theory, solver outcomes."""

from __future__ import annotations

import json
from pathlib import Path

import highspy
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TESTS, packing_lp

import kpidesign
from kpidesign.api import prepare
from kpidesign.cli import main
from kpidesign.errors import SolveError
from kpidesign.options import Options
from kpidesign.solver import HighsSession, Status
from kpidesign.solver.session import _STATUS
from kpidesign.types import Diagnosis

MODELS = TESTS / "models"
TEXTBOOK = MODELS / "textbook"


def run_json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["solve", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_wyndor_glass_optimum_and_shadow_prices() -> None:
    # max 3x1 + 5x2; x1 <= 4, 2x2 <= 12, 3x1 + 2x2 <= 18 -> x = (2, 6), z = 36.
    # Duals solve y2*2 + y3*2 = 5, y3*3 = 3 (x1, x2 basic, plant1 slack): y = (0, 1.5, 1).
    out = run_json(str(TEXTBOOK / "wyndor.yaml"))
    assert out["status"] == "optimal"
    assert out["objective"] == pytest.approx(36.0)
    assert out["state"] == {"x1": pytest.approx(2.0), "x2": pytest.approx(6.0)}
    duals = out["duals"]["constraints"]
    assert duals == {
        "plant1": pytest.approx(0.0),
        "plant2": pytest.approx(1.5),
        "plant3": pytest.approx(1.0),
    }


def test_giapetto() -> None:
    # max 3s + 2t; 2s + t <= 100, s + t <= 80, s <= 40 -> (20, 60), z = 180; duals (1, 1, 0).
    out = run_json(str(TEXTBOOK / "giapetto.yaml"))
    assert out["objective"] == pytest.approx(180.0)
    assert out["duals"]["constraints"]["finishing_hours"] == pytest.approx(1.0)
    assert out["duals"]["constraints"]["carpentry_hours"] == pytest.approx(1.0)
    assert out["duals"]["constraints"]["soldier_demand"] == pytest.approx(0.0)


def test_dorian_auto_minimization_duals_are_positive_for_covering_rows() -> None:
    # min 50c + 100f; 7c + 2f >= 28, 2c + 12f >= 24 -> (3.6, 1.4), z = 320.
    # Duals: 7y1 + 2y2 = 50, 2y1 + 12y2 = 100 -> y = (5, 7.5); 28*5 + 24*7.5 = 320.
    out = run_json(str(TEXTBOOK / "dorian.yaml"))
    assert out["objective"] == pytest.approx(320.0)
    assert out["state"]["comedy"] == pytest.approx(3.6)
    assert out["duals"]["constraints"] == {"women": pytest.approx(5.0), "men": pytest.approx(7.5)}


@pytest.mark.parametrize("name", ["wyndor", "dorian", "giapetto"])
def test_duals_match_finite_differences(name: str) -> None:
    """A dual is the change of the objective per unit increase of the right-hand side."""
    spec, lp = prepare(TEXTBOOK / f"{name}.yaml")
    session = HighsSession(lp)
    base = session.solve()
    for i in range(lp.num_rows):
        lo, hi = lp.row_lower[i], lp.row_upper[i]
        step = 1e-3
        session.set_row_bounds(
            [i], lo + step if np.isfinite(lo) else lo, hi + step if np.isfinite(hi) else hi
        )
        moved = session.solve()
        session.set_row_bounds([i], lo, hi)
        assert (moved.objective - base.objective) / step == pytest.approx(
            base.row_dual[i], abs=1e-6
        )


def test_resource_and_allocation_duals_are_subgradients_of_the_value_function() -> None:
    """tiny.yaml is degenerate, so a dual need not equal a one-sided derivative; theory says
    the optimal value of a max problem is concave in a right-hand side b, and the dual lies
    between its right and left derivatives."""
    spec, lp = prepare(MODELS / "tiny.yaml")
    session = HighsSession(lp)
    base = session.solve()
    step = 1e-3
    for row in [*lp.resource_rows.values(), *(a.use_row for a in lp.allocations)]:
        ub = lp.row_upper[row]
        session.set_row_bounds([row], lp.row_lower[row], ub + step)
        up = session.solve().objective
        session.set_row_bounds([row], lp.row_lower[row], ub - step)
        down = session.solve().objective
        session.set_row_bounds([row], lp.row_lower[row], ub)
        right, left = (up - base.objective) / step, (base.objective - down) / step
        assert right - 1e-6 <= base.row_dual[row] <= left + 1e-6


def test_json_follows_the_contract_and_is_deterministic() -> None:
    runner = CliRunner()
    args = ["solve", str(MODELS / "tiny.yaml"), "--format", "json"]
    first, second = runner.invoke(main, args), runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    out = json.loads(first.stdout)
    for key in ("status", "objective", "allocation", "kpis", "state", "duals"):
        assert key in out
    assert set(out["allocation"]) == {"sales", "production"}
    assert set(out["allocation"]["sales"]) == {"budget"}
    assert set(out["kpis"]["production"]) == {"unit_cost", "output"}
    assert set(out["state"]) == {"inventory"}
    assert set(out["duals"]) == {"constraints", "allocations", "resources"}
    # an indexed constraint maps its comma-joined index to a number
    assert set(out["duals"]["constraints"]["balance"]) == {
        f"{p},{t}" for p in ("standard", "premium") for t in (1, 2, 3)
    }
    assert isinstance(out["duals"]["constraints"]["capacity"]["2"], float)
    assert set(out["duals"]["resources"]) == {"budget"}


def test_solve_api_returns_dataframes() -> None:
    result = kpidesign.solve(MODELS / "tiny.yaml")
    assert result.objective == pytest.approx(1052.0)
    assert result.status == "optimal"
    assert list(result.allocations.columns) == [
        "department",
        "resource",
        "baseline",
        "allocation",
        "shadow_price",
    ]
    total = result.allocations.allocation.sum()
    assert total <= 100 * 0.95 + 1e-6  # total * (1 - reserve)
    # max_shift 0.5: each allocation within +-50% of its baseline
    for a in result.allocations.itertuples():
        assert a.baseline * 0.5 - 1e-6 <= a.allocation <= a.baseline * 1.5 + 1e-6


def test_csv_and_table_outputs_are_written_under_out(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        main, ["solve", str(MODELS / "tiny.yaml"), "--format", "csv", "--out", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "solve_allocations.csv" in names and "solve_constraints.csv" in names
    assert not [n for n in names if n.endswith(".tmp")]
    res = runner.invoke(main, ["solve", str(MODELS / "tiny.yaml"), "--out", str(tmp_path)])
    assert res.exit_code == 0
    assert "system optimum" in (tmp_path / "solve.txt").read_text()


def test_csv_without_out_is_a_clear_error() -> None:
    res = CliRunner().invoke(main, ["solve", str(MODELS / "tiny.yaml"), "--format", "csv"])
    assert res.exit_code == 2
    assert "--out" in res.stderr


def test_infeasible_model_names_its_conflicting_constraints(tmp_path: Path) -> None:
    keep = tmp_path / "solve.json"
    keep.write_text("earlier result\n")
    res = CliRunner().invoke(
        main, ["solve", str(MODELS / "infeasible.yaml"), "-f", "json", "--out", str(tmp_path)]
    )
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "infeasible" in res.stderr
    assert "capacity[2]" in res.stderr and "commitment" in res.stderr
    assert "unrelated" not in res.stderr
    assert keep.read_text() == "earlier result\n"  # nothing already written is lost


def test_unbounded_model_says_so_and_names_the_ray() -> None:
    # max x + 2y with x <= 4 and x, y >= 0: every ray of the feasible region has x
    # constant (x is bounded on both sides), so the ray is y alone
    message = "the system problem of unbounded is unbounded: the objective improves without limit"
    res = CliRunner().invoke(main, ["solve", str(MODELS / "unbounded.yaml")])
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr == f"error: {message} along y\n"
    result = kpidesign.solve(MODELS / "unbounded.yaml")
    assert result.status is Status.UNBOUNDED
    assert result.diagnosis == Diagnosis(Status.UNBOUNDED, f"{message} along y", ray=("y",))


def test_every_highs_model_status_maps_to_one_status() -> None:
    members = [
        getattr(highspy.HighsModelStatus, n)
        for n in dir(highspy.HighsModelStatus)
        if n.startswith("k")
    ]
    for status in members:
        assert isinstance(_STATUS[status], Status)


def _random_packing_lp() -> dict:
    """A packing LP dual simplex needs hundreds of iterations for (5% of 300 x 400)."""
    return packing_lp(0, 300, 400, 0.05)


@pytest.mark.parametrize("presolve", [True, False])
def test_time_limit_is_its_own_outcome(presolve: bool) -> None:
    """HiGHS compares its clock with ``time_limit`` before presolve
    (``Highs::runPresolve``) and at the start of the simplex loops (``HEkk::bailout``), so a
    limit of 1e-9 s has passed at the first check, with presolve or without: it stops at
    once, however fast the machine.  The LP needs hundreds of iterations, so it could not
    be finished before a check either."""
    unlimited = HighsSession.from_arrays(**_random_packing_lp())
    assert unlimited.solve(warm=False).optimal
    assert unlimited.stats.iterations > 100  # the limit below stops real work

    session = HighsSession.from_arrays(**_random_packing_lp(), options=Options(time_limit=1e-9))
    sol = session.solve(warm=False, presolve=presolve)
    assert sol.status is Status.TIME_LIMIT
    assert not sol.optimal
    assert np.isnan(sol.objective) and np.isnan(sol.x).all()
    message = "x: the time limit was reached before an optimal solution was found"
    assert session.diagnose(sol, "x") == Diagnosis(Status.TIME_LIMIT, message)
    # a time limit is never taken for numerical trouble, even where no conflict is sought
    assert session.diagnose(sol, "x", conflict=False) == Diagnosis(Status.TIME_LIMIT, message)
    error = session.explain(sol, "x")
    assert isinstance(error, SolveError)
    assert error.diagnosis.status is Status.TIME_LIMIT
    assert str(error) == message


def test_resolve_never_goes_back_through_pyomo(monkeypatch: pytest.MonkeyPatch) -> None:
    """After compile, re-solves only touch the live HiGHS instance."""
    spec, lp = prepare(MODELS / "tiny.yaml")
    session = HighsSession(lp)
    first = session.solve()
    import pyomo.core.base.constraint as pyomo_constraint
    import pyomo.repn.standard_repn as repn

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("Pyomo was used during a re-solve")

    monkeypatch.setattr(repn, "generate_standard_repn", forbidden)
    monkeypatch.setattr(pyomo_constraint.ConstraintData, "body", property(forbidden))
    sales = lp.owned_by("sales")
    session.fix_cols(sales, first.x[sales])
    session.set_objective(lp.kpis["sales.volume"].numerator, "max")
    again = session.solve()
    assert again.optimal
    assert again.objective == pytest.approx(lp.kpis["sales.volume"].value(first.x))


@pytest.mark.parametrize("solver", ["simplex", "ipm"])
def test_every_algorithm_gives_the_textbook_optimum_and_duals(solver: str) -> None:
    out = run_json(str(TEXTBOOK / "wyndor.yaml"), "--solver", solver)
    assert out["objective"] == pytest.approx(36.0)
    assert out["duals"]["constraints"]["plant3"] == pytest.approx(1.0, abs=1e-6)


def test_an_unknown_solver_is_refused() -> None:
    res = CliRunner().invoke(main, ["solve", str(TEXTBOOK / "wyndor.yaml"), "--solver", "magic"])
    assert res.exit_code == 2
    assert "magic" in res.output


def test_constructing_highs_writes_nothing_to_the_file_descriptors(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """highspy 1.16 prints a banner on fd 1 when ``Highs()`` is constructed; capfd sees
    descriptors, not just ``sys.stdout``.  What we print ourselves around it survives."""
    from kpidesign.solver import quiet_highs

    print("before", flush=True)
    quiet_highs()
    print("after", flush=True)
    out, err = capfd.readouterr()
    assert out == "before\nafter\n"
    assert err == ""


@pytest.mark.parametrize(
    ("name", "direction"),
    [("dorian.yaml", "minimized, so negative is good"), ("wyndor.yaml", "maximized, so positive")],
)
def test_the_table_says_what_a_shadow_price_is_and_which_sign_is_good(
    name: str, direction: str
) -> None:
    # Dorian minimizes cost: one more unit of a covering requirement costs +5 / +7.5, and the
    # table prints the same signed number as the JSON, saying which direction is good.
    result = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["solve", str(TEXTBOOK / name)])
    assert result.exit_code == 0, result.output
    assert "change of the objective per unit increase of the right-hand side" in result.stdout
    assert direction in result.stdout
    assert "value of +1 unit" not in result.stdout
