"""Build a Pyomo ``ConcreteModel`` from a :class:`~kpidesign.spec.ModelSpec`.

Components carry the model's own names: sets and variables at the top (``inventory``),
constraints at the top (``capacity[3]``, ``balance[standard,4]``), resources in blocks
(``resources.budget.total``, ``resources.budget.use[sales]``, allocation variables
``resources.budget.allocation[sales]``), KPIs as expressions ``kpi['sales.volume']`` and the
objective as ``objective``.  Which department owns which variable, and which expressions
are KPIs, is recorded in the returned :class:`BuiltModel`; the Pyomo model itself stays a
plain model a user can inspect, extend or write to an LP/MPS file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from ..errors import BuildError, ErrorCollector, KpiDesignError
from ..expressions import (
    Linear,
    compile_kpi,
    compile_linear,
)
from ..spec import KpiSpec, ModelSpec
from .assemble import check_names, compiled_constraint, constraint_row
from .program import key_label

__all__ = ["BuiltKpi", "BuiltModel", "build"]

#: variable name -> index tuple -> column number (in build's numbering)
_Table = dict[str, dict[tuple, int]]


@dataclass(frozen=True)
class BuiltKpi:
    """A KPI as Pyomo linear expressions: ``numerator`` or ``numerator / denominator``."""

    spec: KpiSpec
    numerator: LinearExpression
    denominator: LinearExpression | None

    @property
    def is_ratio(self) -> bool:
        """Is the KPI a ratio (a denominator form)?"""
        return self.denominator is not None


@dataclass(frozen=True)
class LinearTerms:
    """The terms of a LinearExpression as build made it: column numbers (in ``columns``
    order), coefficients and constant.  ``expr`` is kept to check identity."""

    expr: LinearExpression
    columns: list[int]
    coefs: list[float]
    constant: float


@dataclass(frozen=True)
class AllocationVar:
    department: str
    resource: str
    var: Any  # a Pyomo VarData
    use_row: Any  # the ConstraintData use <= allocation
    baseline: float


@dataclass
class BuiltModel:
    """The Pyomo model and what kpidesign knows about it."""

    spec: ModelSpec
    model: pyo.ConcreteModel
    owners: dict[str, str | None]  # variable component name -> department, None = shared
    kpis: dict[str, BuiltKpi]  # qualified name -> KPI
    objective_expr: LinearExpression
    allocations: list[AllocationVar]
    resource_rows: dict[str, Any]  # resource -> its total ConstraintData
    constraint_names: list[str]  # model constraints, in file order
    columns: list[Any] = field(default_factory=list)  # variables in build's numbering
    terms: dict[int, LinearTerms] = field(default_factory=dict)  # id(expr) -> its terms
    #: variable name -> index tuple -> build's column number (what expressions evaluate to)
    table: dict[str, dict[tuple, int]] = field(default_factory=dict)


class _Columns:
    """Variables numbered in creation order; expressions accumulate over these numbers."""

    def __init__(self) -> None:
        self.vars: list[Any] = []
        self.terms: dict[int, LinearTerms] = {}

    def add(self, var: Any) -> int:
        self.vars.append(var)
        return len(self.vars) - 1

    def expr(self, form: Linear, with_constant: bool = True) -> LinearExpression:
        terms = form.nonzero_terms()
        cols = self.vars
        constant = form.constant if with_constant else 0.0
        coefs = list(terms.values())
        expr = LinearExpression(
            constant=constant, linear_coefs=coefs, linear_vars=[cols[i] for i in terms]
        )
        # kept so compile need not read the terms back out of Pyomo (which rebuilds them)
        self.terms[id(expr)] = LinearTerms(expr, list(terms), coefs, constant)
        return expr


def _add(block: Any, name: str, component: Any, where: Any) -> None:
    try:
        block.add_component(name, component)
    except (ValueError, RuntimeError) as exc:
        raise BuildError.at(
            where, f"the name '{name}' cannot be used: {str(exc).splitlines()[0]}"
        ) from None


def build(spec: ModelSpec) -> BuiltModel:
    """Turn a validated spec into a Pyomo model (all expressions compiled and checked)."""
    check_names(spec)
    errors = ErrorCollector()
    m = pyo.ConcreteModel(name=spec.name)
    for s in spec.sets.values():
        _add(m, s.name, pyo.Set(initialize=list(s.members), ordered=True), s.where)
    cols = _Columns()
    table = _add_variables(m, spec, cols)
    owners = {v.name: v.owner for v in spec.variables.values()}
    constraint_names = _add_constraints(m, spec, table, cols, errors)
    kpis = _add_kpis(m, spec, table, cols, errors)
    objective_expr = _add_objective(m, spec, table, cols, errors)
    allocations, resource_rows = _add_resources(m, spec, table, cols, errors)
    errors.raise_if_any(BuildError)
    assert objective_expr is not None
    return BuiltModel(
        spec,
        m,
        owners,
        kpis,
        objective_expr,
        allocations,
        resource_rows,
        constraint_names,
        columns=cols.vars,
        terms=cols.terms,
        table=table,
    )


def _add_variables(m: pyo.ConcreteModel, spec: ModelSpec, cols: _Columns) -> _Table:
    """Add every variable to ``m``, numbering its entries in ``cols``; returns the table
    variable name -> index tuple -> column number that expressions are evaluated against."""
    table: _Table = {}
    for v in spec.variables.values():
        index = [getattr(m, s) for s in v.over]
        var = (
            pyo.Var(*index, bounds=(v.lb, v.ub), dense=True)
            if index
            else pyo.Var(bounds=(v.lb, v.ub))
        )
        _add(m, v.name, var, v.where)
        if v.over:
            single = len(v.over) == 1
            table[v.name] = {((k,) if single else k): cols.add(data) for k, data in var.items()}
        else:
            table[v.name] = {(): cols.add(var)}
    return table


def _add_constraints(
    m: pyo.ConcreteModel,
    spec: ModelSpec,
    table: _Table,
    cols: _Columns,
    errors: ErrorCollector,
) -> list[str]:
    """Add the model's constraints; returns the names of those built (errors collected)."""
    constraint_names = []
    for c in spec.constraints.values():
        try:
            _build_constraint(m, spec, c, table, cols)
            constraint_names.append(c.name)
        except KpiDesignError as exc:
            errors.extend(exc)
    return constraint_names


def _add_kpis(
    m: pyo.ConcreteModel,
    spec: ModelSpec,
    table: _Table,
    cols: _Columns,
    errors: ErrorCollector,
) -> dict[str, BuiltKpi]:
    """Add every KPI as ``m.kpi[qualified name]`` (errors collected)."""
    kpis: dict[str, BuiltKpi] = {}
    m.kpi = pyo.Expression(pyo.Any)
    for kpi in spec.all_kpis().values():
        try:
            kpis[kpi.qualified] = _build_kpi(m, spec, kpi, table, cols)
        except KpiDesignError as exc:
            errors.extend(exc)
    return kpis


def _add_objective(
    m: pyo.ConcreteModel,
    spec: ModelSpec,
    table: _Table,
    cols: _Columns,
    errors: ErrorCollector,
) -> LinearExpression | None:
    """Add ``m.objective``; returns its expression (None after an error, collected)."""
    try:
        obj = compile_linear(spec, spec.objective.text, spec.objective.where)
        if not obj.has_variables:
            raise BuildError.at(spec.objective.where, "the objective has no decision variables")
        objective_expr = cols.expr(obj.evaluate({}, table))
        sense = pyo.maximize if spec.objective.sense == "max" else pyo.minimize
        m.objective = pyo.Objective(expr=objective_expr, sense=sense)
    except KpiDesignError as exc:
        errors.extend(exc)
        return None
    return objective_expr


def _add_resources(
    m: pyo.ConcreteModel,
    spec: ModelSpec,
    table: _Table,
    cols: _Columns,
    errors: ErrorCollector,
) -> tuple[list[AllocationVar], dict[str, Any]]:
    """Add the resource blocks; returns the allocations and each resource's total row
    (none after an error, collected)."""
    try:
        return _build_resources(m, spec, table, cols)
    except KpiDesignError as exc:
        errors.extend(exc)
        return [], {}


def _build_constraint(
    m: pyo.ConcreteModel, spec: ModelSpec, c: Any, table: dict, cols: _Columns
) -> None:
    bindings, compiled = compiled_constraint(spec, c)
    f = c.slack or 0.0
    if not bindings.names:
        con = pyo.Constraint()
        _add(m, c.name, con, c.where)
        _set_row(con, compiled, {}, table, cols, f)
        return
    con = pyo.Constraint(pyo.Any)
    _add(m, c.name, con, c.where)
    single = len(bindings.names) == 1
    for env in bindings:
        key = tuple(env[n] for n in bindings.names)
        _set_row(con, compiled, env, table, cols, f, key[0] if single else key)


def use_row(
    spec: ModelSpec, text: str, where: Any, table: dict, allocation: int
) -> tuple[None, Linear, float]:
    """A department's use of a resource (``text``) within its allocation (build's column
    ``allocation``): ``use - allocation <= 0`` as ``(lower, form, upper)``."""
    form = compile_linear(spec, text, where).evaluate({}, table)
    form.add_term(allocation, -1.0)
    return None, form, -form.constant


def _set_row(
    con: Any, compiled: Any, env: dict, table: dict, cols: _Columns, slack: float, key: Any = None
) -> None:
    lower, form, upper = constraint_row(compiled, env, table, slack)
    if any(b is not None and math.isnan(b) for b in (lower, upper)):
        # inf - inf in the data: Pyomo would refuse the row with a traceback; the assembly's
        # check of finite numbers says this, located
        name = con.name if key is None else f"{con.name}[{key_label(key)}]"
        raise BuildError.at(
            compiled.lhs.where,
            f"{name}: a coefficient or bound is not finite "
            "(a number in the data or the expression overflowed)",
        )
    row = (lower, cols.expr(form, with_constant=False), upper)
    if key is None:
        con.set_value(row)
    else:
        con[key] = row


def _build_kpi(
    m: pyo.ConcreteModel, spec: ModelSpec, kpi: KpiSpec, table: dict, cols: _Columns
) -> BuiltKpi:
    compiled = compile_kpi(spec, kpi.text, kpi.where)
    num = cols.expr(compiled.numerator.evaluate({}, table))
    den = None
    if compiled.denominator is not None:
        den = cols.expr(compiled.denominator.evaluate({}, table))
        m.kpi[kpi.qualified] = num / den
    else:
        m.kpi[kpi.qualified] = num
    return BuiltKpi(kpi, num, den)


def _build_resources(
    m: pyo.ConcreteModel, spec: ModelSpec, table: dict, cols: _Columns
) -> tuple[list, dict]:
    m.resources = pyo.Block()
    allocations: list[AllocationVar] = []
    rows = {}
    for r in spec.resources.values():
        users = [d for d in spec.departments.values() if r.name in d.allocation]
        block = pyo.Block()
        _add(m.resources, r.name, block, r.where)
        names = [d.name for d in users]

        def bounds(_b: Any, dname: str, _r=r) -> tuple[float, float | None]:
            lower, upper = _r.allocation_bounds(spec.departments[dname].allocation[_r.name])
            return lower, (upper if math.isfinite(upper) else None)  # Pyomo: None = no bound

        block.allocation = pyo.Var(names, bounds=bounds)
        block.use = pyo.Constraint(pyo.Any)
        for d in users:
            text, where = d.uses[r.name]
            lower, form, upper = use_row(
                spec, text, where, table, cols.add(block.allocation[d.name])
            )
            block.use[d.name] = (lower, cols.expr(form, with_constant=False), upper)
            allocations.append(
                AllocationVar(
                    d.name,
                    r.name,
                    block.allocation[d.name],
                    block.use[d.name],
                    d.allocation[r.name],
                )
            )
        total = LinearExpression(
            constant=0.0,
            linear_coefs=[1.0] * len(names),
            linear_vars=[block.allocation[n] for n in names],
        )
        block.total = pyo.Constraint(expr=(None, total, r.available))
        rows[r.name] = block.total
    return allocations, rows
