"""The live HiGHS session: ranging, temporary rows, bare-array LPs, statistics and the
diagnosis of a solve without an optimum."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import TESTS, packing_lp

from kpidesign.api import prepare
from kpidesign.errors import SolveError
from kpidesign.options import Options
from kpidesign.solver import HighsSession, Statistics, Status
from kpidesign.types import Diagnosis

MODELS = TESTS / "models"
TEXTBOOK = MODELS / "textbook"

INF = np.inf


def _wyndor() -> HighsSession:
    """max 3 x1 + 5 x2; plant1: x1 <= 4, plant2: 2 x2 <= 12, plant3: 3 x1 + 2 x2 <= 18."""
    _, lp = prepare(TEXTBOOK / "wyndor.yaml")
    assert [lp.row_name(i) for i in range(lp.num_rows)] == ["plant1", "plant2", "plant3"]
    assert [lp.col_name(j) for j in range(lp.num_cols)] == ["x1", "x2"]
    return HighsSession(lp)


def _solve_with_cost(session: HighsSession, col: int, cost: float) -> np.ndarray:
    """The optimal plan with column ``col``'s cost replaced (the session is restored)."""
    lp = session.lp
    assert lp is not None
    c = lp.objective.dense(lp.num_cols)
    c[col] = cost
    session.set_objective(c, lp.sense, 0.0)
    sol = session.solve(warm=False)
    session.set_objective(lp.objective, lp.sense)
    assert sol.optimal
    return sol.x


# -- ranging --------------------------------------------------------------------------------


def test_ranging_of_wyndor_glass_by_hand() -> None:
    """Wyndor Glass (Hillier & Lieberman): optimum (2, 6), z = 36, plant2 and plant3 binding.

    Costs.  The vertex (2, 6) stays optimal while the objective's gradient (c1, c2) lies
    between the normals of its binding rows, plant2 (0, 2) and plant3 (3, 2):
    0 <= c1/c2 <= 3/2.  With c2 = 5, c1 in [0, 7.5]; with c1 = 3, c2 in [2, inf).

    Right-hand sides.  With plant2 at b2 and plant3 binding: x2 = b2/2, x1 = (18 - b2)/3,
    feasible while 0 <= x1 <= 4: b2 in [6, 18].  With plant3 at b3: x2 = 6,
    x1 = (b3 - 12)/3 in [0, 4]: b3 in [12, 24].

    HiGHS's convention: ``col_cost_dn/up.value_`` hold the cost VALUES at the ends of the
    interval, not the changes (HiGHS's lp_data/HighsRanging.cpp sets ``cost + delta``;
    its check/TestRanging.cpp re-solves with ``changeColCost(i, col_cost_up.value_[i])``),
    and for a maximization they are swapped and negated back to the model's own costs; the
    deltas would be [-3, 4.5] and [-3, inf).  ``row_bound_dn/up.value_`` are likewise the
    bound values.  Plant1 has slack (activity 2 of 4): the published range is [2, inf), but
    HiGHS reports [0, 4] for that basic row (DESIGN.md), so it is not asserted here.
    """
    session = _wyndor()
    sol = session.solve()
    assert sol.objective == pytest.approx(36.0)
    r = session.ranging()
    assert r.cost_down == pytest.approx([0.0, 2.0])
    assert r.cost_up == pytest.approx([7.5, INF])
    assert r.row_bound_down.shape == r.row_bound_up.shape == (3,)
    assert r.row_bound_down[1:] == pytest.approx([6.0, 12.0])
    assert r.row_bound_up[1:] == pytest.approx([18.0, 24.0])


def test_wyndor_ranges_are_where_the_solution_changes() -> None:
    """The same intervals seen by re-solving: inside them the plan (costs) or the shadow
    price (bounds) is unchanged; just outside, it changes."""
    session = _wyndor()
    step = 0.1
    for col, cost in [(0, 7.5 - step), (0, 0.0 + step), (1, 2.0 + step), (1, 50.0)]:
        assert _solve_with_cost(session, col, cost) == pytest.approx([2.0, 6.0])
    assert _solve_with_cost(session, 0, 7.5 + step) == pytest.approx([4.0, 3.0])
    assert _solve_with_cost(session, 0, 0.0 - step) == pytest.approx([0.0, 6.0], abs=1e-9)
    assert _solve_with_cost(session, 1, 2.0 - step) == pytest.approx([4.0, 3.0])
    # plant2's shadow price 1.5 holds for b2 in [6, 18]: z = 36 + 1.5 (b2 - 12) there
    for b2 in (6.0, 9.0, 18.0):
        session.set_row_bounds([1], -INF, b2)
        assert session.solve().objective == pytest.approx(36.0 + 1.5 * (b2 - 12.0))
    # outside, less: b2 = 5 gives (4, 2.5), z = 24.5 < 25.5; b2 = 19 gives (0, 9), z = 45
    # < 46.5 (plant3 caps x2 at 9)
    for b2, z in [(5.0, 24.5), (19.0, 45.0)]:
        session.set_row_bounds([1], -INF, b2)
        assert session.solve().objective == pytest.approx(z)


def test_ranging_of_a_minimization_by_hand() -> None:
    """Dorian Auto (Winston): min 50 c + 100 f; women: 7c + 2f >= 28, men: 2c + 12f >= 24;
    optimum (3.6, 1.4), z = 320, both rows binding.

    Costs: optimal while c_c/c_f lies between the rows' slopes 2/12 and 7/2, so with
    c_f = 100, c_c in [100/6, 350]; with c_c = 50, c_f in [50/3.5, 300].
    Bounds: with women at b1, c = (12 b1 - 48)/80 >= 0 and f = (168 - 2 b1)/80 >= 0:
    b1 in [4, 84]; with men at b2, c = (336 - 2 b2)/80 >= 0, f = (7 b2 - 56)/80 >= 0:
    b2 in [8, 168].  For a minimization HiGHS reports the values unswapped.
    """
    _, lp = prepare(TEXTBOOK / "dorian.yaml")
    session = HighsSession(lp)
    assert session.solve().objective == pytest.approx(320.0)
    r = session.ranging()
    assert r.cost_down == pytest.approx([100 / 6, 50 / 3.5])
    assert r.cost_up == pytest.approx([350.0, 300.0])
    assert r.row_bound_down == pytest.approx([4.0, 8.0])
    assert r.row_bound_up == pytest.approx([84.0, 168.0])


def test_ranging_needs_an_optimal_solve() -> None:
    session = _wyndor()
    with pytest.raises(SolveError, match="ranging is not available"):
        session.ranging()  # nothing solved yet
    session.solve()
    session.ranging()
    session.set_row_bounds([1], -INF, 14.0)  # a change invalidates the last solve
    with pytest.raises(SolveError, match="ranging is not available"):
        session.ranging()
    _, lp = prepare(MODELS / "infeasible.yaml")
    infeasible = HighsSession(lp)
    assert infeasible.solve().status is Status.INFEASIBLE
    with pytest.raises(SolveError, match="ranging is not available"):
        infeasible.ranging()


# -- temporary rows -------------------------------------------------------------------------


def test_temporary_rows_are_removed_after_the_block() -> None:
    session = _wyndor()
    assert session.solve().objective == pytest.approx(36.0)
    with session.temporary_rows():
        first = session.add_row(np.array([0, 1]), np.array([1.0, 1.0]), -INF, 7.0)
        second = session.add_row(np.array([0]), np.array([1.0]), 2.0)  # x1 >= 2
        assert (first, second) == (3, 4)
        assert session.num_rows == 5
        sol = session.solve()
        # both new rows binding: x1 = 2, x2 = 5 (plant2, plant3 slack), z = 6 + 25 = 31
        assert sol.x == pytest.approx([2.0, 5.0])
        assert sol.objective == pytest.approx(31.0)
        assert sol.row_activity.shape == (5,)
    assert session.num_rows == 3
    sol = session.solve()
    assert sol.objective == pytest.approx(36.0)
    assert sol.row_activity.shape == (3,)


def test_temporary_rows_are_removed_when_the_block_raises() -> None:
    session = _wyndor()
    with pytest.raises(RuntimeError, match="inside"), session.temporary_rows():
        session.add_row(np.array([1]), np.array([1.0]), -INF, 1.0)
        raise RuntimeError("inside")
    assert session.num_rows == 3
    assert session.solve().objective == pytest.approx(36.0)


def test_nested_temporary_rows_remove_only_their_own() -> None:
    session = _wyndor()
    with session.temporary_rows():
        outer = session.add_row(np.array([0, 1]), np.array([1.0, 1.0]), -INF, 7.0)
        with session.temporary_rows():
            inner = session.add_row(np.array([0]), np.array([1.0]), 2.0)  # x1 >= 2
            assert session.num_rows == 5
            assert session.solve().objective == pytest.approx(31.0)  # (2, 5)
        assert (outer, inner) == (3, 4)
        assert session.num_rows == 4
        # x1 + x2 <= 7 alone: its corners with plant2, (1, 6), z = 33, and with plant3,
        # (4, 3), z = 27: the optimum is (1, 6)
        assert session.solve().x == pytest.approx([1.0, 6.0])
    assert session.num_rows == 3


def test_bounds_of_a_temporary_row_leave_the_programs_bounds_alone() -> None:
    session = _wyndor()
    lower, upper = session.row_lower.copy(), session.row_upper.copy()
    with session.temporary_rows():
        row = session.add_row(np.array([0, 1]), np.array([1.0, 1.0]), -INF, 7.0)
        session.set_row_bounds(np.array([row]), -INF, 5.0)  # x1 + x2 <= 5
        # the mirrors hold the program's rows only, untouched
        assert session.row_lower.shape == session.row_upper.shape == (3,)
        assert session.row_lower == pytest.approx(lower)
        assert session.row_upper == pytest.approx(upper)
        # the new bound reached HiGHS: x1 + x2 <= 5 with 2 x2 <= 12 -> (0, 5), z = 25
        sol = session.solve()
        assert sol.x == pytest.approx([0.0, 5.0], abs=1e-9)
        assert sol.objective == pytest.approx(25.0)
        # a temporary row and a program row in one call: only the program's is mirrored
        session.set_row_bounds(np.array([row, 2]), np.array([-INF, -INF]), np.array([6.0, 15.0]))
        assert session.row_upper == pytest.approx([4.0, 12.0, 15.0])
        assert session.row_lower == pytest.approx(lower)
        # x1 + x2 <= 6, 3 x1 + 2 x2 <= 15, 2 x2 <= 12: (0, 6), z = 30
        assert session.solve().objective == pytest.approx(30.0)
    assert session.num_rows == 3
    assert session.row_upper == pytest.approx([4.0, 12.0, 15.0])
    # plant3 at 15 (its bound outlives the block): x2 = 6, x1 = 1, z = 33
    assert session.solve().objective == pytest.approx(33.0)


def test_on_face_confines_the_session_to_the_optimal_face_and_puts_every_bound_back() -> None:
    """max 3 x1 + 2 x2 on wyndor is parallel to plant3 (3 x1 + 2 x2 <= 18): its optimal
    face is the edge from (2, 6) (plant2 binding) to (4, 3) (plant1 binding), value 18.
    On it x1 ranges over [2, 4]; off it, min x1 is 0.  A temporary row x1 + x2 <= 100 has
    no dual: its bounds stay, and are HiGHS's again after the block."""
    session = _wyndor()
    session.set_objective(np.array([3.0, 2.0]), "max", 0.0)
    with session.temporary_rows():
        row = session.add_row(np.array([0, 1]), np.array([1.0, 1.0]), -INF, 100.0)
        sol = session.solve(warm=False)
        assert sol.objective == pytest.approx(18.0)
        lower, upper = session.row_lower.copy(), session.row_upper.copy()
        with session.on_face(sol):
            assert session.row_lower[2] == session.row_upper[2] == 18.0
            for sense, end in (("min", 2.0), ("max", 4.0)):
                session.set_objective(np.array([1.0, 0.0]), sense, 0.0)
                on_face = session.solve(warm=False)
                assert on_face.x[0] == pytest.approx(end, abs=1e-9)
                assert 3 * on_face.x[0] + 2 * on_face.x[1] == pytest.approx(18.0, abs=1e-9)
            # the temporary row's bounds on the face: its own (no dual)
            _, _, lo, up, _ = session.highs.getRows(1, np.array([row], dtype=np.int32))
            assert (lo[0], up[0]) == (-INF, 100.0)
            session.set_row_bounds(np.array([row]), -INF, 50.0)
        assert session.row_lower == pytest.approx(lower) and session.row_upper == pytest.approx(
            upper
        )
        _, _, lo, up, _ = session.highs.getRows(1, np.array([row], dtype=np.int32))
        assert (lo[0], up[0]) == (-INF, 100.0)
        # the objective is the one before the block, and the whole feasible set is back
        assert session.cost == pytest.approx([3.0, 2.0]) and session.sense == "max"
        session.set_objective(np.array([1.0, 0.0]), "min", 0.0)
        assert session.solve(warm=False).x[0] == pytest.approx(0.0, abs=1e-9)


# -- bare arrays ----------------------------------------------------------------------------


def _bare_lp(**changes: object) -> dict:
    """max 2 x + 3 y + 1; row 0: x + y <= 4, row 1: x + 3 y <= 6; 0 <= x <= 3.5, y >= 0.

    Vertices and objective: (0, 0) 1; (3.5, 0) 8; (3.5, 0.5) 9.5; the corner of both rows
    (x + y = 4, x + 3 y = 6) (3, 1) 10; (0, 2) 7.  Optimum (3, 1), z = 10, both rows
    binding and x, y basic: duals from y0 + y1 = 2, y0 + 3 y1 = 3: (1.5, 0.5).
    """
    arrays: dict = {
        "cost": np.array([2.0, 3.0]),
        "offset": 1.0,
        "sense": "max",
        "A": sp.csc_array(np.array([[1.0, 1.0], [1.0, 3.0]])),
        "col_lower": np.array([0.0, 0.0]),
        "col_upper": np.array([3.5, INF]),
        "row_lower": np.array([-INF, -INF]),
        "row_upper": np.array([4.0, 6.0]),
    }
    arrays.update(changes)
    return arrays


def test_a_bare_array_lp_solves_to_its_hand_optimum() -> None:
    session = HighsSession.from_arrays(**_bare_lp())
    assert session.lp is None
    assert (session.num_cols, session.num_rows) == (2, 2)
    sol = session.solve()
    assert sol.optimal
    assert sol.x == pytest.approx([3.0, 1.0])
    assert sol.objective == pytest.approx(10.0)  # the offset included
    assert sol.row_activity == pytest.approx([4.0, 6.0])
    assert sol.row_dual == pytest.approx([1.5, 0.5])
    # the same LP minimized: (0, 0), z = 1
    session.set_objective(np.array([2.0, 3.0]), "min", 1.0)
    sol = session.solve()
    assert sol.x == pytest.approx([0.0, 0.0], abs=1e-9)
    assert sol.objective == pytest.approx(1.0)


def test_a_bare_array_lp_names_columns_and_rows_by_number() -> None:
    session = HighsSession.from_arrays(**_bare_lp())
    assert [session.col_name(j) for j in range(2)] == ["column 0", "column 1"]
    assert [session.row_name(i) for i in range(2)] == ["row 0", "row 1"]


def test_a_temporary_row_of_a_program_is_named_by_number() -> None:
    session = _wyndor()
    with session.temporary_rows():
        row = session.add_row(np.array([0]), np.array([1.0]), 5.0)  # x1 >= 5 vs plant1
        assert session.row_name(row) == "row 3"
        assert session.row_name(0) == "plant1"
        sol = session.solve()
        assert sol.status is Status.INFEASIBLE
        d = session.diagnose(sol, "the test")
        assert d.conflict == ("plant1 (upper bound)", "row 3 (lower bound)")


# -- statistics -----------------------------------------------------------------------------


def _packing_lp(seed: int) -> dict:
    """A packing LP that needs dozens of simplex iterations (20% of 60 x 80)."""
    return packing_lp(seed, 60, 80, 0.2)


def _highs_iterations(session: HighsSession) -> int:
    info = session.highs.getInfo()
    return max(0, int(info.simplex_iteration_count)) + max(0, int(info.ipm_iteration_count))


def test_statistics_count_solves_and_iterations() -> None:
    session = HighsSession.from_arrays(**_packing_lp(0))
    assert session.stats == Statistics()
    first = session.solve(warm=False)
    cold = _highs_iterations(session)
    assert cold > 10
    assert (session.stats.solves, session.stats.iterations) == (1, cold)
    again = session.solve()  # warm, nothing changed: no iterations, one more solve
    assert _highs_iterations(session) == 0
    assert (session.stats.solves, session.stats.iterations) == (2, cold)
    assert again.objective == pytest.approx(first.objective)
    third = session.solve(warm=False)
    assert (session.stats.solves, session.stats.iterations) == (
        3,
        cold + _highs_iterations(session),
    )
    assert session.stats.seconds == pytest.approx(first.seconds + again.seconds + third.seconds)


def test_one_statistics_shared_by_two_sessions_counts_both() -> None:
    shared = Statistics()
    a = HighsSession.from_arrays(**_packing_lp(1), stats=shared)
    _, lp = prepare(TEXTBOOK / "wyndor.yaml")
    b = HighsSession(lp, stats=shared)
    assert a.stats is shared and b.stats is shared
    a.solve(warm=False)
    from_a = _highs_iterations(a)
    b.solve(warm=False, presolve=False)
    from_b = _highs_iterations(b)
    assert from_a > 10 and from_b > 0
    assert shared.solves == 2
    assert shared.iterations == from_a + from_b
    # a session given no Statistics keeps its own
    c = HighsSession(lp)
    c.solve()
    assert c.stats is not shared and c.stats.solves == 1 and shared.solves == 2


# -- retries --------------------------------------------------------------------------------


def _answering(
    monkeypatch: pytest.MonkeyPatch, session: HighsSession, statuses: list[Status]
) -> list[tuple[bool, bool]]:
    """Make the session's solves answer ``statuses`` in turn (real solves underneath; an
    optimal answer once the list runs out); returns each solve's (warm, presolve)."""
    real, calls = session.solve, []

    def scripted(*, warm: bool = True, presolve: bool = True) -> object:
        calls.append((warm, presolve))
        sol = real(warm=warm, presolve=presolve)
        if len(calls) <= len(statuses):
            return dataclasses.replace(sol, status=statuses[len(calls) - 1])
        return sol

    monkeypatch.setattr(session, "solve", scripted)
    return calls


@pytest.mark.parametrize(
    ("warm", "failures", "expected"),
    [
        # warm, then cold, then cold without presolve, stopping at the first optimum
        (True, [], [(True, True)]),
        (True, [Status.NUMERICAL], [(True, True), (False, True)]),
        (True, [Status.INFEASIBLE] * 2, [(True, True), (False, True), (False, False)]),
        # cold from the start: the one retry left is without presolve
        (False, [Status.INFEASIBLE_OR_UNBOUNDED], [(False, True), (False, False)]),
    ],
)
def test_a_solve_without_an_optimum_is_retried_cold_then_without_presolve(
    monkeypatch: pytest.MonkeyPatch,
    warm: bool,
    failures: list[Status],
    expected: list[tuple[bool, bool]],
) -> None:
    session = HighsSession.from_arrays(**_packing_lp(0))
    calls = _answering(monkeypatch, session, failures)
    assert session.solve_retrying(warm=warm).optimal
    assert calls == expected


def test_the_last_attempt_is_returned_when_every_retry_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = HighsSession.from_arrays(**_packing_lp(0))
    statuses = [Status.NUMERICAL, Status.NUMERICAL, Status.INFEASIBLE]
    calls = _answering(monkeypatch, session, statuses)
    assert session.solve_retrying().status is Status.INFEASIBLE
    assert len(calls) == 3


@pytest.mark.parametrize("limit", [Status.TIME_LIMIT, Status.ITERATION_LIMIT, Status.INTERRUPTED])
def test_a_limit_or_an_interrupt_is_never_retried(
    monkeypatch: pytest.MonkeyPatch, limit: Status
) -> None:
    """A retry after ``--time-limit`` would double the time the user allowed a solve."""
    session = HighsSession.from_arrays(**_packing_lp(0))
    calls = _answering(monkeypatch, session, [limit])
    assert session.solve_retrying().status is limit
    assert calls == [(True, True)]


def test_a_real_time_limit_costs_one_solve() -> None:
    """Unscripted: a limit of 1e-9 s has passed at HiGHS's first check (see
    test_time_limit_is_its_own_outcome), and the ladder stops there."""
    session = HighsSession.from_arrays(
        **packing_lp(0, 300, 400, 0.05), options=Options(time_limit=1e-9)
    )
    assert session.solve_retrying().status is Status.TIME_LIMIT
    assert session.stats.solves == 1


# -- diagnosis ------------------------------------------------------------------------------


def test_an_infeasible_program_is_diagnosed_by_its_conflicting_rows() -> None:
    # capacity[2]: x[2] <= 4 against commitment: x[2] >= 6; unrelated (y <= 3) and the
    # other capacities are not in the irreducible subset, nor x[2]'s own bounds [0, 10]
    _, lp = prepare(MODELS / "infeasible.yaml")
    session = HighsSession(lp)
    sol = session.solve()
    assert sol.status is Status.INFEASIBLE
    conflict = ("capacity[2] (upper bound)", "commitment (lower bound)")
    assert session.diagnose(sol, "the test") == Diagnosis(
        Status.INFEASIBLE,
        "the test is infeasible: conflicting constraints " + ", ".join(conflict),
        conflict=conflict,
    )


def test_an_infeasible_bare_lp_names_rows_and_bounds_by_number() -> None:
    # x + y <= 4 (row 0) against x >= 3 (column 0's lower bound) and y >= 2 (row 1)
    session = HighsSession.from_arrays(
        **_bare_lp(
            A=sp.csc_array(np.array([[1.0, 1.0], [0.0, 1.0]])),
            col_lower=np.array([3.0, 0.0]),
            row_lower=np.array([-INF, 2.0]),
            row_upper=np.array([4.0, INF]),
        )
    )
    sol = session.solve()
    assert sol.status is Status.INFEASIBLE
    # rows first, then columns' bounds; each row and column named by its number
    assert session.diagnose(sol, "it") == Diagnosis(
        Status.INFEASIBLE,
        "it is infeasible: conflicting constraints row 0 (upper bound), row 1 (lower bound)"
        " and bounds of column 0 (lower bound)",
        conflict=("row 0 (upper bound)", "row 1 (lower bound)", "column 0 (lower bound)"),
    )


def test_an_unbounded_program_is_diagnosed_by_its_ray() -> None:
    # max x + 2 y, x <= 4: y grows without limit, x stays (bounded on both sides)
    _, lp = prepare(MODELS / "unbounded.yaml")
    session = HighsSession(lp)
    sol = session.solve()
    assert sol.status is Status.UNBOUNDED
    assert session.diagnose(sol, "the test") == Diagnosis(
        Status.UNBOUNDED,
        "the test is unbounded: the objective improves without limit along y",
        ray=("y",),
    )


def test_an_unbounded_bare_lp_names_its_ray_by_number() -> None:
    # _bare_lp without its rows' upper bounds: y grows without limit, x stays at most 3.5
    session = HighsSession.from_arrays(**_bare_lp(row_upper=np.array([INF, INF])))
    sol = session.solve()
    assert sol.status is Status.UNBOUNDED
    d = session.diagnose(sol, "it")
    assert d.status is Status.UNBOUNDED
    assert d.ray == ("column 1",)
