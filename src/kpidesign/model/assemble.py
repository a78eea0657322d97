"""Spec -> :class:`LinearProgram`, without Pyomo: the solve path.

Every constraint family, KPI and the objective is evaluated once over all its index
bindings by the vectorized evaluator (:mod:`kpidesign.expressions.vector`), which gives
the sparse matrix directly.  A family the vectorized evaluator cannot take (see that
module: decided per family, never per model) goes through the scalar evaluator, row by
row, exactly as :func:`kpidesign.model.build.build` does; where the data are wrong, the
scalar evaluator raises the located error.

Columns are numbered as the Pyomo model numbers them (variables in file order, each over
the product of its sets in order, then each resource's allocations), rows likewise
(constraints in file order, each resource's ``use`` rows and its ``total``), so this
program equals :func:`~kpidesign.model.compile.compile_model` of the Pyomo model entry by
entry (the tests check it on every model in the repository and on random models).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..errors import BuildError, ErrorCollector, KpiDesignError, Location
from ..expressions import (
    Linear,
    compile_bindings,
    compile_constraint,
    compile_kpi,
    compile_linear,
)
from ..expressions.forms import Bindings, LinearTemplate
from ..expressions.vector import Context, Frame, Grid, Members, NotVectorizable, Terms, gather
from ..spec import ConstraintSpec, KpiSpec, ModelSpec
from .program import (
    ALLOCATION,
    SHARED,
    Allocation,
    IndexLabels,
    KpiRows,
    LabelBlock,
    LinearProgram,
    SparseRow,
)
from .reserved import PYOMO_ATTRIBUTES

__all__ = ["Assembly", "VariableColumns", "assemble", "check_names", "constraint_row", "program"]

#: components kpidesign adds itself; a user's name may not take them
OWN_COMPONENTS = ("resources", "kpi", "objective")


class VariableColumns(Mapping):
    """One variable's columns by index tuple (what the scalar evaluator looks up), computed
    from positions: no dict of every entry is held."""

    def __init__(self, first: int, grid: Grid, spec: ModelSpec):
        self.first = first
        self.grid = grid
        self._positions = [{m: k for k, m in enumerate(spec.sets[s].members)} for s in grid.sets]

    def get(self, index: tuple, default: Any = None) -> Any:
        """The column of ``index`` (a tuple of members), or ``default``."""
        if len(index) != len(self._positions):
            return default
        flat = 0
        for positions, size, member in zip(self._positions, self.grid.shape, index, strict=True):
            k = positions.get(member)
            if k is None:
                return default
            flat = flat * size + k
        return self.first + flat

    def __getitem__(self, index: tuple) -> int:
        column = self.get(index)
        if column is None:
            raise KeyError(index)
        return column

    def __len__(self) -> int:
        return math.prod(self.grid.shape)

    def __iter__(self) -> Iterator[tuple]:
        return iter(itertools.product(*(list(p) for p in self._positions)))


@dataclass
class ComponentRows:
    """Rows of one component: (row within the component, column, value) triplets, bounds
    and the rows' index labels."""

    component: str
    row: np.ndarray
    col: np.ndarray
    val: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    members: tuple[tuple, ...] | None = None
    flat: np.ndarray | None = None

    def __post_init__(self) -> None:
        # + 0.0 turns a -0.0 (the negated constant of an equality) into 0.0, as Pyomo does
        self.lower = self.lower + 0.0
        self.upper = self.upper + 0.0

    @property
    def size(self) -> int:
        return self.lower.size


@dataclass
class Assembly:
    """A spec's program and what evaluating it again needs (the columns each variable
    takes, by index, for the scalar evaluator)."""

    spec: ModelSpec
    lp: LinearProgram
    table: dict[str, VariableColumns]
    grids: dict[str, tuple[int, Grid]] = field(repr=False)

    def context(self, spec: ModelSpec | None = None) -> Context:
        """A vectorized evaluation context for ``spec`` (default: the assembled one) over
        this program's columns; its param tables are ``spec``'s."""
        return Context(Members(spec or self.spec), columns=self.grids)


def program(spec: ModelSpec) -> LinearProgram:
    """The linear program of a validated spec (all expressions compiled and checked)."""
    return assemble(spec).lp


def assemble(spec: ModelSpec) -> Assembly:
    """The linear program of a validated spec, with its column tables."""
    check_names(spec)
    departments = tuple(spec.departments)
    dept_code = {d: i for i, d in enumerate(departments)}
    grids: dict[str, tuple[int, Grid]] = {}
    col_lower: list[np.ndarray] = []
    col_upper: list[np.ndarray] = []
    col_owner: list[np.ndarray] = []
    col_blocks: list[LabelBlock] = []
    col_component: list[np.ndarray] = []
    n = 0
    for k, v in enumerate(spec.variables.values()):
        grid = Grid(v.over, tuple(len(spec.sets[s].members) for s in v.over))
        size = math.prod(grid.shape)
        grids[v.name] = (n, grid)
        col_lower.append(np.full(size, -np.inf if v.lb is None else float(v.lb)))
        col_upper.append(np.full(size, np.inf if v.ub is None else float(v.ub)))
        col_owner.append(np.full(size, SHARED if v.owner is None else dept_code[v.owner]))
        members = tuple(spec.sets[s].members for s in v.over) if v.over else None
        col_blocks.append(LabelBlock(n, size, members))
        col_component.append(np.full(size, k))
        n += size
    table = {name: VariableColumns(first, grid, spec) for name, (first, grid) in grids.items()}
    context = Context(Members(spec), columns=grids)
    errors = ErrorCollector()
    rows: list[ComponentRows] = []
    constraint_names = []
    for c in spec.constraints.values():
        try:
            rows.append(constraint_rows(spec, c, context, table))
            constraint_names.append(c.name)
        except KpiDesignError as exc:
            errors.extend(exc)
    kpis = {}
    for kpi in spec.all_kpis().values():
        try:
            kpis[kpi.qualified] = kpi_rows(spec, kpi, context, table)
        except KpiDesignError as exc:
            errors.extend(exc)
    objective = None
    try:
        objective = objective_row(spec, context, table)
    except KpiDesignError as exc:
        errors.extend(exc)
    allocations: list[Allocation] = []
    resource_rows: dict[str, int] = {}
    alloc_components: list[str] = []
    try:
        first_row = sum(r.size for r in rows)
        for r in spec.resources.values():
            users = [d for d in spec.departments.values() if r.name in d.allocation]
            names = tuple(d.name for d in users)
            alloc_components.append(f"resources.{r.name}.allocation")
            columns = np.arange(n, n + len(users))
            bounds = [r.allocation_bounds(d.allocation[r.name]) for d in users]
            col_lower.append(np.asarray([lo for lo, _ in bounds], dtype=float))
            col_upper.append(np.asarray([hi for _, hi in bounds], dtype=float))
            col_owner.append(np.full(len(users), ALLOCATION))
            col_blocks.append(LabelBlock(n, len(users), (names,)))
            col_component.append(
                np.full(len(users), len(spec.variables) + len(alloc_components) - 1)
            )
            use = [
                use_row_of(spec, *d.uses[r.name], context, table, int(col))
                for d, col in zip(users, columns, strict=True)
            ]
            rows.append(stack_rows(f"resources.{r.name}.use", use, (names,)))
            for k, (d, col) in enumerate(zip(users, columns, strict=True)):
                allocations.append(
                    Allocation(d.name, r.name, int(col), first_row + k, d.allocation[r.name])
                )
            first_row += len(users)
            rows.append(
                ComponentRows(
                    f"resources.{r.name}.total",
                    np.zeros(len(users), dtype=np.int64),
                    columns,
                    np.ones(len(users)),
                    np.array([-np.inf]),
                    np.array([float(r.available)]),
                )
            )
            resource_rows[r.name] = first_row
            first_row += 1
            n += len(users)
    except KpiDesignError as exc:
        errors.extend(exc)
    errors.raise_if_any(BuildError)
    assert objective is not None
    offsets = np.cumsum([0, *(r.size for r in rows)])
    lp = LinearProgram(
        A=_matrix(rows, offsets, n),
        row_lower=_concat([r.lower for r in rows], float),
        row_upper=_concat([r.upper for r in rows], float),
        objective=objective,
        sense=spec.objective.sense,
        row_components=[r.component for r in rows],
        row_component=np.repeat(np.arange(len(rows)), [r.size for r in rows]).astype(np.int64),
        row_indices=IndexLabels(
            [
                LabelBlock(int(off), r.size, r.members, r.flat)
                for r, off in zip(rows, offsets, strict=False)
                if r.size
            ]
        ),
        col_lower=np.concatenate(col_lower),
        col_upper=np.concatenate(col_upper),
        col_components=[*spec.variables, *alloc_components],
        col_component=np.concatenate(col_component).astype(np.int64),
        col_indices=IndexLabels([b for b in col_blocks if b.size]),
        col_owner=np.concatenate(col_owner).astype(np.int64),
        departments=departments,
        kpis=kpis,
        allocations=allocations,
        resource_rows=resource_rows,
        constraint_components=tuple(constraint_names),
    )
    check_finite(lp, spec)
    return Assembly(spec, lp, table, grids)


def _matrix(rows: list[ComponentRows], offsets: np.ndarray, n: int) -> sp.csc_array:
    """The constraint matrix of the row components ``rows`` (starting at ``offsets``) over
    ``n`` columns."""
    A = sp.csr_array(
        (
            _concat([r.val for r in rows], float),
            (
                _concat([r.row + off for r, off in zip(rows, offsets, strict=False)], np.int64),
                _concat([r.col for r in rows], np.int64),
            ),
        ),
        shape=(int(offsets[-1]), n),
    )
    A.sum_duplicates()
    return A.tocsc()


def _concat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
    """``arrays`` end to end (empty for none: a model may have no constraint rows)."""
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


def kpi_rows(spec: ModelSpec, kpi: KpiSpec, context: Context, table: Mapping) -> KpiRows:
    """KPI ``kpi``'s numerator (and denominator) as sparse rows."""
    compiled = compile_kpi(spec, kpi.text, kpi.where)
    den = compiled.denominator
    return KpiRows(
        kpi.qualified,
        kpi.owner,
        kpi.sense,
        linear_row(compiled.numerator, context, table),
        None if den is None else linear_row(den, context, table),
        kpi.unit,
    )


def objective_row(spec: ModelSpec, context: Context, table: Mapping) -> SparseRow:
    """The objective as a sparse row (an error if it has no decision variables)."""
    obj = compile_linear(spec, spec.objective.text, spec.objective.where)
    if not obj.has_variables:
        raise BuildError.at(spec.objective.where, "the objective has no decision variables")
    return linear_row(obj, context, table)


def check_names(spec: ModelSpec) -> None:
    """No set, variable or constraint takes a name kpidesign's own components use, and no
    constraint a set's or variable's name (all such errors raised together)."""
    errors = ErrorCollector()
    for own in OWN_COMPONENTS:
        for kind, names in (
            ("set", spec.sets),
            ("variable", spec.variables),
            ("constraint", spec.constraints),
        ):
            if own in names:
                where = names[own].where
                errors.add(where, f"the {kind} name '{own}' is reserved by kpidesign")
    for c in spec.constraints.values():
        # params are data, not components: a constraint may share a param's name
        if c.name in spec.sets or c.name in spec.variables:
            errors.add(c.where, f"constraint '{c.name}' has the name of a set or variable")
    for kind, names in (
        ("set", spec.sets),
        ("variable", spec.variables),
        ("constraint", spec.constraints),
        ("resource", spec.resources),
    ):
        for name in sorted(set(names) & PYOMO_ATTRIBUTES):
            errors.add(
                names[name].where,
                f"the {kind} name '{name}' cannot be used: the Pyomo model (kpidesign export) "
                "has an attribute of that name",
            )
    errors.raise_if_any(BuildError)


def constraint_row(
    compiled: Any, env: dict, table: Mapping, slack: float
) -> tuple[float | None, Linear, float | None]:
    """One row of a compiled constraint at the bindings ``env`` (the scalar evaluator):
    ``(lower, form, upper)``, the body's variables in ``form`` (its constant not used) and
    the data on the bounds (None: open)."""
    form, lhs_const, rhs_const = compiled.evaluate(env, table)
    # a margin always tightens: f·|rhs| off a "<=" bound, onto a ">=" bound, whatever the sign
    margin = slack * abs(rhs_const)
    if compiled.sense == "<=":
        return None, form, rhs_const - margin - lhs_const
    if compiled.sense == ">=":
        return rhs_const + margin - lhs_const, form, None
    return -form.constant, form, -form.constant


def _bounds(
    sense: str, constant: np.ndarray, lhs: np.ndarray, rhs: np.ndarray, slack: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`constraint_row`'s bounds at every binding (the same operations)."""
    margin = slack * np.abs(rhs)
    if sense == "<=":
        return np.full(constant.size, -np.inf), rhs - margin - lhs
    if sense == ">=":
        return rhs + margin - lhs, np.full(constant.size, np.inf)
    return -constant, -constant


def compiled_constraint(spec: ModelSpec, c: ConstraintSpec) -> tuple[Bindings, Any]:
    """Constraint family ``c``'s bindings and compiled expression, its ``slack`` checked
    (both paths, assembly and Pyomo build, start here)."""
    bindings = compile_bindings(spec, c.bindings, c.bindings_where)
    compiled = compile_constraint(spec, c.expr, c.where, bindings.bound)
    if c.slack is not None:
        slack_where = spec.source.locate(("constraints", c.name, "slack"))
        if compiled.sense == "==":
            raise BuildError.at(slack_where, "slack on an equality constraint is not allowed")
        if compiled.rhs.has_variables:
            raise BuildError.at(slack_where, "slack needs one side of the constraint to be data")
    return bindings, compiled


def constraint_rows(
    spec: ModelSpec, c: ConstraintSpec, context: Context, table: Mapping
) -> ComponentRows:
    """Every row of constraint family ``c``: vectorized, else row by row."""
    bindings, compiled = compiled_constraint(spec, c)
    slack = c.slack or 0.0
    members = tuple(spec.sets[s].members for s in bindings.sets) if bindings.names else None
    try:
        with _as_python_floats():
            return _vectorized_rows(c.name, bindings, compiled, context, slack, members)
    except NotVectorizable:
        pass
    # binding after binding, each row evaluated before the next binding's condition (as the
    # Pyomo build does: the first error is the same)
    envs, found = [], []
    for env in bindings if bindings.names else [{}]:
        lower, form, upper = constraint_row(compiled, env, table, slack)
        envs.append(env)
        found.append((lower, sparse_row(form), upper))
    out = stack_rows(c.name, found, None)
    if members is not None:
        single = len(bindings.names) == 1
        names = bindings.names
        out.members = (
            tuple(env[names[0]] if single else tuple(env[n] for n in names) for env in envs),
        )
    return out


# overflow to inf (and inf - inf to nan) as silent as in Python's floats: the program's
# check of finite numbers then reports it, located (:func:`check_finite`)
def _as_python_floats() -> np.errstate:
    return np.errstate(over="ignore", invalid="ignore")


def _vectorized_rows(
    name: str,
    bindings: Bindings,
    compiled: Any,
    context: Context,
    slack: float,
    members: tuple[tuple, ...] | None,
) -> ComponentRows:
    """Every row of a constraint family by the vectorized evaluator (raises
    :class:`NotVectorizable` where it cannot)."""
    frame = bindings.frame(context)
    terms, constant, lhs, rhs = compiled.evaluate_frame(frame)
    row, col, val, _ = gather(terms, frame.n)
    lower, upper = _bounds(compiled.sense, constant, lhs, rhs, slack)
    flat = None
    if members is not None:
        grid = Grid(bindings.sets, tuple(len(m) for m in members))
        flat, _ = grid.flat(context.members, [frame.index[n] for n in bindings.names])
    return ComponentRows(name, row, col, val, lower, upper, members, flat)


def stack_rows(
    component: str,
    found: list[tuple[float | None, SparseRow, float | None]],
    members: tuple[tuple, ...] | None,
) -> ComponentRows:
    """Rows given one by one as ``(lower, terms, upper)`` (the terms' constant unused)."""
    row, col, val = [], [], []
    for i, (_, terms, _) in enumerate(found):
        row.append(np.full(terms.indices.size, i, dtype=np.int64))
        col.append(terms.indices)
        val.append(terms.values)
    return ComponentRows(
        component,
        _concat(row, np.int64),
        _concat(col, np.int64),
        _concat(val, float),
        np.array([-np.inf if lo is None else float(lo) for lo, _, _ in found], dtype=float),
        np.array([np.inf if hi is None else float(hi) for _, _, hi in found], dtype=float),
        members,
    )


def linear_row(template: LinearTemplate, context: Context, table: Mapping) -> SparseRow:
    """A linear expression without bindings (a KPI's part, the objective, a use) as a
    sparse row with its constant: vectorized, else by the scalar evaluator."""
    try:
        terms = Terms()
        with _as_python_floats():
            template.evaluate_frame(Frame(1, {}, context), terms)
            _, col, val, constant = gather(terms, 1)
        return SparseRow(col, val, float(constant[0]))
    except NotVectorizable:
        return sparse_row(template.evaluate({}, table))


def sparse_row(form: Linear) -> SparseRow:
    """A scalar evaluator's form as a sparse row, its constant kept (zeros dropped)."""
    terms = form.nonzero_terms()
    return SparseRow(
        np.fromiter(terms, dtype=np.int64, count=len(terms)),
        np.fromiter(terms.values(), dtype=float, count=len(terms)),
        form.constant,
    )


def use_row_of(
    spec: ModelSpec, text: str, where: Location, context: Context, table: Mapping, allocation: int
) -> tuple[None, SparseRow, float]:
    """A department's use of a resource (``text``) within its allocation (column
    ``allocation``): ``use - allocation <= 0`` as ``(lower, terms, upper)``."""
    use = linear_row(compile_linear(spec, text, where), context, table)
    terms = SparseRow(
        np.append(use.indices, allocation).astype(np.int64), np.append(use.values, -1.0)
    )
    return None, terms, -use.constant


def check_finite(lp: LinearProgram, spec: ModelSpec) -> None:
    """Every coefficient finite, and no bound that excludes every value (a lower bound of
    +inf): data such as ``1e308 * 10`` overflow to infinity, which HiGHS would only reject
    as a whole model.  Checked on the arrays, so it costs nothing for sound models."""
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
            errors.add(spec.all_kpis()[name].where, f"KPI {name}: a coefficient is not finite")
    obj = lp.objective
    if not (np.all(np.isfinite(obj.values)) and np.isfinite(obj.constant)):
        errors.add(spec.objective.where, "the objective has a coefficient that is not finite")
    errors.raise_if_any(BuildError)
