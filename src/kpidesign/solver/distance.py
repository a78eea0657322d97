"""A weighted L1 distance ``sum_i w_i |x[cols_i] - r_i|`` as an LP, with as few distance
columns as the column bounds allow.

Where a column's bounds lie on one side of its reference, the distance is linear on the
feasible set: ``x - r`` where ``lower >= r``, ``r - x`` where ``upper <= r``.  Only an entry
whose reference lies strictly inside its bounds needs a distance column ``t >= |x - r|``
(two rows).  This is exact, not an approximation, and it is most of the columns in
practice: a reference of 0 lies below every nonnegative column (plan B), and a plan at a
vertex of a large LP has most of its columns at a bound (a department's current plan,
today's plan).  At 1M variables the distance LP with a column per entry was three times
the program's size (benchmarks/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["L1Distance"]


@dataclass(frozen=True)
class L1Distance:
    """The distance from ``reference`` over the program columns ``cols``, for columns
    bounded by ``lower``/``upper`` (the bounds at ``cols``): ``side`` is +1 where the
    distance is ``x - r``, -1 where it is ``r - x``, 0 where it needs a distance column
    (:attr:`inner`, in the order of ``cols``)."""

    cols: np.ndarray
    reference: np.ndarray
    side: np.ndarray

    @classmethod
    def of(
        cls, cols: np.ndarray, reference: np.ndarray, lower: np.ndarray, upper: np.ndarray
    ) -> L1Distance:
        """The distance of ``cols`` from ``reference`` (one value per entry of ``cols``),
        the columns bounded by ``lower``/``upper`` (likewise per entry)."""
        cols = np.asarray(cols, dtype=np.int64)
        reference = np.asarray(reference, dtype=float)
        side = np.where(
            np.asarray(lower, dtype=float) >= reference,
            1,
            np.where(np.asarray(upper, dtype=float) <= reference, -1, 0),
        ).astype(np.int8)
        return cls(cols, reference, side)

    @property
    def inner(self) -> np.ndarray:
        """The entries (positions in ``cols``) that get a distance column, in order."""
        return np.flatnonzero(self.side == 0)

    @property
    def columns(self) -> int:
        """How many distance columns the LP needs."""
        return int(np.count_nonzero(self.side == 0))

    def rows(self, n: int) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
        """The rows ``t_k - x_j >= -r_j`` and ``t_k + x_j >= r_j`` of each distance column
        (``k``-th of :attr:`inner`, column ``n + k``) over ``n`` program columns and the
        distance columns: the matrix, its lower and upper bounds."""
        inner = self.inner
        k = inner.size
        pick = sp.csr_array((np.ones(k), (np.arange(k), self.cols[inner])), shape=(k, n))
        eye = sp.identity(k, format="csr")
        matrix = sp.vstack([sp.hstack([-pick, eye]), sp.hstack([pick, eye])], format="csr")
        ref = self.reference[inner]
        return matrix, np.concatenate([-ref, ref]), np.full(2 * k, np.inf)

    def cost(self, weights: np.ndarray, n: int) -> tuple[np.ndarray, float]:
        """``sum_i weights_i |x[cols_i] - r_i|`` as a cost over the ``n`` program columns
        and the distance columns, and the constant that completes it."""
        weights = np.asarray(weights, dtype=float)
        out = np.zeros(n + self.columns)
        linear = self.side != 0
        signed = self.side[linear] * weights[linear]
        np.add.at(out, self.cols[linear], signed)
        out[n:] = weights[~linear]
        return out, -float(signed @ self.reference[linear])
