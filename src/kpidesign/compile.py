"""Compile a built Pyomo model, once, into a :class:`LinearProgram` of sparse arrays.

Every later solve (the system optimum, each department's local problem, sweeps) changes
bounds and costs of this one compiled program on a live HiGHS instance; nothing goes back
through Pyomo.  Constraint bodies that kpidesign built are ``LinearExpression`` objects
and are read directly; any other (a user's own Pyomo constraint) goes through Pyomo's
``generate_standard_repn`` and must be linear.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.repn.standard_repn import generate_standard_repn

from .build import BuiltModel
from .errors import BuildError, ErrorCollector, Location

__all__ = [
    "ALLOCATION",
    "DENOMINATOR_FLOOR",
    "SHARED",
    "KpiRows",
    "LinearProgram",
    "SparseRow",
    "compile_model",
]

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
        out = np.zeros(n)
        np.add.at(out, self.indices, self.values)
        return out

    def at(self, x: np.ndarray) -> float:
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
    sense: str  # "max" | "min"
    numerator: SparseRow
    denominator: SparseRow | None
    unit: str | None = None

    @property
    def is_ratio(self) -> bool:
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
    department: str
    resource: str
    column: int
    use_row: int
    baseline: float


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
    sense: str
    row_components: list[str]
    row_component: np.ndarray
    row_indices: list[Any]  # the Pyomo index of each row (None for a scalar constraint)
    col_components: list[str]
    col_component: np.ndarray
    col_indices: list[Any]
    col_owner: np.ndarray  # department index, SHARED or ALLOCATION
    departments: tuple[str, ...]
    kpis: dict[str, KpiRows]
    allocations: list[Allocation]
    resource_rows: dict[str, int]
    constraint_components: tuple[str, ...]  # the model's own constraints (not resources)
    _row_index: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def num_rows(self) -> int:
        return self.A.shape[0]

    @property
    def num_cols(self) -> int:
        return self.A.shape[1]

    def row_key(self, i: int) -> str | None:
        """Row ``i``'s index as comma-joined text (``standard,3``); None if scalar."""
        return _key_label(self.row_indices[i])

    def col_key(self, j: int) -> str | None:
        return _key_label(self.col_indices[j])

    def row_name(self, i: int) -> str:
        key = self.row_key(i)
        comp = self.row_components[self.row_component[i]]
        return comp if key is None else f"{comp}[{key}]"

    def col_name(self, j: int) -> str:
        key = self.col_key(j)
        comp = self.col_components[self.col_component[j]]
        return comp if key is None else f"{comp}[{key}]"

    def columns_of(self, component: str) -> np.ndarray:
        return np.flatnonzero(self.col_component == self.col_components.index(component))

    def rows_of(self, component: str) -> np.ndarray:
        return np.flatnonzero(self.row_component == self.row_components.index(component))

    def owned_by(self, department: str) -> np.ndarray:
        return np.flatnonzero(self.col_owner == self.departments.index(department))


def _key_label(index: Any) -> str | None:
    if index is None:
        return None
    if isinstance(index, tuple):
        return ",".join(str(i) for i in index)
    return str(index)


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
