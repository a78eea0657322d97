"""A ratio mixed with linear KPIs is solved exactly, with a certificate (issue 10, item 5).

``models/ratio/express.yaml`` is worked out by hand in its description; random small local
problems are checked against brute force: the best score on each slice ``D = t`` of a fine
grid (one scipy LP each, the score being linear on a slice), refined around the best grid
points, and random feasible plans.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize as so
from click.testing import CliRunner
from conftest import TESTS

import kpidesign
from kpidesign.analyses.common import system_optimum
from kpidesign.analyses.inverse import InverseLP, local_dual_data
from kpidesign.analyses.local import (
    Scorecard,
    fix_others,
    free_columns,
    kpi_values,
    normalized_kpi_row,
    respond,
    scorecard,
)
from kpidesign.analyses.mixed_ratio import best_mixed_response
from kpidesign.analyses.scales import as_scales
from kpidesign.api import prepare
from kpidesign.cli import main
from kpidesign.model.program import LinearProgram
from kpidesign.solver import HighsSession

EXPRESS = TESTS / "models" / "ratio" / "express.yaml"
FREIGHT, SAME = "logistics.freight_per_unit", "logistics.same_month_units"


def _express() -> tuple:
    spec, lp = prepare(EXPRESS)
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    express = lp.columns_of("express")[0]
    return lp, session, x_b, express


def test_express_ships_the_maximum_and_the_company_loses_47_percent() -> None:
    r = kpidesign.compare(EXPRESS)
    assert r.objectives["status_quo"] == pytest.approx(20)
    assert r.objectives["aligned"] == pytest.approx(38)
    assert r.status_quo_pessimistic == pytest.approx(20)
    assert r.misalignment_cost == pytest.approx(9 / 19)
    res = CliRunner().invoke(main, ["compare", str(EXPRESS), "--format", "json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["plans"]["status_quo"]["objective"] == pytest.approx(20)
    assert out["plans"]["aligned"]["objective"] == pytest.approx(38)
    assert out["misalignment_cost"] == pytest.approx(9 / 19)
    logistics = out["departments"]["logistics"]
    assert logistics["unilateral_loss"] == pytest.approx(18)
    assert logistics["unilateral_loss_pessimistic"] == pytest.approx(18)
    assert logistics["kpis"]["freight_per_unit"]["status_quo"] == pytest.approx(3)
    assert logistics["kpis"]["same_month_units"]["status_quo"] == pytest.approx(20)
    assert out["decentralized"]["rounds"] == 2 and out["decentralized"]["converged"]
    assert not any("lineariz" in note for note in out["notes"])


def test_express_response_is_certified() -> None:
    lp, session, x_b, express = _express()
    card = scorecard(lp, "logistics", {FREIGHT: 0.8, SAME: 0.2}, x_b)
    assert card.mixed is not None and card.exact
    assert card.value(x_b) == pytest.approx(-0.6)  # U(2) = -32/15 + 16/12 + 0.2
    resp = respond(session, card, x_b)
    assert resp.score == pytest.approx(0.4, abs=1e-9)  # U(20) = -32/15 + 16/30 + 2
    assert resp.certified and not resp.notes
    assert resp.score <= resp.bound <= resp.score + 1e-7 * (1 + abs(resp.score))
    assert resp.optimistic[express] == pytest.approx(20)
    assert resp.pessimistic is not None and resp.pessimistic[express] == pytest.approx(20)
    # what the linearization at B predicted: slope -1/9 + 1/10 = -1/90 per express unit, so
    # a department facing it keeps express at 2
    assert card.cost is not None and card.cost[express] == pytest.approx(-1 / 90)


def test_express_ties_at_a_same_month_weight_of_one_tenth() -> None:
    # U(20) - U(2) = 10w - 1 = 0 at w = 0.1: two tied responses at different denominators
    out = kpidesign.evaluate(EXPRESS, scheme={"logistics": {FREIGHT: 0.9, SAME: 0.1}}).to_dict()
    assert out["plans"]["status_quo"]["objective"] == pytest.approx(38)
    assert out["status_quo_pessimistic"]["objective"] == pytest.approx(20)
    lp, session, x_b, express = _express()
    resp = respond(session, scorecard(lp, "logistics", {FREIGHT: 0.9, SAME: 0.1}, x_b), x_b)
    assert resp.score == pytest.approx(-0.8, abs=1e-9) and resp.certified
    assert resp.optimistic[express] == pytest.approx(2)
    assert resp.pessimistic is not None and resp.pessimistic[express] == pytest.approx(20)


def test_kpi_values_and_a_cut_bring_the_same_month_weight_to_one_tenth() -> None:
    lp, session, x_b, express = _express()
    names = [FREIGHT, SAME]
    z_star = x_b
    z_resp = x_b.copy()
    z_resp[express] = 20
    f_star, f_resp = kpi_values(lp, names, z_star, x_b), kpi_values(lp, names, z_resp, x_b)
    np.testing.assert_allclose(f_star, [-1.0, 1.0])  # -1.5/1.5, 2/2
    np.testing.assert_allclose(f_resp - f_star, [-1.0, 9.0])  # (-3 + 1.5)/1.5, (20 - 2)/2
    free = free_columns(lp, "logistics")
    scales = as_scales(lp, x_b, names)
    n = lp.num_cols
    costs = np.array([normalized_kpi_row(lp.kpis[k], n, scales, z_star)[0] for k in names])
    inverse = InverseLP(local_dual_data(lp, free, z_star), costs[:, free], np.ones(2))
    current = np.array([0.0, 1.0])
    eps, _ = inverse.min_gap("express")
    assert eps == pytest.approx(0.0, abs=1e-9)
    # on the linearization the closest exact weights put 5/23 on same-month
    assert inverse.closest(eps, current, "express")[1] == pytest.approx(5 / 23)
    assert inverse.gap_of(np.array([0.8, 0.2]), "express") == pytest.approx(0.0, abs=1e-9)
    inverse.add_cut(f_resp - f_star)  # after min_gap, closest and gap_of
    eps, _ = inverse.min_gap("express")
    assert eps == pytest.approx(0.0, abs=1e-9)
    assert inverse.closest(eps, current, "express")[1] == pytest.approx(0.1)
    # the cut holds for fixed weights too: 0.2 on same-month now has gap 10*0.2 - 1 = 1
    assert inverse.gap_of(np.array([0.8, 0.2]), "express") == pytest.approx(1.0)
    with pytest.raises(ValueError, match="2 finite coefficients"):
        inverse.add_cut(np.array([1.0, np.nan]))


# -- brute force on random small models ------------------------------------------------------


def _number(v: float) -> str:
    return f"{v:.3f}"


def _linear(coefs: np.ndarray, names: list[str], constant: float = 0.0) -> str:
    terms = [f"{_number(c)} * {n}" for c, n in zip(coefs, names, strict=True)]
    return " + ".join([_number(constant), *terms])


def _random_model(rng: np.random.Generator) -> tuple[str, dict[str, float]]:
    """A department with 2–4 bounded variables under 1–3 random rows (0 is feasible), a
    ratio with a positive denominator, 1–2 linear KPIs, random weights; and ``idle``, in
    the objective only, which the tie-breaks must push to opposite ends."""
    n = int(rng.integers(2, 5))
    xs = [f"x{i}" for i in range(n)]
    ub = rng.uniform(1, 10, n)
    variables = "".join(
        f"      {v}: {{lb: 0, ub: {_number(u)}}}\n" for v, u in zip(xs, ub, strict=True)
    )
    rows = ""
    for i in range(int(rng.integers(1, 4))):
        lhs, rhs = _linear(rng.uniform(-1, 2, n), xs), _number(rng.uniform(2, 12))
        rows += f'  c{i}: {{expr: "{lhs} <= {rhs}"}}\n'

    num = _linear(rng.uniform(-3, 5, n), xs, rng.uniform(-5, 10))
    den = _linear(rng.uniform(0, 3, n), xs, rng.uniform(0.5, 3))
    kpis = f'      ratio: {{{rng.choice(["max", "min"])}: "({num}) / ({den})"}}\n'
    k = int(rng.integers(1, 3))
    for i in range(k):
        expr = _linear(rng.uniform(-2, 3, n), xs)
        kpis += f'      lin{i}: {{{rng.choice(["max", "min"])}: "{expr}"}}\n'
    w = rng.dirichlet(np.ones(k + 1))
    weights = {"d.ratio": float(w[0])} | {f"d.lin{i}": float(w[i + 1]) for i in range(k)}
    objective = _linear(rng.uniform(-2, 3, n), xs) + f" + {_number(rng.choice([-1.0, 1.0]))} * idle"
    text = (
        "kpidesign: 1\nname: random_mixed\ndepartments:\n  d:\n    variables:\n"
        f"{variables}      idle: {{lb: 0, ub: 3}}\n    kpis:\n{kpis}"
        f'    incentive: {{ratio: 1}}\nconstraints:\n{rows}objective:\n  max: "{objective}"\n'
    )
    return text, weights


def _slice_best(lp, card, t: float) -> tuple[float, np.ndarray | None]:
    """The best true score on the slice D = t (scipy's LP: the score is linear there)."""
    term = card.mixed
    n = lp.num_cols
    num, den = term.kpi.numerator, term.kpi.denominator
    c = term.linear + term.coef / t * num.dense(n)
    const = term.constant + term.coef * num.constant / t
    A = lp.A.toarray()
    upper, lower = np.isfinite(lp.row_upper), np.isfinite(lp.row_lower)
    res = so.linprog(
        -c,
        A_ub=np.vstack([A[upper], -A[lower]]),
        b_ub=np.concatenate([lp.row_upper[upper], -lp.row_lower[lower]]),
        A_eq=den.dense(n)[None, :],
        b_eq=[t - den.constant],
        bounds=list(zip(lp.col_lower, lp.col_upper, strict=True)),
        method="highs",
    )
    return (-res.fun + const, res.x) if res.status == 0 else (-np.inf, None)


def _brute_force(lp, card, rng: np.random.Generator) -> float:
    """The best score found on a 401-point grid of the denominator (refined by a bounded
    scalar search around the 3 best points) and over 20,000 random feasible plans."""
    den = card.mixed.kpi.denominator.dense(lp.num_cols)
    d0 = card.mixed.kpi.denominator.constant
    A = lp.A.toarray()
    ends = []
    for sign in (1, -1):
        res = so.linprog(
            sign * den,
            A_ub=np.vstack([A[np.isfinite(lp.row_upper)], -A[np.isfinite(lp.row_lower)]]),
            b_ub=np.concatenate(
                [lp.row_upper[np.isfinite(lp.row_upper)], -lp.row_lower[np.isfinite(lp.row_lower)]]
            ),
            bounds=list(zip(lp.col_lower, lp.col_upper, strict=True)),
            method="highs",
        )
        ends.append(sign * res.fun + d0)
    grid = np.linspace(ends[0], ends[1], 401)
    values = np.array([_slice_best(lp, card, t)[0] for t in grid])
    best = float(values.max())
    for i in np.argsort(-values)[:3]:
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        if hi > lo:
            r = so.minimize_scalar(
                lambda t: -_slice_best(lp, card, t)[0], bounds=(lo, hi), method="bounded"
            )
            best = max(best, -float(r.fun))
    pts = rng.uniform(lp.col_lower, lp.col_upper, size=(20000, lp.num_cols))
    act = pts @ A.T
    ok = np.all((act <= lp.row_upper + 1e-12) & (act >= lp.row_lower - 1e-12), axis=1)
    sampled = [card.value(p) for p in pts[ok]]
    return max(best, max(sampled, default=-np.inf))


def _random_setup(
    tmp_path: Path, seed: int
) -> tuple[LinearProgram, HighsSession, np.ndarray, Scorecard, np.random.Generator]:
    """A random mixed-ratio model of ``seed``: its program, a session, plan B, the
    department's scorecard there, and the random stream (for the brute force)."""
    rng = np.random.default_rng(seed)
    text, weights = _random_model(rng)
    path = tmp_path / "random_mixed.yaml"
    path.write_text(text)
    _, lp = prepare(path)
    session = HighsSession(lp)
    x_b = system_optimum(session).x
    return lp, session, x_b, scorecard(lp, "d", weights, x_b), rng


@pytest.mark.parametrize("seed", range(16))
def test_the_exact_response_matches_brute_force(tmp_path: Path, seed: int) -> None:
    lp, session, x_b, card, rng = _random_setup(tmp_path, seed)
    assert card.mixed is not None
    resp = respond(session, card, x_b)
    brute = _brute_force(lp, card, rng)
    scale = 1.0 + abs(resp.score)
    assert resp.certified, resp.notes
    assert resp.score >= brute - 1e-7 * scale  # never worse than brute force
    assert brute <= resp.bound + 1e-7 * scale  # brute force never beats the certificate
    assert resp.bound - resp.score <= 1e-7 * scale
    for plan in (resp.optimistic, resp.pessimistic):
        assert plan is not None
        assert card.value(plan) >= resp.score - 1e-7 * scale  # both are best responses
        act = lp.A @ plan
        assert np.all(act <= lp.row_upper + 1e-6) and np.all(act >= lp.row_lower - 1e-6)
    # idle is in the objective only: the tie-breaks put it at opposite ends
    idle = lp.columns_of("idle")[0]
    good = 3.0 if lp.objective.dense(lp.num_cols)[idle] > 0 else 0.0
    assert resp.optimistic[idle] == pytest.approx(good)
    assert resp.pessimistic[idle] == pytest.approx(3.0 - good)


@pytest.mark.parametrize("seed", range(4))
def test_without_a_certificate_the_bound_is_reported_and_still_holds(
    tmp_path: Path, seed: int
) -> None:
    lp, session, x_b, card, rng = _random_setup(tmp_path, 100 + seed)
    free = free_columns(lp, "d")
    fix_others(session, lp, free, x_b)
    with session.temporary_rows():
        out = best_mixed_response(
            session, card.mixed, free, x_b, what="d", max_slices=2, pessimistic=False
        )
    brute = _brute_force(lp, card, rng)
    assert brute <= out.bound + 1e-7 * (1.0 + abs(out.bound))
    if not out.certified:
        assert any("node limit" in note and "proven bound" in note for note in out.notes)
    else:
        assert out.bound - out.score <= 1e-7 * (1.0 + abs(out.score))


def test_two_slices_a_rounding_apart_bound_without_dividing_by_zero() -> None:
    # seen in CI (numpy 1.26, highspy 1.13): two solved slices whose t differ in the last
    # bit have the same 1/t, and the no-score-row weight was 0/0 (a RuntimeWarning, an
    # error under the suite's filterwarnings); at one point both duals' bounds hold
    import warnings

    import numpy as np

    from kpidesign.analyses.mixed_ratio import _combined, _Point

    t1 = np.float64(1958.6410175729116)
    t2 = np.nextafter(t1, np.inf)
    assert 1.0 / t1 == 1.0 / t2
    p1 = _Point(t1, 10.0, 0.5, np.zeros(1))
    p2 = _Point(t2, 9.0, -0.5, np.zeros(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _combined(p1, p2)(float(t1)) == pytest.approx(9.0)
