"""The status quo as a range over department orders and tie-breaks (issue 11, item 1-2),
checked on tests/models/status_quo/first_mover.yaml, whose paths are worked out by hand in
its description: order alpha, beta ends at 8 (60%), order beta, alpha at 2 (90%)."""

from __future__ import annotations

import itertools
import json
import math
import subprocess

import pytest
from click.testing import CliRunner
from conftest import TESTS, kpidesign_executable

import kpidesign
from kpidesign.analyses.equilibria import MAX_ALL_ORDERS, department_orders
from kpidesign.cli import main

FIRST_MOVER = TESTS / "models" / "status_quo" / "first_mover.yaml"
SEED = TESTS.parent / "models" / "manufacturer.yaml"


def test_the_range_covers_both_orders_worked_out_by_hand() -> None:
    r = kpidesign.compare(FIRST_MOVER)
    ranged = r.status_quo_range
    assert ranged is not None
    assert r.objectives["status_quo"] == pytest.approx(8.0, abs=1e-6)  # file order
    assert (ranged.low, ranged.high) == pytest.approx((2.0, 8.0), abs=1e-6)
    assert ranged.misalignment_cost == pytest.approx((0.6, 0.9), abs=1e-6)
    assert ranged.worst.order == ("beta", "alpha")
    assert ranged.best.order == ("alpha", "beta")
    assert (ranged.paths, ranged.orders, ranged.equilibria) == (4, 2, 2)
    assert not ranged.same_equilibrium
    assert ranged.kpi_range("beta", "stored_b") == pytest.approx((2.0, 8.0), abs=1e-6)
    assert ranged.kpi_range("alpha", "stored_a") == pytest.approx((2.0, 8.0), abs=1e-6)
    assert "60–90% (file order 60%)" in r.headline()


def test_the_json_contract_has_the_ranges() -> None:
    d = kpidesign.compare(FIRST_MOVER).to_dict()
    assert d["status_quo_range"]["min"] == pytest.approx(2.0, abs=1e-6)
    assert d["status_quo_range"]["max"] == pytest.approx(8.0, abs=1e-6)
    assert d["status_quo_range"]["worst"]["order"] == ["beta", "alpha"]
    assert d["misalignment_cost_range"] == pytest.approx({"min": 0.6, "max": 0.9}, abs=1e-6)
    kpi = d["departments"]["alpha"]["kpis"]["stored_a"]["status_quo_range"]
    assert kpi == pytest.approx({"min": 2.0, "max": 8.0}, abs=1e-6)
    assert d["run"]["options"]["orders"] == "all"
    assert "workers" not in d["run"]["options"]  # it never changes a result


def test_the_file_order_alone_is_one_path_per_tie_break() -> None:
    r = kpidesign.compare(FIRST_MOVER, orders="file")
    ranged = r.status_quo_range
    assert ranged is not None and (ranged.paths, ranged.equilibria) == (2, 1)
    assert ranged.same_equilibrium
    assert "all 2 computed paths end at the same plan" in r.headline()


def test_reordering_the_departments_changes_the_file_order_value_not_the_range(
    tmp_path,
) -> None:
    text = FIRST_MOVER.read_text()
    head, rest = text.split("departments:\n", 1)
    alpha, beta_and_rest = rest.split("  beta:\n", 1)
    beta, tail = beta_and_rest.split("constraints:\n", 1)
    swapped = tmp_path / "swapped.yaml"
    swapped.write_text(f"{head}departments:\n  beta:\n{beta}{alpha}constraints:\n{tail}")
    a, b = kpidesign.compare(FIRST_MOVER), kpidesign.compare(swapped)
    assert b.objectives["status_quo"] == pytest.approx(2.0, abs=1e-6)  # beta moves first
    assert a.to_dict()["status_quo_range"] == b.to_dict()["status_quo_range"]


def test_the_seed_range_does_not_depend_on_the_order_in_the_file(tmp_path) -> None:
    """Acceptance: departments and constraints reversed in the shipped model give the same
    range (the canonical response makes every path independent of column order)."""
    from ruamel.yaml import YAML

    yaml = YAML()
    spec = yaml.load(SEED)
    for section in ("departments", "constraints"):
        items = list(spec[section].items())
        spec[section].clear()
        spec[section].update(reversed(items))
    (tmp_path / "data").symlink_to(SEED.parent / "data")
    reversed_file = tmp_path / "reversed.yaml"
    with reversed_file.open("w") as f:
        yaml.dump(spec, f)
    a, b = (kpidesign.compare(p).to_dict() for p in (SEED, reversed_file))
    for key in ("min", "max"):
        assert a["status_quo_range"][key] == pytest.approx(b["status_quo_range"][key], rel=1e-7)
    assert a["misalignment_cost_range"] == pytest.approx(b["misalignment_cost_range"], abs=1e-7)


def test_a_path_does_not_depend_on_what_its_session_solved_before() -> None:
    """Orders starting with the same department share one session and one response memo
    (``equilibria._run_task``). In the seed's file order sales moves first, and that path is
    the 18th of the 24 orders starting with sales, so with ``--orders all`` it runs after
    17 others on a warm session. Alone (``--orders file``) it runs on a fresh one: the two
    must be the same path, for both tie-breaks, within the solver's tolerance (1e-7).
    Measured: with the local score LPs warm-started, the third rule of a best response
    keeps them 1.8e-9 apart; without it too, the pessimistic ends are 171 apart (6e-4)."""
    alone = kpidesign.compare(SEED, orders="file")
    among = kpidesign.compare(SEED, orders="all")
    assert among.status_quo_range is not None and among.status_quo_range.paths == 240
    for plan, value in alone.objectives.items():
        assert among.objectives[plan] == pytest.approx(value, rel=1e-7)
    assert among.status_quo_pessimistic == pytest.approx(alone.status_quo_pessimistic, rel=1e-7)
    for path in ("decentralized", "pessimistic"):
        a, b = getattr(alone, path), getattr(among, path)
        assert (a.rounds, a.converged) == (b.rounds, b.converged)
    values = [r.kpis.set_index(["department", "kpi", "plan"])["value"] for r in (alone, among)]
    assert values[1].to_numpy() == pytest.approx(values[0].to_numpy(), rel=1e-7, abs=1e-7)


def test_orders_all_file_and_samples() -> None:
    names = ["c", "a", "b"]
    assert department_orders(names, "file") == [("c", "a", "b")]
    assert department_orders(names, "all") == sorted(itertools.permutations(sorted(names)))
    assert department_orders(names, 6) == department_orders(names, "all")
    many = [f"d{i}" for i in range(MAX_ALL_ORDERS + 2)]
    sample = department_orders(many, "all")
    assert len(sample) == math.factorial(MAX_ALL_ORDERS)
    assert tuple(many) in sample  # the file order is always there
    assert department_orders(many, 5) == department_orders(many, 5)  # seeded
    assert len(department_orders(many, 5)) == 5


def test_bad_orders_and_workers_are_user_errors() -> None:
    with pytest.raises(kpidesign.KpiDesignError, match="orders must be"):
        kpidesign.compare(FIRST_MOVER, orders="some")
    with pytest.raises(kpidesign.KpiDesignError, match="workers must be"):
        kpidesign.compare(FIRST_MOVER, workers=0)
    res = CliRunner().invoke(main, ["compare", str(FIRST_MOVER), "--orders", "0"])
    assert res.exit_code == 2 and "positive number" in res.output


def test_the_same_output_on_one_and_on_two_workers() -> None:
    """Paths run as tasks on sessions of their own, so worker processes change nothing:
    byte-identical JSON through the installed executable."""
    outs = [
        subprocess.run(
            [kpidesign_executable(), "compare", str(FIRST_MOVER), "-f", "json", "--workers", w],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for w in ("1", "2")
    ]
    assert outs[0] == outs[1]
    assert json.loads(outs[0])["status_quo_range"]["paths"] == 4


def test_the_verification_is_the_worst_over_orders() -> None:
    """``evaluate`` of a scheme: each tie-break's figure is its worst path over the
    orders, and the order is named."""
    r = kpidesign.evaluate(FIRST_MOVER, {"beta": {"stored_b": 1.0}})
    assert r.status_quo_range is not None and r.status_quo_range.orders == 2


def test_todays_plan_is_a_second_start(tmp_path) -> None:
    """Today beta stores 8 (alpha's value completed by the system problem: a = 0).  From
    there alpha can only take 2, in either order: objective 20 - 2 - 16 = 2 on every
    path from today; from the aligned plan 8 or 2 as before."""
    plan = tmp_path / "today.csv"
    plan.write_text("variable,index,value\nb,,8\n")
    r = kpidesign.compare(FIRST_MOVER, start_plan=plan)
    ranged = r.status_quo_range
    assert ranged is not None
    assert set(ranged.starts) == {"aligned", "today"}
    assert "1 of 2 values given" in ranged.starts["today"]
    assert (ranged.paths, ranged.orders) == (8, 2)
    assert ranged.worst.objective == pytest.approx(2.0, abs=1e-6)
    assert ranged.best.objective == pytest.approx(8.0, abs=1e-6)
    assert ranged.best.start == "aligned"
    # the file-order status quo is still the path from B
    assert r.objectives["status_quo"] == pytest.approx(8.0, abs=1e-6)
