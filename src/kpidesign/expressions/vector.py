"""The second evaluator of a checked expression tree: every index instance at once.

The scalar evaluator (:mod:`.tree`) walks one index binding at a time.  Each of its nodes
also carries, where it can, a *vectorized* closure that evaluates the same node over a
:class:`Frame` of ``n`` bindings with numpy:

- an ``idx`` or ``num`` node gives one array of ``n`` values;
- a ``lin`` node adds its terms for all ``n`` instances to a :class:`Terms` accumulator
  (instance, column, coefficient, plus constant contributions), multiplied by a factor per
  instance: the same accumulation the scalar evaluator does with one :class:`Linear`.

Both evaluators do the same floating-point operations in the same order per instance
(terms and constants are summed in the order the scalar walk emits them, duplicates with
``np.bincount``, which adds sequentially from 0.0 as a ``dict`` accumulation does), so a
row has the same coefficients whichever evaluator made it.

What is not vectorized, decided when an expression is compiled (its node has no vectorized
closure, and the whole constraint family, KPI or objective goes through the scalar
evaluator): an index of an integer set used where a non-integer set's member is expected or
the reverse, a comparison between members that are not integers other than ``==``/``!=``.
At evaluation time a family goes back to the scalar evaluator (:class:`NotVectorizable`)
when something is wrong (a missing param value, an index outside its sets without an
``initial``, a division by zero: the scalar evaluator then raises the located error, so
errors have one source), and where numpy's integers would not be Python's: an integer
beyond 2**53 in magnitude (a constant, a set member, a param value or the result of index
arithmetic), where int64 arithmetic could wrap and a float could not hold it exactly.

Conditions joined by ``and``/``or`` (and a sum's several ``if`` clauses) are evaluated as
Python evaluates them: each part only on the bindings the parts before it left undecided,
so a part that would fail where an earlier one already excluded the binding does no harm.

Members of non-integer sets are carried as integer *codes* (:class:`Members`); members of
integer sets as their values, so that index arithmetic (``t-1``) is plain integer
arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..spec import ModelSpec, ParamSpec

__all__ = [
    "Frame",
    "Grid",
    "Loop",
    "Members",
    "NotVectorizable",
    "Terms",
    "expand",
    "gather",
]

#: integers beyond this in magnitude are left to the scalar evaluator: int64 arithmetic on
#: them could wrap, and a float could not hold them exactly
INT_LIMIT = 2**53


def exact(values: np.ndarray) -> np.ndarray:
    """``values``, checked: an integer array holds nothing beyond :data:`INT_LIMIT`."""
    if values.dtype.kind in "iu" and values.size and int(np.abs(values).max()) > INT_LIMIT:
        raise NotVectorizable
    return values


def product(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left * right`` as Python computes it (integers exactly, within the limit)."""
    if left.dtype.kind in "iu" and right.dtype.kind in "iu":
        size = np.abs(left.astype(float)) * np.abs(right.astype(float))
        if size.size and float(size.max()) > INT_LIMIT:
            raise NotVectorizable
    return exact(left * right)


class NotVectorizable(Exception):
    """This evaluation must go through the scalar evaluator (which raises the located error
    if there is one)."""


class Members:
    """Codes for the members of the model's non-integer sets (any member, any set: the
    same member has the same code everywhere), and each set's members as an array."""

    def __init__(self, spec: ModelSpec):
        self.code: dict[Any, int] = {}
        for s in spec.sets.values():
            if not s.integer:
                for m in s.members:
                    self.code.setdefault(m, len(self.code))
        self.values = {name: self._array(s.members, s.integer) for name, s in spec.sets.items()}
        self._lookup: dict[str, tuple] = {}
        self.spec = spec

    def _array(self, members: Sequence, integer: bool) -> np.ndarray | None:
        if integer:  # None: a member beyond the limit, the set is left to the scalar path
            if any(abs(m) > INT_LIMIT for m in members):
                return None
            return np.asarray(members, dtype=np.int64)
        return np.asarray([self.code[m] for m in members], dtype=np.int64)

    def array(self, set_name: str) -> np.ndarray:
        """The members of ``set_name`` in its domain (integers, or codes)."""
        values = self.values[set_name]
        if values is None:
            raise NotVectorizable
        return values

    def of(self, member: Any) -> int:
        """The code of ``member`` (a new one for a value no set has: it is in no set)."""
        return self.code.setdefault(member, len(self.code))

    def positions(self, set_name: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(position of each value in ``set_name``'s member order, is it a member); values
        are the set's domain (integers for an integer set, codes otherwise)."""
        if set_name not in self._lookup:
            s = self.spec.sets[set_name]
            members = self.array(set_name)
            if s.integer:
                order = np.argsort(members, kind="stable")
                self._lookup[set_name] = (True, members[order], order)
            else:
                table = np.full(len(self.code) + 1, -1, dtype=np.int64)
                table[members] = np.arange(members.size)
                self._lookup[set_name] = (False, table, None)
        integer, table, order = self._lookup[set_name]
        if integer:
            if table.size == 0:
                return np.zeros(values.size, dtype=np.int64), np.zeros(values.size, dtype=bool)
            at = np.minimum(np.searchsorted(table, values), table.size - 1)
            inside = table[at] == values
            return np.where(inside, order[at], 0), inside
        safe = np.where((values >= 0) & (values < table.size - 1), values, table.size - 1)
        pos = table[safe]
        inside = pos >= 0
        return np.where(inside, pos, 0), inside


@dataclass(frozen=True)
class Grid:
    """Positions over a tuple of sets (row-major, as nested loops in file order)."""

    sets: tuple[str, ...]
    shape: tuple[int, ...]

    def flat(self, members: Members, values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(flat position, inside every set) of index values, one array per set."""
        n = values[0].size if values else 1
        inside = np.ones(n, dtype=bool)
        flat = np.zeros(n, dtype=np.int64)
        for s, size, v in zip(self.sets, self.shape, values, strict=True):
            pos, ok = members.positions(s, v)
            inside &= ok
            flat = flat * size + pos
        return flat, inside


@dataclass
class Frame:
    """``n`` index bindings: each bound index name's values (in its set's domain)."""

    n: int
    index: dict[str, np.ndarray]
    context: Context

    def full(self, value: Any) -> np.ndarray:
        """``value`` at every binding (an integer beyond the limit is left to the scalar
        evaluator)."""
        if isinstance(value, int) and abs(value) > INT_LIMIT:
            raise NotVectorizable
        return np.full(self.n, value)

    def subset(self, keep: np.ndarray) -> Frame:
        """The bindings at the positions ``keep``."""
        return Frame(keep.size, {k: v[keep] for k, v in self.index.items()}, self.context)


@dataclass
class Context:
    """What vectorized closures look up: members, columns, param tables."""

    members: Members
    #: variable name -> (first column, grid); None while only data is evaluated
    columns: dict[str, tuple[int, Grid]] | None = None
    params: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def param_table(self, p: ParamSpec) -> tuple[np.ndarray, np.ndarray]:
        """(sorted flat positions, values) of the entries of param ``p`` inside its sets
        (an entry outside them can never be looked up by position)."""
        if p.name not in self.params:
            grid = Grid(p.over, tuple(len(self.members.spec.sets[s].members) for s in p.over))
            keys = list(p.values)
            cols = [
                np.asarray([self._domain(s, k[i]) for k in keys], dtype=np.int64)
                for i, s in enumerate(p.over)
            ]
            flat, inside = grid.flat(self.members, cols) if keys else (np.zeros(0, int), None)
            values = np.fromiter(p.values.values(), dtype=float, count=len(keys))
            if any(isinstance(v, int) and abs(v) > INT_LIMIT for v in p.values.values()):
                raise NotVectorizable  # a float would not hold it as Python does
            if inside is not None:
                flat, values = flat[inside], values[inside]
            order = np.argsort(flat, kind="stable")
            self.params[p.name] = (flat[order], values[order])
        return self.params[p.name]

    def _domain(self, set_name: str, member: Any) -> int:
        if self.members.spec.sets[set_name].integer:
            if not (isinstance(member, int) and abs(member) <= INT_LIMIT):
                raise NotVectorizable
            return member
        return self.members.of(member)


class Terms:
    """A linear form per binding, accumulated in emission order: term parts (binding,
    column, coefficient) and constant parts (binding, value)."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.constants: list[tuple[np.ndarray, np.ndarray]] = []

    def add_terms(self, inst: np.ndarray, col: np.ndarray, coef: np.ndarray) -> None:
        """Add terms (arrays of equal length)."""
        if inst.size:
            self.parts.append((inst, col, coef))

    def add_constant(self, inst: np.ndarray, value: np.ndarray) -> None:
        """Add ``value[k]`` to the constant of binding ``inst[k]``."""
        if inst.size:
            self.constants.append((inst, value))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(inst, col, coef, constant inst, constant value), concatenated in order."""
        e_i = np.zeros(0, dtype=np.int64)
        e_f = np.zeros(0, dtype=float)
        inst, col, coef = (
            [np.concatenate(x) for x in zip(*self.parts, strict=True)]
            if self.parts
            else (e_i, e_i, e_f)
        )
        cinst, cval = (
            [np.concatenate(x) for x in zip(*self.constants, strict=True)]
            if self.constants
            else (e_i, e_f)
        )
        return inst, col, coef.astype(float, copy=False), cinst, cval.astype(float, copy=False)

    def constant(self, n: int) -> np.ndarray:
        """Each binding's constant: its parts added in order from 0.0."""
        _, _, _, cinst, cval = self.arrays()
        return np.bincount(cinst, weights=cval, minlength=n)[:n]

    def regroup(self, parent: np.ndarray, into: Terms) -> None:
        """Add these terms, made on an expanded frame, to ``into`` for the bindings
        ``parent`` of each expanded one, keeping each expanded binding's terms together in
        order (a scalar loop's order: member after member)."""
        inst, col, coef, cinst, cval = self.arrays()
        order = np.argsort(inst, kind="stable")
        into.add_terms(parent[inst[order]], col[order], coef[order])
        order = np.argsort(cinst, kind="stable")
        into.add_constant(parent[cinst[order]], cval[order])


def gather(terms: Terms, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(binding, column, coefficient) of every nonzero term, duplicates summed in emission
    order, each binding's terms in order of first appearance (a ``dict``'s order), and
    each binding's constant."""
    inst, col, coef, cinst, cval = terms.arrays()
    constant = np.bincount(cinst, weights=cval, minlength=n)[:n]
    if inst.size == 0:
        return inst, col, coef, constant
    width = int(col.max()) + 1
    key = inst * width + col
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    sums = np.bincount(inverse.ravel(), weights=coef, minlength=uniq.size)
    order = np.lexsort((first, uniq // width))
    uniq, sums = uniq[order], sums[order]
    nonzero = sums != 0.0
    uniq, sums = uniq[nonzero], sums[nonzero]
    return uniq // width, uniq % width, sums, constant


class Loop(NamedTuple):
    """One ``for name in set [if ...]`` of a sum or of a constraint's bindings, for both
    evaluators: a condition is called at one binding, its ``vec`` (None: scalar only) over
    a frame."""

    name: str
    set_name: str
    members: tuple
    conditions: tuple = ()

    @property
    def vectorized(self) -> bool:
        """Can :func:`expand` run this loop (has every condition a ``vec``)?"""
        return all(c.vec is not None for c in self.conditions)


def expand(frame: Frame, loops: Sequence[Loop]) -> tuple[Frame, np.ndarray]:
    """``frame`` with every admissible combination of ``loops`` under each binding (nested
    loops in order, conditions applied at their loop), and each new binding's parent;
    raises :class:`NotVectorizable` for a loop that is not :attr:`Loop.vectorized`."""
    if not all(loop.vectorized for loop in loops):
        raise NotVectorizable
    parent = np.arange(frame.n)
    index = dict(frame.index)
    members = frame.context.members
    for loop in loops:
        values = members.array(loop.set_name)
        k = values.size
        parent = np.repeat(parent, k)
        index = {key: np.repeat(v, k) for key, v in index.items()}
        index[loop.name] = np.tile(values, parent.size // k if k else 0)
        for cond in loop.conditions:  # each only where the ones before held, as all()
            keep = np.flatnonzero(cond.vec(Frame(parent.size, index, frame.context)))
            if keep.size < parent.size:
                parent = parent[keep]
                index = {key: v[keep] for key, v in index.items()}
    return Frame(parent.size, index, frame.context), parent
