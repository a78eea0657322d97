"""Compile a built Pyomo model, once, into a :class:`LinearProgram` of sparse arrays.

Every later solve changes bounds and costs of this one compiled program on a live HiGHS
instance; nothing goes back through Pyomo.  Constraint bodies that kpidesign built are
``LinearExpression`` objects and are read directly; any other (a user's own Pyomo
constraint) goes through Pyomo's ``generate_standard_repn`` and must be linear.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.standard_repn import generate_standard_repn

from ..errors import BuildError, ErrorCollector, Location
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
        remap = [col_of[id(v)] for v in built.columns]
        self.remap = None if remap == list(range(len(remap))) else np.asarray(remap)

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
    m = built.model
    spec = built.spec
    departments = tuple(spec.departments)
    dept_code = {d: i for i, d in enumerate(departments)}
    alloc_ids = {id(a.var) for a in built.allocations}

    col_components: list[str] = []
    col_component: list[int] = []
    col_indices: list[Any] = []
    col_lower: list[float] = []
    col_upper: list[float] = []
    col_owner: list[int] = []
    col_of: dict[int, int] = {}
    for comp in m.component_objects(pyo.Var, descend_into=True):
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

    read = _Reader(built, col_of)
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
    n = len(col_indices)
    A = sp.csr_array(
        (
            np.asarray(data, dtype=float),
            np.asarray(indices, dtype=np.int64),
            np.asarray(indptr, dtype=np.int64),
        ),
        shape=(len(row_indices), n),
    )
    A.sum_duplicates()
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
    objective = read.row(built.objective_expr, "the objective")
    allocations = [
        Allocation(a.department, a.resource, col_of[id(a.var)], row_of[id(a.use_row)], a.baseline)
        for a in built.allocations
    ]
    lp = LinearProgram(
        A=A.tocsc(),
        row_lower=np.asarray(lower, dtype=float),
        row_upper=np.asarray(upper, dtype=float),
        col_lower=np.asarray(col_lower, dtype=float),
        col_upper=np.asarray(col_upper, dtype=float),
        objective=objective,
        sense=spec.objective.sense,
        row_components=row_components,
        row_component=np.asarray(row_component, dtype=np.int64),
        row_indices=row_indices,
        col_components=col_components,
        col_component=np.asarray(col_component, dtype=np.int64),
        col_indices=col_indices,
        col_owner=np.asarray(col_owner, dtype=np.int64),
        departments=departments,
        kpis=kpis,
        allocations=allocations,
        resource_rows={r: row_of[id(con)] for r, con in built.resource_rows.items()},
        constraint_components=tuple(built.constraint_names),
    )
    _check_finite(lp, built)
    return lp


def _check_finite(lp: LinearProgram, built: BuiltModel) -> None:
    """Every coefficient finite, and no bound that excludes every value (a lower bound of
    +inf): data such as ``1e308 * 10`` overflow to infinity, which HiGHS would only reject
    as a whole model.  Checked on the arrays, so it costs nothing for sound models."""
    spec = built.spec
    errors = ErrorCollector()

    def where(component: str) -> Location | None:
        if component in spec.constraints:
            return spec.constraints[component].where
        if component.startswith("resources"):
            return spec.source.locate(("resources", component.split(".")[1]))
        return None

    # lp.A is column-wise: its indices are row numbers, no conversion needed
    bad_rows = set(lp.A.indices[~np.isfinite(lp.A.data)])
    bad_rows |= set(np.flatnonzero(np.isnan(lp.row_lower) | (lp.row_lower == np.inf)))
    bad_rows |= set(np.flatnonzero(np.isnan(lp.row_upper) | (lp.row_upper == -np.inf)))
    for i in sorted(bad_rows)[:5]:
        comp = lp.row_components[lp.row_component[i]]
        errors.add(
            where(comp),
            f"{lp.row_name(i)}: a coefficient or bound is not finite "
            "(a number in the data or the expression overflowed)",
        )
    for name, kpi in lp.kpis.items():
        rows = [kpi.numerator] + ([kpi.denominator] if kpi.denominator is not None else [])
        if not all(np.all(np.isfinite(r.values)) and np.isfinite(r.constant) for r in rows):
            errors.add(built.kpis[name].spec.where, f"KPI {name}: a coefficient is not finite")
    obj = lp.objective
    if not (np.all(np.isfinite(obj.values)) and np.isfinite(obj.constant)):
        errors.add(spec.objective.where, "the objective has a coefficient that is not finite")
    errors.raise_if_any(BuildError)
