"""The alignment score (after Baker 2002): congruence between a department's scorecard and
the company objective over what the department can really change.

What the department can change.  In its local problem (:mod:`local`) the department moves
its free columns F (its own decisions and the shared state) while every other column stays
fixed, so an equality row touching F allows only moves ``d`` with ``A_E[:, F] d = 0``: an
inventory balance moves the stock with production, a cash balance moves cash with every
payment.  The moves it can make are that null space N.  Raw partial derivatives over the
shared state are not moves: "one more unit of stock, production unchanged" violates the
balance.  Taking them as moves is what made exactly aligned schemes score negative (a
scorecard paying on output against a company that values the stock it becomes).

Total effects.  Within N, a move is measured by what the department decides: the state it
drags along is eliminated, as in Baker's congruence over the agent's actions.  Where the
equality rows determine the state from the decisions, the score's total effect of a
decision ``x_j`` is ``dU/dx_j = ∂U/∂x_j + sum_s ∂U/∂s · ds/dx_j``, likewise for the
company, and the score is the cosine of these two vectors over the feasible decision moves
(the decisions themselves may be tied by equalities among them: the cosine is then taken
over the moves those allow).  State the decisions do not determine (a shared column no
equality ties, or a direction of N that leaves every decision unchanged) is a move of its
own, measured by its own length.  Computation: an orthonormal basis Q of N, and the
singular value decomposition of its decision rows ``Q_D = U Σ Vᵀ``; in the coordinates
``Σ Vᵀ y`` (and ``y`` itself along the kernel of ``Q_D``) the length of a move is the length
of its decision part, and a gradient ``g`` becomes ``Σ⁻¹ Vᵀ Qᵀ g``.

Why not the plain projection onto N in the space of all free columns, or the cone of
feasible directions at z?  The plain projection counts the state a move drags along as part
of its length: with ``s = x1 + x2``, a score on ``x1`` against a company that values ``s``
scores 1/2 instead of 1/√2 (total effects (1, 0) and (1, 1)), and the number changes with
the unit the state is measured in (``s`` in tenths gives another value), although nothing
the department decides or is paid on has changed.  The cone of feasible directions (adding
the inequality rows and bounds active at z) is tighter but says nothing at the plans the
score is reported at: z* is a vertex of the local problem, where the active rows leave no
two-sided move (their null space is {0}), and where z is the department's best response
the projection of its score's gradient onto the feasible cone is 0 by the KKT conditions.
Which limits bind is what the incentive gap measures; alignment measures whether the score
points where the company does along the moves the department's equalities leave open.

The score's gradient is taken at z: a linear KPI contributes its normalized row
``w·sign/scale · ∇KPI``; a ratio ``N/D`` its gradient there, ``w·sign/scale · (∇N − r∇D)/D``
with ``r = N(z)/D(z)``, whether it stands alone or is mixed with other KPIs.  The scale is
the KPI's scale (:mod:`.scales`: its value at the reference plan away from 0), as in the
scorecards.

The null space is computed densely (``scipy.linalg.null_space``, rows scaled to unit norm)
over the free columns that some equality row touches; the others are unconstrained moves.
On the shipped seed a local problem has at most 132 free columns and 84 equality rows.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from ..model.program import LinearProgram
from ..types import Sense
from .local import free_columns
from .scales import Scales, as_scales

__all__ = ["alignment_score", "feasible_moves", "score_gradient"]

#: a projected gradient shorter than this, relative to the gradient itself, is 0: the score
#: (or the company) is indifferent to every move the department can make
_INDIFFERENT = 1e-9
#: a direction of the feasible moves whose decision part is shorter than this (its length
#: is 1) moves only the state
_STATE_ONLY = 1e-9


def score_gradient(
    lp: LinearProgram, weights: dict[str, float], scales: Scales | np.ndarray, z: np.ndarray
) -> np.ndarray | None:
    """The gradient at plan ``z`` of the scorecard ``sum_k w_k·sign_k·KPI_k/scale_k`` over
    all columns (weights by qualified KPI name; ``scale_k`` from ``scales``, or measured at
    a bare reference plan).  None where a weighted ratio is undefined at ``z`` (its
    denominator 0 there): it has no gradient."""
    n = lp.num_cols
    scales = as_scales(lp, scales, [k for k, w in weights.items() if w > 0])
    grad = np.zeros(n)
    for name, w in weights.items():
        if w <= 0:
            continue
        kpi = lp.kpis[name]
        factor = w * Sense(kpi.sense).sign / scales.of(kpi)
        if kpi.denominator is None:
            grad += factor * kpi.numerator.dense(n)
            continue
        if not kpi.defined_at(z):
            return None
        den = kpi.denominator.at(z)
        r = kpi.numerator.at(z) / den
        grad += factor * (kpi.numerator.dense(n) - r * kpi.denominator.dense(n)) / den
    return grad


def feasible_moves(lp: LinearProgram, department: str) -> tuple[np.ndarray, np.ndarray]:
    """The columns ``department`` moves in its local problem (free and not fixed by equal
    bounds) and an orthonormal basis (one column per direction) of the moves the equality
    rows allow over them, every other column fixed: the null space of ``A_E[:, F]``."""
    free = free_columns(lp, department)
    free = free[lp.col_lower[free] < lp.col_upper[free]]
    equal = np.flatnonzero(np.isfinite(lp.row_lower) & (lp.row_lower == lp.row_upper))
    sub = lp.A[:, free].tocsr()[equal]
    sub = sub[np.flatnonzero(np.diff(sub.indptr))]  # the equality rows touching F
    dense = sub.toarray()
    tied = np.flatnonzero(np.any(dense != 0.0, axis=0))
    basis = np.zeros((free.size, 0))
    if tied.size:
        rows = dense[:, tied]
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        kernel = sla.null_space(rows)
        basis = np.zeros((free.size, kernel.shape[1]))
        basis[tied] = kernel
    untied = np.setdiff1d(np.arange(free.size), tied)
    unit = np.zeros((free.size, untied.size))
    unit[untied, np.arange(untied.size)] = 1.0
    return free, np.hstack([basis, unit])


def alignment_score(
    lp: LinearProgram,
    department: str,
    weights: dict[str, float],
    scales: Scales | np.ndarray,
    z: np.ndarray,
) -> float:
    """Congruence of ``department``'s scorecard (``weights``: qualified KPI name -> weight;
    KPIs divided by ``scales``) with the company objective at plan ``z``: the cosine of the
    total effects of its decisions on its score and on the company objective (maximized; a
    minimized objective enters negated), over the moves its local problem's equality rows
    allow (see the module docstring for the definition and why it is this one).

    1 = the scorecard ranks every feasible move as the company does; 0 = unrelated;
    −1 = opposed.  NaN without an incentive (no positive weight), where a weighted ratio is
    undefined at ``z``, and where the score or the company objective is indifferent to every
    move the department can make (a total effect of 0: nothing to align).
    """
    if not any(w > 0 for w in weights.values()):
        return float("nan")
    score = score_gradient(lp, weights, scales, z)
    if score is None:
        return float("nan")
    company = lp.objective.dense(lp.num_cols) * Sense(lp.sense).sign
    free, basis = feasible_moves(lp, department)
    if basis.shape[1] == 0:
        return float("nan")
    # coordinates in which a move's length is the length of its decision part
    owned = lp.col_owner[free] == lp.departments.index(department)
    lengths = np.zeros(basis.shape[1])
    vt = np.eye(basis.shape[1])
    if owned.any():
        _, sigma, vt = np.linalg.svd(basis[owned], full_matrices=True)
        lengths[: sigma.size] = sigma
    stretch = np.where(lengths > _STATE_ONLY, 1.0 / np.maximum(lengths, _STATE_ONLY), 1.0)
    effects = []
    for grad in (score[free], company[free]):
        along = basis.T @ grad
        if np.linalg.norm(along) <= _INDIFFERENT * np.linalg.norm(grad):
            return float("nan")  # also a gradient that is 0 on every free column
        effects.append(stretch * (vt @ along))
    a, b = effects
    return float(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))
