"""The alignment score: congruence of a scorecard with the company objective over the moves
a department can really make (total effects, state tied by equality rows eliminated).

Hand solutions are in the description of tests/models/compare/alignment.yaml; the numbers
there were checked with numpy (the cosines below are recomputed from the vectors)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import TESTS

import kpidesign
from kpidesign.analyses.alignment import alignment_score, feasible_moves
from kpidesign.analyses.local import free_columns
from kpidesign.model.program import LinearProgram

MODEL = TESTS / "models" / "compare" / "alignment.yaml"
MANUFACTURER = TESTS.parent / "models" / "manufacturer.yaml"

#: z* of the alignment model, by column name (no resources: it is the reference plan too)
Z_STAR = {"made": 10.0, "stock": 10.0, "small": 4.0, "large": 6.0, "shipped": 10.0}


def _plan(lp: LinearProgram, values: dict[str, float]) -> np.ndarray:
    x = np.zeros(lp.num_cols)
    for j in range(lp.num_cols):
        x[j] = values[lp.col_name(j)]
    return x


def _cos(a: list[float], b: list[float]) -> float:
    u, v = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


@pytest.fixture(scope="module")
def model() -> tuple[LinearProgram, np.ndarray]:
    _, lp = kpidesign.prepare(MODEL)
    return lp, _plan(lp, Z_STAR)


def test_exactly_aligned_scheme_scores_one_where_raw_partials_are_negative(
    model: tuple[LinearProgram, np.ndarray],
) -> None:
    lp, z = model
    # the raw partials over production's free columns (made, stock, shipped): output
    # (1, 0, 0) against the company's (-1, 4, 2), cosine -1/sqrt(21): what the old score said
    free = free_columns(lp, "production")
    output = lp.kpis["production.output"].numerator.dense(lp.num_cols)[free]
    company = lp.objective.dense(lp.num_cols)[free]
    assert _cos(output, company) == pytest.approx(-1 / np.sqrt(21))
    # the one feasible move (stocking ties stock to made; packing_total pins shipped) is
    # (made, stock) = (1, 1): total effects +1 and 4 - 1 = +3, cosine 1
    assert alignment_score(lp, "production", {"production.output": 1.0}, z, z) == pytest.approx(1)
    # and the scheme is exact: design keeps it and reports alignment 1, now and designed
    prod = kpidesign.design(MODEL).to_dict()["departments"]["production"]
    assert prod["exact"] is True
    assert prod["weights"] == {"output": pytest.approx(1.0)}
    assert prod["alignment"] == {"current": pytest.approx(1.0), "designed": pytest.approx(1.0)}


def test_opposed_scheme_scores_minus_one(model: tuple[LinearProgram, np.ndarray]) -> None:
    lp, z = model
    # stock_held (min stock): total effect of made -1 against +3
    weights = {"production.stock_held": 1.0}
    assert alignment_score(lp, "production", weights, z, z) == pytest.approx(-1)


def test_two_decisions_score_their_total_effects(
    model: tuple[LinearProgram, np.ndarray],
) -> None:
    lp, z = model
    # packing moves (small, large, shipped) with shipped = small + large (stock pinned): the
    # company's total effects are 2 - 1 = 1 for each pack
    assert _cos([1, 0], [1, 1]) == pytest.approx(1 / np.sqrt(2))
    small = {"packing.small_packs": 1.0}
    assert alignment_score(lp, "packing", small, z, z) == pytest.approx(1 / np.sqrt(2))
    assert alignment_score(lp, "packing", {"packing.packs": 1.0}, z, z) == pytest.approx(1)
    # weights need not sum to 1: only their ratio matters; 0 weights are ignored
    both = {"packing.small_packs": 2.0, "packing.packs": 0.0}
    assert alignment_score(lp, "packing", both, z, z) == pytest.approx(1 / np.sqrt(2))


def test_moves_are_the_null_space_of_the_equality_rows(
    model: tuple[LinearProgram, np.ndarray],
) -> None:
    lp, _ = model
    free, basis = feasible_moves(lp, "packing")
    names = [lp.col_name(j) for j in free]
    assert sorted(names) == ["large", "shipped", "small", "stock"]
    assert basis.shape == (4, 2)  # stock pinned, shipped = small + large
    np.testing.assert_allclose(basis.T @ basis, np.eye(2), atol=1e-12)
    at = {name: basis[i] for i, name in enumerate(names)}
    np.testing.assert_allclose(at["stock"], 0.0, atol=1e-12)
    np.testing.assert_allclose(at["shipped"], at["small"] + at["large"], atol=1e-12)


def test_the_unit_of_the_state_does_not_matter(write_model: Callable[..., Path]) -> None:
    # shipped counted in tenths of a pack (shipped == 10 (small + large), worth 0.2 each):
    # nothing the department decides or is paid on changes, so neither does the score.  A
    # plain projection onto the moves in the space of all free columns weighs the state a
    # move drags along: 1/2 in packs, 0.0704 in tenths (basis (1, 0, 10), (0, 1, 10), Gram
    # matrix [[101, 100], [100, 101]])
    text = MODEL.read_text()
    text = text.replace('"shipped == small + large"', '"shipped == 10 * small + 10 * large"')
    text = text.replace("+ 2 * shipped", "+ 0.2 * shipped")
    small = {"packing.small_packs": 1.0}
    for path, shipped, plain in ((MODEL, 10.0, 0.5), (write_model(text), 100.0, 0.0703598)):
        _, lp = kpidesign.prepare(path)
        z = _plan(lp, {**Z_STAR, "shipped": shipped})
        assert alignment_score(lp, "packing", small, z, z) == pytest.approx(1 / np.sqrt(2))
        free, basis = feasible_moves(lp, "packing")
        score = lp.kpis["packing.small_packs"].numerator.dense(lp.num_cols)[free]
        company = lp.objective.dense(lp.num_cols)[free]
        assert _cos(basis.T @ score, basis.T @ company) == pytest.approx(plain, rel=1e-5)


def test_a_ratio_enters_through_its_gradient_at_the_plan(
    model: tuple[LinearProgram, np.ndarray],
) -> None:
    lp, z = model
    # small_share = small / (small + large) = 0.4 at z*: gradient (0.06, -0.04)
    gradient = (np.array([1.0, 0.0]) - 0.4 * np.array([1.0, 1.0])) / 10
    np.testing.assert_allclose(gradient, [0.06, -0.04])
    assert _cos(gradient, [1, 1]) == pytest.approx(0.2 / np.sqrt(1.04))
    share = {"packing.small_share": 1.0}
    assert alignment_score(lp, "packing", share, z, z) == pytest.approx(0.2 / np.sqrt(1.04))
    # mixed half and half with packs, each per its reference value (0.4 and 10):
    # 0.5 (0.06, -0.04) / 0.4 + 0.5 (1, 1) / 10 = (0.125, 0), cosine 1/sqrt(2)
    np.testing.assert_allclose(
        0.5 * gradient / 0.4 + 0.5 * np.ones(2) / 10, [0.125, 0.0], atol=1e-15
    )
    mixed = {"packing.small_share": 0.5, "packing.packs": 0.5}
    assert alignment_score(lp, "packing", mixed, z, z) == pytest.approx(1 / np.sqrt(2))
    # undefined where the denominator is 0: no gradient, no score
    empty = _plan(lp, dict.fromkeys(Z_STAR, 0.0))
    assert np.isnan(alignment_score(lp, "packing", share, z, empty))


def test_nothing_to_align_is_nan(model: tuple[LinearProgram, np.ndarray]) -> None:
    lp, z = model
    assert np.isnan(alignment_score(lp, "packing", {}, z, z))  # no incentive
    assert np.isnan(alignment_score(lp, "packing", {"packing.packs": 0.0}, z, z))
    # stock is pinned for packing (made fixed): a score on it is indifferent to every move
    assert np.isnan(alignment_score(lp, "packing", {"production.stock_held": 1.0}, z, z))


def test_two_departments_by_hand() -> None:
    # inventory == made - sold; profit 5 sold - 2 made - inventory; z* made = sold = 6.
    # Production moves made, inventory following (sold fixed): total effect of made on
    # profit -2 - 1 = -3.  Paid on profit: -3 against -3, cosine 1 (the raw partials over
    # (made, inventory), (-2, -1) against themselves, also said 1).  Paid on output: +1
    # against -3, cosine -1: making more only costs (the raw partials said -2/sqrt(5)).
    # Sales moves sold, inventory following: 5 + 1 = 6 on profit, 1 on volume: cosine 1
    # (the raw partials (1, 0) against (5, -1) said 5/sqrt(26)).
    _, lp = kpidesign.prepare(TESTS / "models" / "compare" / "two_departments.yaml")
    z = _plan(lp, {"made": 6.0, "sold": 6.0, "inventory": 0.0})
    assert alignment_score(lp, "production", {"profit": 1.0}, z, z) == pytest.approx(1.0)
    output = {"production.output": 1.0}
    assert alignment_score(lp, "production", output, z, z) == pytest.approx(-1.0)
    assert alignment_score(lp, "sales", {"sales.volume": 1.0}, z, z) == pytest.approx(1.0)
    assert np.isnan(alignment_score(lp, "sales", {}, z, z))


def test_exact_designs_on_the_seed_are_not_opposed() -> None:
    # before: production's exact design scored -0.14, sales' scheme 0.0 and finance's 3e-5
    departments = kpidesign.design(MANUFACTURER).to_dict()["departments"]
    for name, d in departments.items():
        designed = d["alignment"]["designed"]
        if d["keeps_current_scheme"]:
            # sales moves no KPI at z* and keeps volume, which is opposed to the company
            # along the moves it could make: the score says so (-0.815)
            assert designed == pytest.approx(d["alignment"]["current"])
            continue
        if d["exact"] and designed is not None and np.isfinite(designed):
            assert designed >= 0.0, name
    # finance moves credit (cash follows through the cash balance); interest is the only
    # term of the company objective that credit moves, so interest is perfectly aligned
    assert departments["finance"]["alignment"]["designed"] == pytest.approx(1.0)
    assert departments["production"]["alignment"]["designed"] > 0.5
