"""The design's target chosen on purpose (issue 10, items 1-3), checked by hand.

tests/models/compare/degenerate_target.yaml (its description has the whole hand solution):
two departments share a plant of 10 hours, ``2e + w <= 10``, the company earns ``2e + w``;
budget allocations cap each (east in [1, 3], west in [2, 6], total 10).  At baseline
(2, 4) the plan B = (2, 4) earns 8.  The optimum 10 is a face, ``2e + w = 10`` with
``e in [2, 3]``, on which the budget never binds (dual 0, the allocations a box).  The
L1-closest optimal plan to B is z* = (3, 4) (distance 4 - e), its tight allocations (3, 4).
West, today a cost centre paid on spend, is designed units 0.625 + spend 0.375; the
verification starts where today's schemes take the organization at the tight allocations,
(3, 0) = 60%, and reaches 100%.

tests/models/compare/coordination_stall.yaml: a design exact at z* whose verification
fails (33.33%) from the start today's schemes reach, although it holds from z* itself.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import TESTS, kpidesign_executable
from ruamel.yaml import YAML
from scipy.optimize import linprog

import kpidesign
from kpidesign.analyses.common import allocation_columns, system_optimum
from kpidesign.analyses.target import canonical_optimum, tight_allocations
from kpidesign.analyses.verify import could_improve_alone
from kpidesign.api import prepare
from kpidesign.options import Options
from kpidesign.solver import HighsSession
from kpidesign.solver.face import optimal_face
from kpidesign.types import Status

CASES = TESTS / "models" / "compare"
DEGENERATE = CASES / "degenerate_target.yaml"
STALL = CASES / "coordination_stall.yaml"
ROOT = TESTS.parent
MANUFACTURER = ROOT / "models" / "manufacturer.yaml"
STRATEGY = ROOT / "scenarios" / "strategy.yaml"
SRC = Path(kpidesign.__file__).resolve().parents[1]

TOL = 1e-7

# --- the hand solution, cross-checked with scipy's linprog --------------------------------
# columns e, w, a_east, a_west; the system LP of degenerate_target.yaml, as a minimization
_C = np.array([-2.0, -1.0, 0.0, 0.0])
_A_UB = np.array(
    [
        [2, 1, 0, 0],  # hours
        [0, 1, 0, 0],  # west_line
        [1, 0, -1, 0],  # east's use <= its allocation
        [0, 1, 0, -1],  # west's use <= its allocation
        [0, 0, 1, 1],  # budget total
    ],
    dtype=float,
)
_B_UB = np.array([10.0, 7.0, 0.0, 0.0, 10.0])
_BOUNDS = [(0, 10), (0, 10), (1, 3), (2, 6)]  # max_shift 0.5 around 2 and 4


def _lp(cost, *, bounds=None, eq=None):
    """linprog on the system LP (plus ``eq``: rows (a, b) with a·x == b)."""
    A_eq = b_eq = None
    if eq:
        A_eq = np.array([a for a, _ in eq], dtype=float)
        b_eq = np.array([b for _, b in eq], dtype=float)
    res = linprog(cost, A_ub=_A_UB, b_ub=_B_UB, A_eq=A_eq, b_eq=b_eq, bounds=bounds or _BOUNDS)
    assert res.status == 0, res.message
    return res


def test_the_hand_solution_is_what_linprog_finds() -> None:
    # B: the optimum at baseline allocations (2, 4) is (2, 4), 8, and unique: e and w
    # take the same value whether minimized or maximized over B's optimal face
    base = [(0, 10), (0, 10), (2, 2), (4, 4)]
    b = _lp(_C, bounds=base)
    assert -b.fun == pytest.approx(8.0, abs=TOL)
    at_b = [([2, 1, 0, 0], 8.0)]
    for k in (0, 1):
        unit = np.eye(4)[k]
        lo, hi = _lp(unit, bounds=base, eq=at_b).fun, -_lp(-unit, bounds=base, eq=at_b).fun
        assert lo == pytest.approx(hi, abs=TOL) == pytest.approx([2.0, 4.0][k], abs=TOL)
    # the optimum 10, and the face of optimal plans: e from 2 to 3
    c = _lp(_C)
    assert -c.fun == pytest.approx(10.0, abs=TOL)
    face = [([2, 1, 0, 0], 10.0)]
    assert _lp(np.eye(4)[0], eq=face).fun == pytest.approx(2.0, abs=TOL)
    assert -_lp(-np.eye(4)[0], eq=face).fun == pytest.approx(3.0, abs=TOL)
    # the budget total never binds at the optimum (at most 3 + 6 = 9 of 10): dual 0
    assert -_lp(-np.array([0, 0, 1, 1.0]), eq=face).fun == pytest.approx(9.0, abs=TOL)
    assert c.ineqlin.marginals[4] == pytest.approx(0.0, abs=TOL)
    # z*: the optimal plan closest in L1 to B, with distance columns t >= |x - B|
    cost = np.array([0, 0, 0, 0, 1, 1.0])
    A = np.hstack([_A_UB, np.zeros((5, 2))])
    dist = np.array(
        [[1, 0, 0, 0, -1, 0], [-1, 0, 0, 0, -1, 0], [0, 1, 0, 0, 0, -1], [0, -1, 0, 0, 0, -1]],
        dtype=float,
    )
    A_ub = np.vstack([A, dist])
    b_ub = np.concatenate([_B_UB, [2, -2, 4, -4]])
    bounds = [*_BOUNDS, (0, None), (0, None)]
    obj = np.array([[2, 1, 0, 0, 0, 0.0]])
    near = linprog(cost, A_ub=A_ub, b_ub=b_ub, A_eq=obj, b_eq=[10.0], bounds=bounds)
    assert near.status == 0
    assert near.fun == pytest.approx(1.0, abs=TOL)
    assert near.x[:2] == pytest.approx([3.0, 4.0], abs=TOL)
    # ... and unique: over the plans at that distance, e is 3 at its least and its most
    A_close = np.vstack([A_ub, cost])
    b_close = np.concatenate([b_ub, [1.0]])
    for sign in (1, -1):
        e = linprog(
            sign * np.eye(6)[0], A_ub=A_close, b_ub=b_close, A_eq=obj, b_eq=[10.0], bounds=bounds
        )
        assert sign * e.fun == pytest.approx(3.0, abs=1e-6)
    # the optimal allocations at z* are not unique: a_west anywhere in [4, 6]; a_east = 3
    at_z = [([1, 0, 0, 0], 3.0), ([0, 1, 0, 0], 4.0)]
    a_west = np.eye(4)[3]
    assert _lp(a_west, eq=at_z).fun == pytest.approx(4.0, abs=TOL)
    assert -_lp(-a_west, eq=at_z).fun == pytest.approx(6.0, abs=TOL)


def _session(path: Path, options: Options | None = None):
    _, lp = prepare(path)
    return lp, HighsSession(lp, options or Options())


def _plan(lp, x: np.ndarray) -> tuple[float, float]:
    return float(x[lp.columns_of("east_out")][0]), float(x[lp.columns_of("west_out")][0])


def test_canonical_optimum_and_tight_allocations_are_the_hand_ones() -> None:
    lp, session = _session(DEGENERATE)
    c = system_optimum(session)
    b = system_optimum(session, allocations=allocation_columns(lp)[1])
    assert c.objective == pytest.approx(10.0, abs=TOL)
    assert _plan(lp, b.x) == pytest.approx((2.0, 4.0), abs=TOL)
    # whatever vertex of the face HiGHS returned, the target is (3, 4), exactly optimal
    target = canonical_optimum(lp, c.objective, b.x)
    assert _plan(lp, target.x) == pytest.approx((3.0, 4.0), abs=TOL)
    assert target.objective == pytest.approx(10.0, abs=1e-12)
    assert [a.department for a in lp.allocations] == ["east", "west"]
    tight = tight_allocations(lp, target.x)
    assert tight == pytest.approx([3.0, 4.0], abs=TOL)
    # at tight allocations the same plan stays the canonical one
    again = canonical_optimum(lp, c.objective, b.x, allocations=tight)
    assert _plan(lp, again.x) == pytest.approx((3.0, 4.0), abs=TOL)
    # another anchor gives another canonical plan: from (2, 6) the face's other end
    anchor = b.x.copy()
    anchor[lp.columns_of("west_out")] = 6.0
    assert _plan(lp, canonical_optimum(lp, c.objective, anchor).x) == pytest.approx(
        (2.0, 6.0), abs=TOL
    )
    # below the lower bound, the allocation is the lower bound: west at w = 1 keeps 2
    low = target.x.copy()
    low[lp.columns_of("west_out")] = 1.0
    assert tight_allocations(lp, low) == pytest.approx([3.0, 2.0], abs=TOL)


def test_the_optimal_face_read_from_the_duals_is_the_hand_one() -> None:
    """The face ``2e + w = 10`` (hours' dual 1, every other dual 0), and on it the same
    canonical plans as with the objective held by a row."""
    lp, session = _session(DEGENERATE)
    c = system_optimum(session)
    b = system_optimum(session, allocations=allocation_columns(lp)[1])
    col_lower, col_upper, row_lower, row_upper = optimal_face(
        c, lp.col_lower, lp.col_upper, lp.row_lower, lp.row_upper
    )
    names = [lp.row_name(i) for i in range(lp.num_rows)]
    hours = names.index("hours")
    assert (row_lower[hours], row_upper[hours]) == (10.0, 10.0)
    others = [i for i in range(lp.num_rows) if i != hours]
    assert np.array_equal(row_lower[others], lp.row_lower[others])
    assert np.array_equal(row_upper[others], lp.row_upper[others])
    assert np.array_equal(col_lower, lp.col_lower) and np.array_equal(col_upper, lp.col_upper)
    target = canonical_optimum(lp, c.objective, b.x, solution=c)
    assert _plan(lp, target.x) == pytest.approx((3.0, 4.0), abs=TOL)
    assert target.objective == pytest.approx(10.0, abs=1e-12)
    again = canonical_optimum(lp, c.objective, b.x, allocations=[3.0, 4.0], solution=c)
    assert _plan(lp, again.x) == pytest.approx((3.0, 4.0), abs=TOL)
    anchor = b.x.copy()
    anchor[lp.columns_of("west_out")] = 6.0
    other_end = canonical_optimum(lp, c.objective, anchor, solution=c)
    assert _plan(lp, other_end.x) == pytest.approx((2.0, 6.0), abs=TOL)


def test_a_face_from_duals_that_are_not_optimal_is_caught_by_the_objective() -> None:
    """With every dual 0 the "face" is the whole feasible set, where B itself (8) is the
    closest plan to B: its objective is not the optimum 10, so the objective is held by a
    row instead, and the target is (3, 4) after all."""
    lp, session = _session(DEGENERATE)
    c = system_optimum(session)
    b = system_optimum(session, allocations=allocation_columns(lp)[1])
    no_duals = dataclasses.replace(
        c, row_dual=np.zeros_like(c.row_dual), col_dual=np.zeros_like(c.col_dual)
    )
    target = canonical_optimum(lp, c.objective, b.x, solution=no_duals)
    assert _plan(lp, target.x) == pytest.approx((3.0, 4.0), abs=TOL)
    assert target.objective == pytest.approx(10.0, abs=1e-9)


def _check_hand_design(r: dict, tol: float = TOL) -> None:
    """The design of degenerate_target.yaml as worked out in its description."""
    assert r["optimum"] == pytest.approx(10.0, abs=tol)
    assert r["target_objective"] == pytest.approx(10.0, abs=tol)
    assert r["status_quo"] == pytest.approx(4.0, abs=tol)
    assert r["allocation"] == {
        "east": {"budget": pytest.approx(3.0, abs=tol)},
        "west": {"budget": pytest.approx(4.0, abs=tol)},
    }
    east, west = r["departments"]["east"], r["departments"]["west"]
    assert east["weights"] == {"units": pytest.approx(1.0, abs=tol)}
    assert west["weights"] == {
        "units": pytest.approx(0.625, abs=tol),
        "spend": pytest.approx(0.375, abs=tol),
    }
    assert east["incentive_gap"] == pytest.approx(0.0, abs=tol)
    assert west["incentive_gap"] == pytest.approx(0.0, abs=tol)
    assert west["current_incentive_gap"] == pytest.approx(1.0, abs=tol)
    assert east["weight_tolerance"] == pytest.approx(0.5, abs=tol)
    assert west["weight_tolerance"] == pytest.approx(0.25, abs=tol)
    v = r["verification"]
    assert "6 = 60.00% of the optimum" in v["start"]
    assert "converged after 2 round(s)" in v["start"]
    for path in (v["optimistic"], v["pessimistic"], *v["from_target"].values()):
        assert path["share_of_optimum"] == pytest.approx(1.0, abs=tol)
        assert path["converged"] is True
    assert v["optimistic"]["rounds"] == v["pessimistic"]["rounds"] == 2
    assert v["share_of_optimum"] == pytest.approx(1.0, abs=tol)
    assert v["could_improve_alone"] == []


def test_the_design_of_the_degenerate_model_is_the_hand_one() -> None:
    r = kpidesign.design(DEGENERATE).to_dict()
    _check_hand_design(r)
    east, west = r["departments"]["east"], r["departments"]["west"]
    # margins at the exact vertex z*, where the use row and the hours row both bind:
    # east 1/2 = y_use + 2 y_hours (hours' norm 2) -> 0.1; west 1/16 = y_use + y_hours ->
    # 1/32.  (With the target tie_slack below the optimum, the hours row looked slack and
    # the margins read 0.5 and 1/16.)
    assert east["margin"] == pytest.approx(0.1, abs=TOL)
    assert west["margin"] == pytest.approx(1 / 32, abs=TOL)
    assert east["flags"] == west["flags"] == []
    # the allocations come out exact, as written to the scheme file
    assert r["allocation"]["east"]["budget"] == pytest.approx(3.0, abs=1e-12)


# --- invariance: the same design whatever vertex HiGHS returns ----------------------------

# degenerate_target.yaml with departments, KPIs, constraints and every sum in another order
PERMUTED = """\
kpidesign: 1
name: degenerate_target
constraints:
  west_line: {expr: "west_out <= 7"}
  hours: {expr: "west_out + 2 * east_out <= 10"}
objective:
  max: "west_out + 2 * east_out"
resources:
  budget: {max_shift: 0.5, reserve: 0, total: 10}
departments:
  west:
    design: {kpis: [spend, units]}
    incentive: {spend: 1}
    kpis:
      spend: {min: "west_out"}
      units: {max: "west_out"}
    allocation: {budget: 4}
    uses: {budget: "west_out"}
    variables:
      west_out: {lb: 0, ub: 10}
  east:
    kpis:
      units: {max: "east_out"}
    incentive: {units: 1}
    allocation: {budget: 2}
    uses: {budget: "east_out"}
    variables:
      east_out: {lb: 0, ub: 10}
"""


def _same(a: object, b: object, tol: float, where: str = "") -> None:
    """``a`` and ``b`` equal, numbers within ``tol`` and mappings whatever their order."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for k in a:
            _same(a[k], b[k], tol, f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, tol, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert b == pytest.approx(a, abs=tol, nan_ok=True), where
    else:
        assert a == b, where


VARIANTS = {
    "permuted file": ("permuted", Options()),
    "simplex": ("file", Options(solver="simplex")),
    "interior point": ("file", Options(solver="ipm")),
    "permuted, interior point": ("permuted", Options(solver="ipm")),
}


def _variant(which: str, tmp_path: Path) -> Path:
    if which == "file":
        return DEGENERATE
    path = tmp_path / "degenerate_target.yaml"
    path.write_text(PERMUTED)
    return path


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_design_is_the_same_whatever_vertex_highs_returns(variant: str, tmp_path: Path) -> None:
    which, options = VARIANTS[variant]
    reference = kpidesign.design(DEGENERATE).to_dict()
    other = kpidesign.design(_variant(which, tmp_path), options=options).to_dict()
    reference.pop("run"), other.pop("run")
    _same(reference, other, TOL)
    _check_hand_design(other)


def test_the_invariance_is_not_vacuous_highs_returns_different_optima(tmp_path: Path) -> None:
    # the raw system optima HiGHS returns for the variants above are different points of
    # the optimal face (and allocations): the design's agreement is the rules' work
    seen = set()
    for which, options in VARIANTS.values():
        lp, session = _session(_variant(which, tmp_path), options)
        x = system_optimum(session).x
        alloc = x[allocation_columns(lp)[0]]
        seen.add((*np.round(_plan(lp, x), 6), *np.round(sorted(alloc), 6)))
    assert len(seen) > 1, seen


def test_an_approximate_solver_gives_the_same_scheme_allocations_and_verification() -> None:
    # PDLP (first order, no crossover) returns an interior point of the face, and its
    # target is only within its own tolerance of the vertex (about 1e-8 here): the weights,
    # allocations and verification agree; the margin does not (a row 1e-8 off counts as not
    # binding), so it is not compared
    lp, session = _session(DEGENERATE, Options(solver="pdlp"))
    session.set_objective(lp.objective, lp.sense)
    if not session.solve(warm=False).optimal:
        # HiGHS before 1.16 (highspy 1.13-1.15.1, the oldest admitted): PDLP ends this LP
        # with status Unknown; the design must then say so as its diagnosis, not crash
        failed = kpidesign.design(DEGENERATE, solver="pdlp")
        assert failed.status is Status.NUMERICAL
        assert failed.diagnosis is not None and "numerical trouble" in failed.diagnosis.message
        return
    e, w = _plan(lp, system_optimum(session).x)
    assert 2.0 + 1e-3 < e < 3.0 - 1e-3 and 2 * e + w == pytest.approx(10.0, abs=1e-5)
    r = kpidesign.design(DEGENERATE, solver="pdlp").to_dict()
    _check_hand_design(r, tol=1e-6)


def test_the_design_does_not_depend_on_which_reference_plan_highs_returns(
    tmp_path: Path,
) -> None:
    # Baseline allocations 3 and 6 (total 12): B is already on the face 2e + w = 10 with
    # e in [2, 3], so B is not unique.  In file order HiGHS returns (2, 6), in the permuted
    # order (3, 4).  B is chosen on purpose (the optimal plan closest in L1 to 0, ties by
    # name-keyed weights): |e| + |w| = e + 10 - 2e = 10 - e is least at e = 3: B = (3, 4)
    # in either order, and so is everything the design derives from it.
    def rebased(text: str, name: str) -> Path:
        text = text.replace("allocation: {budget: 2}", "allocation: {budget: 3}")
        text = text.replace("allocation: {budget: 4}", "allocation: {budget: 6}")
        text = text.replace("total: 10", "total: 12")
        path = tmp_path / name
        path.write_text(text)
        return path

    first = kpidesign.design(rebased(DEGENERATE.read_text(), "a.yaml")).to_dict()
    second = kpidesign.design(rebased(PERMUTED, "b.yaml")).to_dict()
    _same(first["allocation"], second["allocation"], TOL)


# --- verification that can fail -----------------------------------------------------------


def test_the_verification_fails_from_where_todays_schemes_lead_yet_holds_from_the_target() -> None:
    r = kpidesign.design(STALL)
    d = r.to_dict()
    assembly, parts = d["departments"]["assembly"], d["departments"]["parts"]
    assert assembly["weights"] == {
        "hours": pytest.approx(0.375, abs=TOL),
        "units": pytest.approx(0.625, abs=TOL),
    }
    assert parts["weights"] == {"cost": pytest.approx(1.0, abs=TOL)}
    assert assembly["incentive_gap"] == parts["incentive_gap"] == pytest.approx(0.0, abs=TOL)
    assert assembly["current_incentive_gap"] == pytest.approx(2 / 3, abs=TOL)
    assert assembly["margin"] == pytest.approx(1 / 48, abs=TOL)
    assert parts["margin"] == pytest.approx(1 / 6, abs=TOL)
    v = r.verification
    # the start is (2, 2), not z* = (6, 6): 6 of 18
    assert "6 = 33.33% of the optimum" in v.start and "after 2 to 3 round(s)" in v.start
    for path in (v.optimistic, v.pessimistic):
        assert path.share_of_optimum == pytest.approx(1 / 3, abs=TOL)
        assert path.objective == pytest.approx(6.0, abs=TOL)
        assert path.converged and path.rounds == 1
    assert v.share_of_optimum == pytest.approx(1 / 3, abs=TOL)
    # the scheme holds z* itself: the failure is the start's, a coordination stall
    assert v.from_target is not None
    assert all(p.share_of_optimum == pytest.approx(1.0, abs=TOL) for p in v.from_target)
    assert v.could_improve == ()
    assert d["verification"]["coordination_stall"] is True


def test_a_positive_gap_fails_the_verification_from_the_start_and_from_the_target() -> None:
    # two_departments.yaml: production can only be paid on output (gap 2/3); today's
    # schemes take it from z* = (6, 6) to made = 10: profit 30 - 20 - 4 = 6 of 18
    v = kpidesign.design(CASES / "two_departments.yaml").verification
    assert "6 = 33.33% of the optimum" in v.start
    assert v.share_of_optimum == pytest.approx(1 / 3, abs=TOL)
    assert v.optimistic.share_of_optimum == pytest.approx(1 / 3, abs=TOL)
    assert v.from_target is not None
    assert all(p.share_of_optimum == pytest.approx(1 / 3, abs=TOL) for p in v.from_target)


# --- design --out DIR writes scheme.yaml; evaluate reproduces the verification ------------

ROUND_TRIPS = {
    "degenerate_target": [DEGENERATE],
    "coordination_stall": [STALL],
    "manufacturer": [MANUFACTURER],
    "strategy quality": [STRATEGY, "--variant", "quality"],
    "strategy low_cost": [STRATEGY, "--variant", "low_cost"],
}


def _design_and_evaluate(run, args: list, out: Path, *extra: str) -> tuple[dict, dict, dict]:
    res = run("design", *args, *extra, "--format", "json", "--out", out)
    assert res.exit_code == 0, res.output
    design = json.loads((out / "design.json").read_text())
    scheme = YAML(typ="safe").load((out / "scheme.yaml").read_text())
    res = run("evaluate", *args, "--scheme", out / "scheme.yaml", "--format", "json")
    assert res.exit_code == 0, res.output
    return design, scheme, json.loads(res.stdout)


#: Cases whose evaluate reproduces design's verification only to float dust (1e-11
#: relative): seen on strategy `quality` once the seed's cash covenant binds in the status
#: quo (evaluate solves the comparison on the session first, and the verification's LPs
#: then return other optimal vertices at the last digits).  A known gap in "reproduces
#: exactly", reported, not hidden: every text, flag and round count still matches exactly.
_DUST = {"strategy quality"}


def _approx_tree(tree):
    if isinstance(tree, dict):
        return {k: _approx_tree(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_approx_tree(v) for v in tree]
    if isinstance(tree, float):
        return pytest.approx(tree, rel=1e-9, abs=1e-9)
    return tree


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_evaluate_of_the_written_scheme_reproduces_the_verification(
    case: str, run_cli, tmp_path: Path
) -> None:
    args = ROUND_TRIPS[case]
    design, scheme, evaluated = _design_and_evaluate(run_cli, args, tmp_path / "out")
    # the scheme file holds the verified weights and the designed allocations (an empty
    # section for a model without resources: it still asks evaluate for the verification)
    assert scheme["allocations"] == design["allocation"]
    for dept, row in design["departments"].items():
        assert scheme[dept] == {k: w for k, w in row["weights"].items() if w > 0}
    if case in _DUST:  # see _DUST: the same path to within float dust
        assert _approx_tree(evaluated["verification"]) == design["verification"]
    else:
        assert evaluated["verification"] == design["verification"]  # exactly
    if case == "degenerate_target":
        assert scheme["allocations"] == {"east": {"budget": 3.0}, "west": {"budget": 4.0}}
        _check_hand_design(design)


def test_the_round_trip_through_the_installed_executable(tmp_path: Path) -> None:
    # a real process of the console script, importing this checkout's sources
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    out = tmp_path / "out"

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [kpidesign_executable(), *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    res = run("design", DEGENERATE, "--round", "0.05", "--format", "json", "--out", out)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""  # with --out the JSON goes to the directory
    design = json.loads((out / "design.json").read_text())
    assert design["departments"]["west"]["weights"] == {"units": 0.65, "spend": 0.35}
    res = run("evaluate", DEGENERATE, "--scheme", out / "scheme.yaml", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    assert json.loads(res.stdout)["verification"] == design["verification"]
    # the process ran these sources: the same figures as in this process
    assert (
        design["verification"] == kpidesign.design(DEGENERATE, step=0.05).to_dict()["verification"]
    )


# --- scheme-file allocations: errors located FILE:LINE: key.path: message ----------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  weast: {budget: 3}", "allocations.weast: unknown department 'weast' (did you mean"),
        ("  east: {hours: 3}", "allocations.east.hours: east holds no allocation of 'hours'"),
        (
            "  east: {budget: lots}",
            "allocations.east.budget: an allocation must be a finite number, got 'lots'",
        ),
        (
            "  east: {budget: .nan}",
            "allocations.east.budget: an allocation must be a finite number, got nan",
        ),
        (
            "  east: {budget: true}",
            "allocations.east.budget: an allocation must be a finite number, got True",
        ),
        # east's budget may move by max_shift 0.5 around 2: [1, 3]
        (
            "  east: {budget: 3.5}",
            "allocations.east.budget: 3.5 is outside the allocation's bounds [1, 3]",
        ),
        (
            "  west: {budget: 1}",
            "allocations.west.budget: 1 is outside the allocation's bounds [2, 6]",
        ),
    ],
)
def test_scheme_allocation_errors_are_located(
    entry: str, message: str, run_cli, tmp_path: Path
) -> None:
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(f"# designed\nwest: {{units: 1}}\nallocations:\n{entry}\n")
    res = run_cli("evaluate", DEGENERATE, "--scheme", scheme)
    assert res.exit_code == 2
    (line,) = res.error_lines()  # one located line, nothing else
    assert line.startswith(f"error: {scheme}:4: {message}"), line
    assert "Traceback" not in res.output


def test_an_allocation_at_its_bound_is_accepted_and_verified(run_cli, tmp_path: Path) -> None:
    # the bounds are inclusive: east at 3 (its upper bound) and west at 4 are the design's
    scheme = tmp_path / "scheme.yaml"
    scheme.write_text(
        "west: {units: 0.625, spend: 0.375}\n"
        "allocations:\n  east: {budget: 3}\n  west: {budget: 4}\n"
    )
    res = run_cli("evaluate", DEGENERATE, "--scheme", scheme, "--format", "json")
    assert res.exit_code == 0, res.output
    v = json.loads(res.stdout)["verification"]
    assert v["share_of_optimum"] == pytest.approx(1.0, abs=TOL)
    assert "6 = 60.00% of the optimum" in v["start"]


# --- practical scorecards: --round and --max-kpis -----------------------------------------


def test_round_gives_multiples_of_the_step_and_says_so(run_cli) -> None:
    res = run_cli("design", DEGENERATE, "--round", "0.05", "--format", "json")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["practice"] == {"max_kpis": None, "round": 0.05}
    for row in out["departments"].values():
        weights = list(row["weights"].values())
        assert sum(weights) == pytest.approx(1.0, abs=1e-12)
        assert all(abs(w * 20 - round(w * 20)) < 1e-9 for w in weights)
    # of 0.6/0.4 and 0.65/0.35 (both exact: units >= 1/2), the wider tolerance
    # 2 * 0.65 - 1 = 0.3; margin 0.3/4 split over two binding rows
    west = out["departments"]["west"]
    assert west["weights"] == {"units": 0.65, "spend": 0.35}
    assert west["weight_tolerance"] == pytest.approx(0.3, abs=TOL)
    assert west["margin"] == pytest.approx(0.0375, abs=TOL)
    assert out["verification"]["share_of_optimum"] == pytest.approx(1.0, abs=TOL)


def test_a_step_that_does_not_divide_one_is_a_usage_error(run_cli) -> None:
    res = run_cli("design", DEGENERATE, "--round", "0.03")
    assert res.exit_code == 2
    assert "0.03 is not 1/N for a whole N" in res.stderr
    assert "Traceback" not in res.output


def test_max_kpis_one_gives_at_most_one_positive_weight(run_cli) -> None:
    for model in (DEGENERATE, STALL):
        res = run_cli("design", model, "--max-kpis", "1", "--format", "json")
        assert res.exit_code == 0, res.output
        out = json.loads(res.stdout)
        assert out["practice"] == {"max_kpis": 1, "round": None}
        for row in out["departments"].values():
            assert sum(w > 0 for w in row["weights"].values()) <= 1
            assert sum(row["weights"].values()) == pytest.approx(1.0, abs=1e-12)
    # west on units alone: exact (units >= 1/2), tolerance at the cap, margin (1/4)/2
    out = json.loads(run_cli("design", DEGENERATE, "--max-kpis", "1", "-f", "json").stdout)
    west = out["departments"]["west"]
    assert {k: w for k, w in west["weights"].items() if w > 0} == {"units": 1.0}
    assert west["weight_tolerance"] == pytest.approx(0.5, abs=TOL)
    assert west["margin"] == pytest.approx(0.125, abs=TOL)


# --- review findings: a face of best responses, an optimum of 0 --------------------------

TWINS = """\
kpidesign: 1
name: twins
description: >
  Production makes a and b (3 each to the company, 1 budget each); paid on output a + b
  alone it is indifferent along a + b = const: z* is not a vertex of its local problem, so
  no dual can make it the unique best response, and its margin must be 0 (the dual LP
  alone would give (1/5)/sqrt(2) at one of its points).
departments:
  sales: {variables: {promo: {lb: 0, ub: 10}}, uses: {budget: "promo"}, allocation: {budget: 5},
          kpis: {spend: {max: "promo"}}, incentive: {spend: 1}}
  production:
    variables: {a: {lb: 0, ub: 10}, b: {lb: 0, ub: 10}}
    uses: {budget: "a + b"}
    allocation: {budget: 5}
    kpis: {output: {max: "a + b"}}
    incentive: {output: 1}
objective: {max: "3 * a + 3 * b + promo"}
resources: {budget: {total: 10, reserve: 0, max_shift: 0.8}}
"""


def test_a_department_on_a_face_of_best_responses_has_margin_zero(tmp_path: Path) -> None:
    path = tmp_path / "twins.yaml"
    path.write_text(TWINS)
    production = kpidesign.design(path).to_dict()["departments"]["production"]
    assert production["exact"] is True
    assert production["margin"] == 0.0
    assert "indifferent" in production["flags"]


def test_could_improve_alone_at_an_optimum_of_zero(tmp_path: Path) -> None:
    # min buy - run, run <= buy: the optimum is 0.  At buy = 5, run = 0 (cost 5) purchasing
    # alone can buy 0 and ops alone can run 5: both reach 0, which a measure relative to
    # the better value (0) would miss
    path = tmp_path / "zero.yaml"
    path.write_text(
        "kpidesign: 1\nname: zero\ndepartments:\n"
        "  purchasing: {variables: {buy: {lb: 0, ub: 10}}, kpis: {bought: {max: buy}},"
        " incentive: {bought: 1}}\n"
        "  ops: {variables: {run: {lb: 0, ub: 10}}, kpis: {runs: {max: run}},"
        " incentive: {runs: 1}}\n"
        "constraints: {need: {expr: 'run <= buy'}}\nobjective: {min: 'buy - run'}\n"
    )
    _, lp = prepare(path)
    session = HighsSession(lp)
    x = np.zeros(lp.num_cols)
    x[lp.columns_of("buy")] = 5.0
    assert could_improve_alone(session, x) == ("purchasing", "ops")
