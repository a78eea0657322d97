"""kpidesign: design KPIs and allocations that make an organization pull in one direction.

One import serves a notebook::

    import kpidesign
    result = kpidesign.compare("scenarios/baseline.yaml", tol=1e-7)
    result.status, result.headline()
"""

from .api import (
    compare,
    contract,
    design,
    diff,
    evaluate,
    frontier,
    monitor,
    prepare,
    report,
    reveal,
    sensitivity,
    solve,
    stress,
    sweep,
)
from .errors import BuildError, KpiDesignError, SolveError, SpecError
from .options import Options
from .results import (
    CompareResult,
    DesignResult,
    DiffResult,
    RunInfo,
    SensitivityResult,
    SweepResult,
    SystemResult,
)
from .spec import ModelSpec, load
from .types import Diagnosis, Mode, Plan, Sense, Status

__all__ = [
    "BuildError",
    "CompareResult",
    "DesignResult",
    "Diagnosis",
    "DiffResult",
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
    "SweepResult",
    "SystemResult",
    "compare",
    "contract",
    "design",
    "diff",
    "evaluate",
    "frontier",
    "load",
    "monitor",
    "prepare",
    "report",
    "reveal",
    "sensitivity",
    "solve",
    "stress",
    "sweep",
]
