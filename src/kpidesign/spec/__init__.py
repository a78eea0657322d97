"""Files -> a validated, immutable :class:`ModelSpec`: YAML with locations, the schema,
scenarios (set/scale/variants), params (inline and CSV), plan files, cross-references."""

from .load import load
from .model import (
    DEFAULT_MAX_SIZE,
    ConstraintSpec,
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

__all__ = [
    "DEFAULT_MAX_SIZE",
    "ConstraintSpec",
    "DepartmentSpec",
    "KpiSpec",
    "ModelSpec",
    "ObjectiveSpec",
    "ParamSpec",
    "PlanSpec",
    "ResourceSpec",
    "SetSpec",
    "VariableSpec",
    "load",
]
