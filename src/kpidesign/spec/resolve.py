"""From a validated file to the :class:`ModelSpec`: sets, params, variables, departments,
KPIs, constraints and resources, with their cross-references and sizes checked."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import ErrorCollector, Location
from ..types import Sense
from .model import (
    DEFAULT_MAX_SIZE,
    ConstraintSpec,
    ContractTerm,
    DepartmentSpec,
    KpiSpec,
    ModelSpec,
    ObjectiveSpec,
    ParamSpec,
    PlanSpec,
    ResourceSpec,
    SetSpec,
    VariableSpec,
)
from .params import resolve_param
from .plan import START_PLAN, read_plan
from .schema import (
    DepartmentDecl,
    ModelFile,
    VariableDecl,
)
from .shape import validate_shape
from .sources import KeyPath, Locate, SourceMap, did_you_mean, format_path

# --------------------------------------------------------------------------------------
# resolution: from the validated file to the spec


_RESERVED = {"sum", "for", "in", "if", "and", "or", "not"}


def resolve_spec(
    model_path: Path,
    scenario_path: Path | None,
    data: dict,
    source: SourceMap,
    scenario_name: str | None,
    variant: str | None,
    scales: list[tuple[str, float, Location]] | None = None,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    start_plan: Path | None = None,
) -> ModelSpec:
    """The spec of a validated file; every error of the file is collected before raising.
    ``start_plan`` (a plan file) replaces the file's ``today:``."""
    model = validate_shape(ModelFile, data, source)
    errors = ErrorCollector()
    loc = source.locate
    sets = _resolve_sets(model, loc, errors, max_size)
    params = _resolve_params(model, model_path, sets, loc, errors, max_size)
    _apply_scales(params, scales or [], errors)
    names = _Namespace(loc, errors)
    for name in model.sets:
        names.claim(name, ("sets", name))
    for name in model.params:
        names.claim(name, ("params", name))
    variables = _resolve_variables(model, sets, names, loc, errors)
    _check_sizes(variables, sets, max_size, loc(("variables",)), errors)
    company_kpis = _company_kpis(model, loc)
    resources = _resources(model, loc)
    departments = {
        dname: _resolve_department(dname, dept, company_kpis, resources, loc, errors)
        for dname, dept in model.departments.items()
    }
    _check_resources(resources, departments, loc, errors)
    constraints = _constraints(model, loc)
    today = _today(model, model_path, start_plan, sets, variables, loc, errors, max_size)
    contract = _contract(model, params, loc, errors)
    errors.raise_if_any()
    return ModelSpec(
        name=model.name,
        description=model.description,
        model_file=model_path,
        scenario_file=scenario_path,
        scenario=scenario_name or model.name,
        variant=variant,
        sets=sets,
        params=params,
        variables=variables,
        departments=departments,
        constraints=constraints,
        kpis=company_kpis,
        objective=_objective(model, loc),
        resources=resources,
        source=source,
        max_size=max_size,
        today=today,
        contract=contract,
    )


def _today(
    model: ModelFile,
    model_path: Path,
    start_plan: Path | None,
    sets: dict[str, SetSpec],
    variables: dict[str, VariableSpec],
    loc: Locate,
    errors: ErrorCollector,
    max_size: int,
) -> PlanSpec | None:
    """Today's plan: ``start_plan`` if given, else the file's ``today:`` (a path relative
    to the file that names it: the model, or the scenario that set it).  Read only where
    every variable's sets are known (otherwise their errors are reported already)."""
    if any(s not in sets for v in variables.values() for s in v.over):
        return None
    if start_plan is not None:
        return read_plan(start_plan, START_PLAN, variables, sets, errors, max_size)
    if model.today is None:
        return None
    where = loc(("today", "file"))
    naming = where.file if where.file is not None else model_path
    csv_path = naming.parent / model.today.file
    return read_plan(csv_path, where, variables, sets, errors, max_size)


def _resolve_sets(
    model: ModelFile, loc: Locate, errors: ErrorCollector, max_size: int
) -> dict[str, SetSpec]:
    """The file's sets that are valid, in file order."""
    sets: dict[str, SetSpec] = {}
    for name, raw in model.sets.items():
        s = _resolve_set(name, raw, loc(("sets", name)), errors, max_size)
        if s is not None:
            sets[name] = s
    return sets


def _resolve_params(
    model: ModelFile,
    model_path: Path,
    sets: dict[str, SetSpec],
    loc: Locate,
    errors: ErrorCollector,
    max_size: int,
) -> dict[str, ParamSpec]:
    """The file's params that are valid (CSV files read), in file order."""
    params: dict[str, ParamSpec] = {}
    for name, raw in model.params.items():
        p = resolve_param(name, raw, model_path, sets, loc, errors, max_size)
        if p is not None:
            params[name] = p
    return params


def _apply_scales(
    params: dict[str, ParamSpec],
    scales: list[tuple[str, float, Location]],
    errors: ErrorCollector,
) -> None:
    """Multiply the params a scenario scales, in place; a product that overflows is an error."""
    for name, factor, where_scale in scales:
        p = params.get(name)
        if p is not None:
            numbers = [*p.values.values(), p.default or 0.0, p.initial or 0.0]
            if not all(math.isfinite(v * factor) for v in numbers):
                errors.add(where_scale, f"scaling param '{name}' by {factor:g} overflows")
                continue
            params[name] = ParamSpec(
                p.name,
                p.over,
                {k: v * factor for k, v in p.values.items()},
                None if p.default is None else p.default * factor,
                None if p.initial is None else p.initial * factor,
                p.where,
                p.file,
            )


class _Namespace:
    """One flat namespace: sets, params, shared and department variables."""

    def __init__(self, loc: Locate, errors: ErrorCollector) -> None:
        self.loc = loc
        self.errors = errors
        self.seen: dict[str, str] = {}  # name -> the key path that took it

    def claim(self, name: str, where_path: KeyPath) -> None:
        """Take ``name`` for ``where_path``: an error if it is reserved or taken."""
        label = format_path(where_path)
        if name in _RESERVED:
            self.errors.add(self.loc(where_path), f"'{name}' is a reserved word")
        elif name in self.seen:
            message = f"name '{name}' is already used by {self.seen[name]}"
            self.errors.add(self.loc(where_path), message)
        else:
            self.seen[name] = label


def _resolve_variables(
    model: ModelFile,
    sets: dict[str, SetSpec],
    names: _Namespace,
    loc: Locate,
    errors: ErrorCollector,
) -> dict[str, VariableSpec]:
    """Shared, then department variables, each claiming its name in ``names``."""
    variables: dict[str, VariableSpec] = {}
    declared = [(name, decl, None, ("variables", name)) for name, decl in model.variables.items()]
    for dname, dept in model.departments.items():
        for name, decl in dept.variables.items():
            declared.append((name, decl, dname, ("departments", dname, "variables", name)))
    for name, decl, owner, path in declared:
        names.claim(name, path)
        _check_over(decl, path, sets, model.sets, loc, errors)
        variables[name] = VariableSpec(
            name,
            tuple(decl.over),
            decl.lb,
            decl.ub,
            decl.initial,
            owner,
            loc(path),
            decl.unit,
            decl.description,
        )
    return variables


def _check_over(
    decl: VariableDecl,
    path: KeyPath,
    sets: dict[str, SetSpec],
    declared_sets: dict[str, Any],
    loc: Locate,
    errors: ErrorCollector,
) -> None:
    """Each set a variable is over is declared (a declared but invalid set is reported)."""
    for i, s in enumerate(decl.over):
        if s not in sets and s not in declared_sets:
            suffix = did_you_mean(s, declared_sets)
            errors.add(loc((*path, "over", i)), f"unknown set '{s}'{suffix}")


def _company_kpis(model: ModelFile, loc: Locate) -> dict[str, KpiSpec]:
    return {
        name: KpiSpec(
            name, None, Sense(k.sense), k.expr, loc(("kpis", name, k.sense)), k.unit, k.description
        )
        for name, k in model.kpis.items()
    }


def _resources(model: ModelFile, loc: Locate) -> dict[str, ResourceSpec]:
    return {
        name: ResourceSpec(name, r.total, r.reserve, r.max_shift, loc(("resources", name)), r.unit)
        for name, r in model.resources.items()
    }


def _contract(
    model: ModelFile, params: dict[str, ParamSpec], loc: Locate, errors: ErrorCollector
) -> dict[str, ContractTerm]:
    """The contract terms: each a scalar param, with ``min <= max``."""
    out = {}
    for name, term in model.contract.items():
        where = loc(("contract", name))
        if name not in params:
            errors.add(where, f"unknown param '{name}'{did_you_mean(name, params)}")
            continue
        if params[name].over:
            errors.add(where, f"param '{name}' is indexed: a contract term is a scalar param")
            continue
        lower, upper = term.min, term.max
        if lower > upper:
            errors.add(where, f"min ({lower:g}) is above max ({upper:g})")
            continue
        out[name] = ContractTerm(name, lower, upper, where, term.description)
    return out


def _constraints(model: ModelFile, loc: Locate) -> dict[str, ConstraintSpec]:
    return {
        name: ConstraintSpec(
            name,
            c.for_,
            loc(("constraints", name, "for")),
            c.expr,
            loc(("constraints", name, "expr")),
            c.slack,
            c.description,
        )
        for name, c in model.constraints.items()
    }


def _objective(model: ModelFile, loc: Locate) -> ObjectiveSpec:
    objective = model.objective
    return ObjectiveSpec(
        Sense(objective.sense),
        objective.expr,
        loc(("objective", objective.sense)),
        objective.unit,
    )


def _too_big(what: str, size: int, max_size: int) -> str:
    return (
        f"{what} has {size:,} entries; the limit is {max_size:,} "
        "(raise it with --max-size N if the machine can hold it)"
    )


def _check_sizes(
    variables: dict[str, VariableSpec],
    sets: dict[str, SetSpec],
    max_size: int,
    where_total: Location,
    errors: ErrorCollector,
) -> None:
    """Each variable, and all of them together, within ``max_size`` (counted, not built)."""
    total = 0
    for v in variables.values():
        if any(s not in sets for s in v.over):
            continue  # an unknown set is reported already
        size = math.prod(len(sets[s].members) for s in v.over)
        total += size
        if size > max_size:
            errors.add(
                v.where, _too_big(f"variable '{v.name}' over {list(v.over)}", size, max_size)
            )
    if total > max_size and not errors:
        errors.add(where_total, _too_big("the model's variables together", total, max_size))


def _resolve_set(
    name: str, raw: Any, where: Location, errors: ErrorCollector, max_size: int
) -> SetSpec | None:
    if isinstance(raw, str):
        parts = raw.split("..")
        try:
            if len(parts) != 2:
                raise ValueError
            lo, hi = int(parts[0].strip()), int(parts[1].strip())
        except ValueError:
            errors.add(where, f"a set is an integer range 'a..b' or a list, not {raw!r}")
            return None
        if hi < lo:
            errors.add(where, f"empty range {raw!r}: the end is below the start")
            return None
        if hi - lo + 1 > max_size:
            errors.add(where, _too_big(f"set '{name}' ({raw})", hi - lo + 1, max_size))
            return None
        members: tuple = tuple(range(lo, hi + 1))
    elif isinstance(raw, list):
        if not raw:
            errors.add(where, "a set needs at least one member")
            return None
        bad = [m for m in raw if isinstance(m, bool) or not isinstance(m, int | str)]
        if bad:
            errors.add(where, f"set members must be strings or integers, got {bad[0]!r}")
            return None
        seen = Counter(str(m) for m in raw)  # once over the members: sets can be large
        dup = sorted(m for m, n in seen.items() if n > 1)
        if dup:
            errors.add(where, f"duplicate set member(s): {', '.join(dup)}")
            return None
        members = tuple(raw)
    else:
        errors.add(where, f"a set is an integer range 'a..b' or a list, not {raw!r}")
        return None
    integer = all(isinstance(m, int) for m in members)
    return SetSpec(name, members, integer, where, frozenset(members))


def _kpi_ref(
    key: str,
    own: dict[str, KpiSpec],
    company: dict[str, KpiSpec],
    where: Location,
    errors: ErrorCollector,
) -> KpiSpec | None:
    if key in own and key in company:
        errors.add(where, f"'{key}' is both a department KPI and a company-wide KPI")
        return None
    hit = own.get(key) or company.get(key)
    if hit is None:
        suffix = did_you_mean(key, [*own, *company])
        errors.add(where, f"unknown KPI '{key}'{suffix}")
    return hit


def _resolve_department(
    dname: str,
    dept: DepartmentDecl,
    company: dict[str, KpiSpec],
    resources: dict[str, ResourceSpec],
    loc: Locate,
    errors: ErrorCollector,
) -> DepartmentSpec:
    """A department with its KPI references and resource uses checked."""
    base: KeyPath = ("departments", dname)
    own = _own_kpis(dname, dept, loc)
    incentive, weights = _resolve_incentive(dname, dept, own, company, loc, errors)
    menu, caps = _resolve_design(dname, dept, own, company, loc, errors)
    uses = _resolve_uses(dname, dept, resources, loc, errors)
    return DepartmentSpec(
        dname,
        dept.description,
        tuple(dept.variables),
        uses,
        dict(dept.allocation),
        own,
        incentive,
        weights,
        tuple(menu),
        caps,
        loc(base),
    )


def _own_kpis(dname: str, dept: DepartmentDecl, loc: Locate) -> dict[str, KpiSpec]:
    """The KPIs a department declares itself."""
    return {
        k: KpiSpec(
            k,
            dname,
            Sense(decl.sense),
            decl.expr,
            loc(("departments", dname, "kpis", k, decl.sense)),
            decl.unit,
            decl.description,
        )
        for k, decl in dept.kpis.items()
    }


def _resolve_incentive(
    dname: str,
    dept: DepartmentDecl,
    own: dict[str, KpiSpec],
    company: dict[str, KpiSpec],
    loc: Locate,
    errors: ErrorCollector,
) -> tuple[dict[str, KpiSpec], dict[str, float]]:
    """The KPIs of the department's current scorecard and their weights, by qualified name."""
    incentive: dict[str, KpiSpec] = {}
    weights: dict[str, float] = {}
    for key, w in dept.incentive.items():
        kpi = _kpi_ref(key, own, company, loc(("departments", dname, "incentive", key)), errors)
        if kpi is not None:
            incentive[kpi.qualified] = kpi
            weights[kpi.qualified] = w
    return incentive, weights


def _resolve_design(
    dname: str,
    dept: DepartmentDecl,
    own: dict[str, KpiSpec],
    company: dict[str, KpiSpec],
    loc: Locate,
    errors: ErrorCollector,
) -> tuple[list[str], dict[str, float]]:
    """The KPI menu a design may weight (default: the department's own KPIs) and its caps."""
    base: KeyPath = ("departments", dname, "design")
    menu_keys = dept.design.kpis if dept.design and dept.design.kpis is not None else list(own)
    menu = []
    for i, key in enumerate(menu_keys):
        kpi = _kpi_ref(key, own, company, loc((*base, "kpis", i)), errors)
        if kpi is not None:
            menu.append(kpi.qualified)
    caps = {}
    for key, cap in (dept.design.max_weight if dept.design else {}).items():
        kpi = _kpi_ref(key, own, company, loc((*base, "max_weight", key)), errors)
        if kpi is not None:
            caps[kpi.qualified] = cap
    _check_menu(menu, caps, loc(base), errors)
    return menu, caps


def _resolve_uses(
    dname: str,
    dept: DepartmentDecl,
    resources: dict[str, ResourceSpec],
    loc: Locate,
    errors: ErrorCollector,
) -> dict[str, tuple[str, Location]]:
    """The department's resource uses (text, location); uses and allocations must pair up."""
    base: KeyPath = ("departments", dname)
    uses = {}
    for r, text in dept.uses.items():
        if r not in resources:
            suffix = did_you_mean(r, resources)
            errors.add(loc((*base, "uses", r)), f"unknown resource '{r}'{suffix}")
        uses[r] = (text, loc((*base, "uses", r)))
    for r in dept.allocation:
        if r not in resources:
            suffix = did_you_mean(r, resources)
            errors.add(loc((*base, "allocation", r)), f"unknown resource '{r}'{suffix}")
        elif r not in dept.uses:
            errors.add(
                loc((*base, "allocation", r)), f"an allocation of '{r}' but no `uses: {{{r}: ...}}`"
            )
    for r in dept.uses:
        if r in resources and r not in dept.allocation:
            errors.add(loc((*base, "uses", r)), f"uses '{r}' but has no `allocation: {{{r}: ...}}`")
    return uses


def _check_resources(
    resources: dict[str, ResourceSpec],
    departments: dict[str, DepartmentSpec],
    loc: Locate,
    errors: ErrorCollector,
) -> None:
    for r in resources.values():
        users = [d for d in departments.values() if r.name in d.allocation]
        if not users:
            errors.add(loc(("resources", r.name)), f"resource '{r.name}' is used by no department")
            continue
        baseline = sum(d.allocation[r.name] for d in users)
        if baseline > r.available * (1 + 1e-9):
            errors.add(
                loc(("resources", r.name, "total")),
                f"baseline allocations sum to {baseline:g}, "
                f"above total*(1-reserve) = {r.available:g}",
            )


def _check_menu(
    menu: list[str], caps: dict[str, float], where: Location, errors: ErrorCollector
) -> None:
    """KPI design needs weights on the menu, each within its cap, that sum to 1."""
    total = sum(caps.get(k, 1.0) for k in menu)
    if total < 1.0 - 1e-12:
        what = (
            "its KPI menu is empty"
            if not menu
            else f"the caps of its KPI menu sum to {total:g} < 1"
        )
        errors.add(where, f"{what}: no scorecard with weights summing to 1 exists")
