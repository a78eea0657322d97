"""The Python API: one call per analysis, each taking a path or an already loaded spec."""

from __future__ import annotations

from pathlib import Path

from .analyses.compare import compare_plans
from .analyses.design import design_schemes
from .analyses.system import solve_system
from .build import build
from .compile import LinearProgram, compile_model
from .errors import Location
from .highs import SolverOptions
from .results import CompareResult, DesignResult, SystemResult
from .scheme import resolve_scheme
from .spec import ModelSpec, load

__all__ = ["compare", "design", "evaluate", "prepare", "solve"]


def prepare(
    model: str | Path | ModelSpec, variant: str | None = None
) -> tuple[ModelSpec, LinearProgram]:
    """Load (if given a path), build and compile: the spec and its LinearProgram."""
    spec = model if isinstance(model, ModelSpec) else load(model, variant)
    return spec, compile_model(build(spec))


def solve(
    model: str | Path | ModelSpec,
    variant: str | None = None,
    *,
    time_limit: float | None = None,
    solver: str = "choose",
) -> SystemResult:
    """The system optimum, allocations optimized, with KPIs, state totals and duals."""
    spec, lp = prepare(model, variant)
    return solve_system(lp, spec, SolverOptions(time_limit, solver))


def compare(
    model: str | Path | ModelSpec,
    variant: str | None = None,
    *,
    scheme: dict[str, dict[str, float]] | None = None,
    tol: float = 1e-6,
    max_rounds: int = 50,
    time_limit: float | None = None,
    solver: str = "choose",
    locations: dict[tuple[str, ...], Location] | None = None,
) -> CompareResult:
    """Status quo vs aligned vs system optimum, per department and for the company.

    ``scheme`` (department -> {kpi: weight}, see :func:`evaluate`) replaces the named
    departments' status-quo incentives; ``locations`` lets its errors name a file's lines.
    """
    spec, lp = prepare(model, variant)
    return compare_plans(
        lp,
        spec,
        scheme=None if scheme is None else resolve_scheme(spec, scheme, locations),
        tol=tol,
        max_rounds=max_rounds,
        options=SolverOptions(time_limit, solver),
    )


def design(
    model: str | Path | ModelSpec,
    variant: str | None = None,
    *,
    tol: float = 1e-6,
    max_rounds: int = 50,
    time_limit: float | None = None,
    solver: str = "choose",
) -> DesignResult:
    """Scorecards under which the system optimum is each department's own best choice."""
    spec, lp = prepare(model, variant)
    return design_schemes(
        lp, spec, tol=tol, max_rounds=max_rounds, options=SolverOptions(time_limit, solver)
    )


def evaluate(
    model: str | Path | ModelSpec,
    scheme: dict[str, dict[str, float]],
    variant: str | None = None,
    *,
    tol: float = 1e-6,
    max_rounds: int = 50,
    time_limit: float | None = None,
    solver: str = "choose",
    locations: dict[tuple[str, ...], Location] | None = None,
) -> CompareResult:
    """The comparison under ``scheme`` instead of the status-quo incentives.

    ``scheme`` maps a department to ``{kpi: weight}``; a KPI is the department's own
    (``volume`` or ``sales.volume``) or company-wide (``company_profit``).  Departments not
    named keep their current scheme.  ``locations`` (from :func:`scheme.read_scheme`) lets
    errors name the scheme file's lines.
    """
    return compare(
        model,
        variant,
        scheme=scheme,
        tol=tol,
        max_rounds=max_rounds,
        time_limit=time_limit,
        solver=solver,
        locations=locations,
    )
