"""Ratio KPIs whose denominator can reach 0 on the feasible region (MODEL_FORMAT).

The models in ``models/ratio/`` are worked out by hand in their descriptions (and were
cross-checked with an independent scipy Charnes–Cooper script): a ratio must be positive
where it is evaluated and at each department's own optimum; where a department's optimum
would drive its denominator to 0 the command fails naming the department and the KPI; a
ratio undefined at a reported plan is null, with a note.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TESTS

import kpidesign
from kpidesign.analyses.common import system_optimum
from kpidesign.analyses.local import respond, scorecard
from kpidesign.api import prepare
from kpidesign.cli import main
from kpidesign.errors import SolveError
from kpidesign.model import DENOMINATOR_FLOOR
from kpidesign.solver import HighsSession

RATIO = TESTS / "models" / "ratio"
TIE = 1e-4  # figures at the 1e-6 denominator floor carry that much tie-tolerance noise


def _json(*args: str) -> dict:
    res = CliRunner().invoke(main, [*args, "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_clinic_surgery_dilutes_its_fixed_cost_and_the_hospital_pays() -> None:
    out = _json("compare", str(RATIO / "clinic.yaml"))
    plans = {k: v["objective"] for k, v in out["plans"].items()}
    assert plans == {
        "status_quo": pytest.approx(350),
        "aligned": pytest.approx(750),
        "system": pytest.approx(750),
    }
    assert out["misalignment_cost"] == pytest.approx(8 / 15)
    surgery = out["departments"]["surgery"]
    assert surgery["kpis"]["cost_per_op"]["status_quo"] == pytest.approx(130 / 7)
    assert surgery["kpis"]["cost_per_op"]["aligned"] == pytest.approx(30)
    assert surgery["unilateral_loss"] == pytest.approx(400)
    assert out["departments"]["ward"]["unilateral_loss"] == pytest.approx(0, abs=1e-6)
    assert out["decentralized"]["rounds"] == 2
    assert out["decentralized"]["converged"] is True


def test_clinic_idle_reports_the_undefined_ratio_as_null_with_a_note() -> None:
    # B = C close the theatre (ops = 0): cost per operation is undefined there
    out = _json("compare", str(RATIO / "clinic_idle.yaml"))
    cost = out["departments"]["surgery"]["kpis"]["cost_per_op"]
    assert cost["aligned"] is None
    assert cost["system"] is None
    assert cost["status_quo"] == pytest.approx(25)
    assert out["plans"]["status_quo"]["objective"] == pytest.approx(500)
    assert out["plans"]["aligned"]["objective"] == pytest.approx(900)
    assert out["misalignment_cost"] == pytest.approx(4 / 9)
    assert out["departments"]["surgery"]["unilateral_loss"] == pytest.approx(400)
    assert any(
        "surgery.cost_per_op is undefined at aligned and system" in note for note in out["notes"]
    )
    solved = _json("solve", str(RATIO / "clinic_idle.yaml"))
    assert solved["kpis"]["surgery"]["cost_per_op"] is None
    assert any("undefined at the system optimum" in note for note in solved["notes"])


@pytest.mark.parametrize("name", ["clinic.yaml", "clinic_idle.yaml", "zero_over_zero.yaml"])
@pytest.mark.parametrize("command", ["solve", "compare", "design", "evaluate"])
def test_every_command_runs_on_a_ratio_that_may_reach_zero(command: str, name: str) -> None:
    args = [command, str(RATIO / name)]
    if command == "evaluate":
        args += ["--incentive", "surgery.cost_per_op=1"]
    out = _json(*args)
    assert out  # one JSON document, exit 0


def test_design_leaves_a_ratio_undefined_at_the_target_off_the_menu() -> None:
    r = kpidesign.design(RATIO / "clinic_idle.yaml")
    out = r.to_dict()
    assert out["departments"]["ward"]["exact"] is True
    assert any("surgery.cost_per_op undefined at the target plan" in n for n in out["notes"])
    assert out["departments"]["surgery"]["exact"] is False


def test_a_department_that_would_drive_its_denominator_to_zero_is_named() -> None:
    for command in ("compare", "design"):
        res = CliRunner().invoke(main, [command, str(RATIO / "zero_drive.yaml")])
        assert res.exit_code == 2, res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1
        line = lines[0]
        assert line.startswith("error: production would drive the denominator of KPI ")
        assert "production.revenue_per_unit to 0" in line
        assert "moving made from 6 to 1e-06" in line
        assert "Traceback" not in res.output
    # validate and solve have no local problems: they succeed
    assert CliRunner().invoke(main, ["solve", str(RATIO / "zero_drive.yaml")]).exit_code == 0


def test_zero_over_zero_optimistic_operates_pessimistic_stops_at_the_floor() -> None:
    # cost per op 3*ops/ops = 3 wherever ops > 0: surgery is indifferent.  The best response
    # for the hospital keeps ops = 15; the worst drives ops to the floor (objective
    # 1050 - 30*15 + 30*1e-6 = 600.00003), and that is a note, not an error
    spec, lp = prepare(RATIO / "zero_over_zero.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    card = scorecard(lp, "surgery", {"surgery.cost_per_op": 1.0}, x_b)
    resp = respond(session, card, x_b)
    assert resp.score == pytest.approx(-3.0)
    assert lp.objective.at(resp.optimistic) == pytest.approx(1050)
    assert resp.pessimistic is not None
    assert lp.objective.at(resp.pessimistic) == pytest.approx(600.00003, abs=TIE)
    ops = lp.columns_of("ops")
    assert resp.pessimistic[ops].sum() == pytest.approx(DENOMINATOR_FLOOR, abs=1e-7)
    assert any("at the floor" in note for note in resp.notes)
    out = _json("compare", str(RATIO / "zero_over_zero.yaml"))
    assert out["misalignment_cost"] == pytest.approx(0, abs=1e-9)
    assert out["status_quo_pessimistic"]["objective"] == pytest.approx(600.00003, abs=TIE)


def test_the_session_is_left_as_it_was_after_a_ratio_response() -> None:
    # the floor row and the tie-break row are deleted again, whatever the outcome
    spec, lp = prepare(RATIO / "clinic.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    card = scorecard(lp, "surgery", {"surgery.cost_per_op": 1.0}, x_b)
    respond(session, card, x_b)
    assert session.highs.getNumRow() == lp.num_rows
    spec, lp = prepare(RATIO / "zero_drive.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    card = scorecard(lp, "production", {"production.revenue_per_unit": 1.0}, x_b)
    with pytest.raises(SolveError):
        respond(session, card, x_b)
    assert session.highs.getNumRow() == lp.num_rows


def test_a_local_problem_that_starts_where_the_ratio_is_undefined() -> None:
    # clinic_idle's B has ops = 0: surgery's Dinkelbach iterations start from the plan
    # that maximizes its denominator instead, and reach ops = 20, cost per op 25
    spec, lp = prepare(RATIO / "clinic_idle.yaml")
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    assert np.isnan(lp.kpis["surgery.cost_per_op"].value(x_b))
    card = scorecard(lp, "surgery", {"surgery.cost_per_op": 1.0}, x_b)
    resp = respond(session, card, x_b)
    assert resp.score == pytest.approx(-25.0)
    assert resp.optimistic[lp.columns_of("ops")].sum() == pytest.approx(20)


UNBOUNDED_STEP = """\
kpidesign: 1
name: unbounded_step
description: >
  d maximizes (5x + 2y)/(x + y + z), x in [0.1, 1], y >= 0 unbounded, z in [0, 1000]; at B
  (x 0.1, y 0, z 1000; objective z - y - x + w = 1004.9) the ratio is 0.5/1000.1.  The first
  Dinkelbach step, max (5 - lam)x + (2 - lam)y - lam z, is unbounded in y (the ray's ratio
  tends to 2), yet the best ratio is 5, at y = z = 0 (any x): 5x/x.  The optimistic
  tie-break keeps x at 0.1 (objective -0.1 + 5 = 4.9).
departments:
  d:
    variables:
      x: {lb: 0.1, ub: 1}
      y: {lb: 0}
      z: {lb: 0, ub: 1000}
    kpis:
      eff: {max: "(5 * x + 2 * y) / (x + y + z)"}
    incentive: {eff: 1}
  e:
    variables:
      w: {lb: 0, ub: 5}
    kpis:
      vol: {max: "w"}
    incentive: {vol: 1}
objective:
  max: "z - y - x + w"
"""


def test_an_unbounded_dinkelbach_step_still_reaches_the_best_ratio(write_model) -> None:
    out = _json("compare", str(write_model(UNBOUNDED_STEP)))
    assert out["departments"]["d"]["kpis"]["eff"]["status_quo"] == pytest.approx(5.0)
    assert out["plans"]["status_quo"]["objective"] == pytest.approx(4.9)
    assert out["plans"]["aligned"]["objective"] == pytest.approx(1004.9)


def test_a_ratio_whose_best_is_never_reached_is_unbounded(write_model) -> None:
    # 2x/(x + 1) tends to 2 as x grows and never reaches it: no best response exists
    text = UNBOUNDED_STEP.replace(
        'eff: {max: "(5 * x + 2 * y) / (x + y + z)"}', 'eff: {max: "2 * y / (y + 1)"}'
    )
    res = CliRunner().invoke(main, ["compare", str(write_model(text))])
    assert res.exit_code == 2
    assert "the local problem of d is unbounded: the ratio d.eff keeps improving towards 2" in (
        res.stderr
    )
    assert "along a ray (y)" in res.stderr


def test_zero_drive_is_found_whatever_the_denominator_constant(tmp_path: Path) -> None:
    # zero_drive with made shifted by 10,000 (denominator made - 10000): the multiplier at
    # the floor is 5e6, so a check on the held score would be ill-conditioned; the check
    # compares the best ratio at the floor with the best at ten times the floor
    text = (RATIO / "zero_drive.yaml").read_text()
    text = text.replace("made: {lb: 0, ub: 10}", "made: {lb: 10000, ub: 10010}")
    text = text.replace("made", "(made - 10000)").replace("(made - 10000):", "made:")
    path = tmp_path / "offset.yaml"
    path.write_text(text)
    res = CliRunner().invoke(main, ["compare", str(path)])
    assert res.exit_code == 2, res.output
    assert "production would drive the denominator of KPI production.revenue_per_unit to 0" in (
        res.stderr
    )


def test_a_mixed_scorecard_is_not_linearized_where_its_ratio_is_negative(write_model) -> None:
    text = UNBOUNDED_STEP.replace(
        'eff: {max: "(5 * x + 2 * y) / (x + y + z)"}\n    incentive: {eff: 1}',
        'eff: {max: "(x + 1) / (x - 5)"}\n      vol: {max: "x"}\n'
        "    incentive: {eff: 0.5, vol: 0.5}",
    )
    res = CliRunner().invoke(main, ["compare", str(write_model(text))])
    assert res.exit_code == 2, res.output
    # the mixed scorecard keeps the ratio exact: its denominator x - 5 is at most 1 - 5 = -4
    # over d's local problem (x in [0.1, 1]), so the ratio is undefined wherever d goes
    assert "KPI d.eff: its denominator is at most -4 in the local problem of d" in res.stderr
    assert "undefined there" in res.stderr


def test_tables_show_an_undefined_ratio_as_a_dash() -> None:
    for command in ("compare", "solve"):
        res = CliRunner(env={"COLUMNS": "200"}).invoke(
            main, [command, str(RATIO / "clinic_idle.yaml")]
        )
        assert res.exit_code == 0, res.output
        row = next(line for line in res.stdout.splitlines() if "cost_per_op" in line)
        assert "nan" not in row
        assert " - " in row
