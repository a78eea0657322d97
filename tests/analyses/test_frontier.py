"""`kpidesign frontier`: the value of a resource's total, breakpoint by breakpoint, checked
by hand and against separate full solves at and between the breakpoints."""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TESTS, kpidesign_executable

import kpidesign
from kpidesign.cli import main

MODELS = TESTS / "models"
BUDGET = MODELS / "compare" / "budget.yaml"
HEADROOM = MODELS / "textbook" / "headroom.yaml"
SEED = TESTS.parent / "scenarios" / "baseline.yaml"


def _full_solve(path, resource: str, total: float) -> float:
    """The system optimum of the model with the resource's total changed in the spec, built,
    compiled and solved from scratch: the other method."""
    spec = kpidesign.load(path)
    r = dataclasses.replace(spec.resources[resource], total=total)
    spec = dataclasses.replace(spec, resources={**spec.resources, resource: r})
    result = kpidesign.solve(spec)
    assert result.ok, result.diagnosis
    return result.objective


def test_budget_frontier_by_hand() -> None:
    # budget.yaml: allocations within [2.5, 7.5] each (max_shift 0.5), so a total below 5
    # is infeasible; production's allocation total - 2.5 makes and sells one unit each,
    # +3, until sold meets demand 6 at a total of 8.5 (18); flat after
    r = kpidesign.frontier(BUDGET, "budget", start=5, stop=12).to_dict()
    assert r["points"] == [
        {"total": 5.0, "objective": pytest.approx(7.5)},
        {"total": pytest.approx(8.5), "objective": pytest.approx(18.0)},
        {"total": 12.0, "objective": pytest.approx(18.0)},
    ]
    assert [s["slope"] for s in r["slopes"]] == [pytest.approx(3.0), pytest.approx(0.0)]


def test_headroom_frontier_by_hand_with_a_reserve() -> None:
    # headroom.yaml: 75% of the total may be allocated (reserve 0.25); the plant's unit is
    # worth 2 up to an allocation of 9 (total 12), then 1 up to 18 (total 24): per unit of
    # total 1.5, 0.75, then 0
    r = kpidesign.frontier(HEADROOM, "budget", start=0, stop=30).to_dict()
    assert [(p["total"], p["objective"]) for p in r["points"]] == [
        (0.0, 0.0), (pytest.approx(12.0), pytest.approx(18.0)),
        (pytest.approx(24.0), pytest.approx(27.0)), (30.0, pytest.approx(27.0)),
    ]  # fmt: skip
    assert [s["slope"] for s in r["slopes"]] == pytest.approx([1.5, 0.75, 0.0])


@pytest.mark.parametrize("path", [BUDGET, HEADROOM, SEED], ids=lambda p: p.stem)
def test_every_point_and_every_midpoint_is_a_full_solve(path) -> None:
    r = kpidesign.frontier(path, "budget")
    assert r.ok and len(r.points) >= 2
    points = list(r.points.itertuples(index=False))
    for p in points:
        assert _full_solve(path, "budget", p.total) == pytest.approx(p.objective, rel=1e-9)
    for (a, b), s in zip(itertools.pairwise(points), r.slopes.itertuples(index=False), strict=True):
        assert (s[0], s[1]) == (pytest.approx(a.total), pytest.approx(b.total))
        # between two breakpoints the value is the line through them, with the slope given
        assert (b.objective - a.objective) == pytest.approx(s.slope * (b.total - a.total),
                                                            rel=1e-7, abs=1e-6)  # fmt: skip
        mid = 0.5 * (a.total + b.total)
        line = a.objective + s.slope * (mid - a.total)
        assert _full_solve(path, "budget", mid) == pytest.approx(line, rel=1e-9, abs=1e-6)
    # a maximized objective's value of a right-hand side is concave: slopes only fall, and
    # consecutive pieces differ (a breakpoint is a breakpoint)
    slopes = list(r.slopes.slope)
    assert all(x > y for x, y in itertools.pairwise(slopes))


def test_the_slope_is_the_shadow_price_of_the_total() -> None:
    # between breakpoints the slope equals the resource's shadow price at the optimum there
    r = kpidesign.frontier(SEED, "budget")
    spec = kpidesign.load(SEED)
    share = 1.0 - spec.resources["budget"].reserve
    for s in r.slopes.itertuples(index=False):
        mid = 0.5 * (s[0] + s[1])
        res = dataclasses.replace(spec.resources["budget"], total=mid)
        at = kpidesign.solve(dataclasses.replace(spec, resources={"budget": res}))
        price = float(at.resources.set_index("resource").shadow_price["budget"])
        assert price * share == pytest.approx(s.slope, rel=1e-6, abs=1e-9)


def test_frontier_cli_errors_and_json_through_the_executable() -> None:
    proc = subprocess.run(
        [kpidesign_executable(), "frontier", str(BUDGET), "--resource", "budget",
         "--from", "5", "--to", "12", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["resource"] == "budget" and len(out["points"]) == 3 and len(out["slopes"]) == 2
    bad = CliRunner().invoke(main, ["frontier", str(BUDGET), "--resource", "cash"])
    assert bad.exit_code == 2 and "unknown resource 'cash'" in bad.output
    assert "Traceback" not in bad.output
    backwards = CliRunner().invoke(
        main, ["frontier", str(BUDGET), "--resource", "budget", "--from", "9", "--to", "3"]
    )
    assert backwards.exit_code == 2 and "from < to" in backwards.output
    # below the allocations' lower bounds: infeasible, located by the model's names
    low = CliRunner().invoke(
        main, ["frontier", str(BUDGET), "--resource", "budget", "--from", "1", "--to", "3"]
    )
    assert low.exit_code == 2 and "infeasible" in low.output
    assert "resources.budget.total" in low.output


def test_a_constraint_frontier_by_hand_on_wyndor() -> None:
    # plant 3, 3 x1 + 2 x2 <= b: up to b = 12 only windows (x2 = b/2, 5 each: 2.5 per
    # hour) until plant 2 caps x2 at 6 (30); then doors, x1 = (b - 12)/3 (3 each: 1 per
    # hour) until plant 1 caps x1 at 4 at b = 24 (42); flat after
    r = kpidesign.frontier(MODELS / "textbook" / "wyndor.yaml", constraint="plant3",
                           start=0, stop=40).to_dict()  # fmt: skip
    assert r["constraint"] == "plant3" and r["resource"] is None
    assert [(p["rhs"], p["objective"]) for p in r["points"]] == [
        (0.0, 0.0), (pytest.approx(12.0), pytest.approx(30.0)),
        (pytest.approx(24.0), pytest.approx(42.0)), (40.0, pytest.approx(42.0)),
    ]  # fmt: skip
    assert [s["slope"] for s in r["slopes"]] == pytest.approx([2.5, 1.0, 0.0])


def test_a_lower_bound_row_on_dorian() -> None:
    # dorian (min cost): women 7 c + 2 f >= 28 with shadow price 5 (cost per unit more);
    # the frontier over the women's row around 28 has that slope there
    r = kpidesign.frontier(MODELS / "textbook" / "dorian.yaml", constraint="women")
    assert r.ok
    mid = r.slopes[(r.slopes["from"] <= 28) & (r.slopes["to"] >= 28)]
    assert float(mid.slope.iloc[0]) == pytest.approx(5.0)
    for p in r.points.to_dict("records"):  # each point a solve of the changed model
        spec = kpidesign.load(MODELS / "textbook" / "dorian.yaml")
        c = spec.constraints["women"]
        expr = c.expr.replace(">= 28", f">= {p['rhs']!r}")
        changed = dataclasses.replace(c, expr=expr)
        spec = dataclasses.replace(spec, constraints={**spec.constraints, "women": changed})
        assert kpidesign.solve(spec).objective == pytest.approx(p["objective"], rel=1e-9)


def test_an_indexed_constraint_needs_its_row() -> None:
    with pytest.raises(ValueError, match=r"name one row, e.g. capacity\[1\]"):
        kpidesign.frontier(SEED, constraint="capacity")
    with pytest.raises(ValueError, match="a resource, a constraint or a margin, one of them"):
        kpidesign.frontier(SEED)


def test_the_status_quo_along_the_totals_by_hand() -> None:
    # budget.yaml with today's split kept (each baseline b = 5/12 of the total): aligned,
    # made = sold = min(b, 6): 3 min(b, 6). Status quo: production paid on output makes b,
    # sales on volume sells min(6, b), the rest is stock: 5 min(6, b) - 2 b - (b - min(6, b)):
    # at a total of 15 (b = 6.25) 17.25 against 18, at 18 (b = 7.5) 13.5 against 18 (25%)
    r = kpidesign.frontier(BUDGET, "budget", start=6, stop=18, analysis="compare", grid=5,
                           orders="file")  # fmt: skip
    q = r.to_dict()["status_quo"]
    assert [row["total"] for row in q] == pytest.approx([6, 9, 12, 15, 18])
    assert [row["aligned"] for row in q] == pytest.approx([7.5, 11.25, 15, 18, 18])
    assert [row["status_quo"] for row in q] == pytest.approx([7.5, 11.25, 15, 17.25, 13.5])
    assert q[-1]["misalignment_cost"] == pytest.approx(0.25)
    # with --orders file the range is the file order's two tie-breaks: the same plan here
    assert q[-1]["misalignment_cost_min"] == pytest.approx(0.25)
    assert q[-1]["misalignment_cost_max"] == pytest.approx(0.25)
    assert all(row["status"] == "optimal" for row in q)
    # the breakpoints are the frontier's as before
    assert [p["total"] for p in r.to_dict()["points"]] == pytest.approx([6, 8.5, 18])
    with pytest.raises(ValueError, match="needs a resource"):
        kpidesign.frontier(MODELS / "textbook" / "wyndor.yaml", constraint="plant3",
                           analysis="compare")  # fmt: skip


def test_the_design_along_the_totals_is_design_at_each_total() -> None:
    r = kpidesign.frontier(BUDGET, "budget", start=6, stop=18, analysis="design", grid=3,
                           orders="file")  # fmt: skip
    rows = r.to_dict()["designs"]
    assert [row["total"] for row in rows] == pytest.approx([6, 12, 18])
    # at the file's own total (12) the row is `design` of the file itself
    d = kpidesign.design(BUDGET, orders="file")
    mid = rows[1]
    assert mid["system"] == pytest.approx(d.optimum)
    assert mid["status_quo"] == pytest.approx(d.status_quo)
    assert mid["designed"] == pytest.approx(d.verification.objective)
    assert mid["designed_share"] == pytest.approx(d.verification.share_of_optimum)
    for row in rows:
        assert row["status"] == "optimal" and row["designed"] <= row["system"] + 1e-9
    assert r.status_quo is None and "status_quo" not in r.to_dict()


def test_a_frontier_through_a_degenerate_vertex_by_hand() -> None:
    # dorian_degenerate.yaml's description: flat to 4, then 5 per unit to 84, then 50/7
    r = kpidesign.frontier(MODELS / "textbook" / "dorian_degenerate.yaml", constraint="women",
                           start=0, stop=200).to_dict()  # fmt: skip
    assert [(p["rhs"], p["objective"]) for p in r["points"]] == [
        (0.0, pytest.approx(200.0)), (pytest.approx(4.0), pytest.approx(200.0)),
        (pytest.approx(84.0), pytest.approx(600.0)),
        (200.0, pytest.approx(600 + 116 * 50 / 7)),
    ]  # fmt: skip
    assert [s["slope"] for s in r["slopes"]] == pytest.approx([0.0, 5.0, 50 / 7])


MARGINS = MODELS / "textbook" / "margins.yaml"


def _solve_with_margin(path, name: str, value: float) -> float:
    """The system optimum with one margin changed in the spec (its rows built with it),
    compiled and solved from scratch: the other method."""
    from kpidesign.spec.model import with_margin

    result = kpidesign.solve(with_margin(kpidesign.load(path), name, value))
    assert result.ok, result.diagnosis
    return result.objective


def test_a_family_margin_by_hand() -> None:
    # margins.yaml: plants[p2], plants[p3] move together, each by its own |rhs| (12, 18):
    # 4.5 + 30 (1 - s) up to s = 0.25 (plant 1 binds), 36 (1 - s) after (plant 3 binds)
    r = kpidesign.frontier(MARGINS, margin="plants", stop=0.5).to_dict()
    assert (r["margin"], r["resource"], r["constraint"]) == ("plants", None, None)
    assert [(p["margin"], p["objective"]) for p in r["points"]] == [
        (0.0, pytest.approx(34.5)), (pytest.approx(0.25), pytest.approx(27.0)),
        (0.5, pytest.approx(18.0)),
    ]  # fmt: skip
    assert [s["slope"] for s in r["slopes"]] == pytest.approx([-30.0, -36.0])
    # default: from 0 to twice the file's 0.1
    d = kpidesign.frontier(MARGINS, margin="plants")
    assert list(d.points.margin) == pytest.approx([0.0, 0.2])
    assert list(d.points.objective) == pytest.approx([34.5, 28.5])


def test_a_reserve_and_a_capacity_margin_by_hand_on_headroom() -> None:
    # headroom.yaml: max 3x + 2y, x + y <= C, 2x + y <= A. f = 2A up to A = 9, A + 9 up to
    # 18, 27 after; f = 3C up to C = 7.5, C + 15 after.
    # The reserve r: A = 20 (1 - r), C = 9: 27 while A >= 18 (r <= 0.1), then 29 - 20 r
    r = kpidesign.frontier(HEADROOM, margin="resources.budget.reserve")
    assert [(p.margin, p.objective) for p in r.points.itertuples()] == [
        (0.0, pytest.approx(27.0)), (pytest.approx(0.1), pytest.approx(27.0)),
        (0.5, pytest.approx(19.0)),
    ]  # fmt: skip
    assert list(r.slopes.slope) == pytest.approx([0.0, -20.0])
    # capacity's slack s: C = 10 (1 - s), A = 15: 25 - 10 s down to C = 7.5 (s = 0.25),
    # then 30 (1 - s)
    c = kpidesign.frontier(HEADROOM, margin="capacity", start=0.0, stop=0.5)
    assert [(p.margin, p.objective) for p in c.points.itertuples()] == [
        (0.0, pytest.approx(25.0)), (pytest.approx(0.25), pytest.approx(22.5)),
        (0.5, pytest.approx(15.0)),
    ]  # fmt: skip
    assert list(c.slopes.slope) == pytest.approx([-10.0, -30.0])


@pytest.mark.parametrize(
    ("path", "name", "stop"),
    [(MARGINS, "plants", 0.6), (HEADROOM, "capacity", 0.5),
     (HEADROOM, "resources.budget.reserve", 0.5), (SEED, "capacity", 0.05)],
    ids=["margins-plants", "headroom-capacity", "headroom-reserve", "seed-capacity"],
)  # fmt: skip
def test_every_margin_point_and_midpoint_is_a_full_solve(path, name: str, stop: float) -> None:
    r = kpidesign.frontier(path, margin=name, stop=stop)
    assert r.ok and len(r.points) >= 2
    points = list(r.points.itertuples(index=False))
    for p in points:
        assert _solve_with_margin(path, name, p.margin) == pytest.approx(p.objective, rel=1e-9)
    for (a, b), s in zip(itertools.pairwise(points), r.slopes.itertuples(index=False), strict=True):
        mid = 0.5 * (a.margin + b.margin)
        line = a.objective + s.slope * (mid - a.margin)
        assert _solve_with_margin(path, name, mid) == pytest.approx(line, rel=1e-9, abs=1e-6)
    assert all(x > y for x, y in itertools.pairwise(r.slopes.slope))  # concave, no repeats


def test_the_margin_frontier_prices_the_slack_as_sensitivity_does() -> None:
    # sensitivity's price of a margin at the optimum (a re-solve with it released) is the
    # frontier's fall from 0 to the file's margin, read off the exact piecewise line
    for path, name, value in [(MARGINS, "plants", 0.1), (SEED, "capacity", 0.1),
                              (HEADROOM, "resources.budget.reserve", 0.25)]:  # fmt: skip
        r = kpidesign.frontier(path, margin=name)
        at = float(np.interp(value, r.points.margin, r.points.objective))
        price = kpidesign.sensitivity(path, at="optimum").slack_prices.set_index("margin")
        assert r.points.objective.iloc[0] - at == pytest.approx(
            float(price.resolve[name]), rel=1e-7, abs=1e-6
        )


def test_margins_that_cannot_vary_say_why() -> None:
    def run(*args: str) -> str:
        result = CliRunner().invoke(main, ["frontier", str(MARGINS), *args])
        assert result.exit_code == 2 and "Traceback" not in result.output
        return " ".join(result.output.split())

    assert "unknown margin 'nope'" in run("--margin", "nope")
    assert "plants, mix, order, link" in run("--margin", "nope")
    assert "link is an equality: it has no margin" in run("--margin", "link")
    assert "slack needs one side of the constraint to be data" in run("--margin", "mix")
    assert "its right-hand side is 0 in every row" in run("--margin", "order")
    assert "0 <= from < to < 1" in run("--margin", "plants", "--from", "0.3", "--to", "0.2")
    assert "0 <= from < to < 1" in run("--margin", "plants", "--to", "1")
    assert "one of them" in run("--margin", "plants", "--resource", "budget")
    assert "needs a resource" in run("--margin", "plants", "--analysis", "compare")
    assert "--margin plants" in run("--constraint", "plants")


def test_a_margin_frontier_through_the_executable() -> None:
    proc = subprocess.run(
        [kpidesign_executable(), "frontier", str(MARGINS), "--margin", "plants", "--to", "0.5",
         "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["margin"] == "plants"
    assert [p["margin"] for p in out["points"]] == pytest.approx([0.0, 0.25, 0.5])
    table = subprocess.run(
        [kpidesign_executable(), "frontier", str(MARGINS), "--margin", "plants", "--to", "0.5"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert table.returncode == 0, table.stderr
    text = " ".join(table.stdout.split())
    assert "the margin of plants (a fraction)" in text
    assert "per +0.01 (one point)" in text and "-0.3" in text  # -30 per unit, per point
