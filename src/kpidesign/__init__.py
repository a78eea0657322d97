"""kpidesign: design KPIs and allocations that make an organization pull in one direction.

One import serves a notebook::

    import kpidesign
    result = kpidesign.compare("scenarios/baseline.yaml", tol=1e-7)
    result.status, result.headline()
"""

import importlib
from typing import TYPE_CHECKING, Any

#: where each public name lives; imported on first use, so that ``kpidesign --help`` or
#: ``validate`` do not pay for the solver, pandas and the analyses
_HOME = {
    **dict.fromkeys(
        (
            "build",
            "compare",
            "contract",
            "design",
            "diff",
            "evaluate",
            "frontier",
            "monitor",
            "prepare",
            "report",
            "reveal",
            "sensitivity",
            "solve",
            "stress",
            "sweep",
        ),
        "api",
    ),
    **dict.fromkeys(("BuildError", "KpiDesignError", "SolveError", "SpecError"), "errors"),
    "Options": "options",
    **dict.fromkeys(
        (
            "CompareResult",
            "DesignResult",
            "DiffResult",
            "RunInfo",
            "SensitivityResult",
            "SweepResult",
            "SystemResult",
        ),
        "results",
    ),
    **dict.fromkeys(("ModelSpec", "load"), "spec"),
    **dict.fromkeys(("Diagnosis", "Mode", "Plan", "Sense", "Status"), "types"),
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        msg = f"module 'kpidesign' has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f".{home}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


if TYPE_CHECKING:  # for type checkers and IDEs: the names as if imported eagerly
    from .api import (
        build,
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
    "build",
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
