"""Load model and scenario files into a validated, immutable :class:`ModelSpec`.

``load(path, variant)`` reads a model file, or a scenario file and the model it names,
applies the scenario's ``set`` and ``scale`` overrides (then the chosen variant's), reads
CSV params, validates the shape with :mod:`schema` and the cross-references here.  Every
problem is collected and reported as ``FILE:LINE: key.path: message``.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import ErrorCollector, Location, SpecError
from .schema import (
    DepartmentDecl,
    KpiDecl,
    ModelFile,
    ResourceDecl,
    ScenarioFile,
    VariableDecl,
)
from .sources import KeyPath, SourceMap, check_regular_file, closest, format_path, read_yaml

__all__ = [
    "DEFAULT_MAX_SIZE",
    "ConstraintSpec",
    "DepartmentSpec",
    "KpiSpec",
    "ModelSpec",
    "ParamSpec",
    "ResourceSpec",
    "SetSpec",
    "VariableSpec",
    "load",
]


#: the largest set, variable, constraint family, sum (index combinations) and total number
#: of variables a model may have unless ``--max-size`` says otherwise: five times the
#: benchmark's million-variable organization, refused before anything is allocated
DEFAULT_MAX_SIZE = 5_000_000


@dataclass(frozen=True)
class SetSpec:
    name: str
    members: tuple
    integer: bool
    where: Location
    member_set: frozenset = field(repr=False, default=frozenset())


@dataclass(frozen=True)
class ParamSpec:
    """A param; a scalar has ``over == ()`` and its value at key ``()``."""

    name: str
    over: tuple[str, ...]
    values: dict[tuple, float]
    default: float | None
    initial: float | None
    where: Location


@dataclass(frozen=True)
class VariableSpec:
    name: str
    over: tuple[str, ...]
    lb: float | None
    ub: float | None
    initial: float | None
    owner: str | None  # department name, or None for shared state
    where: Location
    unit: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class KpiSpec:
    name: str
    owner: str | None  # department, or None for a company-wide KPI
    sense: str  # "max" | "min"
    text: str
    where: Location
    unit: str | None = None
    description: str | None = None

    @property
    def qualified(self) -> str:
        """``dept.kpi`` for a department's KPI, the plain name for a company-wide one."""
        return f"{self.owner}.{self.name}" if self.owner else self.name


@dataclass(frozen=True)
class DepartmentSpec:
    name: str
    description: str | None
    variables: tuple[str, ...]
    uses: dict[str, tuple[str, Location]]  # resource -> (expression, where)
    allocation: dict[str, float]  # resource -> baseline
    kpis: dict[str, KpiSpec]  # own KPIs
    incentive: dict[str, KpiSpec]  # qualified KPI name -> KPI (weights in `weights`)
    weights: dict[str, float]  # qualified KPI name -> status-quo weight
    design_menu: tuple[str, ...]  # qualified KPI names KPI design may use
    max_weight: dict[str, float]  # qualified KPI name -> cap
    where: Location


@dataclass(frozen=True)
class ConstraintSpec:
    name: str
    bindings: str | None
    bindings_where: Location
    expr: str
    where: Location
    slack: float | None
    description: str | None = None


@dataclass(frozen=True)
class ObjectiveSpec:
    sense: str
    text: str
    where: Location
    unit: str | None = None


@dataclass(frozen=True)
class ResourceSpec:
    name: str
    total: float
    reserve: float
    max_shift: float | None
    where: Location
    unit: str | None = None

    @property
    def available(self) -> float:
        """What may be allocated: ``total * (1 - reserve)``."""
        return self.total * (1.0 - self.reserve)


@dataclass(frozen=True)
class ModelSpec:
    """A validated model with its scenario applied.  Everything a later stage needs."""

    name: str
    description: str | None
    model_file: Path
    scenario_file: Path | None
    scenario: str
    variant: str | None
    sets: dict[str, SetSpec]
    params: dict[str, ParamSpec]
    variables: dict[str, VariableSpec]  # shared first, then each department's, in file order
    departments: dict[str, DepartmentSpec]
    constraints: dict[str, ConstraintSpec]
    kpis: dict[str, KpiSpec]  # company-wide KPIs
    objective: ObjectiveSpec
    resources: dict[str, ResourceSpec]
    source: SourceMap = field(repr=False)
    #: the size limit this spec was loaded with (see :data:`DEFAULT_MAX_SIZE`)
    max_size: int = field(default=DEFAULT_MAX_SIZE, repr=False)

    @property
    def label(self) -> str:
        return self.scenario + (f"[{self.variant}]" if self.variant else "")

    def all_kpis(self) -> dict[str, KpiSpec]:
        """Every KPI by qualified name: departments' (in order), then company-wide."""
        out = {k.qualified: k for d in self.departments.values() for k in d.kpis.values()}
        out.update(self.kpis)
        return out


# --------------------------------------------------------------------------------------
# loading


def load(
    path: str | Path, variant: str | None = None, *, max_size: int = DEFAULT_MAX_SIZE
) -> ModelSpec:
    """Load a model or scenario file (optionally one of its variants) into a ModelSpec.

    ``max_size`` bounds every set, variable, constraint family and sum, and the total
    number of variables; a model beyond it is refused before anything is allocated.
    """
    path = Path(path)
    data, source = read_yaml(path)
    if isinstance(data, dict) and "model" in data and "objective" not in data:
        return _load_scenario(path, data, source, variant, max_size)
    if variant is not None:
        msg = f"{path}: --variant {variant}: a model file has no variants"
        raise SpecError(msg)
    return _resolve(path, None, data, source, None, None, max_size=max_size)


def _load_scenario(
    path: Path, data: dict, source: SourceMap, variant: str | None, max_size: int
) -> ModelSpec:
    scenario = _validate(ScenarioFile, data, source)
    model_path = (path.parent / scenario.model).resolve()
    with contextlib.suppress(ValueError):  # show a short path where there is one
        model_path = model_path.relative_to(Path.cwd())
    where = source.locate(("model",))
    try:
        check_regular_file(model_path, "model file")
    except SpecError as exc:  # "model file not found: ../models/x.yaml"
        reason = exc.messages[0].removeprefix(f"{model_path}: ")
        raise SpecError.at(where, f"{reason}: {model_path}") from None
    model_data, model_source = read_yaml(model_path)
    if "model" in model_data and "objective" not in model_data:
        raise SpecError.at(where, f"{model_path} is a scenario, not a model")
    overlays = [(scenario.set, scenario.scale, ("set",), ("scale",))]
    if variant is not None:
        if variant not in scenario.variants:
            hint = closest(variant, scenario.variants)
            known = ", ".join(scenario.variants) or "none"
            suffix = f" (did you mean '{hint}'?)" if hint else f" (variants: {known})"
            msg = f"{path}: unknown variant '{variant}'{suffix}"
            raise SpecError(msg)
        v = scenario.variants[variant]
        overlays.append(
            (v.set, v.scale, ("variants", variant, "set"), ("variants", variant, "scale"))
        )
    errors = ErrorCollector()
    scales: list[tuple[str, float, Location]] = []
    for sets, scale, set_root, scale_root in overlays:
        for dotted, value in sets.items():
            _apply_set(model_data, model_source, dotted, value, source, (*set_root, dotted), errors)
        for dotted, factor in scale.items():
            where_scale = source.locate((*scale_root, dotted))
            if not _apply_scale(model_data, dotted, factor, where_scale, errors):
                scales.append((dotted.split(".")[1], factor, where_scale))
    errors.raise_if_any()
    name = scenario.name or path.stem
    return _resolve(
        model_path, path, model_data, model_source, name, variant, scales, max_size=max_size
    )


# a missing last key of a `set` path is allowed where the file format has such a field
_FIELDS: list[tuple[tuple[str | None, ...], set[str]]] = [
    ((), set(ModelFile.model_fields)),
    (("resources", None), set(ResourceDecl.model_fields)),
    (("constraints", None), {"for", "expr", "slack", "description"}),
    (("variables", None), set(VariableDecl.model_fields)),
    (("departments", None), set(DepartmentDecl.model_fields)),
    (("departments", None, "variables", None), set(VariableDecl.model_fields)),
    (("departments", None, "kpis", None), set(KpiDecl.model_fields)),
    (("kpis", None), set(KpiDecl.model_fields)),
    (("objective",), set(KpiDecl.model_fields)),
    (("departments", None, "design"), {"kpis", "max_weight"}),
    (("params", None), {"file", "over", "default", "values", "initial"}),
]
_FREE_KEYS = [("departments", None, "incentive"), ("departments", None, "design", "max_weight")]


def _matches(pattern: tuple, path: tuple) -> bool:
    return len(pattern) == len(path) and all(
        p is None or p == k for p, k in zip(pattern, path, strict=True)
    )


def _all_paths(data: Any, prefix: str = "") -> list[str]:
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            p = f"{prefix}.{k}" if prefix else str(k)
            out.append(p)
            out.extend(_all_paths(v, p))
    return out


def _unknown_path(data: dict, dotted: str, where: Location, errors: ErrorCollector) -> None:
    hint = closest(dotted, _all_paths(data))
    suffix = f" (closest existing path: {hint})" if hint else ""
    errors.add(where, f"path '{dotted}' does not exist in the model{suffix}")


def _apply_set(
    data: dict,
    model_source: SourceMap,
    dotted: str,
    value: Any,
    scenario_source: SourceMap,
    scenario_path: KeyPath,
    errors: ErrorCollector,
) -> None:
    where = scenario_source.locate(scenario_path)
    keys = dotted.split(".")
    node: Any = data
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            _unknown_path(data, dotted, where, errors)
            return
        node = node[key]
    last = keys[-1]
    if not isinstance(node, dict):
        _unknown_path(data, dotted, where, errors)
        return
    parent = tuple(keys[:-1])
    allowed_new = any(_matches(p, parent) for p in _FREE_KEYS) or any(
        _matches(p, parent) and last in fields for p, fields in _FIELDS
    )
    if last not in node and not allowed_new:
        _unknown_path(data, dotted, where, errors)
        return
    node[last] = copy.deepcopy(value)
    model_source.replace(tuple(keys), scenario_source, scenario_path)


def _apply_scale(
    data: dict, dotted: str, factor: float, where: Location, errors: ErrorCollector
) -> bool:
    """Multiply a number (or a mapping of numbers) in place; False for a whole param."""
    keys = dotted.split(".")
    params = data.get("params")
    if len(keys) == 2 and keys[0] == "params" and isinstance(params, dict) and keys[1] in params:
        return False  # applied after the param is read (it may be a CSV table)
    node: Any = data
    for key in keys[:-1]:
        if not isinstance(node, dict) or key not in node:
            _unknown_path(data, dotted, where, errors)
            return True
        node = node[key]
    last = keys[-1]
    if not isinstance(node, dict) or last not in node:
        _unknown_path(data, dotted, where, errors)
        return True
    target = node[last]
    if _is_number(target):
        node[last] = _scaled(target, factor, dotted, where, errors)
    elif isinstance(target, dict) and all(_is_number(v) for v in target.values()):
        node[last] = {k: _scaled(v, factor, dotted, where, errors) for k, v in target.items()}
    else:
        errors.add(where, f"cannot scale '{dotted}': it is not a number or a param")
    return True


def _scaled(value: float, factor: float, dotted: str, where: Location, errors: ErrorCollector):
    """``value * factor``, an error at the scale's line where that is not a finite number."""
    try:
        out = float(value) * factor
    except OverflowError:
        out = math.inf
    if not math.isfinite(out):
        errors.add(where, f"scaling '{dotted}' by {factor:g} overflows ({value!r} · {factor:g})")
        return value
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


# --------------------------------------------------------------------------------------
# validation


def _validate(cls: type, data: Any, source: SourceMap) -> Any:
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        errors = ErrorCollector()
        for err in exc.errors():
            loc = _data_path(data, err["loc"])
            where = source.locate(loc)
            errors.add(where, _message(err, data, loc, cls))
        errors.raise_if_any()
        raise  # pragma: no cover


def _data_path(data: Any, loc: tuple) -> KeyPath:
    """The longest prefix of a pydantic ``loc`` that names real keys (plus the last key)."""
    out: list[str | int] = []
    node = data
    for key in loc:
        if (isinstance(node, dict) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and key < len(node)
        ):
            out.append(key)
            node = node[key]
        elif (
            isinstance(node, dict)
            and isinstance(key, str)
            and key not in node
            and out[-1:] != [key]
        ):
            out.append(key)  # a missing or unknown key: name it
            break
        else:
            break
    return tuple(out)


def _message(err: dict, data: Any, loc: KeyPath, cls: type) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(data, loc[:-1], cls)
        hint = closest(key, allowed) if allowed else None
        suffix = (
            f" (did you mean '{hint}'?)"
            if hint
            else (f" (allowed: {', '.join(sorted(allowed))})" if allowed else "")
        )
        return f"unknown key '{key}'{suffix}"
    if kind == "missing":
        return "missing required key"
    if kind == "literal_error" and loc == ("kpidesign",):
        return f"unsupported format version {err.get('input')!r} (this kpidesign reads format 1)"
    if kind == "string_pattern_mismatch":
        msg = err["msg"]
        return f"invalid name {err.get('input')!r}: {msg[:1].lower()}{msg[1:]}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg[0].lower() + msg[1:] if msg else msg


def _allowed_keys(data: Any, parent: KeyPath, cls: type) -> list[str]:
    parent_t = tuple(str(p) for p in parent if not isinstance(p, int))
    if cls is ScenarioFile:  # a scenario's keys, not the model's (checked first)
        if parent_t == ():
            return sorted(ScenarioFile.model_fields)
        return ["set", "scale", "description"]
    for pattern, fields in _FIELDS:
        if _matches(pattern, parent_t):
            return sorted(fields)
    return []


# --------------------------------------------------------------------------------------
# resolution: from the validated file to the spec


_RESERVED = {"sum", "for", "in", "if", "and", "or", "not"}


def _resolve(
    model_path: Path,
    scenario_path: Path | None,
    data: dict,
    source: SourceMap,
    scenario_name: str | None,
    variant: str | None,
    scales: list[tuple[str, float, Location]] | None = None,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
) -> ModelSpec:
    model = _validate(ModelFile, data, source)
    errors = ErrorCollector()
    loc = source.locate

    sets: dict[str, SetSpec] = {}
    for name, raw in model.sets.items():
        s = _resolve_set(name, raw, loc(("sets", name)), errors, max_size)
        if s is not None:
            sets[name] = s

    params: dict[str, ParamSpec] = {}
    for name, raw in model.params.items():
        p = _resolve_param(name, raw, model_path, sets, loc, errors, max_size)
        if p is not None:
            params[name] = p
    for name, factor, where_scale in scales or []:
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
            )

    # one flat namespace: sets, params, shared and department variables
    seen: dict[str, str] = {}

    def claim(name: str, where_path: KeyPath) -> None:
        label = format_path(where_path)
        if name in _RESERVED:
            errors.add(loc(where_path), f"'{name}' is a reserved word")
        elif name in seen:
            errors.add(loc(where_path), f"name '{name}' is already used by {seen[name]}")
        else:
            seen[name] = label

    for name in model.sets:
        claim(name, ("sets", name))
    for name in model.params:
        claim(name, ("params", name))

    variables: dict[str, VariableSpec] = {}

    def add_variable(name: str, decl: VariableDecl, owner: str | None, path: KeyPath) -> None:
        claim(name, path)
        for i, s in enumerate(decl.over):
            if s not in sets and s not in model.sets:
                hint = closest(s, model.sets)
                suffix = f" (did you mean '{hint}'?)" if hint else ""
                errors.add(loc((*path, "over", i)), f"unknown set '{s}'{suffix}")
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

    for name, decl in model.variables.items():
        add_variable(name, decl, None, ("variables", name))
    for dname, dept in model.departments.items():
        for name, decl in dept.variables.items():
            add_variable(name, decl, dname, ("departments", dname, "variables", name))
    _check_sizes(variables, sets, max_size, loc(("variables",)), errors)

    company_kpis = {
        name: KpiSpec(
            name, None, k.sense, k.expr, loc(("kpis", name, k.sense)), k.unit, k.description
        )
        for name, k in model.kpis.items()
    }
    resources = {
        name: ResourceSpec(name, r.total, r.reserve, r.max_shift, loc(("resources", name)), r.unit)
        for name, r in model.resources.items()
    }
    departments = {
        dname: _resolve_department(dname, dept, company_kpis, resources, loc, errors)
        for dname, dept in model.departments.items()
    }
    _check_resources(resources, departments, loc, errors)

    constraints = {
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
    objective = model.objective
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
        objective=ObjectiveSpec(
            objective.sense, objective.expr, loc(("objective", objective.sense)), objective.unit
        ),
        resources=resources,
        source=source,
        max_size=max_size,
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
        dup = sorted({str(m) for m in raw if sum(str(x) == str(m) for x in raw) > 1})
        if dup:
            errors.add(where, f"duplicate set member(s): {', '.join(dup)}")
            return None
        members = tuple(raw)
    else:
        errors.add(where, f"a set is an integer range 'a..b' or a list, not {raw!r}")
        return None
    integer = all(isinstance(m, int) for m in members)
    return SetSpec(name, members, integer, where, frozenset(members))


def _member_lookup(s: SetSpec) -> dict[str, Any]:
    return {str(m): m for m in s.members}


def _number(
    value: Any, where: Location, errors: ErrorCollector, what: str = "value"
) -> float | None:
    if not _is_number(value):
        errors.add(where, f"{what} must be a number, got {_short_repr(value)}")
        return None
    try:
        number = float(value)
    except OverflowError:
        errors.add(where, f"{what} is too large for a floating-point number")
        return None
    if not math.isfinite(number):
        errors.add(where, f"{what} must be a finite number, got {value}")
        return None
    return number


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 5]} …"


_PARAM_KEYS = {"file", "over", "default", "values", "initial"}


def _resolve_param(
    name: str,
    raw: Any,
    model_path: Path,
    sets: dict[str, SetSpec],
    loc,
    errors: ErrorCollector,
    max_size: int,
) -> ParamSpec | None:
    path: KeyPath = ("params", name)
    where = loc(path)
    if _is_number(raw):
        value = _number(raw, where, errors)
        return None if value is None else ParamSpec(name, (), {(): value}, None, None, where)
    if not isinstance(raw, dict) or not raw:
        errors.add(
            where,
            "a param is a number, a mapping by one set, or {file: ...}/{over: ...}; "
            f"got {raw!r}",
        )
        return None
    if set(raw) <= _PARAM_KEYS and ("file" in raw or "over" in raw):
        return _resolve_table_param(name, raw, model_path, sets, loc, errors, max_size)
    # a mapping indexed by one set, inferred from its keys
    keys = [str(k) for k in raw]
    candidates = [s for s in sets.values() if set(keys) <= {str(m) for m in s.members}]
    exact = [s for s in candidates if len(s.members) == len(keys)]
    chosen = exact if len(exact) == 1 else candidates
    if len(chosen) != 1:
        what = "no set contains" if not chosen else "several sets contain"
        errors.add(
            where, f"{what} all of its keys ({', '.join(keys)}); write {{over: [SET], values: ...}}"
        )
        return None
    s = chosen[0]
    lookup = _member_lookup(s)
    values = {}
    for k, v in raw.items():
        value = _number(v, loc((*path, k)), errors)
        if value is not None:
            values[(lookup[str(k)],)] = value
    return ParamSpec(name, (s.name,), values, None, None, where)


def _resolve_table_param(
    name: str,
    raw: dict,
    model_path: Path,
    sets: dict[str, SetSpec],
    loc,
    errors: ErrorCollector,
    max_size: int,
) -> ParamSpec | None:
    path: KeyPath = ("params", name)
    where = loc(path)
    over = raw.get("over")
    if over is not None and (
        not isinstance(over, list) or not all(isinstance(s, str) for s in over)
    ):
        errors.add(loc((*path, "over")), "over must be a list of set names")
        return None
    for i, s in enumerate(over or []):
        if s not in sets:
            hint = closest(s, sets)
            suffix = f" (did you mean '{hint}'?)" if hint else ""
            errors.add(loc((*path, "over", i)), f"unknown set '{s}'{suffix}")
            return None
    default = initial = None
    if "default" in raw:
        default = _number(raw["default"], loc((*path, "default")), errors, "default")
    if "initial" in raw:
        initial = _number(raw["initial"], loc((*path, "initial")), errors, "initial")
    values: dict[tuple, float] = {}
    if "file" in raw:
        table = _read_param_csv(
            name, raw["file"], over, model_path, sets, loc((*path, "file")), errors, max_size
        )
        if table is None:
            return None
        over, values = table
    assert over is not None
    lookups = [_member_lookup(sets[s]) for s in over]
    for key, v in (raw.get("values") or {}).items():
        kwhere = loc((*path, "values", str(key)))
        parts = [p.strip() for p in str(key).split(",")]
        if len(parts) != len(over):
            errors.add(
                kwhere,
                f"key '{key}' needs {len(over)} comma-separated index(es) ({', '.join(over)})",
            )
            continue
        idx = []
        for part, lookup, s in zip(parts, lookups, over, strict=True):
            if part not in lookup:
                errors.add(kwhere, f"'{part}' is not a member of set '{s}'")
                break
            idx.append(lookup[part])
        else:
            value = _number(v, kwhere, errors)
            if value is not None:
                values[tuple(idx)] = value
    if "file" not in raw and default is None and not values:
        errors.add(where, "an indexed param needs `default`, `values` or `file`")
        return None
    return ParamSpec(name, tuple(over), values, default, initial, where)


#: error lines reported per CSV file; the rest are counted in one closing line
_MAX_CSV_ERRORS = 20


def _read_param_csv(
    name: str,
    file: Any,
    over: list[str] | None,
    model_path: Path,
    sets: dict[str, SetSpec],
    where: Location,
    errors: ErrorCollector,
    max_rows: int = DEFAULT_MAX_SIZE,
) -> tuple[list[str], dict[tuple, float]] | None:
    """Read a param's CSV (one column per index set, plus ``value``), streaming it so that
    every error names its true line (blank lines and quoted line breaks included)."""
    if not isinstance(file, str) or not file.strip():
        errors.add(where, "file must be a path to a CSV file")
        return None
    csv_path = model_path.parent / file
    try:
        check_regular_file(csv_path, "CSV file")
        with csv_path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            return _read_csv_rows(name, reader, csv_path, over, sets, where, errors, max_rows)
    except SpecError as exc:
        for line in exc.messages:  # "CSV file not found: data/x.csv", as the model names it
            errors.add(where, f"{line.removeprefix(f'{csv_path}: ')}: {csv_path}")
        return None
    except UnicodeDecodeError as exc:
        errors.add(where, f"{csv_path}: not UTF-8 text ({exc.reason}); is this a CSV file?")
        return None
    except (csv.Error, OSError) as exc:
        errors.add(where, f"cannot read CSV {csv_path}: {' '.join(str(exc).split())}")
        return None


def _read_csv_rows(
    name: str,
    reader: Any,
    csv_path: Path,
    over: list[str] | None,
    sets: dict[str, SetSpec],
    where: Location,
    errors: ErrorCollector,
    max_rows: int,
) -> tuple[list[str], dict[tuple, float]] | None:
    header = next(reader, None)
    if header is None:
        errors.add(where, f"{csv_path}: the CSV file is empty (it needs a header row)")
        return None
    columns = [c.strip() for c in header]
    if "value" not in columns:
        errors.add(where, f"{csv_path}: needs a 'value' column (has: {', '.join(columns)})")
        return None
    index_cols = [c for c in columns if c != "value"]
    if over is None:
        over = index_cols
    if index_cols != list(over):
        errors.add(where, f"{csv_path}: index columns {index_cols} do not match over {list(over)}")
        return None
    unknown = [c for c in over if c not in sets]
    if unknown:
        errors.add(where, f"{csv_path}: column '{unknown[0]}' is not a set")
        return None
    lookups = [_member_lookup(sets[s]) for s in over]
    positions = [columns.index(s) for s in over]
    value_at = columns.index("value")
    values: dict[tuple, float] = {}
    bad = 0

    def report(message: str) -> None:
        nonlocal bad
        bad += 1
        if bad <= _MAX_CSV_ERRORS:
            errors.add(None, f"{csv_path}:{reader.line_num}: {message} (param '{name}')")

    rows = 0
    for row in reader:
        if not row or all(not cell.strip() for cell in row):
            continue  # a blank line
        rows += 1
        if rows > max_rows:
            errors.add(
                None,
                f"{csv_path}:{reader.line_num}: more than {max_rows:,} rows; the limit is "
                f"{max_rows:,} (raise it with --max-size)",
            )
            return None
        if len(row) != len(columns):
            report(f"{len(row)} cells, but the header has {len(columns)}")
            continue
        idx = []
        for s, lookup, pos in zip(over, lookups, positions, strict=True):
            cell = row[pos].strip()
            if cell not in lookup:
                report(f"{s} '{cell}' is not a member of set '{s}'")
                break
            idx.append(lookup[cell])
        else:
            raw_value = row[value_at].strip()
            try:
                value = float(raw_value)
            except ValueError:
                value = math.nan
            if not math.isfinite(value):
                report(f"value {raw_value!r} is missing or not a finite number")
                continue
            key = tuple(idx)
            if key in values:
                report(f"duplicate row for {','.join(map(str, key))}")
                continue
            values[key] = value
    if bad > _MAX_CSV_ERRORS:
        errors.add(
            None,
            f"{csv_path}:{reader.line_num}: {bad - _MAX_CSV_ERRORS:,} more errors like these "
            f"(param '{name}')",
        )
    return None if bad else (list(over), values)


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
        hint = closest(key, [*own, *company])
        suffix = f" (did you mean '{hint}'?)" if hint else ""
        errors.add(where, f"unknown KPI '{key}'{suffix}")
    return hit


def _resolve_department(
    dname: str,
    dept: DepartmentDecl,
    company: dict[str, KpiSpec],
    resources: dict[str, ResourceSpec],
    loc,
    errors: ErrorCollector,
) -> DepartmentSpec:
    base: KeyPath = ("departments", dname)
    own = {
        k: KpiSpec(
            k,
            dname,
            decl.sense,
            decl.expr,
            loc((*base, "kpis", k, decl.sense)),
            decl.unit,
            decl.description,
        )
        for k, decl in dept.kpis.items()
    }
    incentive: dict[str, KpiSpec] = {}
    weights: dict[str, float] = {}
    for key, w in dept.incentive.items():
        kpi = _kpi_ref(key, own, company, loc((*base, "incentive", key)), errors)
        if kpi is not None:
            incentive[kpi.qualified] = kpi
            weights[kpi.qualified] = w
    menu_keys = dept.design.kpis if dept.design and dept.design.kpis is not None else list(own)
    menu = []
    for i, key in enumerate(menu_keys):
        kpi = _kpi_ref(key, own, company, loc((*base, "design", "kpis", i)), errors)
        if kpi is not None:
            menu.append(kpi.qualified)
    caps = {}
    for key, cap in (dept.design.max_weight if dept.design else {}).items():
        kpi = _kpi_ref(key, own, company, loc((*base, "design", "max_weight", key)), errors)
        if kpi is not None:
            caps[kpi.qualified] = cap
    uses = {}
    for r, text in dept.uses.items():
        if r not in resources:
            hint = closest(r, resources)
            suffix = f" (did you mean '{hint}'?)" if hint else ""
            errors.add(loc((*base, "uses", r)), f"unknown resource '{r}'{suffix}")
        uses[r] = (text, loc((*base, "uses", r)))
    for r in dept.allocation:
        if r not in resources:
            hint = closest(r, resources)
            suffix = f" (did you mean '{hint}'?)" if hint else ""
            errors.add(loc((*base, "allocation", r)), f"unknown resource '{r}'{suffix}")
        elif r not in dept.uses:
            errors.add(
                loc((*base, "allocation", r)), f"an allocation of '{r}' but no `uses: {{{r}: ...}}`"
            )
    for r in dept.uses:
        if r in resources and r not in dept.allocation:
            errors.add(loc((*base, "uses", r)), f"uses '{r}' but has no `allocation: {{{r}: ...}}`")
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


def _check_resources(
    resources: dict[str, ResourceSpec],
    departments: dict[str, DepartmentSpec],
    loc,
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
