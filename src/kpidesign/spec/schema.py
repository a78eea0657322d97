"""The shape of model and scenario files (format 1), as pydantic models.

Every model forbids unknown keys and is frozen.  This module checks shape and simple value
ranges only; cross-references (names, sets, expressions) are checked in :mod:`spec` and
:mod:`build`, where the whole model is known.

Every field carries an attribute docstring (the string right under it): pydantic reads it as
the field's description (``use_attribute_docstrings``, pydantic 2.7), and
:func:`json_schema` turns the models into the JSON Schema that ``kpidesign schema`` prints
for editors.  The descriptions follow ``shared/MODEL_FORMAT.md`` and the README.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import models_json_schema

__all__ = ["ModelFile", "ScenarioFile", "json_schema", "json_schema_text"]

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
LowerName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1)]
Number = Annotated[float, Field(allow_inf_nan=False)]

# Sets and params are checked by the loader (spec.resolve, spec.params), which reports what
# is wrong with a value in its own words; here they are Any, and their JSON Schema (for
# editors only, never used to validate) describes the forms the loader reads.
SetValue = Annotated[
    Any,
    WithJsonSchema(
        {
            "description": "An integer range 'a..b' (both ends included, ordered), "
            "or the list of its members (strings or integers).",
            "anyOf": [
                {"type": "string", "description": "An integer range 'a..b', e.g. 1..12."},
                {
                    "type": "array",
                    "description": "The members, strings or integers, in order.",
                    "items": {"type": ["string", "integer"]},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ],
        }
    ),
]
ParamValue = Annotated[
    Any,
    WithJsonSchema(
        {
            "description": "A number; a mapping by one set (member: value); "
            "or a table {over, default, values, initial, file}.",
            "anyOf": [
                {"type": "number", "description": "A scalar."},
                {
                    "type": "object",
                    "description": "Indexed by the one set whose members include all "
                    "its keys: member: value.",
                    "additionalProperties": {"type": "number"},
                },
                {
                    "type": "object",
                    "description": "An indexed table: every entry is `default` unless "
                    "`values` or `file` give it.",
                    "properties": {
                        "over": {
                            "type": "array",
                            "items": {"type": "string"},
                            "description": "Index sets, in order.",
                        },
                        "default": {
                            "type": "number",
                            "description": "Value of every entry not given otherwise.",
                        },
                        "values": {
                            "type": "object",
                            "additionalProperties": {"type": "number"},
                            "description": "Entries by index; with several sets the key is "
                            'comma-joined ("standard,3").',
                        },
                        "initial": {
                            "type": "number",
                            "description": "Value of a lag before the first index "
                            "(p[t-1] at the first period).",
                        },
                        "file": {
                            "type": "string",
                            "description": "CSV file (or .xlsx workbook) relative to this "
                            "file: one column per index set (named after the set) plus "
                            "'value'.",
                        },
                        "sheet": {
                            "type": "string",
                            "description": "The sheet of an .xlsx file (its first if none).",
                        },
                    },
                    "additionalProperties": False,
                    "anyOf": [{"required": ["file"]}, {"required": ["over"]}],
                },
            ],
        }
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True
    )


class VariableDecl(_Strict):
    """A decision or state variable."""

    over: list[Identifier] = Field(default_factory=list)
    """Index sets, in order; none for a scalar variable."""
    lb: float | None = 0.0
    """Lower bound; default 0, null for a free variable."""
    ub: float | None = None
    """Upper bound; default none."""
    initial: Number | None = None
    """Value of a lag before the first index (x[t-1] at the first period)."""
    unit: str | None = None
    """Unit, for the reader."""
    description: str | None = None
    """Free text."""

    @field_validator("lb", "ub")
    @classmethod
    def _no_nan(cls, v: float | None) -> float | None:
        if v is not None and math.isnan(v):
            msg = "must be a number, not NaN"
            raise ValueError(msg)
        return v

    @field_validator("lb")
    @classmethod
    def _lb_below_inf(cls, v: float | None) -> float | None:
        if v is not None and v == math.inf:
            msg = "a lower bound of +inf leaves no value (null means no lower bound)"
            raise ValueError(msg)
        return v

    @field_validator("ub")
    @classmethod
    def _ub_above_minus_inf(cls, v: float | None) -> float | None:
        if v is not None and v == -math.inf:
            msg = "an upper bound of -inf leaves no value (omit ub for no upper bound)"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _bounds_ordered(self) -> VariableDecl:
        if self.lb is not None and self.ub is not None and self.lb > self.ub:
            msg = f"lb ({self.lb}) is above ub ({self.ub})"
            raise ValueError(msg)
        return self


class KpiDecl(_Strict):
    """A performance measure: exactly one of `max: EXPR` or `min: EXPR`.

    An expression is Python expression syntax: numbers, params, variables, bound index
    names; subscripts x[p, t] (t-1, t+2 on integer ranges); + - *, / by a constant;
    sum(EXPR for i in SET [for j in SET] [if CONDITION]).  It must be linear, except that
    a KPI may be a ratio A / B of two linear expressions at its top.
    """

    max: Text | None = None
    """Expression to maximize (linear, or a ratio A / B at the top)."""
    min: Text | None = None
    """Expression to minimize (linear, or a ratio A / B at the top)."""
    unit: str | None = None
    """Unit of its value (EUR, units, %), shown in the KPI tables."""
    description: str | None = None
    """Free text."""

    @model_validator(mode="after")
    def _one_sense(self) -> KpiDecl:
        if (self.max is None) == (self.min is None):
            msg = "give exactly one of `max: EXPR` or `min: EXPR`"
            raise ValueError(msg)
        return self

    @property
    def sense(self) -> str:
        return "max" if self.max is not None else "min"

    @property
    def expr(self) -> str:
        return self.max if self.max is not None else self.min  # type: ignore[return-value]


class ObjectiveDecl(KpiDecl):
    """The system-wide objective: exactly one of `max: EXPR` or `min: EXPR`, a linear
    expression (same shape as a KPI, never a ratio)."""

    max: Text | None = None
    """Linear expression to maximize."""
    min: Text | None = None
    """Linear expression to minimize."""
    unit: str | None = None
    """Unit of its value, for the reader."""


Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class DesignDecl(_Strict):
    """Limits for KPI design (`kpidesign design`)."""

    kpis: list[Identifier] | None = None
    """The menu: the department's own KPIs or company-wide ones; default: its own KPIs."""
    max_weight: dict[Identifier, Share] = Field(default_factory=dict)
    """KPI: the largest share of the scorecard it may get (0..1)."""


class DepartmentDecl(_Strict):
    """A department: the decisions it controls, the resources it uses, its KPIs and the
    incentive scheme it is paid on today."""

    description: str | None = None
    """Free text."""
    variables: dict[Identifier, VariableDecl] = Field(default_factory=dict)
    """Decisions this department controls (names unique across the file)."""
    uses: dict[Identifier, Text] = Field(default_factory=dict)
    """Resource: linear expression of the amount of it the department consumes."""
    allocation: dict[Identifier, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    """Resource: baseline (status-quo) allocation, >= 0; needed for every resource used."""
    kpis: dict[LowerName, KpiDecl] = Field(default_factory=dict)
    """Candidate performance measures, named [a-z][a-z0-9_]* (dept.kpi from outside)."""
    incentive: dict[Identifier, Weight] = Field(default_factory=dict)
    """Status-quo scheme: KPI (own or company-wide): weight >= 0."""
    design: DesignDecl | None = None
    """Optional limits for KPI design."""


class ConstraintDecl(_Strict):
    """A constraint, or a family of them with `for:`."""

    for_: Text | None = Field(None, alias="for")
    """Indices that repeat it: 'p in product, t in period' [if CONDITION]; without it, one
    constraint."""
    expr: Text
    """One comparison (<=, >= or ==) of linear expressions, in the syntax of KPIs."""
    slack: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] | None = None
    """Margin f (0 <= f < 1): it must hold with f*|rhs| to spare (lhs <= rhs - f*|rhs|,
    lhs >= rhs + f*|rhs|); needs one side without variables; an error on an equality."""
    description: str | None = None
    """Free text."""


class ResourceDecl(_Strict):
    """A resource the departments share (budget, capacity), allocated to them."""

    total: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    """Total amount, >= 0."""
    reserve: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    """Share of the total kept unallocated (0 <= r < 1); default 0."""
    max_shift: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    """Largest move of an allocation from its baseline, as a share of the baseline
    (0.25 = +-25%); default unlimited."""
    unit: str | None = None
    """Unit, for the reader."""
    description: str | None = None
    """Free text."""


class PlanFileDecl(_Strict):
    """A plan file: values of variables for a whole plan or part of one."""

    file: Text
    """CSV file relative to the file naming it, with the header variable,index,value: a
    variable's name (shared or owned), its index (members comma-joined as in the JSON
    contract, "standard,3", quoted; empty for a scalar variable) and a finite number.  It
    may cover any subset of variables and indices."""


class ContractTermDecl(_Strict):
    """A contract term: a scalar param partners trade at (a wholesale price, a revenue
    share, a buy-back price), which `kpidesign contract` may set within its bounds."""

    min: Number
    """Smallest value the term may take (the negotiation range: required)."""
    max: Number
    """Largest value the term may take (required)."""
    description: str | None = None
    """Free text."""


class ModelFile(_Strict):
    """A kpidesign model file (format 1)."""

    kpidesign: Literal[1]
    """Format version: 1."""
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    """Name of the model, [a-z0-9_]+."""
    description: str | None = None
    """Free text."""
    sets: dict[Identifier, SetValue] = Field(default_factory=dict)
    """Named index sets: an integer range 'a..b' or a list of members."""
    params: dict[Identifier, ParamValue] = Field(default_factory=dict)
    """Named data: a number, a mapping by one set, or a table {over, default, values,
    initial, file}."""
    variables: dict[Identifier, VariableDecl] = Field(default_factory=dict)
    """Shared state, owned by no department."""
    departments: dict[LowerName, DepartmentDecl] = Field(default_factory=dict)
    """Departments, named [a-z][a-z0-9_]*."""
    constraints: dict[Identifier, ConstraintDecl] = Field(default_factory=dict)
    """Named constraints (or families of them)."""
    kpis: dict[LowerName, KpiDecl] = Field(default_factory=dict)
    """Company-wide KPIs any department may be given."""
    objective: ObjectiveDecl
    """The system-wide objective."""
    resources: dict[Identifier, ResourceDecl] = Field(default_factory=dict)
    """Shared resources allocated to departments."""
    today: PlanFileDecl | None = None
    """The organization's current plan (a plan file): where `compare` can start from; a
    partial plan is completed by the system problem, an infeasible one projected onto the
    feasible set."""
    contract: dict[Identifier, ContractTermDecl] = Field(default_factory=dict)
    """Contract terms between partners (departments that are firms, each paid on its own
    profit): scalar params, today's value in `params:`, that `kpidesign contract` may set
    within [min, max]."""


class OverlayDecl(_Strict):
    """Overrides applied to the model."""

    set: dict[str, Any] = Field(default_factory=dict)
    """Dotted path into the model (resources.budget.total): value that replaces it."""
    scale: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(default_factory=dict)
    """Dotted path to a number, a mapping of numbers or a param: factor it is multiplied by."""
    description: str | None = None
    """Free text."""


class NormalDecl(_Strict):
    """A normal factor ``1 + sd·z`` (z standard normal; a factor below 0 is taken as 0)."""

    sd: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    """Standard deviation as a share of the value (0.2 = ±20%)."""


class UniformDecl(_Strict):
    """A factor uniform on [low, high]."""

    low: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    """Lowest factor, >= 0."""
    high: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    """Highest factor, >= low."""


class DiscreteDecl(_Strict):
    """A factor taking one of a few values with given probabilities."""

    values: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(min_length=1)
    """The factors, >= 0."""
    probabilities: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(
        min_length=1
    )
    """Their probabilities, summing to 1."""


class ShockDecl(_Strict):
    """How one param (or a resource's total) varies: a factor it is multiplied by, drawn
    from one distribution."""

    normal: NormalDecl | None = None
    """Normal factor around 1."""
    uniform: UniformDecl | None = None
    """Uniform factor."""
    discrete: DiscreteDecl | None = None
    """Discrete factor."""
    by: str | None = None
    """Which values share a draw: omitted, each value its own; `all`, one draw for the
    whole param; a set the param is indexed over (`period`), one draw per member of that
    set, shared by the param's other indices."""


class ShocksDecl(_Strict):
    """Sampled futures for `kpidesign stress`."""

    factors: dict[str, ShockDecl] = Field(default_factory=dict)
    """Dotted path (params.demand, resources.budget.total): its distribution."""
    file: Text | None = None
    """Instead of factors: a CSV of sampled futures, relative to this file, with columns
    future, path, key (a value's index, comma-joined; empty: every value), factor, and
    optionally probability (per future; default: equal)."""
    samples: Annotated[int, Field(ge=1, le=100_000)] | Literal["all"] | None = None
    """Futures drawn (default 200); `all` enumerates every combination of discrete factors
    with its probability (every factor discrete, at most 10,000 combinations)."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Seed of the draws: the same seed, the same futures."""
    shortfall_penalty: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    """Objective units per unit a constraint is broken by, in a future the plan cannot
    meet; without it, such a future has no objective and the mean is undefined."""


class ScenarioFile(OverlayDecl):
    """A kpidesign scenario file (format 1): a model with overrides."""

    kpidesign: Literal[1]
    """Format version: 1."""
    model: Text
    """The model file, relative to this file."""
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")] | None = None
    """Name of the scenario, [a-z0-9_]+; default: the file's name without .yaml."""
    variants: dict[Identifier, OverlayDecl] = Field(default_factory=dict)
    """Named variants (--variant NAME), each a set/scale overlay on top of the scenario's."""
    today: PlanFileDecl | None = None
    """The organization's current plan (a plan file, relative to this file); replaces the
    model's `today:`.  A variant sets its own with `set: {today: {file: other.csv}}`."""
    shocks: ShocksDecl | None = None
    """Sampled futures for `kpidesign stress`: which params vary and how."""


# --------------------------------------------------------------------------------------
# JSON Schema for editors

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of model and scenario files, generated from the
    models above.  A file with a ``model`` key and no ``objective`` is a scenario, any other
    a model: the rule the loader follows."""
    refs, defs = models_json_schema([(ModelFile, "validation"), (ScenarioFile, "validation")])
    return _canonical(
        {
            "$schema": DIALECT,
            "title": "kpidesign model or scenario file (format 1)",
            "description": "A model file, or a scenario file (one with `model:` and no "
            "`objective:`) that names a model and overrides parts of it.  Generated by "
            "`kpidesign schema` from the models kpidesign validates files with.",
            "type": "object",
            "if": {"required": ["model"], "not": {"required": ["objective"]}},
            "then": refs[(ScenarioFile, "validation")],
            "else": refs[(ModelFile, "validation")],
            **defs,
        }
    )


def _canonical(node: Any) -> Any:
    """``node`` in one spelling whatever the pydantic release that wrote it, so that the
    output does not change with pydantic (2.7 and 2.14 differ only in these): integral
    numbers as integers (``0.0`` -> ``0``), no ``enum`` repeating a ``const``, a lone
    ``allOf: [{$ref}]`` as the ``$ref`` itself, no ``additionalProperties: true`` (the
    default).  Descriptions are unwrapped: a docstring's line breaks become spaces (a blank
    line between paragraphs stays), as editors reflow them anyway."""
    if isinstance(node, list):
        return [_canonical(v) for v in node]
    if isinstance(node, float) and node.is_integer():
        return int(node)
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        redundant = (key == "enum" and "const" in node and value == [node["const"]]) or (
            key == "additionalProperties" and value is True
        )
        if redundant:
            continue
        if key == "description" and isinstance(value, str):
            out[key] = re.sub(r"(?<!\n)\n(?!\n)", " ", value)
        elif (
            key == "allOf" and len(value) == 1 and set(value[0]) == {"$ref"} and "$ref" not in node
        ):
            out["$ref"] = value[0]["$ref"]
        else:
            out[key] = _canonical(value)
    return out


def json_schema_text() -> str:
    """:func:`json_schema` as indented JSON ending with a newline, the same bytes every run."""
    return json.dumps(json_schema(), indent=2) + "\n"
