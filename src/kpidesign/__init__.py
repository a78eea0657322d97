"""kpidesign: design KPIs and allocations that make an organization pull in one direction.

One import serves a notebook::

    import kpidesign
    spec = kpidesign.load("models/manufacturer.yaml")
"""

from .api import compare, design, evaluate, prepare, solve
from .errors import BuildError, KpiDesignError, SolveError, SpecError
from .results import CompareResult, DesignResult, SystemResult
from .spec import ModelSpec, load

__all__ = [
    "BuildError",
    "CompareResult",
    "DesignResult",
    "KpiDesignError",
    "ModelSpec",
    "SolveError",
    "SpecError",
    "SystemResult",
    "compare",
    "design",
    "evaluate",
    "load",
    "prepare",
    "solve",
]
