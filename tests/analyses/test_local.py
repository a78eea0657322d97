"""The third rule of a best response (analyses/local.py), on the hand model
tests/models/compare/slack_spent.yaml (worked out in its description): the canonical
response is sought on the optimal face of the tie-break LP, so it sits exactly at the
tie-break's value, and a face that is wrong is caught by that value."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import TESTS

import kpidesign.solver.session as session_module
from kpidesign.analyses.local import respond, scorecard
from kpidesign.api import prepare
from kpidesign.solver import HighsSession

MODEL = TESTS / "models" / "compare" / "slack_spent.yaml"


def _setup() -> tuple:
    spec, lp = prepare(MODEL)
    session = HighsSession(lp)
    x = np.zeros(lp.num_cols)
    x[lp.columns_of("b")] = 10.0
    x[lp.columns_of("made")] = 1e6
    card = scorecard(lp, "sales", dict(spec.departments["sales"].weights), x)
    return lp, session, x, card


def _ab(lp, plan: np.ndarray) -> tuple[float, float]:
    return float(plan[lp.columns_of("a")][0]), float(plan[lp.columns_of("b")][0])


def test_the_canonical_response_is_at_the_tie_breaks_value_not_within_its_slack() -> None:
    """(10, 0), company value 1,000,020 exactly; holding the value by a row within
    tie_slack gave (9.999, 0.001), 0.001 below it."""
    lp, session, x, card = _setup()
    resp = respond(session, card, x)
    assert _ab(lp, resp.optimistic) == pytest.approx((10.0, 0.0), abs=1e-9)
    assert lp.objective.at(resp.optimistic) == pytest.approx(1_000_020.0, abs=1e-9)
    # the pessimistic tie-break (min 2a + b at volume 10) is the current plan itself
    assert resp.pessimistic is not None
    assert _ab(lp, resp.pessimistic) == pytest.approx((0.0, 10.0), abs=1e-9)
    # no temporary row is left behind (the tie-break's, or the face's fallback row)
    assert session.num_rows == lp.num_rows
    assert session.highs.getNumRow() == lp.num_rows


def test_a_face_that_is_not_optimal_is_caught_and_the_value_held_by_a_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the face's bounds left as the local problem's (as if every dual were 0), the
    plan closest to (0, 10) there is (0, 10) itself, 20 below the tie-break's value: the
    value check rejects it, and the row within tie_slack gives (9.999, 0.001)."""
    monkeypatch.setattr(
        session_module, "optimal_face", lambda solution, *bounds: tuple(b.copy() for b in bounds)
    )
    lp, session, x, card = _setup()
    resp = respond(session, card, x, pessimistic=False)
    a, b = _ab(lp, resp.optimistic)
    slack = 1e-9 * (1.0 + 1_000_020.0)
    assert lp.objective.at(resp.optimistic) >= 1_000_020.0 - slack - 1e-9
    assert a + b == pytest.approx(10.0, abs=1e-7)
    assert a == pytest.approx(10.0 - slack, abs=1e-6)
