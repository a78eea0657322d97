"""The validated, immutable :class:`ModelSpec` and its parts, as :func:`~kpidesign.spec.load`
returns them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import Location
from ..types import Sense
from .sources import SourceMap

#: the largest set, variable, constraint family, sum (index combinations) and total number
#: of variables a model may have unless ``--max-size`` says otherwise: five times the
#: benchmark's million-variable organization, refused before anything is allocated
DEFAULT_MAX_SIZE = 5_000_000


@dataclass(frozen=True)
class SetSpec:
    """A set: its members in file order (integers for a range)."""

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
    file: Path | None = None  # the CSV file its values were read from


@dataclass(frozen=True)
class VariableSpec:
    """A decision variable (indexed over sets), owned by a department or shared state."""

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
    """A KPI: a department's own or company-wide, maximized or minimized."""

    name: str
    owner: str | None  # department, or None for a company-wide KPI
    sense: Sense
    text: str
    where: Location
    unit: str | None = None
    description: str | None = None

    @property
    def qualified(self) -> str:
        """``dept.kpi`` for a department's KPI, the plain name for a company-wide one."""
        return f"{self.owner}.{self.name}" if self.owner else self.name


def run_label(scenario: str, variant: str | None) -> str:
    """``scenario`` or ``scenario[variant]``: how messages name a run."""
    return scenario + (f"[{variant}]" if variant else "")


def split_kpi(qualified: str) -> tuple[str | None, str]:
    """``dept.kpi`` -> ``("dept", "kpi")``; a company-wide KPI ``kpi`` -> ``(None, "kpi")``.
    The inverse of :attr:`KpiSpec.qualified`."""
    owner, _, name = qualified.rpartition(".")
    return owner or None, name


def own_name(qualified: str, department: str) -> str:
    """A department's own KPI by its own name (``volume``); any other KPI as it is."""
    owner, name = split_kpi(qualified)
    return name if owner == department else qualified


@dataclass(frozen=True)
class DepartmentSpec:
    """A department: its variables, resource uses and allocations, KPIs, incentive and
    design menu."""

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
    """A constraint family: its bindings (``for:``), expression and optional slack."""

    name: str
    bindings: str | None
    bindings_where: Location
    expr: str
    where: Location
    slack: float | None
    description: str | None = None


@dataclass(frozen=True)
class ObjectiveSpec:
    """The company objective."""

    sense: Sense
    text: str
    where: Location
    unit: str | None = None


@dataclass(frozen=True)
class ResourceSpec:
    """A shared resource: its total, the reserve share held back, the largest shift."""

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

    def allocation_bounds(self, baseline: float) -> tuple[float, float]:
        """The bounds of one department's allocation of this resource: within
        ``max_shift`` of its ``baseline`` (never below 0), else ``[0, inf)``."""
        if self.max_shift is None:
            return 0.0, math.inf
        return max(0.0, baseline * (1 - self.max_shift)), baseline * (1 + self.max_shift)


@dataclass(frozen=True)
class PlanSpec:
    """The values a plan file gives (:mod:`.plan`): (variable, index) -> value, in the
    file's order.  The index is the tuple of set members (``("standard", 3)``; ``()`` for
    a scalar variable)."""

    file: Path
    values: dict[tuple[str, tuple], float]
    #: the line of the file each value is on (for errors located in it)
    lines: dict[tuple[str, tuple], int] = field(default_factory=dict, compare=False)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class ContractTerm:
    """A contract term: a scalar param (``name``) that ``contract`` may set within
    ``[lower, upper]``; today's value is the param's."""

    name: str
    lower: float
    upper: float
    where: Location
    description: str | None = None


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
    #: today's plan (``today: {file: plan.csv}``, or ``--start-plan``), if one is named
    today: PlanSpec | None = None
    #: contract terms between partners (``contract:``), by param name
    contract: dict[str, ContractTerm] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``scenario`` or ``scenario[variant]``, as messages name it."""
        return run_label(self.scenario, self.variant)

    @property
    def input_files(self) -> tuple[Path, ...]:
        """Every file this spec was read from: scenario, model, CSV params, today's plan."""
        files = [self.scenario_file, self.model_file, *(p.file for p in self.params.values())]
        if self.today is not None:
            files.append(self.today.file)
        return tuple(dict.fromkeys(f for f in files if f is not None))

    def all_kpis(self) -> dict[str, KpiSpec]:
        """Every KPI by qualified name: departments' (in order), then company-wide."""
        out = {k.qualified: k for d in self.departments.values() for k in d.kpis.values()}
        out.update(self.kpis)
        return out


def without_margins(spec: ModelSpec) -> ModelSpec:
    """``spec`` with every intentional margin released: each constraint's ``slack`` and
    each resource's ``reserve`` at 0 (the same rows and columns, other bounds), so that what
    the margins cost can be measured against it."""
    return replace(
        spec,
        constraints={n: replace(c, slack=None) for n, c in spec.constraints.items()},
        resources={n: replace(r, reserve=0.0) for n, r in spec.resources.items()},
    )


def margins(spec: ModelSpec) -> dict[str, float]:
    """Every margin a model has, at its value in the file: each constraint's ``slack`` by
    the constraint's name (0 where it declares none), each resource's ``reserve`` as
    ``resources.R.reserve`` (the names ``sensitivity``'s price of slack uses)."""
    out = {n: c.slack or 0.0 for n, c in spec.constraints.items()}
    return out | {f"resources.{n}.reserve": r.reserve for n, r in spec.resources.items()}


def with_margin(spec: ModelSpec, name: str, value: float) -> ModelSpec:
    """``spec`` with one margin (a name of :func:`margins`) at ``value``; a ``ValueError``
    for a name the model does not have."""
    if name not in margins(spec):
        known = ", ".join(margins(spec)) or "none"
        msg = f"unknown margin {name!r} (a constraint or resources.R.reserve: {known})"
        raise ValueError(msg)
    if name in spec.constraints:
        c = replace(spec.constraints[name], slack=value or None)
        return replace(spec, constraints={**spec.constraints, name: c})
    resource = name.removeprefix("resources.").removesuffix(".reserve")
    r = replace(spec.resources[resource], reserve=value)
    return replace(spec, resources={**spec.resources, resource: r})


def with_total(spec: ModelSpec, resource: str, total: float) -> ModelSpec:
    """``spec`` with ``resource``'s total at ``total`` and every department's baseline
    allocation of it scaled by the same factor (pro rata), so that today's split of the
    resource is kept."""
    r = spec.resources[resource]
    factor = total / r.total if r.total else 1.0
    departments = {
        n: replace(
            d, allocation={k: v * factor if k == resource else v for k, v in d.allocation.items()}
        )
        for n, d in spec.departments.items()
    }
    return replace(
        spec,
        resources={**spec.resources, resource: replace(r, total=total)},
        departments=departments,
    )
