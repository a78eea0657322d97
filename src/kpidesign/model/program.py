"""The :class:`LinearProgram`: the contract between modelling and solving.  Sparse arrays,
names, owners of columns, KPIs as sparse rows, allocations."""

from __future__ import annotations

import bisect
import functools
import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..types import Sense

#: ``col_owner`` code of shared state (owned by no department)
SHARED = -1
#: ``col_owner`` code of an allocation variable
ALLOCATION = -2


@dataclass(frozen=True)
class SparseRow:
    """A linear function ``values @ x[indices] + constant``."""

    indices: np.ndarray
    values: np.ndarray
    constant: float = 0.0

    def dense(self, n: int) -> np.ndarray:
        """The row as a dense vector of ``n`` coefficients."""
        out = np.zeros(n)
        np.add.at(out, self.indices, self.values)
        return out

    def at(self, x: np.ndarray) -> float:
        """The row's value (constant included) at plan ``x``."""
        return float(self.values @ x[self.indices] + self.constant)


#: a ratio KPI's denominator below this counts as 0: the ratio is undefined there (reported
#: as null), and a department's local problem keeps its denominator at or above it
DENOMINATOR_FLOOR = 1e-6
#: below this a ratio is undefined (half the floor: plans held at the floor within the
#: solver's tolerance keep their value)
_UNDEFINED_BELOW = 0.5 * DENOMINATOR_FLOOR


@dataclass(frozen=True)
class KpiRows:
    """A KPI over the columns; a ratio has a denominator."""

    name: str  # qualified: dept.kpi, or the company KPI's name
    owner: str | None
    sense: Sense
    numerator: SparseRow
    denominator: SparseRow | None
    unit: str | None = None

    @property
    def is_ratio(self) -> bool:
        """Is the KPI a ratio (a denominator row)?"""
        return self.denominator is not None

    def value(self, x: np.ndarray) -> float:
        """The KPI at plan ``x``; NaN for a ratio whose denominator is not positive there."""
        num = self.numerator.at(x)
        if self.denominator is None:
            return num
        den = self.denominator.at(x)
        return num / den if den >= _UNDEFINED_BELOW else float("nan")

    def defined_at(self, x: np.ndarray) -> bool:
        """False for a ratio whose denominator is not positive at ``x``."""
        return self.denominator is None or self.denominator.at(x) >= _UNDEFINED_BELOW


@dataclass(frozen=True)
class Allocation:
    """One department's allocation of one resource: its column, its baseline, and the row
    that bounds its use (whose dual prices one more unit)."""

    department: str
    resource: str
    column: int
    use_row: int
    baseline: float


@dataclass(frozen=True)
class LabelBlock:
    """The indices of rows (or columns) ``start`` .. ``start + size - 1``: entries of the
    grid over ``members`` (one tuple of members per set, row-major) at ``flat`` (None: the
    whole grid in order), or no index at all (``members`` None: a scalar component)."""

    start: int
    size: int
    members: tuple[tuple, ...] | None
    flat: np.ndarray | None = None

    def index(self, k: int) -> Any:
        """The index of the block's ``k``-th entry: a member, a tuple of members, or None."""
        if self.members is None:
            return None
        at = k if self.flat is None else int(self.flat[k])
        out = []
        for members in reversed(self.members):
            at, r = divmod(at, len(members))
            out.append(members[r])
        return out[0] if len(out) == 1 else tuple(reversed(out))


class IndexLabels(Sequence):
    """Every row's (or column's) index, made when asked for: a program of a million
    columns holds a few arrays, not a million tuples."""

    def __init__(self, blocks: list[LabelBlock]):
        self.blocks = blocks
        self._starts = [b.start for b in blocks]
        self._size = blocks[-1].start + blocks[-1].size if blocks else 0

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(self._size))]
        i = operator.index(i)
        if i < 0:
            i += self._size
        if not 0 <= i < self._size:
            raise IndexError(i)
        block = self.blocks[bisect.bisect_right(self._starts, i) - 1]
        return block.index(i - block.start)

    def keys(self, at: np.ndarray) -> list[str | None]:
        """The index of each entry ``at`` as comma-joined text (None: a scalar component),
        as :meth:`LinearProgram.row_key` gives it one by one, computed block by block."""
        at = np.asarray(at, dtype=np.int64)
        out: list[str | None] = [None] * at.size
        which = np.searchsorted(np.asarray(self._starts), at, side="right") - 1
        for b in np.unique(which):
            block = self.blocks[int(b)]
            if block.members is None:
                continue
            sel = np.flatnonzero(which == b)
            flat = at[sel] - block.start
            if block.flat is not None:
                flat = block.flat[flat]
            parts = []
            for members in reversed(block.members):
                flat, r = np.divmod(flat, len(members))
                parts.append(np.asarray([key_label(m) for m in members], dtype=object)[r])
            parts.reverse()
            labels = parts[0] if len(parts) == 1 else map(",".join, zip(*parts, strict=True))
            for i, label in zip(sel.tolist(), labels, strict=True):
                out[i] = label
        return out


@dataclass(frozen=True)
class LinearProgram:
    """``max/min c x + c0  s.t.  row_lower <= A x <= row_upper, col_lower <= x <= col_upper``.

    Rows and columns keep the model's names: ``row_component[i]`` indexes
    ``components``/``row_key(i)`` is the index label (``"standard,3"``) or ``None`` for a
    scalar constraint; likewise for columns.
    """

    A: sp.csc_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    objective: SparseRow
    sense: Sense
    row_components: list[str]
    row_component: np.ndarray
    row_indices: Sequence[Any]  # each row's index (None for a scalar constraint)
    col_components: list[str]
    col_component: np.ndarray
    col_indices: Sequence[Any]  # each column's index (None for a scalar variable)
    col_owner: np.ndarray  # department index, SHARED or ALLOCATION
    departments: tuple[str, ...]
    kpis: dict[str, KpiRows]
    allocations: list[Allocation]
    resource_rows: dict[str, int]
    constraint_components: tuple[str, ...]  # the model's own constraints (not resources)

    @property
    def num_rows(self) -> int:
        """Rows of the program (constraints, resources)."""
        return self.A.shape[0]

    @property
    def num_cols(self) -> int:
        """Columns of the program (variables, allocations)."""
        return self.A.shape[1]

    def row_key(self, i: int) -> str | None:
        """Row ``i``'s index as comma-joined text (``standard,3``); None if scalar."""
        return key_label(self.row_indices[i])

    def col_key(self, j: int) -> str | None:
        """Column ``j``'s index as comma-joined text; None if scalar."""
        return key_label(self.col_indices[j])

    def row_keys(self, rows: np.ndarray) -> list[str | None]:
        """:meth:`row_key` of each of ``rows``, at once."""
        if isinstance(self.row_indices, IndexLabels):
            return self.row_indices.keys(rows)
        return [self.row_key(int(i)) for i in rows]

    def col_keys(self, cols: np.ndarray) -> list[str | None]:
        """:meth:`col_key` of each of ``cols``, at once."""
        if isinstance(self.col_indices, IndexLabels):
            return self.col_indices.keys(cols)
        return [self.col_key(int(j)) for j in cols]

    def row_name(self, i: int) -> str:
        """Row ``i`` by the model's name, ``capacity[2]``."""
        key = self.row_key(i)
        comp = self.row_components[self.row_component[i]]
        return comp if key is None else f"{comp}[{key}]"

    def col_name(self, j: int) -> str:
        """Column ``j`` by the model's name, ``produced[standard,3]``."""
        key = self.col_key(j)
        comp = self.col_components[self.col_component[j]]
        return comp if key is None else f"{comp}[{key}]"

    @functools.cached_property
    def col_name_hash(self) -> np.ndarray:
        """Per column, :func:`name_hash` of its name (computed once, on first use)."""
        return np.array([name_hash(self.col_name(j)) for j in range(self.num_cols)])

    def constraint_rows(self) -> np.ndarray:
        """The rows of the model's own constraints (not resources), in order."""
        own = [self.row_components.index(c) for c in self.constraint_components]
        return np.flatnonzero(np.isin(self.row_component, own))

    def columns_of(self, component: str) -> np.ndarray:
        """The columns of the variable (component) ``component``."""
        return np.flatnonzero(self.col_component == self.col_components.index(component))

    def owned_by(self, department: str) -> np.ndarray:
        """The columns owned by ``department``."""
        return np.flatnonzero(self.col_owner == self.departments.index(department))

    def plan_entries(self, x: np.ndarray) -> list[tuple[str, tuple, float]]:
        """Plan ``x`` as a plan file's entries, ``(variable, members, value)`` for every
        column but the allocations, in column order."""
        out = []
        for j in np.flatnonzero(self.col_owner != ALLOCATION):
            index = self.col_indices[j]
            members = () if index is None else index if isinstance(index, tuple) else (index,)
            out.append((self.col_components[self.col_component[j]], members, float(x[j])))
        return out


def name_hash(name: str) -> float:
    """A hash of ``name`` in [0, 1) (blake2b): the same on every machine and in every run,
    and independent of where the name sits in the file."""
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def key_label(index: Any) -> str | None:
    """An index as comma-joined text (``standard,3``); None for no index."""
    if index is None:
        return None
    if isinstance(index, tuple):
        return ",".join(str(i) for i in index)
    return str(index)
