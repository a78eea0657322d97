"""kpidesign: design KPIs and allocations that make an organization pull in one direction.

One import serves a notebook::

    import kpidesign
    spec = kpidesign.load("models/manufacturer.yaml")
"""

from .api import prepare, solve
from .errors import BuildError, KpiDesignError, SolveError, SpecError
from .results import SystemResult
from .spec import ModelSpec, load

__all__ = [
    "BuildError",
    "KpiDesignError",
    "ModelSpec",
    "SolveError",
    "SpecError",
    "load",
    "prepare",
    "solve",
    "SystemResult",
]
