"""kpidesign: design KPIs and allocations that make an organization pull in one direction.

One import serves a notebook::

    import kpidesign
    result = kpidesign.compare("scenarios/baseline.yaml", tol=1e-7)
    result.status, result.headline()
"""

from .api import compare, design, evaluate, frontier, prepare, sensitivity, solve
from .errors import BuildError, KpiDesignError, SolveError, SpecError
from .options import Options
from .results import CompareResult, DesignResult, RunInfo, SensitivityResult, SystemResult
from .spec import ModelSpec, load
from .types import Diagnosis, Mode, Plan, Sense, Status

__all__ = [
    "BuildError",
    "CompareResult",
    "DesignResult",
    "Diagnosis",
    "KpiDesignError",
    "Mode",
    "ModelSpec",
    "Options",
    "Plan",
    "RunInfo",
    "Sense",
    "SensitivityResult",
    "SolveError",
    "SpecError",
    "Status",
    "SystemResult",
    "compare",
    "design",
    "evaluate",
    "frontier",
    "load",
    "prepare",
    "sensitivity",
    "solve",
]
