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

import numpy as np
import scipy.sparse as sp

from ..spec import ModelSpec
from .assemble import (
    Assembly,
    ComponentRows,
    check_finite,
    constraint_rows,
    kpi_rows,
    objective_row,
    stack_rows,
    use_row_of,
)
from .program import LinearProgram

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
        replaced: list[tuple[np.ndarray, ComponentRows]] = []  # (the program's rows, new ones)
        for c in spec.constraints.values():
            if c.name in slacks or _names(c.expr) & (changed | kpi_names):
                rows = np.flatnonzero(lp.row_component == lp.row_components.index(c.name))
                new = constraint_rows(spec, c, context, table)
                if new.size != rows.size:  # cannot happen while its for: reads no changed param
                    msg = f"{c.name} has {new.size} rows now, {rows.size} before"
                    raise RebuildRequired(msg)
                replaced.append((rows, new))
        for a in lp.allocations:
            text, where = spec.departments[a.department].uses[a.resource]
            if _names(text) & changed:
                use = use_row_of(spec, text, where, context, table, a.column)
                replaced.append((np.array([a.use_row]), stack_rows("use", [use], None)))
        if changed:
            kpis = {k: kpi_rows(spec, spec.all_kpis()[k], context, table) for k in lp.kpis}
            lp = replace(lp, kpis=kpis, objective=objective_row(spec, context, table))
        lp = _with_rows(lp, replaced) if replaced else lp
        check_finite(lp, spec)  # as assembly does: data that overflowed is an error
        return lp


def _with_rows(
    lp: LinearProgram, replaced: list[tuple[np.ndarray, ComponentRows]]
) -> LinearProgram:
    """``lp`` with rows replaced: each entry gives the program's rows it replaces and the
    new rows, in the same order."""
    lower, upper = lp.row_lower.copy(), lp.row_upper.copy()
    coo = lp.A.tocoo()
    keep = ~np.isin(coo.row, np.concatenate([rows for rows, _ in replaced]))
    for rows, new in replaced:
        lower[rows], upper[rows] = new.lower, new.upper
    A = sp.csr_array(
        (
            np.concatenate([coo.data[keep], *(new.val for _, new in replaced)]),
            (np.concatenate([coo.row[keep], *(rows[new.row] for rows, new in replaced)]),
             np.concatenate([coo.col[keep], *(new.col for _, new in replaced)])),
        ),
        shape=lp.A.shape,
    )  # fmt: skip
    A.sum_duplicates()
    return replace(lp, A=A.tocsc(), row_lower=lower, row_upper=upper)
