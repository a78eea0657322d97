"""The shape of model and scenario files (format 1), as pydantic models.

Every model forbids unknown keys and is frozen.  This module checks shape and simple value
ranges only; cross-references (names, sets, expressions) are checked in :mod:`spec` and
:mod:`build`, where the whole model is known.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = ["ModelFile", "ScenarioFile"]

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
LowerName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1)]
Number = Annotated[float, Field(allow_inf_nan=False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class VariableDecl(_Strict):
    """A decision or state variable."""

    over: list[Identifier] = Field(default_factory=list, description="index sets, in order")
    lb: float | None = Field(0.0, description="lower bound; default 0, null for free")
    ub: float | None = Field(None, description="upper bound; default none")
    initial: Number | None = Field(None, description="value of a lag before the first index")
    unit: str | None = None
    description: str | None = None

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
    """A performance measure: exactly one of ``max`` / ``min``."""

    max: Text | None = None
    min: Text | None = None
    unit: str | None = None
    description: str | None = None

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
    """The system-wide objective (same shape as a KPI, never a ratio)."""


Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class DesignDecl(_Strict):
    """Limits for KPI design (issue 5)."""

    kpis: list[Identifier] | None = Field(None, description="the menu; default: own KPIs")
    max_weight: dict[Identifier, Share] = Field(default_factory=dict)


class DepartmentDecl(_Strict):
    description: str | None = None
    variables: dict[Identifier, VariableDecl] = Field(default_factory=dict)
    uses: dict[Identifier, Text] = Field(default_factory=dict)
    allocation: dict[Identifier, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    kpis: dict[LowerName, KpiDecl] = Field(default_factory=dict)
    incentive: dict[Identifier, Weight] = Field(default_factory=dict)
    design: DesignDecl | None = None


class ConstraintDecl(_Strict):
    for_: Text | None = Field(None, alias="for")
    expr: Text
    slack: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] | None = None
    description: str | None = None


class ResourceDecl(_Strict):
    total: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    reserve: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = 0.0
    max_shift: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    unit: str | None = None
    description: str | None = None


class ModelFile(_Strict):
    kpidesign: Literal[1]
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")]
    description: str | None = None
    sets: dict[Identifier, Any] = Field(default_factory=dict)
    params: dict[Identifier, Any] = Field(default_factory=dict)
    variables: dict[Identifier, VariableDecl] = Field(default_factory=dict)
    departments: dict[LowerName, DepartmentDecl] = Field(default_factory=dict)
    constraints: dict[Identifier, ConstraintDecl] = Field(default_factory=dict)
    kpis: dict[LowerName, KpiDecl] = Field(default_factory=dict)
    objective: ObjectiveDecl
    resources: dict[Identifier, ResourceDecl] = Field(default_factory=dict)


class OverlayDecl(_Strict):
    set: dict[str, Any] = Field(default_factory=dict)
    scale: dict[str, Annotated[float, Field(allow_inf_nan=False)]] = Field(default_factory=dict)
    description: str | None = None


class ScenarioFile(OverlayDecl):
    kpidesign: Literal[1]
    model: Text
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")] | None = None
    variants: dict[Identifier, OverlayDecl] = Field(default_factory=dict)
