"""The program of a model whose params changed, without assembling it again: the rows of
the constraints those params feed, every KPI and the objective are evaluated anew from the
checked expression trees (for rows, the same
:func:`~kpidesign.model.assemble.constraint_rows` the assembly uses) and put in place of the
old ones; everything else is the base program's.

Where a changed param could change more than the values of some rows (which rows a
constraint family has) the program must be assembled again: :class:`RebuildRequired` says
why (as linopy's ``RebuildRequiredError`` does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..expressions import compile_kpi, compile_linear
from ..spec import ModelSpec
from .assemble import (
    Assembly,
    check_finite,
    constraint_rows,
    linear_row,
    use_row_of,
)
from .program import KpiRows, LinearProgram, SparseRow

__all__ = ["ProgramUpdater", "RebuildRequired"]

_NAME = re.compile(r"[A-Za-z_]\w*")


class RebuildRequired(Exception):
    """The change needs a new build; ``reason`` says why, in words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _names(text: str | None) -> set[str]:
    """Every name an expression text mentions (a superset of the params it reads)."""
    return set(_NAME.findall(text or ""))


@dataclass
class ProgramUpdater:
    """A model's assembled program, from which the programs of the same model with other
    param values are made."""

    assembly: Assembly

    @property
    def lp(self) -> LinearProgram:
        """The base program."""
        return self.assembly.lp

    def with_params(
        self, spec: ModelSpec, changed: set[str], slacks: set[str] | frozenset = frozenset()
    ) -> LinearProgram:
        """The program of ``spec``, which must be the base's with only the values of the
        params ``changed`` and the margins (``slack``) of the constraints ``slacks``
        changed: the base's, with every KPI, the objective and the rows of every constraint
        that reads a changed param (or names a KPI) or whose margin changed evaluated anew.
        Departments' uses of resources that read a changed param are evaluated anew too.
        Raises :class:`RebuildRequired` where a changed param decides which rows a
        constraint has."""
        base = self.assembly.spec
        if set(spec.params) != set(base.params) or spec.sets != base.sets:
            msg = "the model's sets or params are others"
            raise RebuildRequired(msg)
        for c in spec.constraints.values():
            hit = sorted(_names(c.bindings) & changed)
            if hit:
                msg = f"params.{hit[0]} feeds which rows {c.name} has (its for:)"
                raise RebuildRequired(msg)
        kpi_names = {k.name for k in spec.all_kpis().values()} | set(spec.all_kpis())
        context, table = self.assembly.context(spec), self.assembly.table
        lp = self.lp
        replaced: list[tuple] = []
        for c in spec.constraints.values():
            if c.name in slacks or _names(c.expr) & (changed | kpi_names):
                rows = np.flatnonzero(lp.row_component == lp.row_components.index(c.name))
                new = constraint_rows(spec, c, context, table)
                if new.size != rows.size:  # cannot happen while its for: reads no changed param
                    msg = f"{c.name} has {new.size} rows now, {rows.size} before"
                    raise RebuildRequired(msg)
                replaced.append((rows, rows[new.row], new.col, new.val, new.lower, new.upper))
        for a in lp.allocations:
            text, where = spec.departments[a.department].uses[a.resource]
            if _names(text) & changed:
                _, row, upper = use_row_of(spec, text, where, context, table, a.column)
                at = np.array([a.use_row])
                replaced.append(
                    (at, np.full(row.indices.size, a.use_row), row.indices, row.values,
                     np.array([-np.inf]), np.array([upper]))
                )  # fmt: skip
        if changed:
            lp = replace(
                lp, kpis=self._kpis(spec, context), objective=self._objective(spec, context)
            )
        lp = _with_rows(lp, replaced) if replaced else lp
        check_finite(lp, spec)  # as assembly does: data that overflowed is an error
        return lp

    def _kpis(self, spec: ModelSpec, context: Any) -> dict[str, KpiRows]:
        """Every KPI's rows evaluated with ``spec``'s params (a few per model)."""
        table = self.assembly.table
        out = {}
        for name, rows in self.lp.kpis.items():
            kpi = spec.all_kpis()[name]
            compiled = compile_kpi(spec, kpi.text, kpi.where)
            den = compiled.denominator
            out[name] = replace(
                rows,
                numerator=linear_row(compiled.numerator, context, table),
                denominator=None if den is None else linear_row(den, context, table),
            )
        return out

    def _objective(self, spec: ModelSpec, context: Any) -> SparseRow:
        """The objective evaluated with ``spec``'s params."""
        obj = compile_linear(spec, spec.objective.text, spec.objective.where)
        return linear_row(obj, context, self.assembly.table)


def _with_rows(lp: LinearProgram, replaced: list[tuple]) -> LinearProgram:
    """``lp`` with rows replaced: each entry ``(rows, entry rows, columns, values, lower,
    upper)`` gives the rows it replaces, then their new entries and bounds."""
    lower, upper = lp.row_lower.copy(), lp.row_upper.copy()
    coo = lp.A.tocoo()
    keep = ~np.isin(coo.row, np.concatenate([rows for rows, *_ in replaced]))
    for rows, _, _, _, lo, hi in replaced:
        lower[rows], upper[rows] = lo + 0.0, hi + 0.0  # no -0.0, as in assembly
    A = sp.csr_array(
        (
            np.concatenate([coo.data[keep], *(r[3] for r in replaced)]),
            (np.concatenate([coo.row[keep], *(r[1] for r in replaced)]),
             np.concatenate([coo.col[keep], *(r[2] for r in replaced)])),
        ),
        shape=lp.A.shape,
    )  # fmt: skip
    A.sum_duplicates()
    return replace(lp, A=A.tocsc(), row_lower=lower, row_upper=upper)
