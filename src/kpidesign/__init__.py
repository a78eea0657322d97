"""kpidesign: design KPIs and allocations that make an organization pull in one direction.

One import serves a notebook::

    import kpidesign
    spec = kpidesign.load("models/manufacturer.yaml")
"""

from .errors import BuildError, KpiDesignError, SolveError, SpecError
from .spec import ModelSpec, load

__all__ = [
    "BuildError",
    "KpiDesignError",
    "ModelSpec",
    "SolveError",
    "SpecError",
    "load",
]
