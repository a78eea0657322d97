"""The program of a model whose params changed, without building it again: the rows of the
constraints those params feed, every KPI and the objective are evaluated anew from the
checked expression trees (for a row, the same :func:`~kpidesign.model.build.constraint_row`
the build uses) and put in place of the old ones; everything else is the base program's.
Pyomo is not involved.

Where a changed param could change more than the values of some rows (which rows a
constraint family has) the program must be built again: :class:`RebuildRequired` says
why (as linopy's ``RebuildRequiredError`` does).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..expressions import (
    Linear,
    compile_bindings,
    compile_constraint,
    compile_kpi,
    compile_linear,
)
from ..spec import ConstraintSpec, ModelSpec
from .build import BuiltModel, constraint_row, use_row
from .compile import check_finite, column_numbers
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
    """A built model and its program, from which the programs of the same model with other
    param values are made."""

    built: BuiltModel
    lp: LinearProgram

    def __post_init__(self) -> None:
        #: build's column number -> the program's column, and back
        self.column = column_numbers(self.built)
        self.build_column = np.empty_like(self.column)
        self.build_column[self.column] = np.arange(self.column.size)

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
        base = self.built.spec
        if set(spec.params) != set(base.params) or spec.sets != base.sets:
            msg = "the model's sets or params are others"
            raise RebuildRequired(msg)
        for c in spec.constraints.values():
            hit = sorted(_names(c.bindings) & changed)
            if hit:
                msg = f"params.{hit[0]} feeds which rows {c.name} has (its for:)"
                raise RebuildRequired(msg)
        kpi_names = {k.name for k in spec.all_kpis().values()} | set(spec.all_kpis())
        rows: list[tuple[int, float | None, Linear, float | None]] = []
        for c in spec.constraints.values():
            if c.name in slacks or _names(c.expr) & (changed | kpi_names):
                rows += self._constraint_rows(spec, c)
        table = self.built.table
        for a in self.lp.allocations:
            text, where = spec.departments[a.department].uses[a.resource]
            if _names(text) & changed:
                own = int(self.build_column[a.column])
                rows.append((a.use_row, *use_row(spec, text, where, table, own)))
        lp = self.lp
        if changed:
            lp = replace(lp, kpis=self._kpis(spec), objective=self._objective(spec))
        lp = self._with_rows(lp, rows) if rows else lp
        check_finite(lp, self.built)  # as compile does: data that overflowed is an error
        return lp

    def _constraint_rows(
        self, spec: ModelSpec, c: ConstraintSpec
    ) -> list[tuple[int, float | None, Linear, float | None]]:
        """Every row of constraint ``c`` evaluated with ``spec``: (row, lower, form, upper)."""
        lp = self.lp
        rows = np.flatnonzero(lp.row_component == lp.row_components.index(c.name))
        bindings = compile_bindings(spec, c.bindings, c.bindings_where)
        compiled = compile_constraint(spec, c.expr, c.where, bindings.bound)
        envs = list(bindings) if bindings.names else [{}]
        if len(envs) != rows.size:  # cannot happen while its for: reads no changed param
            msg = f"{c.name} has {len(envs)} rows now, {rows.size} before"
            raise RebuildRequired(msg)
        table, slack = self.built.table, c.slack or 0.0
        return [
            (int(i), *constraint_row(compiled, env, table, slack))
            for i, env in zip(rows, envs, strict=True)
        ]

    def _with_rows(
        self, lp: LinearProgram, replaced: list[tuple[int, float | None, Linear, float | None]]
    ) -> LinearProgram:
        """``lp`` with each row ``(i, lower, form, upper)`` of ``replaced`` in place of its
        row ``i``."""
        lower, upper = lp.row_lower.copy(), lp.row_upper.copy()
        coo = lp.A.tocoo()
        keep = ~np.isin(coo.row, [i for i, *_ in replaced])
        rows_new: list[np.ndarray] = []
        cols_new: list[np.ndarray] = []
        vals_new: list[np.ndarray] = []
        for i, lo, form, hi in replaced:
            lower[i] = -np.inf if lo is None else float(lo)
            upper[i] = np.inf if hi is None else float(hi)
            row = self._row(form)
            rows_new.append(np.full(row.indices.size, i, dtype=np.int64))
            cols_new.append(row.indices)
            vals_new.append(row.values)
        A = sp.csr_array(
            (
                np.concatenate([coo.data[keep], *vals_new]),
                (np.concatenate([coo.row[keep], *rows_new]),
                 np.concatenate([coo.col[keep], *cols_new])),
            ),
            shape=lp.A.shape,
        )  # fmt: skip
        A.sum_duplicates()
        return replace(lp, A=A.tocsc(), row_lower=lower, row_upper=upper)

    def _row(self, form: Linear) -> SparseRow:
        """A linear form (build's numbering) as a row of the program, its constant kept."""
        terms = form.nonzero_terms()
        cols = self.column[np.fromiter(terms, dtype=np.int64, count=len(terms))]
        values = np.fromiter(terms.values(), dtype=float, count=len(terms))
        return SparseRow(cols, values, form.constant)

    def _kpis(self, spec: ModelSpec) -> dict[str, KpiRows]:
        """Every KPI's rows evaluated with ``spec``'s params (a few per model)."""
        table = self.built.table
        out = {}
        for name, rows in self.lp.kpis.items():
            kpi = spec.all_kpis()[name]
            compiled = compile_kpi(spec, kpi.text, kpi.where)
            den = compiled.denominator
            out[name] = replace(
                rows,
                numerator=self._row(compiled.numerator.evaluate({}, table)),
                denominator=None if den is None else self._row(den.evaluate({}, table)),
            )
        return out

    def _objective(self, spec: ModelSpec) -> SparseRow:
        """The objective evaluated with ``spec``'s params."""
        obj = compile_linear(spec, spec.objective.text, spec.objective.where)
        return self._row(obj.evaluate({}, self.built.table))
