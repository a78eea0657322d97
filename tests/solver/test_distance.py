"""The weighted L1 distance as an LP: a distance column only where the reference lies
strictly inside a column's bounds, the distance linear elsewhere.  Checked by hand, and
against the textbook formulation (a distance column for every entry) solved by scipy's
own HiGHS, an independent path."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import packing_lp
from scipy.optimize import linprog

from kpidesign.solver import HighsSession
from kpidesign.solver.distance import L1Distance


def test_the_side_of_each_column_by_hand() -> None:
    # bounds [0, 10] with references 0, 10, 5, -1 and 11; a fixed column [3, 3] at 3 and 4
    lower = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 3.0, 3.0])
    upper = np.array([10.0, 10.0, 10.0, 10.0, 10.0, 3.0, 3.0])
    reference = np.array([0.0, 10.0, 5.0, -1.0, 11.0, 3.0, 4.0])
    d = L1Distance.of(np.arange(7), reference, lower, upper)
    assert d.side.tolist() == [1, -1, 0, 1, -1, 1, -1]
    assert d.inner.tolist() == [2] and d.columns == 1
    # 2|x0 - 0| + 3|x1 - 10| + 5|x2 - 5| + 7|x3 + 1| + |x4 - 11| + |x5 - 3| + |x6 - 4|
    # = 2 x0 - 3 x1 + 5 t + 7 x3 - x4 + x5 - x6 + (30 + 7 + 11 - 3 + 4)
    cost, constant = d.cost(np.array([2.0, 3.0, 5.0, 7.0, 1.0, 1.0, 1.0]), 7)
    assert cost.tolist() == [2.0, -3.0, 0.0, 7.0, -1.0, 1.0, -1.0, 5.0]
    assert constant == pytest.approx(49.0)
    rows, lo, hi = d.rows(7)
    # t - x2 >= -5 and t + x2 >= 5
    assert rows.toarray().tolist() == [[0, 0, -1, 0, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0, 0, 1]]
    assert lo.tolist() == [-5.0, 5.0] and hi.tolist() == [np.inf, np.inf]


def _textbook_distance(lp: dict, cols: np.ndarray, reference: np.ndarray, w: np.ndarray) -> float:
    """min sum_i w_i t_i, t_i >= |x[cols_i] - r_i|, over lp's feasible set: a distance
    column for every entry, solved by scipy.optimize.linprog."""
    A = sp.csr_array(lp["A"])
    m, n = A.shape
    k = cols.size
    pick = sp.csr_array((np.ones(k), (np.arange(k), cols)), shape=(k, n))
    eye = sp.identity(k, format="csr")
    # as A_ub z <= b_ub: A x <= b, x - t <= r, -x - t <= -r
    A_ub = sp.vstack(
        [sp.hstack([A, sp.csr_array((m, k))]), sp.hstack([pick, -eye]), sp.hstack([-pick, -eye])]
    )
    b_ub = np.concatenate([lp["row_upper"], reference, -reference])
    bounds = list(zip(lp["col_lower"], lp["col_upper"], strict=True)) + [(0, None)] * k
    res = linprog(
        np.concatenate([np.zeros(n), w]), A_ub=A_ub, b_ub=b_ub, bounds=bounds, method="highs"
    )
    assert res.status == 0
    return float(res.fun)


@pytest.mark.parametrize("seed", range(6))
def test_the_closest_point_is_as_close_as_with_a_distance_column_per_entry(seed: int) -> None:
    """References drawn at the lower bound, the upper bound, inside and outside the bounds
    (the textbook LP would need 60 distance columns; the session's copy needs those inside
    only), weights random: the same distance to 1e-7."""
    lp = packing_lp(seed, 30, 60, 0.2)
    rng = np.random.default_rng(100 + seed)
    cols = np.sort(rng.choice(60, size=40, replace=False))
    reference = rng.choice([0.0, 10.0, -2.0, 12.0], size=40)
    inside = rng.random(40) < 0.4
    reference[inside] = rng.uniform(0.5, 9.5, int(inside.sum()))
    weights = rng.uniform(1.0, 2.0, 40)
    session = HighsSession.from_arrays(**lp)
    full = np.zeros(60)
    full[cols] = reference
    sol = session.closest(full, cols, weights)
    assert sol.optimal
    want = _textbook_distance(lp, cols, reference, weights)
    assert sol.objective == pytest.approx(want, rel=1e-7, abs=1e-7)
    got = float(weights @ np.abs(sol.x[cols] - reference))
    assert got == pytest.approx(want, rel=1e-7, abs=1e-7)
    distance = L1Distance.of(cols, reference, lp["col_lower"][cols], lp["col_upper"][cols])
    assert distance.columns == int(inside.sum())
