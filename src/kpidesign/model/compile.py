"""Compile a built Pyomo model, once, into a :class:`LinearProgram` of sparse arrays.

Every later solve changes bounds and costs of this one compiled program on a live HiGHS
instance; nothing goes back through Pyomo.  Constraint bodies that kpidesign built are
``LinearExpression`` objects and are read directly; any other (a user's own Pyomo
constraint) goes through Pyomo's ``generate_standard_repn`` and must be linear.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.standard_repn import generate_standard_repn

from ..errors import BuildError
from .assemble import check_finite
from .build import BuiltModel
from .program import ALLOCATION, SHARED, Allocation, KpiRows, LinearProgram, SparseRow


class _Reader:
    """Reads linear expressions as columns, coefficients and constant.

    Expressions build made are taken from its record (Pyomo would rebuild their term lists);
    anything else, or an expression a user has since replaced, goes through Pyomo's
    ``generate_standard_repn`` and must be linear.
    """

    def __init__(self, built: BuiltModel, col_of: dict[int, int]):
        self.col_of = col_of
        self.terms = built.terms
        remap = _program_columns(built, col_of)
        self.remap = None if np.array_equal(remap, np.arange(remap.size)) else remap

    def __call__(self, expr: Any, where: str) -> tuple[list[int], list[float], float]:
        rec = self.terms.get(id(expr))
        if rec is not None and rec.expr is expr:
            cols = rec.columns if self.remap is None else self.remap[rec.columns].tolist()
            return cols, rec.coefs, rec.constant
        if isinstance(expr, int | float):
            return [], [], float(expr)
        repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
        if not repn.is_linear():
            msg = f"{where} is not linear"
            raise BuildError(msg)
        return (
            [self.col_of[id(v)] for v in repn.linear_vars],
            [float(c) for c in repn.linear_coefs],
            float(repn.constant),
        )

    def row(self, expr: Any, where: str) -> SparseRow:
        cols, coefs, const = self(expr, where)
        return SparseRow(np.asarray(cols, dtype=np.int64), np.asarray(coefs, dtype=float), const)


def compile_model(built: BuiltModel) -> LinearProgram:
    """The one compile of a built model into sparse arrays with names and ownership."""
    departments = tuple(built.spec.departments)
    cols = _compile_columns(built, departments)
    read = _Reader(built, cols.of)
    rows = _compile_rows(built.model, read)
    A = _matrix(rows, len(cols.indices))
    kpis = _kpi_rows(built, read)
    objective = read.row(built.objective_expr, "the objective")
    allocations = [
        Allocation(a.department, a.resource, cols.of[id(a.var)], rows.of[id(a.use_row)], a.baseline)
        for a in built.allocations
    ]
    lp = LinearProgram(
        A=A.tocsc(),
        row_lower=np.asarray(rows.lower, dtype=float),
        row_upper=np.asarray(rows.upper, dtype=float),
        col_lower=np.asarray(cols.lower, dtype=float),
        col_upper=np.asarray(cols.upper, dtype=float),
        objective=objective,
        sense=built.spec.objective.sense,
        row_components=rows.components,
        row_component=np.asarray(rows.component, dtype=np.int64),
        row_indices=rows.indices,
        col_components=cols.components,
        col_component=np.asarray(cols.component, dtype=np.int64),
        col_indices=cols.indices,
        col_owner=np.asarray(cols.owner, dtype=np.int64),
        departments=departments,
        kpis=kpis,
        allocations=allocations,
        resource_rows={r: rows.of[id(con)] for r, con in built.resource_rows.items()},
        constraint_components=tuple(built.constraint_names),
    )
    check_finite(lp, built.spec)
    return lp


def _program_columns(built: BuiltModel, col_of: dict[int, int]) -> np.ndarray:
    """Per variable in build's numbering, its column in the program (``col_of``: id of a
    variable -> column)."""
    return np.array([col_of[id(v)] for v in built.columns], dtype=np.int64)


@dataclass
class _CompiledColumns:
    """The model's variables as columns: per column its component, index, bounds, owner."""

    components: list[str]  # variable component names
    component: list[int]  # per column: its component's number
    indices: list[Any]  # per column: its index (None for a scalar variable)
    lower: list[float]
    upper: list[float]
    owner: list[int]  # per column: a department's number, SHARED or ALLOCATION
    of: dict[int, int]  # id(VarData) -> column


def _compile_columns(built: BuiltModel, departments: tuple[str, ...]) -> _CompiledColumns:
    """Every variable of the model in component order, fixed ones as equal bounds."""
    dept_code = {d: i for i, d in enumerate(departments)}
    alloc_ids = {id(a.var) for a in built.allocations}
    col_components: list[str] = []
    col_component: list[int] = []
    col_indices: list[Any] = []
    col_lower: list[float] = []
    col_upper: list[float] = []
    col_owner: list[int] = []
    col_of: dict[int, int] = {}
    for comp in built.model.component_objects(pyo.Var, descend_into=True):
        ci = len(col_components)
        col_components.append(comp.name)
        owner = built.owners.get(comp.name)
        indexed = comp.is_indexed()
        for index, var in comp.items():
            col_of[id(var)] = len(col_indices)
            col_component.append(ci)
            col_indices.append(index if indexed else None)
            if var.fixed:
                lo = hi = float(var.value)
            else:
                lb, ub = var.bounds
                lo = -np.inf if lb is None else float(lb)
                hi = np.inf if ub is None else float(ub)
            col_lower.append(lo)
            col_upper.append(hi)
            if id(var) in alloc_ids:
                col_owner.append(ALLOCATION)
            else:
                col_owner.append(SHARED if owner is None else dept_code[owner])
    return _CompiledColumns(
        col_components, col_component, col_indices, col_lower, col_upper, col_owner, col_of
    )


@dataclass
class _CompiledRows:
    """The model's active constraints as rows of a CSR matrix, with their names and bounds."""

    components: list[str]  # constraint component names
    component: list[int]  # per row: its component's number
    indices: list[Any]  # per row: its index (None for a scalar constraint)
    lower: list[float]
    upper: list[float]
    indptr: list[int]  # CSR: the row starts in indices/data
    columns: list[int]  # CSR: the column of each entry
    data: list[float]  # CSR: the coefficient of each entry
    of: dict[int, int]  # id(ConstraintData) -> row


def _compile_rows(m: pyo.ConcreteModel, read: _Reader) -> _CompiledRows:
    """Every active constraint of ``m`` as a row, its body's constant moved to the bounds."""
    row_components: list[str] = []
    row_component: list[int] = []
    row_indices: list[Any] = []
    lower: list[float] = []
    upper: list[float] = []
    indptr = [0]
    indices: list[int] = []
    data: list[float] = []
    row_of: dict[int, int] = {}
    for comp in m.component_objects(pyo.Constraint, active=True, descend_into=True):
        ri = len(row_components)
        row_components.append(comp.name)
        indexed = comp.is_indexed()
        for index, con in comp.items():
            if not con.active:
                continue
            where = con.name
            cols, coefs, const = read(con.body, where)
            lo = -np.inf if con.lower is None else float(pyo.value(con.lower)) - const
            hi = np.inf if con.upper is None else float(pyo.value(con.upper)) - const
            row_of[id(con)] = len(row_indices)
            row_component.append(ri)
            row_indices.append(index if indexed else None)
            lower.append(lo)
            upper.append(hi)
            indices.extend(cols)
            data.extend(coefs)
            indptr.append(len(indices))
    return _CompiledRows(
        row_components, row_component, row_indices, lower, upper, indptr, indices, data, row_of
    )


def _matrix(rows: _CompiledRows, n: int) -> sp.csr_array:
    """The constraint matrix (``n`` columns), duplicate entries summed."""
    A = sp.csr_array(
        (
            np.asarray(rows.data, dtype=float),
            np.asarray(rows.columns, dtype=np.int64),
            np.asarray(rows.indptr, dtype=np.int64),
        ),
        shape=(len(rows.indices), n),
    )
    A.sum_duplicates()
    return A


def _kpi_rows(built: BuiltModel, read: _Reader) -> dict[str, KpiRows]:
    """Each KPI's numerator (and denominator) as a sparse row."""
    kpis = {}
    for name, kpi in built.kpis.items():
        kpis[name] = KpiRows(
            name,
            kpi.spec.owner,
            kpi.spec.sense,
            read.row(kpi.numerator, f"KPI {name}"),
            None if kpi.denominator is None else read.row(kpi.denominator, f"KPI {name}"),
            kpi.spec.unit,
        )
    return kpis
